//! Forms that work with and without JavaScript.
//!
//! With JavaScript, an `ActionForm` calls the server function and the page shows the answer in
//! place, keeping what was typed. Without it, the browser posts the form and follows a redirect
//! back to the page; so that nothing typed is lost, the server function keeps the submitted
//! values (never passwords) and its answer in a short-lived "flash" row named by an HttpOnly
//! cookie, and the page reads it back once when it renders.

pub mod fields;

use leptos::prelude::*;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::error::AppError;

/// What a plain form post left for its page: the values typed and the server's answer (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub form: String,
    pub values: Vec<(String, String)>,
    pub answer: String,
}

impl Flash {
    pub fn value(&self, name: &str) -> String {
        self.values.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// The answer, as the server function returned it.
    pub fn answer<T: DeserializeOwned>(&self) -> Option<Result<T, AppError>> {
        serde_json::from_str(&self.answer).ok()
    }
}

/// The flash a plain form post left for `form`, as a resource of the page (read while the page
/// is rendered on the server, so no JavaScript is needed to see it).
pub fn flash_resource(form: &'static str) -> Resource<Option<Flash>> {
    Resource::new(|| (), move |_| async move { take_flash(form.into()).await.ok().flatten() })
}

/// Reads (and deletes) the flash this browser's last plain form post left for `form`.
#[server(endpoint = "forms/flash")]
pub async fn take_flash(form: String) -> Result<Option<Flash>, AppError> {
    // Anyone: a flash belongs to the browser that posted the form (its cookie), logged in or not.
    crate::server::serve_anyone(|_| async move { server::take(&form).await }).await
}

#[cfg(feature = "ssr")]
pub use server::{plain_form_post, respond, LIFETIME_MS as FLASH_LIFETIME_MS};

/// The trimmed text of form field `field` (a reason, a note, a message), `None` when empty and
/// not `required`; `missing` is the message when it is required and empty.
pub fn text_of(field: &str, text: &str, required: bool, missing: &str, max_chars: usize) -> Result<Option<String>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return if required { Err(AppError::invalid(field, missing)) } else { Ok(None) };
    }
    if text.chars().count() > max_chars {
        return Err(AppError::invalid(field, format!("Ce texte dépasse {max_chars} caractères : raccourcissez-le.")));
    }
    Ok(Some(text.to_string()))
}

/// The fields left empty, all named at once: `fields` holds (name, value, message when empty).
/// A browser may leave a field out of a post (a disabled or hand-removed input): it arrives
/// empty, and the person is told what to fill in, never that the request was malformed.
pub fn require_filled(fields: &[(&str, &str, &str)]) -> Result<(), AppError> {
    let missing: Vec<crate::error::FieldError> =
        fields.iter().filter(|(_, value, _)| value.trim().is_empty()).map(|(name, _, message)| (name.to_string(), message.to_string())).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(missing))
    }
}

/// Like [`text_of`], for a form checked as a whole: a problem is added to `errors` and the text
/// is then empty.
pub fn text_into(errors: &mut Vec<crate::error::FieldError>, field: &str, text: &str, required: bool, missing: &str, max_chars: usize) -> String {
    match text_of(field, text, required, missing, max_chars) {
        Ok(text) => text.unwrap_or_default(),
        Err(AppError::Validation(mut found)) => {
            errors.append(&mut found);
            String::new()
        }
        Err(_) => String::new(),
    }
}

/// An error answered to a form, as an alert: each problem of a refused input in a list (after
/// `lead` when given), any other error as its sentence.
#[component]
pub fn Problems(error: AppError, #[prop(optional)] lead: Option<&'static str>) -> impl IntoView {
    match error {
        AppError::Validation(errors) => view! {
            <div class="alert alert-error" role="alert">
                {lead.map(|lead| view! { <p>{lead}</p> })}
                <ul>{errors.into_iter().map(|(_, m)| view! { <li>{m}</li> }).collect_view()}</ul>
            </div>
        }
        .into_any(),
        other => view! { <p class="alert alert-error" role="alert">{other.to_string()}</p> }.into_any(),
    }
}

