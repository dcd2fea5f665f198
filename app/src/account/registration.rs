//! Registration (`/inscription`): the form's data, its validation (shared with the browser),
//! and the server function that creates the account and queues the activation email.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::{password, BirthDate, Email, Nir, Phone};
use crate::error::{AppError, FieldError};

/// The registration form as submitted. Checkboxes are absent when unticked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationForm {
    pub civility: String,
    pub birth_name: String,
    #[serde(default)]
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

/// The versions of the texts a person accepts when registering.
pub const CGU_VERSION: &str = "1";
pub const PRIVACY_VERSION: &str = "1";

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
    let usage_name = if usage_name.is_empty() {
        None
    } else {
        Some(name(usage_name, "usage_name", "nom d'usage", &mut name_errors))
    };
    errors.extend(name_errors);
    // Keep the order of the form, so the summary reads like the page.
    errors.sort_by_key(|(field, _)| FIELD_ORDER.iter().position(|f| f == field).unwrap_or(usize::MAX));
    match (errors.is_empty(), birth_date, email, phone, nir) {
        (true, Ok(birth_date), Ok(email), Ok(phone), Ok(nir)) => Ok(ValidRegistration {
            civility,
            birth_name,
            usage_name,
            first_name,
            birth_date,
            email,
            phone,
            nir,
            password: form.password.clone(),
        }),
        _ => Err(errors),
    }
}

/// The fields in the order of the page.
pub const FIELD_ORDER: [&str; 14] = [
    "civility", "birth_name", "usage_name", "first_name", "birth_date", "email", "phone", "nir",
    "password", "password_confirm", "accept_cgu", "accept_privacy", "robot", "form",
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
    use crate::error::with_status;
    with_status(service::register(&crate::state::app_state(), form, crate::account::client_ip()).await)
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

    fn field(name: &str, message: &str) -> AppError {
        AppError::Validation(vec![(name.into(), message.into())])
    }

    pub fn today() -> (i32, u32, u32) {
        let now = time::OffsetDateTime::now_utc();
        (now.year(), u8::from(now.month()) as u32, now.day() as u32)
    }

    pub async fn register(state: &AppState, form: RegistrationForm, ip: Option<String>) -> Result<RegistrationOutcome, AppError> {
        let db = &state.db;
        let secrets = &state.config.secrets;
        let internal = |e: sqlx::Error| AppError::internal("registration: database", e);
        if form.website.as_deref().is_some_and(|w| !w.is_empty()) {
            return Err(field("robot", "La vérification anti-robot a échoué. Rechargez la page et réessayez."));
        }
        let bucket = format!("register-ip:{}", ip.as_deref().unwrap_or("unknown"));
        if !rate_limit::allow(db, &bucket, 10, 3_600_000).await.map_err(internal)? {
            return Err(AppError::Conflict(
                "Trop d'inscriptions ont été faites depuis cette connexion dans l'heure. Réessayez dans une heure.".into(),
            ));
        }
        let valid = super::validate(&form, today()).map_err(AppError::Validation)?;
        let personal = [valid.first_name.as_str(), valid.birth_name.as_str(), valid.email.as_str(), &valid.birth_date.iso()];
        if let Some(problem) = hashing::problem_with_new_password(&valid.password, &personal) {
            return Err(field("password", problem));
        }
        let robot = match (&form.robot_solution, &form.robot_token, &form.robot_answer) {
            (Some(solution), _, _) if !solution.is_empty() => robot::verify_solution(db, secrets, solution).await,
            (_, Some(token), Some(answer)) => robot::verify_answer(db, secrets, token, answer).await,
            _ => Ok(Err(RobotProblem::Failed)),
        }
        .map_err(internal)?;
        match robot {
            Ok(()) => {}
            Err(RobotProblem::Expired) => return Err(field("robot", "La vérification anti-robot a expiré. Cochez à nouveau la case (ou répondez à la nouvelle question).")),
            Err(_) => return Err(field("robot", "La vérification anti-robot n'a pas abouti. Cochez la case « Je ne suis pas un robot » (ou répondez à la question) puis validez.")),
        }

        let nir_hash = secrets.nir_hash(&valid.nir);
        if let Some(outcome) = existing_account(state, &valid.email, &nir_hash).await? {
            return Ok(outcome);
        }
        let hash = hashing::hash(&state.hashing, valid.password.clone()).await?;
        let id = new_id();
        let now = now_ms();
        let mut tx = db.pool().begin().await.map_err(internal)?;
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
                return existing_account(state, &valid.email, &nir_hash)
                    .await?
                    .ok_or_else(|| AppError::internal("registration", "unique violation without a match"));
            }
            Err(e) => return Err(internal(e)),
        }
        for (document, version) in [("cgu", CGU_VERSION), ("privacy", PRIVACY_VERSION)] {
            sqlx::query("INSERT INTO consents (id, user_id, document, version, accepted_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(new_id())
                .bind(&id)
                .bind(document)
                .bind(version)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
        }
        let token = tokens::issue(&mut tx, &id, Purpose::Activation, state.config.activation_ttl_ms).await.map_err(internal)?;
        let email = emails::activation(&state.config.base_url, valid.email.as_str(), &valid.first_name, &token, state.config.activation_ttl_ms);
        enqueue(&mut tx, &email).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::info!(user_id = %id, "account registered");
        Ok(RegistrationOutcome::Registered { masked_email: valid.email.masked(), ticket: ticket::issue(secrets, &id) })
    }

    async fn existing_account(state: &AppState, email: &Email, nir_hash: &str) -> Result<Option<RegistrationOutcome>, AppError> {
        let internal = |e: sqlx::Error| AppError::internal("registration: database", e);
        let email_taken: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email_normalized = $1")
            .bind(email.normalized())
            .fetch_optional(state.db.pool())
            .await
            .map_err(internal)?;
        if email_taken.is_some() {
            return Ok(Some(RegistrationOutcome::EmailTaken { email: email.as_str().to_string() }));
        }
        let nir_owner: Option<(String, String)> = sqlx::query_as("SELECT id, email FROM users WHERE nir_hash = $1")
            .bind(nir_hash)
            .fetch_optional(state.db.pool())
            .await
            .map_err(internal)?;
        Ok(nir_owner.map(|(id, address)| RegistrationOutcome::NirTaken {
            masked_email: Email::parse(&address).map(|e| e.masked()).unwrap_or_else(|_| "•••".into()),
            ticket: ticket::issue(&state.config.secrets, &id),
        }))
    }
}
