//! Login and logout: the page, and the server functions behind it.

use leptos::prelude::*;
use leptos_meta::Title;

use serde::{Deserialize, Serialize};

use crate::account::SessionUser;
use crate::error::AppError;

/// The one message for an unknown address or a wrong password: it never tells which.
pub const BAD_CREDENTIALS: &str = "Identifiant ou mot de passe incorrect.";

/// What a login attempt leads to, when the identifier and password were not simply wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoginOutcome {
    LoggedIn {
        destination: String,
    },
    /// Right password, but the activation link was never used.
    NotActivated {
        masked_email: String,
        ticket: String,
    },
    /// Too many failures: the account waits this many minutes.
    Locked {
        minutes: i64,
    },
    /// Right password, but this account was merged into another one: log in with that one.
    Merged {
        masked_email: String,
    },
    /// Right password, but a new version of the CGU or privacy policy is in force: the person
    /// accepts it (`session/accept-terms` with the ticket) to finish logging in.
    NewTerms {
        texts: Vec<crate::admin::LegalVersion>,
        ticket: String,
    },
}

/// After this many consecutive failures the account waits, 1 minute at first.
pub const FAILURES_BEFORE_LOCK: i64 = 5;
/// At most this many failures in 24 hours.
pub const FAILURES_PER_DAY: i64 = 25;

#[server(endpoint = "session/login")]
pub async fn login(#[server(default)] email: String, #[server(default)] password: String) -> Result<LoginOutcome, AppError> {
    let kept = vec![("email", email.clone())];
    crate::server::serve_form_anyone("login", kept, None, |state| async move {
        crate::forms::require_filled(&[
            ("email", &email, "Indiquez votre adresse électronique."),
            ("password", &password, "Indiquez votre mot de passe."),
        ])?;
        let result = service::login(&state, &email, password).await;
        if let Ok(LoginOutcome::LoggedIn { destination }) = &result {
            leptos_axum::redirect(destination);
        }
        result
    })
    .await
}

/// Accepts the CGU and privacy policy in force and finishes logging in (after
/// [`LoginOutcome::NewTerms`]).
#[server(endpoint = "session/accept-terms")]
pub async fn accept_terms(ticket: String, #[server(default)] accept: String) -> Result<LoginOutcome, AppError> {
    crate::server::serve_form_anyone("login", Vec::new(), None, |state| async move {
        if accept != "on" {
            return Err(AppError::invalid("accept", "Cochez la case pour accepter les nouvelles conditions."));
        }
        let result = service::accept_terms(&state, &ticket).await;
        if let Ok(LoginOutcome::LoggedIn { destination }) = &result {
            leptos_axum::redirect(destination);
        }
        result
    })
    .await
}

#[cfg(feature = "ssr")]
pub mod service {
    use super::*;
    use crate::account::tokens::{self, Purpose};
    use crate::account::{password, session, ticket, Role};
    use crate::dashboard::AttemptOutcome;
    use crate::db::{new_id, now_ms};
    use crate::domain::Email;
    use crate::state::AppState;

    fn refused() -> AppError {
        AppError::invalid("email", BAD_CREDENTIALS)
    }

    /// How long an account waits after `failures` consecutive failures: none before 5, then
    /// 1 minute, doubling with each further failure, at most 1 hour.
    pub fn lock_ms(failures: i64) -> i64 {
        if failures < FAILURES_BEFORE_LOCK {
            return 0;
        }
        let doublings = (failures - FAILURES_BEFORE_LOCK).min(6) as u32;
        (60_000i64 << doublings).min(3_600_000)
    }

