//! Registration, activation, login throttling and password reset, on both databases.

use std::time::Duration;

use app::account::activation::{Activate, ActivationLinkStatus, CorrectEmail, LinkSent, ResendActivation};
use app::account::login::{Login, LoginOutcome};
use app::account::registration::{RegistrationOutcome, RequestMerge, ResetExistingAccount};
use app::account::reset::{RequestPasswordReset, ResetLinkStatus, ResetPassword, ResetRequested};
use app::account::session_watch::{ExtendSession, GetSessionTime};
use app::account::{LinkProblem, Role};
use app::db::now_ms;
use app::error::AppError;
use app::profile::ChangeEmail;

use crate::helpers::{
    both_backends, client, client_from, create_user, nir_with_key, refused_fields, registration_form, spawn_app, spawn_app_with, whoami, Backend,
    TestApp, GOOD_PASSWORD,
};

fn nir() -> String {
    nir_with_key("2850775056042")
}

fn login(email: &str, password: &str) -> Login {
    Login { email: email.into(), password: password.into() }
}

fn forgot(email: &str) -> RequestPasswordReset {
    RequestPasswordReset { email: email.into() }
}

fn reset(token: &str, password: &str, password_confirm: &str) -> ResetPassword {
    ResetPassword { token: token.into(), password: password.into(), password_confirm: password_confirm.into() }
}

async fn registered_and_activated(app: &TestApp, email: &str) {
    app.register(email, &nir()).await;
    let token = app.last_link_to(email, "/activation").await;
    let (status, _) = app.call_fn(&app.client, Activate { token }).await;
    assert!(status.as_u16() < 400, "activation answered {status}");
}

async fn registration_creates_an_inactive_account_and_emails_an_activation_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut form = registration_form("helene@exemple.fr", &nir());
    form.iter_mut().find(|(k, _)| k == "first_name").unwrap().1 = "Gagnez Un Cadeau Ici".into();

    let (_, outcome) = app.register_with(form).await;
    let outcome = outcome.unwrap();

    assert!(matches!(&outcome, RegistrationOutcome::Registered { masked_email, .. } if masked_email == "h•••@exemple.fr"), "{outcome:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE activated_at IS NULL").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM consents WHERE version = '1'").await, 2, "CGU and privacy versions recorded");
    let email = &app.smtp.wait_for(1, Duration::from_secs(10)).await[0];
    assert_eq!(email.subject(), "Activez votre compte Passerelle");
    assert!(email.text().contains("48 heures"));
    assert!(!email.text().contains("Cadeau"), "the address is not verified: nothing typed is echoed into the email");
    app.stop().await;
}
both_backends!(registration_creates_an_inactive_account_and_emails_an_activation_link);

async fn the_nir_is_stored_encrypted_with_a_keyed_hash_never_in_clear(backend: Backend) {
    let app = spawn_app(backend).await;

    app.register("helene@exemple.fr", &nir()).await;

    let (encrypted, hash): (String, String) = sqlx::query_as("SELECT nir_encrypted, nir_hash FROM users").fetch_one(app.db.pool()).await.unwrap();
    assert!(!encrypted.contains(&nir()[..13]) && !hash.contains(&nir()[..13]));
    let dump: Vec<(String,)> = sqlx::query_as("SELECT email || ' ' || COALESCE(phone, '') || ' ' || COALESCE(birth_date, '') FROM users")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert!(!dump[0].0.contains(&nir()[..13]));
    app.stop().await;
}
both_backends!(the_nir_is_stored_encrypted_with_a_keyed_hash_never_in_clear);

async fn an_email_already_used_is_explained_and_creates_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("helene@exemple.fr", &nir()).await;

    let outcome = app.register("Helene@Exemple.fr", &nir_with_key("1850575056042")).await;

    assert_eq!(outcome, RegistrationOutcome::EmailTaken { email: "Helene@Exemple.fr".into() });
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    app.stop().await;
}
both_backends!(an_email_already_used_is_explained_and_creates_nothing);

async fn a_nir_already_used_offers_the_existing_accounts_masked_address(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("helene@exemple.fr", &nir()).await;

    let spaced = format!("{} {} {}", &nir()[..5], &nir()[5..10], &nir()[10..]);
    let outcome = app.register("autre@exemple.fr", &spaced).await;

    assert!(matches!(&outcome, RegistrationOutcome::NirTaken { masked_email, .. } if masked_email == "h•••@exemple.fr"), "{outcome:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    app.stop().await;
}
both_backends!(a_nir_already_used_offers_the_existing_accounts_masked_address);

async fn the_ticket_for_a_nir_already_used_names_no_account_and_allows_only_a_reset_or_a_merge_request(backend: Backend) {
    // Arrange: Hélène registered and has not activated yet; someone registers with her NIR.
    let app = spawn_app(backend).await;
    app.register("helene@exemple.fr", &nir()).await;
    let existing: String = sqlx::query_scalar("SELECT id FROM users").fetch_one(app.db.pool()).await.unwrap();
    let outcome = app.register("autre@exemple.fr", &nir()).await;
    let RegistrationOutcome::NirTaken { ticket, .. } = outcome else { panic!("the NIR is taken: {outcome:?}") };
    let other = client();

    // Act
    let (correct, _) =
        app.call_fn(&other, CorrectEmail { ticket: ticket.clone(), email: "autre@exemple.fr".into(), password: GOOD_PASSWORD.into() }).await;
    let (resend, _) = app.call_fn(&other, ResendActivation { ticket: ticket.clone() }).await;
    let (reset, _) = app.call_fn(&other, ResetExistingAccount { ticket: ticket.clone() }).await;
    let merge = RequestMerge { ticket: ticket.clone(), contact_email: "autre@exemple.fr".into(), message: "C'est moi".into() };
    let (merge, _) = app.call_fn(&other, merge).await;

    // Assert
    assert!(!ticket.contains(&existing), "the ticket does not carry the account's id");
    assert_eq!([correct, resend], [409, 409], "no address correction, no activation link, so no password to guess");
    assert_eq!([reset, merge], [200, 200], "a reset to the existing address and a merge request");
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(&existing).fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(email, "helene@exemple.fr");
    assert_eq!(app.count("SELECT COUNT(*) FROM account_tokens WHERE purpose = 'activation'").await, 1, "no new activation link");
    app.stop().await;
}
both_backends!(the_ticket_for_a_nir_already_used_names_no_account_and_allows_only_a_reset_or_a_merge_request);

async fn a_solved_robot_challenge_counts_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let solution = app.robot_solution().await;
    let mut first = registration_form("un@exemple.fr", &nir());
    first.push(("robot_solution".into(), solution.clone()));
    let mut replay = registration_form("deux@exemple.fr", &nir_with_key("1850575056042"));
    replay.push(("robot_solution".into(), solution));

    let (accepted, _) = app.register_with(first).await;
    let (replayed, refused) = app.register_with(replay).await;

    assert_eq!(accepted, 200);
    assert_eq!(replayed, 422);
    assert_eq!(refused_fields(&refused)[0].0, "robot");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    app.stop().await;
}
both_backends!(a_solved_robot_challenge_counts_once);