/// `data-ready="on"` once the page's code handles the form it is put on (before, a submission
/// is a plain post): tests wait for it before acting.
pub fn ready_marker() -> impl Fn() -> Option<&'static str> + Copy + Send + Sync + 'static {
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    move || ready.get().then_some("on")
}

/// An id sent by a caller, reduced to what ids are made of, for a path to send them back to.
pub fn path_segment(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(64).collect()
}

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::account::session::{cookie_value, new_token, token_hash};
    use crate::db::now_ms;
    use crate::state::app_state;

    const COOKIE: &str = "passerelle_flash";
    /// How long a flash waits for its page (then the retention job deletes it).
    pub const LIFETIME_MS: i64 = 10 * 60 * 1000;

    /// True when the browser posted the form itself (no JavaScript): it wants a page back.
    pub fn plain_form_post() -> bool {
        use_context::<http::request::Parts>()
            .and_then(|p| p.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).map(|v| v.contains("text/html")))
            .unwrap_or(false)
    }

    /// For a plain form post, keeps `values` and the answer for the page the browser is sent
    /// back to (`back_to`, or the page it came from) with a 303; a script's call gets the answer
    /// as it is (its error sets its own status when encoded).
    pub async fn respond<T: Serialize>(
        form: &str,
        values: Vec<(&str, String)>,
        back_to: Option<&str>,
        result: Result<T, AppError>,
    ) -> Result<T, AppError> {
        if !plain_form_post() {
            return result;
        }
        let redirected_elsewhere = use_context::<leptos_axum::ResponseOptions>()
            .is_some_and(|r| r.0.read().map(|parts| parts.headers.contains_key(http::header::LOCATION)).unwrap_or(false));
        if result.is_ok() && redirected_elsewhere && back_to.is_none() {
            // Done: the next page has all it needs, and nothing typed should linger for the
            // next person on this browser.
            return result;
        }
        // What was typed is only worth keeping to correct it; after a success it is dropped.
        let values = if result.is_ok() { Vec::new() } else { values };
        let answer = match &result {
            Ok(value) => serde_json::to_string(&Ok::<&T, AppError>(value)),
            Err(error) => serde_json::to_string(&Err::<(), &AppError>(error)),
        };
        let flash =
            Flash { form: form.into(), values: values.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), answer: answer.unwrap_or_default() };
        let state = app_state();
        let token = new_token();
        let now = now_ms();
        let stored = async {
            sqlx::query("DELETE FROM form_flashes WHERE created_at < $1").bind(now - LIFETIME_MS).execute(state.db.pool()).await?;
            sqlx::query("INSERT INTO form_flashes (id_hash, form, payload, created_at) VALUES ($1, $2, $3, $4)")
                .bind(token_hash(&token))
                .bind(form)
                .bind(serde_json::to_string(&flash).unwrap_or_default())
                .bind(now)
                .execute(state.db.pool())
                .await
        }
        .await;
        if let Err(e) = stored {
            tracing::warn!(error = %e, "cannot keep the form for its page");
        }
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            let secure = if state.config.secure_cookies { "; Secure" } else { "" };
            let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600{secure}");
            if let Ok(value) = http::HeaderValue::from_str(&cookie) {
                response.append_header(http::header::SET_COOKIE, value);
            }
            // The browser gets the page back with the 303 below, not a bare error status.
            response.set_status(http::StatusCode::SEE_OTHER);
        }
        if let Some(path) = back_to {
            leptos_axum::redirect(path);
        }
        result
    }

    pub async fn take(form: &str) -> Result<Option<Flash>, AppError> {
        let Some(parts) = use_context::<http::request::Parts>() else { return Ok(None) };
        let token = parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| cookie_value(v, COOKIE))
            .map(str::to_string);
        let Some(token) = token else { return Ok(None) };
        let state = app_state();
        let payload: Option<String> =
            sqlx::query_scalar("DELETE FROM form_flashes WHERE id_hash = $1 AND form = $2 AND created_at > $3 RETURNING payload")
                .bind(token_hash(&token))
                .bind(form)
                .bind(now_ms() - LIFETIME_MS)
                .fetch_optional(state.db.pool())
                .await
                .map_err(|e| AppError::internal("reading a form flash", e))?;
        Ok(payload.and_then(|p| serde_json::from_str(&p).ok()))
    }
}