    /// Reserves one password verification for the account, in one conditional statement and
    /// before any hashing: `Err(until)` while it is locked. The reservation counts as a failure
    /// until the password proves right (the count then goes back to zero), and the one that
    /// reaches [`FAILURES_BEFORE_LOCK`] locks the account at once for [`lock_ms`] of its count:
    /// however many requests arrive together, at most that many passwords are verified.
    async fn reserve(state: &AppState, account_id: &str, now: i64) -> Result<Result<i64, i64>, AppError> {
        let waits: String = (FAILURES_BEFORE_LOCK..FAILURES_BEFORE_LOCK + 7).map(|n| format!(" WHEN {n} THEN $2 + {}", lock_ms(n))).collect();
        let reserved: Option<i64> = sqlx::query_scalar(&format!(
            "UPDATE users SET failed_logins = failed_logins + 1, locked_until = CASE \
             WHEN failed_logins + 1 < {FAILURES_BEFORE_LOCK} THEN locked_until ELSE CASE failed_logins + 1{waits} ELSE $2 + {} END END \
             WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) RETURNING failed_logins",
            lock_ms(i64::MAX)
        ))
        .bind(account_id)
        .bind(now)
        .fetch_optional(state.db.pool())
        .await?;
        if let Some(failures) = reserved {
            return Ok(Ok(failures));
        }
        let until: Option<i64> =
            sqlx::query_scalar("SELECT locked_until FROM users WHERE id = $1").bind(account_id).fetch_one(state.db.pool()).await?;
        Ok(Err(until.unwrap_or(now)))
    }

    fn minutes_left(until: i64, now: i64) -> i64 {
        ((until - now) + 59_999) / 60_000
    }

    #[derive(sqlx::FromRow)]
    struct Account {
        id: String,
        email: String,
        password_hash: String,
        #[sqlx(try_from = "String")]
        role: Role,
        activated_at: Option<i64>,
        merged_email: Option<String>,
        deactivated_at: Option<i64>,
        failures_cleared_at: Option<i64>,
    }

    async fn record(state: &AppState, user_id: &str, outcome: AttemptOutcome) -> Result<(), AppError> {
        sqlx::query("INSERT INTO login_attempts (id, user_id, at, outcome) VALUES ($1, $2, $3, $4)")
            .bind(new_id())
            .bind(user_id)
            .bind(now_ms())
            .bind(outcome.as_str())
            .execute(state.db.pool())
            .await?;
        Ok(())
    }

    pub async fn login(state: &AppState, email: &str, password_text: String) -> Result<LoginOutcome, AppError> {
        let account: Option<Account> = match Email::parse(email) {
            Ok(email) => {
                sqlx::query_as(
                    "SELECT u.id, u.email, u.password_hash, u.role, u.activated_at, m.email AS merged_email, u.deactivated_at, \
                 u.failures_cleared_at \
                 FROM users u LEFT JOIN users m ON m.id = u.merged_into WHERE u.email_normalized = $1",
                )
                .bind(email.normalized())
                .fetch_optional(state.db.pool())
                .await?
            }
            Err(_) => None,
        };
        let now = now_ms();
        // A locked account answers at once: no hashing, no row written.
        let failures = match &account {
            Some(account) => match reserve(state, &account.id, now).await? {
                Ok(failures) => Some(failures),
                Err(until) => return Ok(LoginOutcome::Locked { minutes: minutes_left(until, now) }),
            },
            None => None,
        };
        // Unknown accounts verify a dummy hash: the answer takes as long either way.
        let stored = account.as_ref().map(|a| a.password_hash.clone());
        let right = password::verify(&state.hashing, stored, password_text).await?;
        let (Some(account), Some(failures)) = (account, failures) else { return Err(refused()) };
        if !right {
            return failed(state, &account, failures, now).await;
        }
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1").bind(&account.id).execute(state.db.pool()).await?;
        if let Some(merged_email) = &account.merged_email {
            record(state, &account.id, AttemptOutcome::Merged).await?;
            return Ok(LoginOutcome::Merged { masked_email: Email::parse(merged_email).map(|e| e.masked()).unwrap_or_default() });
        }
        if account.deactivated_at.is_some() {
            record(state, &account.id, AttemptOutcome::Deactivated).await?;
            return Err(AppError::Conflict("Ce compte a été désactivé. Adressez-vous à un administrateur de Passerelle.".into()));
        }
        if account.activated_at.is_none() {
            record(state, &account.id, AttemptOutcome::NotActivated).await?;
            return Ok(LoginOutcome::NotActivated {
                masked_email: Email::parse(&account.email).map(|e| e.masked()).unwrap_or_default(),
                ticket: ticket::issue(&state.config.secrets, &account.id),
            });
        }
        if account.role == Role::Beneficiary {
            let mut conn = state.db.pool().acquire().await?;
            let texts = crate::admin::service::to_accept(&mut conn, &account.id).await?;
            if !texts.is_empty() {
                record(state, &account.id, AttemptOutcome::NewTerms).await?;
                let ticket = tokens::issue(&mut conn, &account.id, Purpose::Terms, TERMS_TICKET).await?;
                return Ok(LoginOutcome::NewTerms { texts, ticket });
            }
        }
        open_session(state, &account.id, account.role).await
    }