async fn malformed_or_hostile_registrations_get_field_errors_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let huge = "x".repeat(100_000);
    let mut cases: Vec<Vec<(String, String)>> = Vec::new();
    for (field, value) in [
        ("nir", "1850575056042 00"),
        ("email", "pas-une-adresse"),
        ("birth_date", "2030-01-01"),
        ("phone", "12"),
        ("password", "court"),
        ("password_confirm", "autre chose encore"),
        ("birth_name", huge.as_str()),
        ("civility", "Dr"),
        ("password", "motdepasse123"),
    ] {
        let mut form = registration_form("h@exemple.fr", &nir());
        form.iter_mut().filter(|(k, _)| k == field).for_each(|(_, v)| *v = value.to_string());
        cases.push(form);
    }
    let mut unticked = registration_form("h@exemple.fr", &nir());
    unticked.retain(|(k, _)| k != "accept_cgu" && k != "accept_privacy");
    cases.push(unticked);
    let mut honeypot = registration_form("h@exemple.fr", &nir());
    honeypot.push(("website".into(), "http://spam.example".into()));
    cases.push(honeypot);

    for form in cases {
        let (status, refused) = app.register_with(form).await;
        assert_eq!(status, 422, "refused as a validation error");
        assert!(!refused_fields(&refused)[0].1.is_empty(), "a French message: {refused:?}");
    }
    // Missing fields and wrong shapes altogether.
    let (status, _) = app.call_as::<RegistrationOutcome>(&app.client, "account/register", &[("form[email]", "a@b.fr")]).await;
    assert!((400..500).contains(&status.as_u16()) || status == 500, "answered {status}");
    let (status, body) = app.call_as::<RegistrationOutcome>(&app.client, "account/register", &[]).await;
    assert!(status.as_u16() >= 400, "{status} {body:?}");
    assert!(!format!("{body:?}").contains("panicked"));

    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
    app.stop().await;
}
both_backends!(malformed_or_hostile_registrations_get_field_errors_and_change_nothing);

async fn an_activation_link_works_once_then_says_it_was_used(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("helene@exemple.fr", &nir()).await;
    let token = app.last_link_to("helene@exemple.fr", "/activation").await;

    let (first, _) = app.call_fn(&app.client, Activate { token: token.clone() }).await;
    let (second, refused) = app.call_fn(&app.client, Activate { token }).await;

    assert!(first.as_u16() < 400);
    assert_eq!(second, 409);
    assert!(matches!(&refused, Err(AppError::Conflict(m)) if m.contains("déjà servi")), "{refused:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE activated_at IS NOT NULL").await, 1);
    app.stop().await;
}
both_backends!(an_activation_link_works_once_then_says_it_was_used);

async fn a_resent_activation_link_supersedes_the_older_one_and_an_expired_one_says_so(backend: Backend) {
    let app = spawn_app(backend).await;
    let outcome = app.register("helene@exemple.fr", &nir()).await;
    let RegistrationOutcome::Registered { ticket, .. } = &outcome else { panic!("registered: {outcome:?}") };
    let old = app.last_link_to("helene@exemple.fr", "/activation").await;

    let (status, sent) = app.call_fn(&app.client, ResendActivation { ticket: ticket.clone() }).await;
    assert_eq!(status, 200, "{sent:?}");
    app.smtp.wait_for(2, Duration::from_secs(10)).await;
    let new = app.last_link_to("helene@exemple.fr", "/activation").await;

    let (_, old_status) = app.call_fn(&app.client, ActivationLinkStatus { token: old }).await;
    assert_eq!(old_status, Ok(Some(LinkProblem::Superseded)));
    sqlx::query("UPDATE account_tokens SET expires_at = $1 WHERE used_at IS NULL AND superseded_at IS NULL")
        .bind(now_ms() - 1)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (_, new_status) = app.call_fn(&app.client, ActivationLinkStatus { token: new }).await;
    assert_eq!(new_status, Ok(Some(LinkProblem::Expired)));
    let (_, unknown) = app.call_fn(&app.client, ActivationLinkStatus { token: "nope".into() }).await;
    assert_eq!(unknown, Ok(Some(LinkProblem::Unknown)));
    app.stop().await;
}
both_backends!(a_resent_activation_link_supersedes_the_older_one_and_an_expired_one_says_so);

