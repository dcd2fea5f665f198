//! Registration (`/inscription`): the form's data, its validation (shared with the browser),
//! and the server function that creates the account and queues the activation email.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::{password, BirthDate, Email, Nir, Phone};
use crate::error::{AppError, FieldError};

/// The registration form as submitted. A browser leaves out an unticked radio (civility) or
/// checkbox: every field may be absent (`serde(default)`), and the checks below name it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistrationForm {
    pub civility: String,
    pub birth_name: String,
    pub usage_name: String,
    pub first_name: String,
    pub birth_date: String,
    pub email: String,
    pub phone: String,
    pub nir: String,
    pub password: String,
    pub password_confirm: String,
    pub accept_cgu: Option<String>,
    pub accept_privacy: Option<String>,
    /// Proof-of-work solution (JavaScript on).
    pub robot_solution: Option<String>,
    /// Signed question and its answer (JavaScript off).
    pub robot_token: Option<String>,
    pub robot_answer: Option<String>,
    /// Honeypot: hidden from people, filled by bots.
    pub website: Option<String>,
}

impl std::fmt::Display for RegistrationForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegistrationForm(…)")
    }
}

/// The validated identity of a new beneficiary.
#[derive(Clone, Debug)]
pub struct ValidRegistration {
    pub civility: String,
    pub birth_name: String,
    pub usage_name: Option<String>,
    pub first_name: String,
    pub birth_date: BirthDate,
    pub email: Email,
    pub phone: Phone,
    pub nir: Nir,
    pub password: String,
}

fn name(value: &str, field: &str, label: &str, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim();
    if value.is_empty() {
        errors.push((field.into(), format!("Indiquez votre {label}.")));
    } else if value.chars().count() > 100 {
        errors.push((field.into(), format!("Votre {label} est trop long (100 caractères au plus).")));
    } else if !value.chars().all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’' | '.')) {
        errors.push((field.into(), format!("Votre {label} ne peut contenir que des lettres, des espaces, des tirets et des apostrophes.")));
    }
    value.to_string()
}

/// Checks every field at once, so the person sees all that needs fixing together. The same
/// code runs in the browser and on the server (which also checks what needs its data).
pub fn validate(form: &RegistrationForm, today: (i32, u32, u32)) -> Result<ValidRegistration, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut check = |field: &str, result: Result<(), &str>| {
        if let Err(message) = result {
            errors.push((field.into(), message.into()));
        }
    };
    let civility = form.civility.trim().to_string();
    check("civility", if matches!(civility.as_str(), "Madame" | "Monsieur") { Ok(()) } else { Err("Choisissez votre civilité.") });
    let birth_date = BirthDate::parse(&form.birth_date, today);
    let email = Email::parse(&form.email);
    let phone = Phone::parse(&form.phone);
    let nir = Nir::parse(&form.nir);
    check("birth_date", birth_date.as_ref().map(|_| ()).map_err(|e| *e));
    check("email", email.as_ref().map(|_| ()).map_err(|e| *e));
    check("phone", phone.as_ref().map(|_| ()).map_err(|e| *e));
    check("nir", nir.as_ref().map(|_| ()).map_err(|e| *e));
    check("password", password::check_length(&form.password));
    if form.password_confirm.is_empty() {
        check("password_confirm", Err("Saisissez à nouveau votre mot de passe."));
    } else if form.password_confirm != form.password {
        check("password_confirm", Err("Les deux mots de passe ne sont pas identiques."));
    }
    if form.accept_cgu.is_none() {
        check("accept_cgu", Err("Pour créer votre compte, acceptez les conditions générales d'utilisation."));
    }
    if form.accept_privacy.is_none() {
        check("accept_privacy", Err("Pour créer votre compte, prenez connaissance de la politique de confidentialité et acceptez-la."));
    }
    // Names are checked after the closure is done with `errors`.
    let mut name_errors = Vec::new();
    let birth_name = name(&form.birth_name, "birth_name", "nom de naissance", &mut name_errors);
    let first_name = name(&form.first_name, "first_name", "prénom", &mut name_errors);
    let usage_name = form.usage_name.trim();
    let usage_name = if usage_name.is_empty() { None } else { Some(name(usage_name, "usage_name", "nom d'usage", &mut name_errors)) };
    errors.extend(name_errors);
    // Keep the order of the form, so the summary reads like the page.
    errors.sort_by_key(|(field, _)| FIELD_ORDER.iter().position(|f| f == field).unwrap_or(usize::MAX));
    match (errors.is_empty(), birth_date, email, phone, nir) {
        (true, Ok(birth_date), Ok(email), Ok(phone), Ok(nir)) => {
            Ok(ValidRegistration { civility, birth_name, usage_name, first_name, birth_date, email, phone, nir, password: form.password.clone() })
        }
        _ => Err(errors),
    }
}