    /// How long the page may take to accept new terms after the password was checked. The
    /// ticket is single use, and void after a reset, a logout or a lock.
    const TERMS_TICKET: std::time::Duration = std::time::Duration::from_secs(5 * 60);

    /// Logs the account in: a new session (nothing from before login carried over).
    async fn open_session(state: &AppState, user_id: &str, role: Role) -> Result<LoginOutcome, AppError> {
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2").bind(now_ms()).bind(user_id).execute(state.db.pool()).await?;
        record(state, user_id, AttemptOutcome::Success).await?;
        if let Some(previous) = session::current() {
            session::end(&state.db, &previous.token_hash).await?;
        }
        let token = session::start(&state.db, user_id).await?;
        set_cookie(&session::cookie(&state.config, &token));
        let destination = match role {
            Role::Advisor | Role::Admin => "/conseiller",
            Role::Beneficiary => "/espace",
        };
        Ok(LoginOutcome::LoggedIn { destination: destination.into() })
    }

    /// Records the acceptance of the texts in force and finishes the login the ticket started.
    pub async fn accept_terms(state: &AppState, ticket_text: &str) -> Result<LoginOutcome, AppError> {
        let expired = || AppError::Conflict("Cette page a expiré : connectez-vous à nouveau.".into());
        let mut tx = state.db.begin_write().await?;
        let user_id = tokens::consume(&mut tx, ticket_text, Purpose::Terms).await?.ok_or_else(expired)?;
        let role: Option<String> = sqlx::query_scalar(
            "SELECT role FROM users WHERE id = $1 AND activated_at IS NOT NULL AND closed_at IS NULL AND deactivated_at IS NULL \
             AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(&user_id)
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await?;
        let role = role.and_then(|r| Role::parse(&r)).ok_or_else(expired)?;
        crate::admin::service::accept_current(&mut tx, &user_id).await?;
        tx.commit().await?;
        open_session(state, &user_id, role).await
    }

    /// Lifts the lock and forgets the failures so far, the 24-hour window's included (a reset by
    /// the emailed link, an advisor's unlock): only later failures count.
    pub async fn clear_failures(conn: &mut sqlx::AnyConnection, user_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL, failures_cleared_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(user_id)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// A wrong password, the `failures`-th in a row (counted and locked by [`reserve`]); past
    /// [`FAILURES_PER_DAY`] in 24 hours (since the last [`clear_failures`]), the lock lasts until
    /// the oldest leaves the window.
    async fn failed(state: &AppState, account: &Account, failures: i64, now: i64) -> Result<LoginOutcome, AppError> {
        record(state, &account.id, AttemptOutcome::BadPassword).await?;
        let since = (now - 86_400_000).max(account.failures_cleared_at.unwrap_or(0));
        let failures_today: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM login_attempts WHERE user_id = $1 AND outcome = 'bad_password' AND at > $2")
                .bind(&account.id)
                .bind(since)
                .fetch_one(state.db.pool())
                .await?;
        let mut until = (lock_ms(failures) > 0).then(|| now + lock_ms(failures));
        if failures_today >= FAILURES_PER_DAY {
            let oldest: i64 = sqlx::query_scalar(
                "SELECT MIN(at) FROM (SELECT at FROM login_attempts WHERE user_id = $1 AND outcome = 'bad_password' AND at > $2 ORDER BY at DESC LIMIT $3) AS recent",
            )
            .bind(&account.id)
            .bind(since)
            .bind(FAILURES_PER_DAY)
            .fetch_one(state.db.pool())
            .await?;
            until = Some(until.unwrap_or(0).max(oldest + 86_400_000));
        }
        if let Some(until) = until {
            // Only ever longer: a reservation made meanwhile may have locked it already.
            sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2 AND (locked_until IS NULL OR locked_until < $1)")
                .bind(until)
                .bind(&account.id)
                .execute(state.db.pool())
                .await?;
        }
        match until {
            Some(until) => Ok(LoginOutcome::Locked { minutes: minutes_left(until, now) }),
            None => Err(refused()),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_wait_starts_at_five_failures_doubles_and_stops_at_one_hour() {
            assert_eq!(lock_ms(4), 0);
            assert_eq!(lock_ms(5), 60_000);
            assert_eq!(lock_ms(6), 120_000);
            assert_eq!(lock_ms(7), 240_000);
            assert_eq!(lock_ms(11), 3_600_000);
            assert_eq!(lock_ms(40), 3_600_000);
        }
    }
}

#[server(endpoint = "session/logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::account::session;
    // Anyone: logging out without a session still clears the cookie.
    crate::server::serve_anyone(|state| async move {
        if let Some(current) = session::current() {
            session::end(&state.db, &current.token_hash).await?;
            let mut conn = state.db.pool().acquire().await?;
            crate::account::tokens::void(&mut conn, &current.user.user_id, crate::account::tokens::Purpose::Terms).await?;
        }
        set_cookie(&session::removal_cookie(&state.config));
        leptos_axum::redirect("/");
        Ok(())
    })
    .await
}

/// Who is logged in, as the header shows them: name, role, and messages waiting to be read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HeaderUser {
    pub user: SessionUser,
    pub unread_messages: i64,
}

/// Who is logged in on this request, if anyone.
#[server(endpoint = "session/current")]
pub async fn current_user() -> Result<Option<HeaderUser>, AppError> {
    // Anyone: the header asks on every page, logged in or not.
    crate::server::serve_anyone(|state| async move {
        let Some(current) = crate::account::session::current() else { return Ok(None) };
        // The header must not fail because of a count: it shows none when the count cannot be read.
        let unread_messages = crate::messages::service::unread_count(&state.db, &current.user).await.unwrap_or(0);
        Ok(Some(HeaderUser { user: current.user, unread_messages }))
    })
    .await
}

#[cfg(feature = "ssr")]
fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(value)) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let flash = crate::forms::flash_resource("login");
    view! {
        <Title text="Connexion"/>
        <h1>"Connexion à votre espace"</h1>
        <Suspense fallback=|| ()>
            {move || flash.get().map(|flash| view! { <LoginForm flash/> })}
        </Suspense>
    }
}