async fn at_most_three_activation_links_an_hour(backend: Backend) {
    let app = spawn_app(backend).await;
    let outcome = app.register("helene@exemple.fr", &nir()).await;
    let RegistrationOutcome::Registered { ticket, .. } = &outcome else { panic!("registered: {outcome:?}") };
    let resend = |ticket: String| app.call_fn(&app.client, ResendActivation { ticket });

    let (a, _) = resend(ticket.clone()).await;
    let (b, _) = resend(ticket.clone()).await;
    let (c, refused) = resend(ticket.clone()).await;

    assert_eq!([a, b, c], [200, 200, 409]);
    assert!(matches!(&refused, Err(AppError::Conflict(m)) if m.contains("indésirables")), "{refused:?}");
    let (forged, _) = resend(ticket.replace('.', "x")).await;
    assert_eq!(forged, 409);
    app.stop().await;
}
both_backends!(at_most_three_activation_links_an_hour);

async fn correcting_the_address_needs_the_password_and_sends_the_link_to_the_new_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let outcome = app.register("helene@exemple.fr", &nir()).await;
    let RegistrationOutcome::Registered { ticket, .. } = &outcome else { panic!("registered: {outcome:?}") };
    let correct = |password: &str| {
        let args = CorrectEmail { ticket: ticket.clone(), email: "helene@exemple.com".into(), password: password.into() };
        app.call_fn(&app.client, args)
    };

    let (wrong, _) = correct("pas le bon mot de passe").await;
    let (right, sent) = correct(GOOD_PASSWORD).await;

    assert_eq!(wrong, 422);
    assert_eq!(right, 200, "{sent:?}");
    assert_eq!(sent, Ok(LinkSent { masked_email: "h•••@exemple.com".into() }));
    let token = app.last_link_to("helene@exemple.com", "/activation").await;
    let (status, _) = app.call_fn(&app.client, Activate { token }).await;
    assert!(status.as_u16() < 400);
    let response = app.login("helene@exemple.com", GOOD_PASSWORD).await;
    assert!(response.status().is_success() || response.status().is_redirection());
    app.stop().await;
}
both_backends!(correcting_the_address_needs_the_password_and_sends_the_link_to_the_new_one);

async fn logging_in_before_activation_says_so_and_offers_to_resend(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("helene@exemple.fr", &nir()).await;

    let (status, outcome) = app.call_fn(&app.client, login("helene@exemple.fr", GOOD_PASSWORD)).await;

    assert_eq!(status, 200);
    let Ok(LoginOutcome::NotActivated { masked_email, ticket }) = &outcome else { panic!("not activated: {outcome:?}") };
    assert_eq!(masked_email, "h•••@exemple.fr");
    let (resend, _) = app.call_fn(&app.client, ResendActivation { ticket: ticket.clone() }).await;
    assert_eq!(resend, 200);
    assert!(whoami(&app.client, &app.base).await.is_none(), "no session before activation");
    app.stop().await;
}
both_backends!(logging_in_before_activation_says_so_and_offers_to_resend);

async fn five_failures_lock_the_account_and_say_for_how_long(backend: Backend) {
    let app = spawn_app(backend).await;
    registered_and_activated(&app, "helene@exemple.fr").await;
    let attempt = || app.call_fn(&app.client, login("helene@exemple.fr", "mauvais mot de passe"));

    for _ in 0..4 {
        let (status, refused) = attempt().await;
        assert_eq!(status, 422);
        assert_eq!(refused_fields(&refused)[0].1, "Identifiant ou mot de passe incorrect.");
    }
    let (_, fifth) = attempt().await;
    let (_, even_right) = app.call_fn(&app.client, login("helene@exemple.fr", GOOD_PASSWORD)).await;
    sqlx::query("UPDATE users SET locked_until = $1").bind(now_ms() - 1).execute(app.db.pool()).await.unwrap();
    let (_, sixth) = attempt().await;

    assert_eq!(fifth, Ok(LoginOutcome::Locked { minutes: 1 }));
    assert_eq!(even_right, Ok(LoginOutcome::Locked { minutes: 1 }), "a locked account does not even check the password");
    assert_eq!(sixth, Ok(LoginOutcome::Locked { minutes: 2 }), "the wait doubles");
    app.stop().await;
}
both_backends!(five_failures_lock_the_account_and_say_for_how_long);

