//! Forgotten password: a neutral request page, and single-use links valid one hour.
//! The same page sets a staff member's first password (`StaffSetup` links).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::account::LinkProblem;
use crate::error::AppError;

/// The same answer whatever the address: whether an account exists is never revealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRequested {
    pub valid_minutes: i64,
}

#[server(endpoint = "account/forgot-password")]
pub async fn request_password_reset(#[server(default)] email: String) -> Result<ResetRequested, AppError> {
    let kept = vec![("email", email.clone())];
    crate::server::serve_form_anyone("forgot", kept, Some("/mot-de-passe-oublie"), |state| async move { service::request(&state, &email).await })
        .await
}

#[server(endpoint = "account/reset-link")]
pub async fn reset_link_status(token: String) -> Result<Option<LinkProblem>, AppError> {
    crate::server::serve_anyone(|state| async move { service::link_status(&state, &token).await }).await
}

#[server(endpoint = "account/reset-password")]
pub async fn reset_password(token: String, #[server(default)] password: String, #[server(default)] password_confirm: String) -> Result<(), AppError> {
    crate::server::serve_form_anyone("new-password", vec![], None, |state| async move {
        let result = service::reset(&state, &token, password, &password_confirm).await;
        if result.is_ok() {
            leptos_axum::redirect("/connexion?mot-de-passe=1");
        }
        result
    })
    .await
}

#[cfg(feature = "ssr")]
pub mod service {
    use super::*;
    use crate::account::tokens::{self, Purpose};
    use crate::account::{emails, password, rate_limit};
    use crate::db::now_ms;
    use crate::domain::Email;
    use crate::mail::enqueue;
    use crate::state::AppState;

    pub async fn request(state: &AppState, email: &str) -> Result<ResetRequested, AppError> {
        let answer = ResetRequested { valid_minutes: (state.config.reset_ttl.as_secs() / 60) as i64 };
        let Ok(email) = Email::parse(email) else {
            return Err(AppError::invalid("email", Email::parse(email).unwrap_err()));
        };
        let account: Option<(String, String)> = sqlx::query_as("SELECT id, email FROM users WHERE email_normalized = $1")
            .bind(email.normalized())
            .fetch_optional(state.db.pool())
            .await?;
        let Some((user_id, address)) = account else { return Ok(answer) };
        // A flood of requests for one address sends a few emails, then silently stops.
        if !rate_limit::allow(&state.db, &format!("reset:{user_id}"), 5, 3_600_000).await? {
            return Ok(answer);
        }
        let mut tx = state.db.begin_write().await?;
        let token = tokens::issue(&mut tx, &user_id, Purpose::Reset, state.config.reset_ttl).await?;
        enqueue(&mut tx, &emails::reset(&state.config.base_url, &address, &token, state.config.reset_ttl)).await?;
        tx.commit().await?;
        Ok(answer)
    }

    async fn problem(state: &AppState, token: &str) -> Result<Option<LinkProblem>, AppError> {
        let reset = tokens::check(&state.db, token, Purpose::Reset).await?;
        if reset != Err(LinkProblem::Unknown) {
            return Ok(reset.err());
        }
        Ok(tokens::check(&state.db, token, Purpose::StaffSetup).await?.err())
    }

    pub async fn link_status(state: &AppState, token: &str) -> Result<Option<LinkProblem>, AppError> {
        problem(state, token).await
    }

    pub async fn reset(state: &AppState, token: &str, new_password: String, confirm: &str) -> Result<(), AppError> {
        if let Some(problem) = problem(state, token).await? {
            return Err(AppError::Conflict(problem.reset_message().into()));
        }
        let mut errors = Vec::new();
        if let Some(message) = password::problem_with_new_password(&new_password, &[]) {
            errors.push(("password".to_string(), message.to_string()));
        }
        if confirm.is_empty() {
            errors.push(("password_confirm".to_string(), "Saisissez une seconde fois le nouveau mot de passe.".to_string()));
        } else if confirm != new_password {
            errors.push(("password_confirm".to_string(), "Les deux mots de passe ne sont pas identiques.".to_string()));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let hash = password::hash(&state.hashing, new_password).await?;
        let mut tx = state.db.begin_write().await?;
        let mut user_id = tokens::consume(&mut tx, token, Purpose::Reset).await?;
        if user_id.is_none() {
            user_id = tokens::consume(&mut tx, token, Purpose::StaffSetup).await?;
        }
        let Some(user_id) = user_id else {
            // Used by a concurrent click between the check and now.
            return Err(AppError::Conflict(LinkProblem::Used.reset_message().into()));
        };
        let now = now_ms();
        // Receiving the link proves the address: an account not yet activated is activated too.
        sqlx::query("UPDATE users SET password_hash = $1, activated_at = COALESCE(activated_at, $2) WHERE id = $3")
            .bind(&hash)
            .bind(now)
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        crate::account::login::service::clear_failures(&mut tx, &user_id).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(&user_id).execute(&mut *tx).await?;
        tokens::void(&mut tx, &user_id, Purpose::Terms).await?;
        let address: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(&user_id).fetch_one(&mut *tx).await?;
        enqueue(&mut tx, &emails::password_changed(&state.config.base_url, &address)).await?;
        tx.commit().await?;
        tracing::info!(%user_id, "password reset; every session ended");
        Ok(())
    }
}
