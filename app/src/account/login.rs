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
        metrics::counter!("passerelle_logins_total", "outcome" => outcome_label(&result)).increment(1);
        if let Ok(LoginOutcome::LoggedIn { destination }) = &result {
            leptos_axum::redirect(destination);
        }
        result
    })
    .await
}

/// Accepts the CGU and privacy policy in force and finishes logging in (after
/// [`LoginOutcome::NewTerms`]).
/// A login's outcome as the metrics count it (`passerelle_logins_total{outcome}`).
#[cfg(feature = "ssr")]
fn outcome_label(result: &Result<LoginOutcome, AppError>) -> &'static str {
    match result {
        Ok(LoginOutcome::LoggedIn { .. }) => "logged_in",
        Ok(LoginOutcome::NotActivated { .. }) => "not_activated",
        Ok(LoginOutcome::Locked { .. }) => "locked",
        Ok(LoginOutcome::Merged { .. }) => "merged",
        Ok(LoginOutcome::NewTerms { .. }) => "new_terms",
        Err(AppError::Validation(_)) => "refused",
        Err(AppError::Conflict(_)) => "conflict",
        Err(_) => "error",
    }
}

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
    use crate::account::{password, rate_limit, session, ticket, Role};
    use crate::dashboard::AttemptOutcome;
    use crate::db::{new_id, now_ms};
    use crate::domain::Email;
    use crate::state::AppState;

    const HOUR_MS: i64 = 3_600_000;
    const DAY_MS: i64 = 24 * HOUR_MS;

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
        locked_until: Option<i64>,
    }

    async fn record(state: &AppState, user_id: &str, outcome: AttemptOutcome) -> Result<(), AppError> {
        sqlx::query("INSERT INTO login_attempts (id, user_id, at, outcome, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(new_id())
            .bind(user_id)
            .bind(now_ms())
            .bind(outcome.as_str())
            .bind(crate::account::client_ip().map(|ip| ip.to_string()))
            .bind(crate::account::user_agent())
            .execute(state.db.pool())
            .await?;
        Ok(())
    }

    /// What a counted password check found (see [`verify_counted`]).
    #[derive(Debug, PartialEq, Eq)]
    pub enum Checked {
        Right,
        /// The password was verified and is wrong; `locked_minutes` when this failure locked
        /// the account.
        Wrong {
            locked_minutes: Option<i64>,
        },
        /// The account is locked: nothing was verified, nothing was written.
        Locked {
            minutes: i64,
        },
    }

    /// The account's side of a password check.
    pub struct Holder<'a> {
        pub id: &'a str,
        pub password_hash: &'a str,
        pub failures_cleared_at: Option<i64>,
    }

    /// Checks a password the way every endpoint that asks for one must: one verification
    /// reserved before hashing ([`reserve`]), so failures count towards the lock whatever the
    /// concurrency, and a right password clears the count. Login, email change and address
    /// correction before activation all go through it.
    pub async fn verify_counted(state: &AppState, holder: Holder<'_>, password_text: String) -> Result<Checked, AppError> {
        let now = now_ms();
        let failures = match reserve(state, holder.id, now).await? {
            Ok(failures) => failures,
            Err(until) => return Ok(Checked::Locked { minutes: minutes_left(until, now) }),
        };
        if password::verify(&state.hashing, Some(holder.password_hash.to_string()), password_text).await? {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1").bind(holder.id).execute(state.db.pool()).await?;
            return Ok(Checked::Right);
        }
        let until = failed(state, &holder, failures, now).await?;
        Ok(Checked::Wrong { locked_minutes: until.map(|until| minutes_left(until, now)) })
    }

    impl Checked {
        /// For an endpoint other than login (the login page has its own panels): `Ok` for the
        /// right password, else an error on `field` — `wrong` for a wrong password, or how long
        /// the account now waits.
        pub fn require(self, field: &str, wrong: &str) -> Result<(), AppError> {
            let minutes = match self {
                Checked::Right => return Ok(()),
                Checked::Wrong { locked_minutes: None } => return Err(AppError::invalid(field, wrong)),
                Checked::Wrong { locked_minutes: Some(minutes) } | Checked::Locked { minutes } => minutes,
            };
            let wait = if minutes <= 1 { "1 minute".to_string() } else { format!("{minutes} minutes") };
            Err(AppError::invalid(
                field,
                format!(
                    "Trop de mots de passe erronés : par sécurité, ce compte est bloqué pendant encore {wait}. \
                     Mot de passe oublié ? Demandez un lien pour le changer depuis la page de connexion."
                ),
            ))
        }
    }

    /// An address with no account behaves like an account, failures and locks included, so
    /// that locking an address reveals nothing: its failures are rate events under a keyed hash
    /// of the address (never the address itself), kept 24 hours.
    fn unknown_bucket(state: &AppState, normalized: &str) -> String {
        format!("login-unknown:{}", state.config.secrets.sign(normalized))
    }

    /// The last 24 hours' failures of an unknown address, newest first.
    async fn unknown_failures(conn: &mut sqlx::AnyConnection, bucket: &str, now: i64) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT at FROM rate_events WHERE bucket = $1 AND at > $2 ORDER BY at DESC")
            .bind(bucket)
            .bind(now - DAY_MS)
            .fetch_all(conn)
            .await
    }

    /// Until when an unknown address with these failures (newest first) waits: the same rule
    /// as an account's ([`lock_ms`] of the count, and the 24-hour limit).
    fn unknown_locked_until(failures: &[i64]) -> Option<i64> {
        let count = failures.len() as i64;
        let oldest_of_day = failures.get(FAILURES_PER_DAY as usize - 1).copied();
        locked_until(count, failures.first().copied().unwrap_or(0), oldest_of_day)
    }

    /// The lock rule, for an account and an unknown address alike: `failures` in a row, the last
    /// at `last_at`, wait [`lock_ms`] of them; with [`FAILURES_PER_DAY`] in the window,
    /// `oldest_of_day` (the oldest of those) must also leave it.
    fn locked_until(failures: i64, last_at: i64, oldest_of_day: Option<i64>) -> Option<i64> {
        let until = (lock_ms(failures) > 0).then(|| last_at + lock_ms(failures));
        match oldest_of_day {
            Some(oldest) => Some(until.unwrap_or(0).max(oldest + DAY_MS)),
            None => until,
        }
    }

    /// A password typed for an unknown address: one failure reserved atomically, as
    /// [`verify_counted`] does for an account, then the dummy verification a wrong password
    /// costs.
    async fn unknown_address(state: &AppState, bucket: &str, password_text: String) -> Result<Checked, AppError> {
        let now = now_ms();
        let mut tx = state.db.begin_write().await?;
        rate_limit::lock_bucket(&state.db, &mut tx, bucket).await?;
        sqlx::query("DELETE FROM rate_events WHERE bucket = $1 AND at <= $2").bind(bucket).bind(now - DAY_MS).execute(&mut *tx).await?;
        let mut failures = unknown_failures(&mut tx, bucket, now).await?;
        if let Some(until) = unknown_locked_until(&failures).filter(|until| *until > now) {
            return Ok(Checked::Locked { minutes: minutes_left(until, now) });
        }
        sqlx::query("INSERT INTO rate_events (bucket, at, id) VALUES ($1, $2, $3)").bind(bucket).bind(now).bind(new_id()).execute(&mut *tx).await?;
        tx.commit().await?;
        password::verify(&state.hashing, None, password_text).await?;
        failures.insert(0, now);
        Ok(Checked::Wrong { locked_minutes: unknown_locked_until(&failures).map(|until| minutes_left(until, now)) })
    }

    /// Reserves one wrong password in the client network's and the whole service's login limits
    /// (settings `accounts.login_failures_per_ip_per_hour` and `…_per_hour`), before any hashing;
    /// the caller gives them back when no wrong password was verified after all.
    async fn within_login_limits(state: &AppState) -> Result<Vec<rate_limit::Reservation>, AppError> {
        let network = crate::account::client_network().unwrap_or_else(|| "unknown".into());
        let per_network = format!("login-ip:{network}");
        let Some(mine) = rate_limit::reserve(&state.db, &per_network, state.config.login_failures_per_ip_per_hour, HOUR_MS).await? else {
            return Err(AppError::Conflict(
                "Trop de mots de passe erronés ont été saisis depuis votre réseau. Par sécurité, les connexions depuis ce réseau \
                 reprendront dans moins d'une heure. Vous avez oublié votre mot de passe ? Demandez un lien pour le changer."
                    .into(),
            ));
        };
        let Some(everyone) = rate_limit::reserve(&state.db, "login-all", state.config.login_failures_per_hour, HOUR_MS).await? else {
            rate_limit::release(&state.db, mine).await?;
            tracing::warn!("login: the service-wide limit of wrong passwords per hour is reached");
            return Err(AppError::Conflict(
                "Le service reçoit en ce moment un très grand nombre de tentatives de connexion. Par sécurité, réessayez dans quelques minutes."
                    .into(),
            ));
        };
        Ok(vec![mine, everyone])
    }

    pub async fn login(state: &AppState, email: &str, password_text: String) -> Result<LoginOutcome, AppError> {
        let email = Email::parse(email).ok();
        let account: Option<Account> = match &email {
            Some(email) => {
                sqlx::query_as(
                    "SELECT u.id, u.email, u.password_hash, u.role, u.activated_at, m.email AS merged_email, u.deactivated_at, \
                 u.failures_cleared_at, u.locked_until \
                 FROM users u LEFT JOIN users m ON m.id = u.merged_into WHERE u.email_normalized = $1",
                )
                .bind(email.normalized())
                .fetch_optional(state.db.pool())
                .await?
            }
            None => None,
        };
        // A locked account, or an unknown address as locked, answers at once: no hashing, no
        // row written, the same answer for both.
        let now = now_ms();
        let unknown = match (&account, &email) {
            (None, Some(email)) => Some(unknown_bucket(state, &email.normalized())),
            _ => None,
        };
        let locked_until = match (&account, &unknown) {
            (Some(account), _) => account.locked_until,
            (None, Some(bucket)) => {
                let mut conn = state.db.pool().acquire().await?;
                unknown_locked_until(&unknown_failures(&mut conn, bucket, now).await?)
            }
            (None, None) => None,
        };
        if let Some(until) = locked_until.filter(|until| *until > now) {
            return Ok(LoginOutcome::Locked { minutes: minutes_left(until, now) });
        }
        let reservations = within_login_limits(state).await?;
        let checked = match (&account, &unknown) {
            (Some(account), _) => {
                let holder = Holder { id: &account.id, password_hash: &account.password_hash, failures_cleared_at: account.failures_cleared_at };
                verify_counted(state, holder, password_text).await?
            }
            (None, Some(bucket)) => unknown_address(state, bucket, password_text).await?,
            // Not an address at all: it cannot be an account's, so it has nothing to lock.
            (None, None) => {
                password::verify(&state.hashing, None, password_text).await?;
                Checked::Wrong { locked_minutes: None }
            }
        };
        if !matches!(checked, Checked::Wrong { .. }) {
            // No wrong password was verified: the network's and the service's limits count none.
            for reservation in reservations {
                rate_limit::release(&state.db, reservation).await?;
            }
        }
        let account = match (checked, account) {
            (Checked::Right, Some(account)) => account,
            (Checked::Locked { minutes } | Checked::Wrong { locked_minutes: Some(minutes) }, _) => return Ok(LoginOutcome::Locked { minutes }),
            _ => return Err(refused()),
        };
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
    /// the oldest leaves the window. Answers when the account is now locked until.
    async fn failed(state: &AppState, holder: &Holder<'_>, failures: i64, now: i64) -> Result<Option<i64>, AppError> {
        record(state, holder.id, AttemptOutcome::BadPassword).await?;
        let since = (now - DAY_MS).max(holder.failures_cleared_at.unwrap_or(0));
        let failures_today: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM login_attempts WHERE user_id = $1 AND outcome = 'bad_password' AND at > $2")
                .bind(holder.id)
                .bind(since)
                .fetch_one(state.db.pool())
                .await?;
        let mut oldest_of_day = None;
        if failures_today >= FAILURES_PER_DAY {
            let oldest: i64 = sqlx::query_scalar(
                "SELECT MIN(at) FROM (SELECT at FROM login_attempts WHERE user_id = $1 AND outcome = 'bad_password' AND at > $2 ORDER BY at DESC LIMIT $3) AS recent",
            )
            .bind(holder.id)
            .bind(since)
            .bind(FAILURES_PER_DAY)
            .fetch_one(state.db.pool())
            .await?;
            oldest_of_day = Some(oldest);
        }
        let until = locked_until(failures, now, oldest_of_day);
        if let Some(until) = until {
            // Only ever longer: a reservation made meanwhile may have locked it already.
            sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2 AND (locked_until IS NULL OR locked_until < $1)")
                .bind(until)
                .bind(holder.id)
                .execute(state.db.pool())
                .await?;
        }
        Ok(until)
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