async fn a_hundred_wrong_passwords_at_once_get_at_most_five_verified_and_the_right_one_waits_for_the_lock(backend: Backend) {
    // Arrange: the network's limit out of the way (this is about the account's).
    let app = spawn_app_with(backend, |s| s.accounts.login_failures_per_ip_per_hour = 1000).await;
    registered_and_activated(&app, "helene@exemple.fr").await;
    let url = app.url("/api/session/login");
    let mut attempts = tokio::task::JoinSet::new();

    // Act: 100 wrong passwords sent together, each on its own connection.
    for n in 0..100 {
        let (c, url) = (client(), url.clone());
        attempts.spawn(async move {
            let wrong = format!("mauvais mot de passe {n}");
            c.post(url).form(&[("email", "helene@exemple.fr"), ("password", wrong.as_str())]).send().await.unwrap().status().as_u16()
        });
    }
    let statuses = attempts.join_all().await;
    let verified: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM login_attempts WHERE outcome = 'bad_password'").fetch_one(app.db.pool()).await.unwrap();
    let (_, right) = app.call_fn(&app.client, login("helene@exemple.fr", GOOD_PASSWORD)).await;

    // Assert
    assert!(verified <= 5, "{verified} wrong passwords were verified");
    assert!(statuses.iter().filter(|s| **s == 422).count() <= 5, "at most five 'incorrect' answers: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 100 - statuses.iter().filter(|s| **s == 422).count(), "the others: locked");
    assert!(matches!(right, Ok(LoginOutcome::Locked { .. })), "the right password waits for the lock to end: {right:?}");
    assert!(whoami(&app.client, &app.base).await.is_none());
    app.stop().await;
}
both_backends!(a_hundred_wrong_passwords_at_once_get_at_most_five_verified_and_the_right_one_waits_for_the_lock);

async fn a_wrong_password_and_an_unknown_address_get_the_same_refusal(backend: Backend) {
    let app = spawn_app(backend).await;
    registered_and_activated(&app, "helene@exemple.fr").await;

    let wrong = app.call_fn(&app.client, login("helene@exemple.fr", "mauvais mot de passe")).await;
    let unknown = app.call_fn(&app.client, login("personne@exemple.fr", GOOD_PASSWORD)).await;
    let malformed = app.call_fn(&app.client, login("n'importe quoi", "un mot de passe")).await;
    // An empty field is named whoever the address is: that reveals nothing about an account.
    let empty_known = app.call_fn(&app.client, login("helene@exemple.fr", "")).await;
    let empty_unknown = app.call_fn(&app.client, login("personne@exemple.fr", "")).await;

    assert_eq!(wrong, unknown);
    assert_eq!(wrong, malformed);
    assert_eq!(empty_known, empty_unknown);
    assert_eq!(empty_known.0, 422);
    assert_eq!(refused_fields(&empty_known.1)[0].0, "password", "{empty_known:?}");
    app.stop().await;
}
both_backends!(a_wrong_password_and_an_unknown_address_get_the_same_refusal);

async fn forgot_password_answers_the_same_for_unknown_addresses(backend: Backend) {
    let app = spawn_app(backend).await;
    registered_and_activated(&app, "helene@exemple.fr").await;

    let known = app.call_fn(&app.client, forgot("helene@exemple.fr")).await;
    let unknown = app.call_fn(&app.client, forgot("personne@exemple.fr")).await;

    assert_eq!(known, unknown);
    assert_eq!(known.1, Ok(ResetRequested { valid_minutes: 60 }));
    let token = app.last_link_to("helene@exemple.fr", "/mot-de-passe/nouveau").await;
    assert!(!token.is_empty());
    assert!(app.smtp.received().iter().all(|e| !e.to.contains(&"personne@exemple.fr".to_string())));
    app.stop().await;
}
both_backends!(forgot_password_answers_the_same_for_unknown_addresses);

async fn reset_link_is_refused_after_a_newer_one_is_sent(backend: Backend) {
    let app = spawn_app(backend).await;
    registered_and_activated(&app, "helene@exemple.fr").await;
    let _ = app.call_fn(&app.client, forgot("helene@exemple.fr")).await;
    let old = app.last_link_to("helene@exemple.fr", "/mot-de-passe/nouveau").await;
    let _ = app.call_fn(&app.client, forgot("helene@exemple.fr")).await;
    app.smtp.wait_for(3, Duration::from_secs(10)).await;

    let new_password = "un tout nouveau mot de passe";
    let (status, refused) = app.call_fn(&app.client, reset(&old, new_password, new_password)).await;

    assert_eq!(status, 409);
    assert!(matches!(&refused, Err(AppError::Conflict(m)) if m.contains("remplacé")), "{refused:?}");
    let (_, link) = app.call_fn(&app.client, ResetLinkStatus { token: old }).await;
    assert_eq!(link, Ok(Some(LinkProblem::Superseded)));
    app.stop().await;
}
both_backends!(reset_link_is_refused_after_a_newer_one_is_sent);

async fn a_reset_ends_every_session_lifts_the_lock_notifies_and_works_once(backend: Backend) {
    let app = spawn_app(backend).await;
    registered_and_activated(&app, "helene@exemple.fr").await;
    app.login("helene@exemple.fr", GOOD_PASSWORD).await;
    assert!(whoami(&app.client, &app.base).await.is_some());
    let other = client();
    for _ in 0..5 {
        crate::helpers::login(&other, &app.base, "helene@exemple.fr", "mauvais mot de passe").await;
    }
    let _ = app.call_fn(&app.client, forgot("helene@exemple.fr")).await;
    let token = app.last_link_to("helene@exemple.fr", "/mot-de-passe/nouveau").await;
    let new_password = "un tout nouveau mot de passe";

    let (status, _) = app.call_fn(&app.client, reset(&token, new_password, new_password)).await;
    let (again, refused) = app.call_fn(&app.client, reset(&token, new_password, new_password)).await;

    assert!(status.as_u16() < 400, "{status}");
    assert_eq!(again, 409);
    assert!(matches!(&refused, Err(AppError::Conflict(m)) if m.contains("déjà servi")), "{refused:?}");
    assert!(whoami(&app.client, &app.base).await.is_none(), "the open session ended");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
    let notified = app.smtp.wait_for(3, Duration::from_secs(10)).await;
    assert!(notified.iter().any(|e| e.subject() == "Votre mot de passe Passerelle a été modifié"));
    let (_, logged_in) = app.call_fn(&app.client, login("helene@exemple.fr", new_password)).await;
    assert_eq!(logged_in, Ok(LoginOutcome::LoggedIn { destination: "/espace".into() }), "the lock is lifted and the new password works");
    app.stop().await;
}
both_backends!(a_reset_ends_every_session_lifts_the_lock_notifies_and_works_once);

async fn a_reset_refuses_a_weak_or_mismatched_password_and_keeps_the_link(backend: Backend) {
    let app = spawn_app(backend).await;
    registered_and_activated(&app, "helene@exemple.fr").await;
    let _ = app.call_fn(&app.client, forgot("helene@exemple.fr")).await;
    let token = app.last_link_to("helene@exemple.fr", "/mot-de-passe/nouveau").await;

    let (weak, refused) = app.call_fn(&app.client, reset(&token, "azertyuiop123", "azertyuiop123")).await;
    let (mismatch, _) = app.call_fn(&app.client, reset(&token, "une phrase assez longue", "une autre phrase")).await;

    assert_eq!([weak, mismatch], [422, 422]);
    assert_eq!(refused_fields(&refused)[0].0, "password");
    let (_, link) = app.call_fn(&app.client, ResetLinkStatus { token }).await;
    assert_eq!(link, Ok(None), "the link still works");
    app.stop().await;
}
both_backends!(a_reset_refuses_a_weak_or_mismatched_password_and_keeps_the_link);

async fn twenty_five_failures_in_a_day_lock_until_the_oldest_leaves_the_window(backend: Backend) {
    let app = spawn_app(backend).await;
    registered_and_activated(&app, "helene@exemple.fr").await;
    app.past_failures("helene@exemple.fr", 24, 20).await;

    let (_, outcome) = app.call_fn(&app.client, login("helene@exemple.fr", "mauvais mot de passe")).await;

    let Ok(LoginOutcome::Locked { minutes }) = &outcome else { panic!("locked: {outcome:?}") };
    assert!((4 * 60 - 1..=4 * 60 + 1).contains(minutes), "locked until the failures of 20 h ago leave the 24 h window: {minutes} min");
    app.stop().await;
}
both_backends!(twenty_five_failures_in_a_day_lock_until_the_oldest_leaves_the_window);

async fn a_reset_clears_the_days_failures_so_the_next_wrong_password_does_not_lock_for_hours(backend: Backend) {
    // Arrange: 24 failures 20 hours ago, then a reset by the emailed link.
    let app = spawn_app(backend).await;
    registered_and_activated(&app, "helene@exemple.fr").await;
    app.past_failures("helene@exemple.fr", 24, 20).await;
    let _ = app.call_fn(&app.client, forgot("helene@exemple.fr")).await;
    let token = app.last_link_to("helene@exemple.fr", "/mot-de-passe/nouveau").await;
    let new_password = "un tout nouveau mot de passe";
    let (status, _) = app.call_fn(&app.client, reset(&token, new_password, new_password)).await;
    assert!(status.as_u16() < 400, "{status}");

    // Act
    let (_, wrong) = app.call_fn(&app.client, login("helene@exemple.fr", "mauvais mot de passe")).await;
    let (_, right) = app.call_fn(&app.client, login("helene@exemple.fr", new_password)).await;

    // Assert
    assert!(matches!(&wrong, Err(AppError::Validation(_))), "an ordinary failure (identifiants invalides), no lock: {wrong:?}");
    assert_eq!(right, Ok(LoginOutcome::LoggedIn { destination: "/espace".into() }), "the right password still works at once");
    app.stop().await;
}
both_backends!(a_reset_clears_the_days_failures_so_the_next_wrong_password_does_not_lock_for_hours);

async fn a_locked_account_and_an_unknown_address_answer_alike_and_a_locked_answer_writes_nothing(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    registered_and_activated(&app, "helene@exemple.fr").await;
    let attempt = |email: &'static str| app.call_fn(&app.client, login(email, "mauvais mot de passe"));
    let mut answers = Vec::new();

    // Act: five wrong passwords for an account and for an address nobody registered, then a sixth.
    for _ in 0..5 {
        answers.push((attempt("helene@exemple.fr").await, attempt("personne@exemple.fr").await));
    }
    let rows = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let rows: (i64, i64, i64) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM rate_events), (SELECT COUNT(*) FROM login_attempts), (SELECT CAST(SUM(failed_logins) AS BIGINT) FROM users)",
            )
            .fetch_one(db.pool())
            .await
            .unwrap();
            rows
        }
    };
    let before = rows(&app).await;
    let sixth = (attempt("helene@exemple.fr").await, attempt("personne@exemple.fr").await);
    let after = rows(&app).await;

    // Assert
    for (n, (known, unknown)) in answers.iter().enumerate() {
        assert_eq!(known, unknown, "attempt {}: the same answer", n + 1);
    }
    assert_eq!(answers[3].0 .0, 422);
    assert_eq!(answers[4].0 .1, Ok(LoginOutcome::Locked { minutes: 1 }), "the fifth failure locks, known or not");
    assert_eq!(sixth.0, sixth.1);
    assert_eq!(sixth.0 .1, Ok(LoginOutcome::Locked { minutes: 1 }));
    assert_eq!(before, after, "a locked answer writes no row");
    app.stop().await;
}
both_backends!(a_locked_account_and_an_unknown_address_answer_alike_and_a_locked_answer_writes_nothing);