#[component]
fn LoginForm(flash: Option<crate::forms::Flash>) -> impl IntoView {
    use crate::account::activation::ResendActivation;
    use crate::forms::fields::{all_errors, error_for, ErrorSummary, Field, RevealToggle};
    use leptos_router::components::A;
    use leptos_router::hooks::use_query_map;

    let login = ServerAction::<Login>::new();
    let resend = ServerAction::<ResendActivation>::new();
    let accept = ServerAction::<AcceptTerms>::new();
    let from_flash: Option<Result<LoginOutcome, AppError>> = flash.as_ref().and_then(|f| f.answer());
    let typed_email = flash.as_ref().map(|f| f.value("email")).unwrap_or_default();
    let answer = Signal::derive(move || login.value().get().or_else(|| from_flash.clone()));
    let errors = Signal::derive(move || all_errors(&answer.get()));
    let show_password = RwSignal::new(false);
    let query = use_query_map();
    let notice = move || {
        query.with(|q| {
            if q.get("active").is_some() {
                Some("Votre compte est activé. Connectez-vous avec votre adresse et votre mot de passe.")
            } else if q.get("mot-de-passe").is_some() {
                Some("Votre mot de passe est changé et toutes vos sessions ont été fermées. Connectez-vous avec le nouveau mot de passe.")
            } else if q.get("expire").is_some() {
                Some("Votre session a expiré. Connectez-vous à nouveau : ce que vous aviez saisi est conservé.")
            } else {
                None
            }
        })
    };
    view! {
        {move || notice().map(|text| view! { <p class="alert alert-success" role="status">{text}</p> })}
        {move || match answer.get() {
            Some(Ok(LoginOutcome::Locked { minutes })) => Some(view! {
                <div class="alert alert-error" role="alert" tabindex="-1" autofocus=true>
                    <p>
                        "Trop de tentatives ont échoué : par sécurité, ce compte est bloqué pendant encore "
                        {if minutes <= 1 { "1 minute".to_string() } else { format!("{minutes} minutes") }} "."
                    </p>
                    <p>"Vous avez oublié votre mot de passe ? " <A href="/mot-de-passe-oublie">"Recevoir un lien pour le changer"</A> " : cela débloque aussi le compte."</p>
                </div>
            }.into_any()),
            Some(Ok(LoginOutcome::NotActivated { masked_email, ticket })) => { let correct_link = format!("/inscription/envoye?t={ticket}"); Some(view! {
                <div class="panel panel-warning" role="alert" tabindex="-1" autofocus=true>
                    <h2>"Votre compte n'est pas encore activé"</h2>
                    <p>"Le lien d'activation a été envoyé à " <strong>{masked_email}</strong> ". Il fonctionne 48 heures ; pensez aux courriers indésirables."</p>
                    {move || match resend.value().get() {
                        Some(Ok(_)) => view! { <p class="alert alert-success" role="status">"Un nouveau lien vient d'être envoyé."</p> }.into_any(),
                        Some(Err(e)) => view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any(),
                        None => ().into_any(),
                    }}
                    <ActionForm action=resend attr:class="inline-form">
                        <input type="hidden" name="ticket" value=ticket/>
                        <button type="submit" class="button">"Renvoyer le lien d'activation"</button>
                    </ActionForm>
                    <p><A href=correct_link>"Ce n'est pas la bonne adresse ? Corriger"</A></p>
                </div>
            }.into_any()) }
            Some(Ok(LoginOutcome::NewTerms { texts, ticket })) => Some(view! {
                <div class="panel panel-warning" role="alert" tabindex="-1" autofocus=true>
                    <h2>"Les conditions d'utilisation ont changé"</h2>
                    <p>"Pour continuer, lisez ce qui change et acceptez la nouvelle version :"</p>
                    <ul>{texts.into_iter().map(|t| view! {
                        <li>
                            <a href=if t.document == "cgu" { "/cgu" } else { "/confidentialite" } target="_blank" rel="noopener">
                                {format!("{}, version {} (nouvel onglet)", t.title(), t.version)}
                            </a>
                            {format!(" : {}", t.summary)}
                        </li>
                    }).collect_view()}</ul>
                    {move || accept.value().get().and_then(|r| r.err()).map(|e| view! { <crate::forms::Problems error=e/> })}
                    <ActionForm action=accept attr:class="form">
                        <input type="hidden" name="ticket" value=ticket/>
                        <div class="field checkbox">
                            <input type="checkbox" id="accepter-conditions" name="accept" value="on" required aria-required="true"/>
                            <label for="accepter-conditions">"J'ai lu et j'accepte ces nouvelles conditions"</label>
                        </div>
                        <button type="submit" class="button">"Accepter et continuer"</button>
                    </ActionForm>
                </div>
            }.into_any()),
            Some(Ok(LoginOutcome::Merged { masked_email })) => Some(view! {
                <div class="panel panel-warning" role="alert" tabindex="-1" autofocus=true>
                    <h2>"Ce compte a été regroupé avec un autre"</h2>
                    <p>"Un conseiller a réuni vos deux comptes : tout se trouve maintenant sur le compte " <strong>{masked_email}</strong> ". Connectez-vous avec cette adresse-là ; si vous avez oublié son mot de passe, demandez un nouveau lien."</p>
                </div>
            }.into_any()),
            _ => None,
        }}
        <ActionForm action=login attr:class="form" attr:novalidate=true>
            <ErrorSummary errors labels=|_| ""/>
            <Field name="email" prefix="" label="Adresse électronique" input_type="email" autocomplete="username" required=true
                value=Signal::derive(move || typed_email.clone()) error=Signal::derive(move || error_for(&answer.get(), "email"))/>
            <Field name="password" prefix="" label="Mot de passe" input_type="password" autocomplete="current-password" required=true
                reveal=show_password value=Signal::derive(String::new) error=Signal::derive(move || error_for(&answer.get(), "password"))/>
            <RevealToggle shown=show_password id="afficher-mot-de-passe"/>
            <button type="submit" class="button">"Se connecter"</button>
        </ActionForm>
        <p><A href="/mot-de-passe-oublie">"Mot de passe oublié ?"</A></p>
        <p>"Pas encore de compte ? " <A href="/inscription">"Créer votre compte"</A>"."</p>
    }
}
