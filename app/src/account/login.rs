//! Login and logout: the page, and the server functions behind it.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::SessionUser;
use crate::error::AppError;

/// The one message for an unknown address or a wrong password: it never tells which.
pub const BAD_CREDENTIALS: &str = "Identifiant ou mot de passe incorrect.";

#[server(endpoint = "session/login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use crate::account::{password, session, users};
    use crate::domain::Email;
    use crate::error::with_status;
    use crate::state::app_state;

    with_status(async move {
        let state = app_state();
        let refused = || AppError::Validation(vec![("email".into(), BAD_CREDENTIALS.into())]);
        // A malformed address still costs a hash verification: the timing tells nothing.
        let account = match Email::parse(&email) {
            Ok(email) => users::credentials_by_email(&state.db, &email)
                .await
                .map_err(|e| AppError::internal("login: reading the account failed", e))?,
            Err(_) => None,
        };
        let stored = account.as_ref().map(|a| a.password_hash.clone());
        if !password::verify(&state.hashing, stored, password).await? {
            return Err(refused());
        }
        let account = account.ok_or_else(refused)?;
        let token = session::start(&state.db, &account.id)
            .await
            .map_err(|e| AppError::internal("login: starting the session failed", e))?;
        set_cookie(&session::cookie(&state.config, &token));
        leptos_axum::redirect("/");
        Ok(())
    }
    .await)
}

#[server(endpoint = "session/logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::account::session;
    use crate::state::app_state;

    let state = app_state();
    if let Some(current) = session::current() {
        session::end(&state.db, &current.token_hash)
            .await
            .map_err(|e| AppError::internal("logout: ending the session failed", e))?;
    }
    set_cookie(&session::removal_cookie(&state.config));
    leptos_axum::redirect("/");
    Ok(())
}

/// Who is logged in on this request, if anyone.
#[server(endpoint = "session/current")]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    Ok(crate::account::session::current().map(|s| s.user))
}

#[cfg(feature = "ssr")]
fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = move || match login.value().get() {
        Some(Err(e)) => Some(e.field("email").map(str::to_string).unwrap_or_else(|| e.to_string())),
        _ => None,
    };
    view! {
        <Title text="Connexion"/>
        <h1>"Connexion à votre espace"</h1>
        <ActionForm action=login attr:class="form" attr:novalidate=true>
            {move || error().map(|message| view! {
                <p class="alert alert-error" role="alert" id="login-error">{message}</p>
            })}
            <div class="field">
                <label for="login-email">"Adresse électronique"</label>
                <input id="login-email" name="email" type="email" autocomplete="username" required/>
            </div>
            <div class="field">
                <label for="login-password">"Mot de passe"</label>
                <input id="login-password" name="password" type="password" autocomplete="current-password" required/>
            </div>
            <button type="submit" class="button">"Se connecter"</button>
        </ActionForm>
    }
}