async fn wrong_passwords_at_an_email_change_or_an_address_correction_count_towards_the_lock(backend: Backend) {
    // Arrange: an activated account (logged in) and one not yet activated (with its ticket).
    let app = spawn_app(backend).await;
    registered_and_activated(&app, "helene@exemple.fr").await;
    assert!(app.login("helene@exemple.fr", GOOD_PASSWORD).await.status().is_success());
    let other = nir_with_key("1850775056043");
    let RegistrationOutcome::Registered { ticket, .. } = app.register("paul@exemple.fr", &other).await else { panic!("registered") };
    let change = |password: &str| app.call_fn(&app.client, ChangeEmail { new_email: "helene@exemple.com".into(), password: password.into() });
    let paul = client();
    let correct =
        |password: &str| app.call_fn(&paul, CorrectEmail { ticket: ticket.clone(), email: "paul@exemple.com".into(), password: password.into() });

    // Act
    for _ in 0..4 {
        assert_eq!(change("mauvais mot de passe").await.0, 422);
        assert_eq!(correct("mauvais mot de passe").await.0, 422);
    }
    let (_, fifth_change) = change("mauvais mot de passe").await;
    let (_, fifth_correction) = correct("mauvais mot de passe").await;
    let (_, right_change) = change(GOOD_PASSWORD).await;
    let (_, right_correction) = correct(GOOD_PASSWORD).await;
    let (_, login_helene) = app.call_fn(&client(), login("helene@exemple.fr", GOOD_PASSWORD)).await;
    let (_, login_paul) = app.call_fn(&client(), login("paul@exemple.fr", GOOD_PASSWORD)).await;

    // Assert
    let messages =
        [refused_fields(&fifth_change), refused_fields(&fifth_correction), refused_fields(&right_change), refused_fields(&right_correction)];
    for message in messages {
        assert!(message[0].1.contains("bloqué pendant encore 1 minute"), "{message:?}");
    }
    assert_eq!(login_helene, Ok(LoginOutcome::Locked { minutes: 1 }));
    assert_eq!(login_paul, Ok(LoginOutcome::Locked { minutes: 1 }));
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email IN ('helene@exemple.com', 'paul@exemple.com')").await, 0);
    app.stop().await;
}
both_backends!(wrong_passwords_at_an_email_change_or_an_address_correction_count_towards_the_lock);

