//! The profile in the database, the email change and the deletion request.

use sqlx::Row;

use super::{ProfileView, CONTRACTS, DIPLOMAS, FIELDS};
use crate::account::emails::build;
use crate::account::login::{self, service::Holder};
use crate::account::tokens::{self, Purpose};
use crate::db::{new_id, now_ms, Db};
use crate::domain::{Email, Phone};
use crate::error::AppError;
use crate::mail::outbox;
use crate::state::AppState;

/// An email-change link works this long.
pub const EMAIL_CHANGE_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

pub async fn get(db: &Db, user_id: &str) -> Result<ProfileView, AppError> {
    let row = sqlx::query(
        "SELECT display_name, email, address_line, postal_code, city, phone, current_job, employer, contract_type, \
         seniority_years, highest_diploma FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let mut values = Vec::new();
    for (name, _, _) in FIELDS {
        let value = if *name == "seniority_years" {
            row.try_get::<Option<i64>, _>(*name)?.map(|v| v.to_string())
        } else {
            row.try_get::<Option<String>, _>(*name)?
        };
        values.push((name.to_string(), value.unwrap_or_default()));
    }
    let now = now_ms();
    let pending_email: Option<String> = sqlx::query_scalar(
        "SELECT payload FROM account_tokens WHERE user_id = $1 AND purpose = 'email_change' AND used_at IS NULL \
         AND superseded_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(now)
    .fetch_optional(db.pool())
    .await?
    .flatten();
    let deletion_requested_at: Option<i64> =
        sqlx::query_scalar("SELECT created_at FROM deletion_requests WHERE user_id = $1 AND status = 'ouverte' ORDER BY created_at DESC LIMIT 1")
            .bind(user_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(ProfileView { display_name: row.try_get("display_name")?, email: row.try_get("email")?, values, pending_email, deletion_requested_at })
}

/// Checks every field (all optional) and saves them; answers the completion percentage.
pub async fn save(db: &Db, user_id: &str, values: &[(&str, String)]) -> Result<u32, AppError> {
    let mut errors = Vec::new();
    let mut clean: Vec<(String, Option<String>)> = Vec::new();
    for (name, value) in values {
        let value = value.trim();
        let checked: Result<Option<String>, String> = if value.is_empty() {
            Ok(None)
        } else {
            match *name {
                "postal_code" if !(value.len() == 5 && value.chars().all(|c| c.is_ascii_digit())) => {
                    Err("Le code postal compte 5 chiffres, par exemple 69003.".into())
                }
                "phone" => Phone::parse(value).map(|p| Some(p.as_str().to_string())).map_err(str::to_string),
                "contract_type" if !CONTRACTS.iter().any(|(k, _)| *k == value) => Err("Choisissez un type de contrat dans la liste.".into()),
                "highest_diploma" if !DIPLOMAS.iter().any(|(k, _)| *k == value) => Err("Choisissez un diplôme dans la liste.".into()),
                "seniority_years" => match value.parse::<i64>() {
                    Ok(years) if (0..=60).contains(&years) => Ok(Some(years.to_string())),
                    _ => Err("Indiquez un nombre d'années entre 0 et 60.".into()),
                },
                _ if value.chars().count() > 200 => Err("Ce texte dépasse 200 caractères.".into()),
                _ => Ok(Some(value.to_string())),
            }
        };
        match checked {
            Ok(v) => clean.push((name.to_string(), v)),
            Err(message) => errors.push((name.to_string(), message)),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let field = |name: &str| clean.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.clone());
    sqlx::query(
        "UPDATE users SET address_line = $1, postal_code = $2, city = $3, phone = $4, current_job = $5, employer = $6, \
         contract_type = $7, seniority_years = $8, highest_diploma = $9 WHERE id = $10",
    )
    .bind(field("address_line"))
    .bind(field("postal_code"))
    .bind(field("city"))
    .bind(field("phone"))
    .bind(field("current_job"))
    .bind(field("employer"))
    .bind(field("contract_type"))
    .bind(field("seniority_years").and_then(|v| v.parse::<i64>().ok()))
    .bind(field("highest_diploma"))
    .bind(user_id)
    .execute(db.pool())
    .await?;
    Ok(get(db, user_id).await?.completion())
}

const FOOTER: &str = "Vous recevez ce courriel parce que cette adresse est liée à un compte Passerelle.";

/// Checks the password, then sends a link to the new address (the account keeps its address
/// until the link is used). Answers the new address.
pub async fn start_email_change(state: &AppState, user_id: &str, new_email: &str, password_text: String) -> Result<String, AppError> {
    crate::forms::require_filled(&[
        ("new_email", new_email, "Indiquez votre nouvelle adresse électronique."),
        ("password", &password_text, "Saisissez votre mot de passe actuel."),
    ])?;
    let email = Email::parse(new_email).map_err(|m| AppError::invalid("new_email", m))?;
    let (password_hash, failures_cleared_at): (String, Option<i64>) =
        sqlx::query_as("SELECT password_hash, failures_cleared_at FROM users WHERE id = $1").bind(user_id).fetch_one(state.db.pool()).await?;
    let holder = Holder { id: user_id, password_hash: &password_hash, failures_cleared_at };
    login::service::verify_counted(state, holder, password_text).await?.require("password", "Ce mot de passe n'est pas le bon.")?;
    let mut tx = state.db.begin_write().await?;
    propose_email_change(&mut tx, &state.config.base_url, user_id, &email).await?;
    tx.commit().await?;
    Ok(email.as_str().to_string())
}

/// Sends the link that moves the account to `email` when its button is pressed (the account
/// keeps its address, and its reset links, until then), on the caller's transaction: the
/// person's own change, or staff correcting an activated account's address. Refused, on the
/// field `new_email`, when the address is already this account's or another's.
pub async fn propose_email_change(tx: &mut sqlx::AnyConnection, base_url: &str, user_id: &str, email: &Email) -> Result<(), AppError> {
    let taken: Option<String> =
        sqlx::query_scalar("SELECT id FROM users WHERE email_normalized = $1").bind(email.normalized()).fetch_optional(&mut *tx).await?;
    match taken {
        Some(id) if id == user_id => return Err(AppError::invalid("new_email", "C'est déjà l'adresse de ce compte.")),
        Some(_) => {
            return Err(AppError::invalid(
                "new_email",
                "Cette adresse est déjà celle d'un autre compte. S'il s'agit de la même personne, les deux comptes peuvent être réunis par un conseiller.",
            ))
        }
        None => {}
    }
    let token = tokens::issue(&mut *tx, user_id, Purpose::EmailChange, EMAIL_CHANGE_TTL).await?;
    tokens::set_payload(&mut *tx, &token, email.as_str()).await?;
    let link = format!("{base_url}/profil/courriel/{token}");
    let message = build(
        email.as_str(),
        "Confirmez votre nouvelle adresse électronique",
        &[
            "Il a été demandé d'utiliser cette adresse pour votre compte Passerelle. Confirmez-la avec ce lien, valable 24 heures :".to_string(),
            "Tant qu'elle n'est pas confirmée, votre compte garde son ancienne adresse. Si vous n'êtes pas à l'origine de cette demande, ignorez ce courriel.".to_string(),
        ],
        Some(("Confirmer cette adresse", &link)),
        FOOTER,
    );
    outbox::enqueue(&mut *tx, &message).await?;
    Ok(())
}

/// Tells the account's current address that staff asked to replace it (nothing changes until
/// the new address confirms).
pub fn staff_change_notice(old: &str, new: &Email) -> crate::mail::OutgoingEmail {
    build(
        old,
        "Demande de changement de l'adresse de votre compte Passerelle",
        &[
            format!(
                "Un conseiller de Passerelle a enregistré une demande pour remplacer l'adresse de votre compte par {}. \
                 Un lien de confirmation a été envoyé à cette nouvelle adresse.",
                new.masked()
            ),
            "Tant que ce lien n'est pas utilisé, votre compte garde cette adresse-ci : c'est ici que vous recevez les liens pour changer de mot de passe.".to_string(),
            "Si vous n'êtes pas à l'origine de cette demande, ne faites rien et signalez-le à votre conseiller ou à la plateforme téléphonique.".to_string(),
        ],
        None,
        FOOTER,
    )
}

/// Uses an email-change link: the account takes the new address, the old one is told.
pub async fn confirm_email_change(state: &AppState, token: &str) -> Result<String, AppError> {
    let problem = tokens::check(&state.db, token, Purpose::EmailChange).await?;
    if let Err(problem) = problem {
        return Err(AppError::Conflict(problem.email_change_message().into()));
    }
    let mut tx = state.db.begin_write().await?;
    let new_email = tokens::payload(&mut tx, token).await?.ok_or(AppError::NotFound)?;
    let user_id = tokens::consume(&mut tx, token, Purpose::EmailChange).await?.ok_or(AppError::NotFound)?;
    let email = Email::parse(&new_email).map_err(|e| AppError::internal("the address of an email-change link is not an address", e))?;
    let old: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(&user_id).fetch_one(&mut *tx).await?;
    let updated = sqlx::query("UPDATE users SET email = $1, email_normalized = $2 WHERE id = $3")
        .bind(email.as_str())
        .bind(email.normalized())
        .bind(&user_id)
        .execute(&mut *tx)
        .await;
    if updated.is_err() {
        return Err(AppError::Conflict("Cette adresse est entre-temps devenue celle d'un autre compte : elle ne peut pas être utilisée.".into()));
    }
    crate::dashboard::search::reindex(&mut tx, &user_id).await?;
    let notice = build(
        &old,
        "L'adresse de votre compte Passerelle a changé",
        &[
            format!("Votre compte Passerelle utilise désormais l'adresse {}.", email.masked()),
            "Si vous n'êtes pas à l'origine de ce changement, contactez immédiatement votre conseiller ou la plateforme téléphonique.".to_string(),
        ],
        None,
        FOOTER,
    );
    outbox::enqueue(&mut tx, &notice).await?;
    tx.commit().await?;
    Ok(email.as_str().to_string())
}

/// Files a deletion request, once: a second request while one is open answers the first's date.
pub async fn request_deletion(db: &Db, user_id: &str) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    let open: Option<i64> = sqlx::query_scalar("SELECT created_at FROM deletion_requests WHERE user_id = $1 AND status = 'ouverte'")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(at) = open {
        return Ok(at);
    }
    let now = now_ms();
    sqlx::query("INSERT INTO deletion_requests (id, user_id, created_at, status) VALUES ($1, $2, $3, 'ouverte')")
        .bind(new_id())
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(now)
}

/// Open deletion requests, for staff: (user id, name, when).
pub async fn open_deletion_requests(db: &Db) -> Result<Vec<(String, String, i64)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT d.user_id, u.display_name, d.created_at FROM deletion_requests d JOIN users u ON u.id = d.user_id \
         WHERE d.status = 'ouverte' ORDER BY d.created_at",
    )
    .fetch_all(db.pool())
    .await?)
}