/// The fields in the order of the page.
pub const FIELD_ORDER: [&str; 14] = [
    "civility",
    "birth_name",
    "usage_name",
    "first_name",
    "birth_date",
    "email",
    "phone",
    "nir",
    "password",
    "password_confirm",
    "accept_cgu",
    "accept_privacy",
    "robot",
    "form",
];

/// What happened, when nothing was wrong with the input itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistrationOutcome {
    /// The account exists; the activation link went to `masked_email`.
    Registered { masked_email: String, ticket: String },
    /// This address already has an account.
    EmailTaken { email: String },
    /// This NIR already has an account, whose address is shown masked.
    NirTaken { masked_email: String, ticket: String },
}

#[server(endpoint = "account/register")]
pub async fn register(form: RegistrationForm) -> Result<RegistrationOutcome, AppError> {
    crate::server::serve_anyone(|state| async move {
        let kept = form.kept_values();
        let result = service::register(&state, form, crate::account::client_network()).await;
        // The next step has its own page, with JavaScript or without.
        let next = match &result {
            Ok(RegistrationOutcome::Registered { ticket, .. }) => Some(format!("/inscription/envoye?t={ticket}")),
            Ok(RegistrationOutcome::NirTaken { ticket, .. }) => Some(format!("/inscription/compte-existant?t={ticket}")),
            _ => None,
        };
        if let Some(next) = &next {
            leptos_axum::redirect(next);
        }
        crate::forms::respond("register", kept, next.as_deref(), result).await
    })
    .await
}

impl RegistrationForm {
    /// What a page may show again after a plain form post: everything but the passwords, the
    /// NIR (personal data never kept in a form flash: the page asks for it again) and the robot
    /// check.
    pub fn kept_values(&self) -> Vec<(&'static str, String)> {
        vec![
            ("civility", self.civility.clone()),
            ("birth_name", self.birth_name.clone()),
            ("usage_name", self.usage_name.clone()),
            ("first_name", self.first_name.clone()),
            ("birth_date", self.birth_date.clone()),
            ("email", self.email.clone()),
            ("phone", self.phone.clone()),
            ("accept_cgu", self.accept_cgu.clone().unwrap_or_default()),
            ("accept_privacy", self.accept_privacy.clone().unwrap_or_default()),
        ]
    }
}

/// A registration waiting for activation, as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAccount {
    pub masked_email: String,
    pub activated: bool,
}

/// The account a registration ticket names: its masked address and whether it is activated.
#[server(endpoint = "account/pending")]
pub async fn pending_registration(ticket: String) -> Result<PendingAccount, AppError> {
    crate::server::serve_anyone(|state| async move { service::pending(&state, &ticket).await }).await
}

/// "Same NIR": send a reset link to the existing account's address.
#[server(endpoint = "account/existing-reset")]
pub async fn reset_existing_account(ticket: String) -> Result<String, AppError> {
    crate::server::serve_form_anyone("existing", vec![], None, |state| async move { service::reset_existing(&state, &ticket).await }).await
}

/// "Same NIR": ask the advisors to attach this new address to the existing account.
#[server(endpoint = "account/merge-request")]
pub async fn request_merge(ticket: String, #[server(default)] contact_email: String, #[server(default)] message: String) -> Result<String, AppError> {
    let kept = vec![("contact_email", contact_email.clone()), ("message", message.clone())];
    crate::server::serve_form_anyone("existing", kept, None, |state| async move {
        service::request_merge(&state, &ticket, &contact_email, &message).await
    })
    .await
}

#[cfg(feature = "ssr")]
pub mod service {
    use super::*;
    use crate::account::robot::{self, RobotProblem};
    use crate::account::tokens::{self, Purpose};
    use crate::account::{emails, password as hashing, rate_limit, ticket};
    use crate::db::{new_id, now_ms};
    use crate::mail::enqueue;
    use crate::state::AppState;

    pub fn today() -> (i32, u32, u32) {
        let now = time::OffsetDateTime::now_utc();
        (now.year(), u8::from(now.month()) as u32, now.day() as u32)
    }