async fn one_network_gets_only_so_many_wrong_passwords_across_accounts_even_sent_at_once(backend: Backend) {
    // Arrange: a limit of 5 wrong passwords an hour per network; 20 accounts; a pool wide enough
    // for the requests to really run together.
    let app = spawn_app_with(backend, |s| {
        s.accounts.login_failures_per_ip_per_hour = 5;
        s.database.max_connections = 30;
    })
    .await;
    for n in 0..20 {
        create_user(&app.db, &format!("personne{n}@exemple.fr"), GOOD_PASSWORD).await;
    }
    let url = app.url("/api/session/login");

    // Act: right passwords do not count; then 100 wrong ones together, one per address
    // (spraying: 20 accounts, 80 addresses without one).
    for n in 0..8 {
        assert!(app.call_fn(&client(), login(&format!("personne{n}@exemple.fr"), GOOD_PASSWORD)).await.1.is_ok());
    }
    let mut attempts = tokio::task::JoinSet::new();
    for n in 0..100 {
        let url = url.clone();
        attempts.spawn(async move {
            let email = format!("personne{n}@exemple.fr");
            client().post(url).form(&[("email", email.as_str()), ("password", "Printemps2026!")]).send().await.unwrap().status().as_u16()
        });
    }
    let statuses = attempts.join_all().await;
    let counted = app.count("SELECT COUNT(*) FROM rate_events WHERE bucket = 'login-ip:127.0.0.1'").await;
    let (_, right_after) = app.call_fn(&client(), login("personne0@exemple.fr", GOOD_PASSWORD)).await;
    let (_, elsewhere) = app.call_fn(&client_from("127.0.0.2".parse().unwrap()), login("personne1@exemple.fr", GOOD_PASSWORD)).await;

    // Assert
    assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 5, "five wrong passwords verified, not more: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 95, "the others wait: {statuses:?}");
    assert_eq!(counted, 5);
    assert!(matches!(&right_after, Err(AppError::Conflict(m)) if m.contains("depuis votre réseau")), "{right_after:?}");
    assert!(matches!(elsewhere, Ok(LoginOutcome::LoggedIn { .. })), "another network logs in: {elsewhere:?}");
    app.stop().await;
}
both_backends!(one_network_gets_only_so_many_wrong_passwords_across_accounts_even_sent_at_once);

async fn rate_limit_reservations_made_at_once_never_pass_the_limit(backend: Backend) {
    // Arrange: a pool of 40 open connections, so that the reservations really run together.
    let app = spawn_app_with(backend, |s| s.database.max_connections = 40).await;
    let mut open = Vec::new();
    for _ in 0..40 {
        open.push(app.db.pool().acquire().await.unwrap());
    }
    drop(open);
    let mut granted = Vec::new();

    // Act: four rounds, each of 60 reservations in a bucket limited to 5 an hour, all at once.
    for round in 0..4 {
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(60));
        let mut reservations = tokio::task::JoinSet::new();
        for _ in 0..60 {
            let (db, start, bucket) = (app.db.clone(), start.clone(), format!("essai-{round}"));
            reservations.spawn(async move {
                start.wait().await;
                app::account::rate_limit::reserve(&db, &bucket, 5, 3_600_000).await.unwrap().is_some()
            });
        }
        granted.push(reservations.join_all().await.into_iter().filter(|granted| *granted).count());
    }

    // Assert
    assert_eq!(granted, [5; 4]);
    assert_eq!(app.count("SELECT COUNT(*) FROM rate_events").await, 20);
    app.stop().await;
}
both_backends!(rate_limit_reservations_made_at_once_never_pass_the_limit);

async fn the_service_wide_limit_stops_wrong_passwords_from_every_network(backend: Backend) {
    // Arrange: 3 wrong passwords an hour per network, 4 for the whole service.
    let app = spawn_app_with(backend, |s| {
        s.accounts.login_failures_per_ip_per_hour = 3;
        s.accounts.login_failures_per_hour = 4;
    })
    .await;
    create_user(&app.db, "helene@exemple.fr", GOOD_PASSWORD).await;
    let (here, there) = (client(), client_from("127.0.0.2".parse().unwrap()));
    let wrong = |email: &'static str| login(email, "mauvais mot de passe");

    // Act
    let mut from_here = Vec::new();
    for email in ["a@exemple.fr", "b@exemple.fr", "c@exemple.fr"] {
        from_here.push(app.call_fn(&here, wrong(email)).await.0);
    }
    let (fourth_here, _) = app.call_fn(&here, wrong("d@exemple.fr")).await;
    let (first_there, _) = app.call_fn(&there, wrong("e@exemple.fr")).await;
    let (second_there, refused) = app.call_fn(&there, wrong("f@exemple.fr")).await;

    // Assert
    assert_eq!(from_here, [422, 422, 422]);
    assert_eq!(fourth_here, 409, "this network's limit");
    assert_eq!(first_there, 422, "another network still has room");
    assert_eq!(second_there, 409, "the service's limit");
    assert!(matches!(&refused, Err(AppError::Conflict(m)) if m.contains("très grand nombre")), "{refused:?}");
    app.stop().await;
}
both_backends!(the_service_wide_limit_stops_wrong_passwords_from_every_network);

