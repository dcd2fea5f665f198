//! After registering: resend the activation link, correct the address, activate.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::account::LinkProblem;
use crate::error::AppError;

/// The answer to "Renvoyer le lien" and "Corriger l'adresse".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSent {
    pub masked_email: String,
}

/// At most this many activation emails per account and hour (the first one included).
pub const RESENDS_PER_HOUR: i64 = 3;

#[server(endpoint = "account/resend-activation")]
pub async fn resend_activation(ticket: String) -> Result<LinkSent, AppError> {
    crate::server::serve_form_anyone("resend", vec![], None, |state| async move { service::resend(&state, &ticket).await }).await
}

#[server(endpoint = "account/correct-email")]
pub async fn correct_email(ticket: String, #[server(default)] email: String, #[server(default)] password: String) -> Result<LinkSent, AppError> {
    let kept = vec![("email", email.clone())];
    crate::server::serve_form_anyone("correct", kept, None, |state| async move { service::correct_email(&state, &ticket, &email, password).await })
        .await
}

/// Whether an activation link can be used (the page shows why not, before any click).
#[server(endpoint = "account/activation-link")]
pub async fn activation_link_status(token: String) -> Result<Option<LinkProblem>, AppError> {
    crate::server::serve_anyone(|state| async move { service::link_status(&state, &token).await }).await
}

#[server(endpoint = "account/activate")]
pub async fn activate(token: String) -> Result<(), AppError> {
    crate::server::serve_form_anyone("activate", vec![], None, |state| async move {
        let result = service::activate(&state, &token).await;
        if result.is_ok() {
            leptos_axum::redirect("/connexion?active=1");
        }
        result
    })
    .await
}

#[cfg(feature = "ssr")]
pub mod service {
    use super::*;
    use crate::account::login::{self, service::Holder};
    use crate::account::tokens::{self, Purpose};
    use crate::account::{emails, rate_limit, ticket};
    use crate::db::now_ms;
    use crate::domain::Email;
    use crate::mail::enqueue;
    use crate::state::AppState;

    struct Pending {
        email: String,
        password_hash: String,
        failures_cleared_at: Option<i64>,
    }

    /// The not-yet-activated account a ticket names.
    async fn pending_account(state: &AppState, ticket_text: &str) -> Result<(String, Pending), AppError> {
        let user_id = ticket::verify(&state.config.secrets, ticket_text).ok_or_else(|| {
            AppError::Conflict("Ce lien de page a expiré. Connectez-vous : la page de connexion propose de renvoyer le lien d'activation.".into())
        })?;
        let row: Option<(String, String, Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT email, password_hash, activated_at, failures_cleared_at FROM users WHERE id = $1")
                .bind(&user_id)
                .fetch_optional(state.db.pool())
                .await?;
        let Some((email, password_hash, activated_at, failures_cleared_at)) = row else { return Err(AppError::NotFound) };
        if activated_at.is_some() {
            return Err(AppError::Conflict("Ce compte est déjà activé : vous pouvez vous connecter.".into()));
        }
        Ok((user_id, Pending { email, password_hash, failures_cleared_at }))
    }

    async fn send_link(state: &AppState, user_id: &str, to: &str) -> Result<(), AppError> {
        let mut tx = state.db.begin_write().await?;
        let token = tokens::issue(&mut tx, user_id, Purpose::Activation, state.config.activation_ttl).await?;
        let email = emails::activation(&state.config.base_url, to, &token, state.config.activation_ttl);
        enqueue(&mut tx, &email).await?;
        Ok(tx.commit().await?)
    }

    async fn within_limit(state: &AppState, user_id: &str) -> Result<(), AppError> {
        // The registration email counts as the first of the hour.
        let sent_in_hour: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM account_tokens WHERE user_id = $1 AND purpose = 'activation' AND created_at > $2")
                .bind(user_id)
                .bind(now_ms() - 3_600_000)
                .fetch_one(state.db.pool())
                .await?;
        let allowed =
            sent_in_hour < RESENDS_PER_HOUR && rate_limit::allow(&state.db, &format!("activation:{user_id}"), RESENDS_PER_HOUR, 3_600_000).await?;
        if allowed {
            Ok(())
        } else {
            Err(AppError::Conflict(
                "Trois liens ont déjà été envoyés dans l'heure. Vérifiez vos courriers indésirables, ou réessayez dans une heure.".into(),
            ))
        }
    }

    pub async fn resend(state: &AppState, ticket_text: &str) -> Result<LinkSent, AppError> {
        let (user_id, account) = pending_account(state, ticket_text).await?;
        within_limit(state, &user_id).await?;
        send_link(state, &user_id, &account.email).await?;
        Ok(LinkSent { masked_email: Email::parse(&account.email).map(|e| e.masked()).unwrap_or_default() })
    }

    pub async fn correct_email(state: &AppState, ticket_text: &str, new_email: &str, password_text: String) -> Result<LinkSent, AppError> {
        let (user_id, account) = pending_account(state, ticket_text).await?;
        crate::forms::require_filled(&[
            ("email", new_email, "Indiquez la bonne adresse électronique."),
            ("password", &password_text, "Indiquez le mot de passe choisi à l'inscription."),
        ])?;
        let new_email = Email::parse(new_email).map_err(|m| AppError::invalid("email", m))?;
        let holder = Holder { id: &user_id, password_hash: &account.password_hash, failures_cleared_at: account.failures_cleared_at };
        login::service::verify_counted(state, holder, password_text)
            .await?
            .require("password", "Ce mot de passe n'est pas celui choisi à l'inscription.")?;
        within_limit(state, &user_id).await?;
        let updated = sqlx::query("UPDATE users SET email = $1, email_normalized = $2 WHERE id = $3 AND activated_at IS NULL")
            .bind(new_email.as_str())
            .bind(new_email.normalized())
            .bind(&user_id)
            .execute(state.db.pool())
            .await;
        match updated {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(AppError::invalid("email", "Cette adresse est déjà celle d'un autre compte. Indiquez une autre adresse."))
            }
            Err(e) => return Err(AppError::from(e)),
        }
        let mut conn = state.db.pool().acquire().await?;
        crate::dashboard::search::reindex(&mut conn, &user_id).await?;
        send_link(state, &user_id, new_email.as_str()).await?;
        Ok(LinkSent { masked_email: new_email.masked() })
    }

    pub async fn link_status(state: &AppState, token: &str) -> Result<Option<LinkProblem>, AppError> {
        Ok(tokens::check(&state.db, token, Purpose::Activation).await?.err())
    }

    pub async fn activate(state: &AppState, token: &str) -> Result<(), AppError> {
        let mut tx = state.db.begin_write().await?;
        let Some(user_id) = tokens::consume(&mut tx, token, Purpose::Activation).await? else {
            drop(tx);
            let problem = tokens::check(&state.db, token, Purpose::Activation).await?.err();
            return Err(AppError::Conflict(problem.unwrap_or(LinkProblem::Unknown).activation_message().into()));
        };
        sqlx::query("UPDATE users SET activated_at = $1 WHERE id = $2 AND activated_at IS NULL")
            .bind(now_ms())
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(%user_id, "account activated");
        Ok(())
    }
}
