//! No GET changes state (issue 15, point 5): a mail scanner that opens every emailed link before
//! the person does uses none of them; each still works afterwards, with its page's button.

use app::account::activation::ActivationLinkStatus;
use app::account::reset::{RequestPasswordReset, ResetLinkStatus};
use app::account::Role;
use app::admin::CreateStaff;
use app::profile::{ChangeEmail, EmailLinkStatus};

use crate::helpers::{both_backends, nir_with_key, spawn_app, Backend, GOOD_PASSWORD};

async fn opening_every_emailed_link_with_a_plain_get_uses_none_of_them(backend: Backend) {
    // Arrange: one link of each kind waiting in a mailbox.
    let app = spawn_app(backend).await;
    app.register("nouvelle@exemple.fr", &nir_with_key("2850775056042")).await;
    let activation = app.last_link_to("nouvelle@exemple.fr", "/activation").await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let _ = app.call_fn(&app.client, RequestPasswordReset { email: "camille@exemple.fr".into() }).await;
    let reset = app.last_link_to("camille@exemple.fr", "/mot-de-passe/nouveau").await;
    let _ = app.call_fn(&camille, ChangeEmail { new_email: "camille.m@exemple.fr".into(), password: GOOD_PASSWORD.into() }).await;
    let email_change = app.last_link_to("camille.m@exemple.fr", "/profil/courriel").await;
    let (_, admin) = app.logged_in("ada@exemple.fr", "Ada Admin", Role::Admin).await;
    let _ = app
        .call_fn(&admin, CreateStaff { email: "bea@exemple.fr".into(), name: "Béa Paiement".into(), role: "advisor".into(), service: String::new() })
        .await;
    let staff_setup = app.last_link_to("bea@exemple.fr", "/mot-de-passe/nouveau").await;

    // Act: the scanner opens each link, as a browser would, cookies and all.
    let scanner = crate::helpers::client();
    for path in [
        format!("/activation/{activation}"),
        format!("/mot-de-passe/nouveau/{reset}"),
        format!("/profil/courriel/{email_change}"),
        format!("/mot-de-passe/nouveau/{staff_setup}"),
    ] {
        let opened = scanner.get(app.url(&path)).send().await.unwrap();
        assert_eq!(opened.status(), 200, "{path}");
    }

    // Assert: every link still works.
    assert_eq!(app.call_fn(&app.client, ActivationLinkStatus { token: activation }).await.1, Ok(None), "activation");
    assert_eq!(app.call_fn(&app.client, ResetLinkStatus { token: reset }).await.1, Ok(None), "reset");
    assert_eq!(app.call_fn(&app.client, EmailLinkStatus { token: email_change }).await.1, Ok(None), "email change");
    assert_eq!(app.call_fn(&app.client, ResetLinkStatus { token: staff_setup }).await.1, Ok(None), "staff set-up");
    let accounts: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT email, activated_at FROM users WHERE email IN ('camille@exemple.fr', 'nouvelle@exemple.fr') ORDER BY email")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(accounts.len(), 2, "the address changes only with the button: {accounts:?}");
    assert!(accounts[1].1.is_none(), "the account is activated only with the button");
    app.stop().await;
}
both_backends!(opening_every_emailed_link_with_a_plain_get_uses_none_of_them);