async fn a_session_whose_account_was_closed_deactivated_or_merged_meanwhile_opens_nothing(backend: Backend) {
    // Arrange: three sessions whose accounts then change without their sessions being ended, as
    // when a login races a deactivation, a closure or a merge.
    let app = spawn_app(backend).await;
    let mut sessions = Vec::new();
    for (email, change) in [
        ("desactive@exemple.fr", "deactivated_at = 1"),
        ("ferme@exemple.fr", "closed_at = 1"),
        ("regroupe@exemple.fr", "merged_into = 'un-autre-compte'"),
    ] {
        let (id, c) = app.logged_in(email, "Camille Martin", Role::Beneficiary).await;
        assert!(whoami(&c, &app.base).await.is_some(), "{email} is logged in");
        sessions.push((id, c, change));
    }

    // Act
    for (id, _, change) in &sessions {
        sqlx::query(&format!("UPDATE users SET {change} WHERE id = $1")).bind(id).execute(app.db.pool()).await.unwrap();
    }

    // Assert
    for (_, c, change) in &sessions {
        assert!(whoami(c, &app.base).await.is_none(), "after {change}: no session");
    }
    app.stop().await;
}
both_backends!(a_session_whose_account_was_closed_deactivated_or_merged_meanwhile_opens_nothing);

const FIREFOX: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// A wrong password for helene@exemple.fr from a client behind a proxy that says `forwarded_for`.
async fn wrong_password_forwarded_for(app: &TestApp, forwarded_for: &str) -> u16 {
    let form = [("email", "helene@exemple.fr"), ("password", "mauvais mot de passe")];
    let request = client().post(app.url("/api/session/login")).header("x-forwarded-for", forwarded_for).header("user-agent", FIREFOX);
    request.form(&form).send().await.unwrap().status().as_u16()
}

async fn behind_a_trusted_proxy_the_forwarded_client_is_counted_and_shown_to_advisors(backend: Backend) {
    // Arrange: the proxy is 127.0.0.1; one wrong password an hour per network.
    let app = spawn_app_with(backend, |s| {
        s.server.trusted_proxies = "127.0.0.1".into();
        s.accounts.login_failures_per_ip_per_hour = 1;
    })
    .await;
    let helene = create_user(&app.db, "helene@exemple.fr", GOOD_PASSWORD).await;
    let (_, advisor) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;

    // Act: the client forges a first entry; the proxy appends the real address.
    let first = wrong_password_forwarded_for(&app, "198.51.100.66, 203.0.113.5").await;
    let again = wrong_password_forwarded_for(&app, "198.51.100.67, 203.0.113.5").await;
    let other_network = wrong_password_forwarded_for(&app, "203.0.113.6").await;
    let (_, person) = app.call_fn(&advisor, app::dashboard::Beneficiary { id: helene }).await;

    // Assert
    assert_eq!([first, again, other_network], [422, 409, 422], "counted per forwarded client, not per proxy");
    let origins: Vec<String> = person.unwrap().attempts.into_iter().filter_map(|a| a.origin).collect();
    assert_eq!(origins, ["203.0.113.6, Firefox sous Windows", "203.0.113.5, Firefox sous Windows"]);
    app.stop().await;
}
both_backends!(behind_a_trusted_proxy_the_forwarded_client_is_counted_and_shown_to_advisors);

async fn without_trusted_proxies_a_forwarded_header_changes_nothing(backend: Backend) {
    // Arrange: the default (no proxy trusted); one wrong password an hour per network.
    let app = spawn_app_with(backend, |s| s.accounts.login_failures_per_ip_per_hour = 1).await;
    create_user(&app.db, "helene@exemple.fr", GOOD_PASSWORD).await;

    // Act: a client pretends to be two networks.
    let first = wrong_password_forwarded_for(&app, "203.0.113.5").await;
    let second = wrong_password_forwarded_for(&app, "203.0.113.6").await;

    // Assert
    assert_eq!([first, second], [422, 409]);
    let ips: Vec<Option<String>> = sqlx::query_scalar("SELECT ip FROM login_attempts").fetch_all(app.db.pool()).await.unwrap();
    assert_eq!(ips, [Some("127.0.0.1".to_string())]);
    app.stop().await;
}
both_backends!(without_trusted_proxies_a_forwarded_header_changes_nothing);

async fn the_robot_check_asks_more_work_of_a_busy_network_and_of_everyone_while_registrations_surge(backend: Backend) {
    // Arrange: 1000 in ordinary times (the tests' setting), 4 registrations an hour per network,
    // 3 an hour for the whole service is normal.
    let app = spawn_app_with(backend, |s| {
        s.accounts.registrations_per_ip_per_hour = 4;
        s.accounts.registrations_per_hour_normal = 3;
    })
    .await;
    let (here, there) = (&app.client, client_from("127.0.0.2".parse().unwrap()));

    // Act
    let ordinary = app.robot_challenge(here).await.maxnumber;
    app.register("helene@exemple.fr", &nir()).await;
    app.register("paul@exemple.fr", &nir_with_key("1850775056043")).await;
    let busy_network = (app.robot_challenge(here).await.maxnumber, app.robot_challenge(&there).await.maxnumber);
    create_user(&app.db, "camille@exemple.fr", GOOD_PASSWORD).await;
    let surge = (app.robot_challenge(here).await.maxnumber, app.robot_challenge(&there).await.maxnumber);

    // Assert
    assert_eq!(ordinary, 1_000);
    assert_eq!(busy_network, (4_000, 1_000), "a network that used half its registrations works four times more");
    assert_eq!(surge, (16_000, 4_000), "past the normal pace, everyone works four times more");
    app.stop().await;
}
both_backends!(the_robot_check_asks_more_work_of_a_busy_network_and_of_everyone_while_registrations_surge);

