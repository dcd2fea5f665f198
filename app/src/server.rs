//! The one shape of every server function: who may call it (an [`Audience`]), then what it does.
//!
//! ```ignore
//! #[server(endpoint = "admin/overview")]
//! pub async fn overview() -> Result<AdminView, AppError> {
//!     crate::server::serve(ADMIN, |state, me| async move { service::overview(&state.db, &me).await }).await
//! }
//! ```
//!
//! [`serve`] reads the application state and checks the caller's role (`Unauthorized` when
//! nobody is logged in, `Forbidden` for another role); an error sets its own HTTP status as it
//! is encoded (`AppError`'s `FromServerFnError::ser`). [`serve_form`] also answers a plain form post (JavaScript off) with its flash and redirect
//! (`forms::respond`). `ANYONE` functions use [`serve_anyone`] / [`serve_form_anyone`]; a form that
//! learns its way back while it runs uses [`admitted`] and answers itself. The test
//! `every_server_function_declares_who_may_call_it` (server/tests) reads each `#[server]`
//! function and fails when one does not go through these with a named audience.

use std::future::Future;

use serde::Serialize;

use crate::account::{Role, SessionUser};
use crate::error::AppError;
use crate::state::AppState;

/// Who may call a server function: the roles it admits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audience(&'static [Role]);

/// Beneficiaries only.
pub const BENEFICIARY: Audience = Audience(&[Role::Beneficiary]);
/// Advisors and administrators.
pub const STAFF: Audience = Audience(&[Role::Advisor, Role::Admin]);
/// Administrators only.
pub const ADMIN: Audience = Audience(&[Role::Admin]);
/// Anyone logged in, whatever the role.
pub const SIGNED_IN: Audience = Audience(&[Role::Beneficiary, Role::Advisor, Role::Admin]);

impl Audience {
    /// The logged-in caller, if this audience admits them.
    fn admit(self) -> Result<SessionUser, AppError> {
        crate::account::require_role(self.0)
    }
}

/// Runs `body` for a caller this audience admits, with the state and the caller.
pub async fn serve<T, Fut>(audience: Audience, body: impl FnOnce(AppState, SessionUser) -> Fut) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    admitted(audience, body).await
}

/// Runs `body` for anyone, logged in or not (registration, login, links sent by email).
pub async fn serve_anyone<T, Fut>(body: impl FnOnce(AppState) -> Fut) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    body(crate::state::app_state()).await
}

/// [`serve`] for a function a `<form>` posts to: a plain post (JavaScript off) is answered with
/// a redirect back to the page (or `back_to`), `values` kept to correct an error.
pub async fn serve_form<T: Serialize, Fut>(
    audience: Audience,
    form: &str,
    values: Vec<(&str, String)>,
    back_to: Option<&str>,
    body: impl FnOnce(AppState, SessionUser) -> Fut,
) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    crate::forms::respond(form, values, back_to, admitted(audience, body).await).await
}

/// [`serve_form`] for anyone, logged in or not.
pub async fn serve_form_anyone<T: Serialize, Fut>(
    form: &str,
    values: Vec<(&str, String)>,
    back_to: Option<&str>,
    body: impl FnOnce(AppState) -> Fut,
) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    crate::forms::respond(form, values, back_to, body(crate::state::app_state()).await).await
}

/// Runs `body` for a caller this audience admits, and answers nothing yet: for a form that
/// learns while it runs where to send the browser back (a message, an upload), and then calls
/// `forms::respond` itself.
pub async fn admitted<T, Fut>(audience: Audience, body: impl FnOnce(AppState, SessionUser) -> Fut) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let caller = audience.admit()?;
    body(crate::state::app_state(), caller).await
}