    pub async fn register(state: &AppState, form: RegistrationForm, ip: Option<String>) -> Result<RegistrationOutcome, AppError> {
        let db = &state.db;
        let secrets = &state.config.secrets;
        if form.website.as_deref().is_some_and(|w| !w.is_empty()) {
            return Err(AppError::invalid("robot", "La vérification anti-robot a échoué. Rechargez la page et réessayez."));
        }
        let valid = super::validate(&form, today()).map_err(AppError::Validation)?;
        let personal = [valid.first_name.as_str(), valid.birth_name.as_str(), valid.email.as_str(), &valid.birth_date.iso()];
        if let Some(problem) = hashing::problem_with_new_password(&valid.password, &personal) {
            return Err(AppError::invalid("password", problem));
        }
        let robot = match (&form.robot_solution, &form.robot_token, &form.robot_answer) {
            (Some(solution), _, _) if !solution.is_empty() => robot::verify_solution(db, secrets, solution).await,
            (_, Some(token), Some(answer)) => robot::verify_answer(db, secrets, token, answer).await,
            _ => Ok(Err(RobotProblem::Failed)),
        }?;
        match robot {
            Ok(()) => {}
            Err(RobotProblem::Expired) => {
                return Err(AppError::invalid(
                    "robot",
                    "La vérification anti-robot a expiré. Cochez à nouveau la case (ou répondez à la nouvelle question).",
                ))
            }
            Err(_) => {
                return Err(AppError::invalid(
                    "robot",
                    "La vérification anti-robot n'a pas abouti. Cochez la case « Je ne suis pas un robot » (ou répondez à la question) puis validez.",
                ))
            }
        }

        // Counted once the input is valid and the robot check passed: typos cost nothing.
        let bucket = format!("register-ip:{}", ip.as_deref().unwrap_or("unknown"));
        if !rate_limit::allow(db, &bucket, state.config.registrations_per_ip_per_hour, 3_600_000).await? {
            return Err(AppError::Conflict("Trop de comptes ont été créés depuis cette connexion dans l'heure. Réessayez dans une heure.".into()));
        }
        let nir_hash = secrets.nir_hash(&valid.nir);
        if let Some(outcome) = existing_account(state, &valid, &nir_hash).await? {
            return Ok(outcome);
        }
        let hash = hashing::hash(&state.hashing, valid.password.clone()).await?;
        let id = new_id();
        let now = now_ms();
        let mut tx = db.begin_write().await?;
        let display_name = format!("{} {}", valid.first_name, valid.usage_name.as_deref().unwrap_or(&valid.birth_name));
        let inserted = sqlx::query(
            "INSERT INTO users (id, email, email_normalized, password_hash, role, display_name, created_at, \
             civility, birth_name, usage_name, first_name, birth_date, phone, nir_encrypted, nir_hash) \
             VALUES ($1, $2, $3, $4, 'beneficiary', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&id)
        .bind(valid.email.as_str())
        .bind(valid.email.normalized())
        .bind(&hash)
        .bind(&display_name)
        .bind(now)
        .bind(&valid.civility)
        .bind(&valid.birth_name)
        .bind(valid.usage_name.as_deref())
        .bind(&valid.first_name)
        .bind(valid.birth_date.iso())
        .bind(valid.phone.as_str())
        .bind(secrets.encrypt_nir(&valid.nir))
        .bind(&nir_hash)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            // Someone registered the same address or NIR a moment ago.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                drop(tx);
                return existing_account(state, &valid, &nir_hash)
                    .await?
                    .ok_or_else(|| AppError::internal("registration", "unique violation without a match"));
            }
            Err(e) => return Err(AppError::from(e)),
        }
        let names = crate::dashboard::search::Names {
            first_name: &valid.first_name,
            birth_name: &valid.birth_name,
            usage_name: valid.usage_name.as_deref(),
            display_name: &display_name,
            birth_date: Some(&valid.birth_date.iso()),
            email: valid.email.as_str(),
        };
        crate::dashboard::search::index(&mut tx, &id, &names).await?;
        crate::admin::service::accept_current(&mut tx, &id).await?;
        let token = tokens::issue(&mut tx, &id, Purpose::Activation, state.config.activation_ttl).await?;
        let email = emails::activation(&state.config.base_url, valid.email.as_str(), &token, state.config.activation_ttl);
        enqueue(&mut tx, &email).await?;
        tx.commit().await?;
        tracing::info!(user_id = %id, "account registered");
        Ok(RegistrationOutcome::Registered { masked_email: valid.email.masked(), ticket: ticket::issue(secrets, &id) })
    }

    fn bad_ticket() -> AppError {
        AppError::Conflict("Cette page a expiré (elle reste valable 24 heures). Recommencez depuis la page de connexion ou d'inscription.".into())
    }

    /// How long the page that offers a reset or a merge, after a registration with a NIR already
    /// used, may do so.
    const RECOVERY_TICKET: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

    /// The account an account-recovery ticket stands for.
    async fn recovered(state: &AppState, ticket_text: &str) -> Result<String, AppError> {
        tokens::check(&state.db, ticket_text, Purpose::Recovery).await?.map_err(|_| bad_ticket())
    }

    pub async fn pending(state: &AppState, ticket_text: &str) -> Result<PendingAccount, AppError> {
        let user_id = match ticket::verify(&state.config.secrets, ticket_text) {
            Some(user_id) => user_id,
            None => recovered(state, ticket_text).await?,
        };
        let row: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT email, activated_at FROM users WHERE id = $1").bind(&user_id).fetch_optional(state.db.pool()).await?;
        let (email, activated_at) = row.ok_or(AppError::NotFound)?;
        Ok(PendingAccount { masked_email: Email::parse(&email).map(|e| e.masked()).unwrap_or_default(), activated: activated_at.is_some() })
    }

    pub async fn reset_existing(state: &AppState, ticket_text: &str) -> Result<String, AppError> {
        let user_id = recovered(state, ticket_text).await?;
        let email: Option<String> =
            sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(&user_id).fetch_optional(state.db.pool()).await?;
        let email = email.ok_or(AppError::NotFound)?;
        let answer = crate::account::reset::service::request(state, &email).await?;
        let masked = Email::parse(&email).map(|e| e.masked()).unwrap_or_default();
        Ok(format!(
            "Un lien pour choisir un nouveau mot de passe a été envoyé à {masked}. Il fonctionne {} minutes ; pensez à regarder dans les courriers indésirables.",
            answer.valid_minutes
        ))
    }

    pub async fn request_merge(state: &AppState, ticket_text: &str, contact: &str, message: &str) -> Result<String, AppError> {
        let user_id = recovered(state, ticket_text).await?;
        let contact = Email::parse(contact).map_err(|m| AppError::invalid("contact_email", m))?;
        if message.chars().count() > 2000 {
            return Err(AppError::invalid("message", "Votre message est trop long (2 000 caractères au plus)."));
        }
        if !rate_limit::allow(&state.db, &format!("merge:{user_id}"), 3, 86_400_000).await? {
            return Err(AppError::Conflict("Votre demande a déjà été transmise ; un conseiller vous répondra à l'adresse indiquée.".into()));
        }
        let mut conn = state.db.pool().acquire().await?;
        let typed = tokens::payload(&mut conn, ticket_text).await?.and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok());
        drop(conn);
        let mut submitted = typed.unwrap_or_else(|| serde_json::json!({}));
        submitted["contact_email"] = contact.as_str().into();
        submitted["message"] = message.trim().into();
        sqlx::query(
            "INSERT INTO merge_requests (id, existing_user_id, submitted, contact_email, created_at, status) \
             VALUES ($1, $2, $3, $4, $5, 'open')",
        )
        .bind(new_id())
        .bind(&user_id)
        .bind(submitted.to_string())
        .bind(contact.as_str())
        .bind(now_ms())
        .execute(state.db.pool())
        .await?;
        Ok(format!(
            "Votre demande est transmise aux conseillers. Ils vérifieront votre identité et vous répondront à {} ; vous n'avez rien d'autre à faire.",
            contact.as_str()
        ))
    }

    /// The account that already has this address or this NIR, as the answer to give. With a NIR,
    /// the recovery ticket keeps what the person typed (never the NIR, the phone nor the
    /// password), so that a merge request shows it to the advisors beside the existing account.
    async fn existing_account(state: &AppState, valid: &ValidRegistration, nir_hash: &str) -> Result<Option<RegistrationOutcome>, AppError> {
        let email = &valid.email;
        let email_taken: Option<String> =
            sqlx::query_scalar("SELECT id FROM users WHERE email_normalized = $1").bind(email.normalized()).fetch_optional(state.db.pool()).await?;
        if email_taken.is_some() {
            return Ok(Some(RegistrationOutcome::EmailTaken { email: email.as_str().to_string() }));
        }
        let nir_owner: Option<(String, String)> =
            sqlx::query_as("SELECT id, email FROM users WHERE nir_hash = $1").bind(nir_hash).fetch_optional(state.db.pool()).await?;
        let Some((id, address)) = nir_owner else { return Ok(None) };
        let mut conn = state.db.pool().acquire().await?;
        let ticket = tokens::issue(&mut conn, &id, Purpose::Recovery, RECOVERY_TICKET).await?;
        let typed = serde_json::json!({
            "civility": valid.civility,
            "first_name": valid.first_name,
            "birth_name": valid.birth_name,
            "usage_name": valid.usage_name,
            "birth_date": valid.birth_date.iso(),
            "email": email.as_str(),
        });
        tokens::set_payload(&mut conn, &ticket, &typed.to_string()).await?;
        Ok(Some(RegistrationOutcome::NirTaken {
            masked_email: Email::parse(&address).map(|e| e.masked()).unwrap_or_else(|_| "•••".into()), ticket
        }))
    }
}