async fn registrations_sent_at_once_from_one_network_stop_at_its_limit(backend: Backend) {
    // Arrange: 3 registrations an hour per network; 30 complete forms with solved robot checks;
    // a pool wide enough for the requests to really run together.
    let app = spawn_app_with(backend, |s| {
        s.accounts.registrations_per_ip_per_hour = 3;
        s.database.max_connections = 30;
    })
    .await;
    let mut bodies = Vec::new();
    for n in 0..30 {
        let form = registration_form(&format!("personne{n}@exemple.fr"), &nir_with_key(&format!("2850775056{:03}", 100 + n)));
        bodies.push(app.registration_body(form).await);
    }
    let url = app.url("/api/account/register");

    // Act: all sent together.
    let mut registrations = tokio::task::JoinSet::new();
    for body in bodies {
        let url = url.clone();
        registrations.spawn(async move { client().post(url).form(&body).send().await.unwrap().status().as_u16() });
    }
    let statuses = registrations.join_all().await;

    // Assert
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 27, "{statuses:?}");
    app.stop().await;
}
both_backends!(registrations_sent_at_once_from_one_network_stop_at_its_limit);

async fn a_merge_request_for_a_nir_already_used_is_stored_for_advisors(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("helene@exemple.fr", &nir()).await;
    let outcome = app.register("nouvelle@exemple.fr", &nir()).await;
    let RegistrationOutcome::NirTaken { ticket, .. } = &outcome else { panic!("the NIR is taken: {outcome:?}") };
    let merge_request = |contact_email: &str, message: &str| {
        app.call_fn(&app.client, RequestMerge { ticket: ticket.clone(), contact_email: contact_email.into(), message: message.into() })
    };

    let (bad, _) = merge_request("pas une adresse", "").await;
    let (status, body) = merge_request("nouvelle@exemple.fr", "J'ai changé d'adresse.").await;
    let (reset, sent) = app.call_fn(&app.client, ResetExistingAccount { ticket: ticket.clone() }).await;

    assert_eq!(bad, 422);
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM merge_requests WHERE status = 'open' AND contact_email = 'nouvelle@exemple.fr'").await, 1);
    assert_eq!(reset, 200);
    assert!(sent.unwrap().contains("h•••@exemple.fr"));
    app.last_link_to("helene@exemple.fr", "/mot-de-passe/nouveau").await;
    app.stop().await;
}
both_backends!(a_merge_request_for_a_nir_already_used_is_stored_for_advisors);

async fn account_server_functions_called_with_hostile_input_answer_clearly_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    registered_and_activated(&app, "helene@exemple.fr").await;
    let before = (
        app.count("SELECT COUNT(*) FROM users").await,
        app.count("SELECT COUNT(*) FROM account_tokens").await,
        app.count("SELECT COUNT(*) FROM sessions").await,
    );
    let huge = "é".repeat(200_000);
    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("account/activate", vec![("token", "../../etc/passwd")]),
        ("account/activate", vec![]),
        ("account/activation-link", vec![("token", huge.as_str())]),
        ("account/resend-activation", vec![("ticket", "someone-else.99999999999999.00")]),
        ("account/correct-email", vec![("ticket", "x"), ("email", "a@b.fr"), ("password", "x")]),
        ("account/reset-password", vec![("token", "nope"), ("password", GOOD_PASSWORD), ("password_confirm", GOOD_PASSWORD)]),
        ("account/reset-link", vec![("token", "' OR 1=1 --")]),
        ("account/forgot-password", vec![("email", huge.as_str())]),
        ("account/existing-reset", vec![("ticket", "")]),
        ("account/merge-request", vec![("ticket", "forged"), ("contact_email", "a@b.fr"), ("message", "")]),
        ("session/login", vec![("email", huge.as_str()), ("password", huge.as_str())]),
        ("session/login", vec![("email[]", "x")]),
        ("account/pending", vec![("ticket", "\u{0}")]),
    ];

    for (endpoint, fields) in calls {
        // The raw answer: what must never reach the browser is looked for in its very text.
        let response = app.client.post(app.url(&format!("/api/{endpoint}"))).form(&fields).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert!((200..500).contains(&status), "{endpoint} answered {status}: {text}");
        assert!(!text.contains("missing field"), "{endpoint} answers in French, not with parser details: {text}");
        assert!(!text.contains("panicked") && !text.contains("sqlx") && !text.contains("SELECT"), "{endpoint} leaks: {text}");
    }

    let after = (
        app.count("SELECT COUNT(*) FROM users").await,
        app.count("SELECT COUNT(*) FROM account_tokens").await,
        app.count("SELECT COUNT(*) FROM sessions").await,
    );
    assert_eq!(before, after);
    app.stop().await;
}
both_backends!(account_server_functions_called_with_hostile_input_answer_clearly_and_change_nothing);

async fn the_session_reports_its_time_left_and_rester_connecte_extends_it(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("camille@exemple.fr", GOOD_PASSWORD).await;
    app.login("camille@exemple.fr", GOOD_PASSWORD).await;
    sqlx::query("UPDATE sessions SET last_seen_at = $1").bind(now_ms() - 29 * 60 * 1000).execute(app.db.pool()).await.unwrap();

    let (_, before) = app.call_fn(&app.client, GetSessionTime {}).await;
    let (_, extended) = app.call_fn(&app.client, ExtendSession {}).await;
    let (_, anonymous) = app.call_fn(&client(), GetSessionTime {}).await;

    let before = before.unwrap().expect("a session").idle_left_secs;
    assert!((0..=60).contains(&before), "about a minute left: {before}");
    assert!(extended.unwrap().expect("a session").idle_left_secs >= 29 * 60, "back to 30 minutes");
    assert_eq!(anonymous, Ok(None));
    app.stop().await;
}
both_backends!(the_session_reports_its_time_left_and_rester_connecte_extends_it);
