use std::time::Duration;

use app::dashboard::DeliveryStatus;
use app::mail::enqueue;
use app::mail::outbox::{self, OutgoingEmail};

use crate::helpers::{both_backends, spawn_app, spawn_app_with, wait_until, Backend, SmtpCapture, TestApp};

fn email(to: &str, subject: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.into(),
        subject: subject.into(),
        text: "Bonjour,\n\nActivez votre compte : https://passerelle.example/activation/abc\n".into(),
        html: "<p>Bonjour,</p><p><a href=\"https://passerelle.example/activation/abc\">Activer</a></p>".into(),
    }
}

async fn queue(app: &TestApp, message: &OutgoingEmail) -> String {
    let mut tx = app.db.pool().begin().await.unwrap();
    let id = enqueue(&mut tx, message).await.unwrap();
    tx.commit().await.unwrap();
    id
}

async fn status_of(app: &TestApp, id: &str) -> outbox::QueuedEmail {
    outbox::find(&app.db, id).await.unwrap().expect("the email is in the outbox")
}

async fn a_queued_email_arrives_at_the_smtp_listener(backend: Backend) {
    let app = spawn_app(backend).await;

    let id = queue(&app, &email("camille@exemple.fr", "Activez votre compte Passerelle")).await;

    let received = app.smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received[0].to, vec!["camille@exemple.fr".to_string()]);
    assert_eq!(received[0].subject(), "Activez votre compte Passerelle");
    assert!(received[0].text().contains("https://passerelle.example/activation/abc"));
    wait_until(Duration::from_secs(5), "the outbox records the delivery", || async { status_of(&app, &id).await.status == DeliveryStatus::Sent })
        .await;
    app.stop().await;
}
both_backends!(a_queued_email_arrives_at_the_smtp_listener);

async fn an_email_queued_while_the_smtp_server_is_down_is_delivered_once_it_is_back(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let port = app.smtp.addr.port();
    app.smtp.stop();

    let id = queue(&app, &email("camille@exemple.fr", "Réinitialisation de votre mot de passe")).await;
    wait_until(Duration::from_secs(10), "a failed attempt is recorded with its error", || async {
        let row = status_of(&app, &id).await;
        row.status == DeliveryStatus::Pending && row.attempts >= 1 && row.last_error.is_some()
    })
    .await;
    let back = SmtpCapture::start(port).await;

    let received = back.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received[0].subject(), "Réinitialisation de votre mot de passe");
    wait_until(Duration::from_secs(5), "the outbox records the delivery", || async { status_of(&app, &id).await.status == DeliveryStatus::Sent })
        .await;
    assert_eq!(back.received().len(), 1, "delivered once");
    app.stop().await;
}
both_backends!(an_email_queued_while_the_smtp_server_is_down_is_delivered_once_it_is_back);

async fn an_email_whose_claim_expires_mid_batch_is_sent_once_by_one_of_two_workers(backend: Backend) {
    // Arrange: a mail server that takes 400 ms per email, claims that last 1 s, and a second
    // worker beside the server's own, as on a second server.
    let slow = SmtpCapture::start_slow(0, Duration::from_millis(400)).await;
    let mut settings = None;
    let app = spawn_app_with(backend, |s| {
        s.mail.smtp_port = slow.addr.port();
        s.mail.claim = Duration::from_secs(1);
        settings = Some(s.clone());
    })
    .await;
    let second = passerelle_server::mail_worker::MailWorker::new(app.db.clone(), &settings.unwrap()).unwrap();
    let (stop_second, stopped) = tokio::sync::watch::channel(false);
    let second = tokio::spawn(second.run(stopped));

    // Act: eight emails queued together, so one worker claims them all in one batch (3.2 s of
    // sending for a 1 s claim).
    let mut tx = app.db.pool().begin().await.unwrap();
    for n in 0..8 {
        enqueue(&mut tx, &email(&format!("personne{n}@exemple.fr"), "Activez votre compte Passerelle")).await.unwrap();
    }
    tx.commit().await.unwrap();
    wait_until(Duration::from_secs(30), "every email is recorded as sent", || async {
        app.count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'").await == 8
    })
    .await;
    stop_second.send(true).unwrap();
    second.await.unwrap();
    app.stop().await;

    // Assert: each address received its email exactly once.
    let mut to: Vec<String> = slow.received().into_iter().flat_map(|e| e.to).collect();
    to.sort();
    assert_eq!(to, (0..8).map(|n| format!("personne{n}@exemple.fr")).collect::<Vec<_>>());
}
both_backends!(an_email_whose_claim_expires_mid_batch_is_sent_once_by_one_of_two_workers);

async fn an_email_queued_in_a_rolled_back_transaction_is_never_sent(backend: Backend) {
    let app = spawn_app(backend).await;

    let mut tx = app.db.pool().begin().await.unwrap();
    enqueue(&mut tx, &email("annule@exemple.fr", "Jamais envoyé")).await.unwrap();
    tx.rollback().await.unwrap();
    let kept = queue(&app, &email("garde@exemple.fr", "Envoyé")).await;

    wait_until(Duration::from_secs(10), "the committed email is sent", || async { status_of(&app, &kept).await.status == DeliveryStatus::Sent })
        .await;
    let received = app.smtp.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, vec!["garde@exemple.fr".to_string()]);
    assert_eq!(outbox::recent(&app.db, 10).await.unwrap().len(), 1);
    app.stop().await;
}
both_backends!(an_email_queued_in_a_rolled_back_transaction_is_never_sent);

async fn an_email_that_can_never_be_delivered_is_marked_failed_with_its_error(backend: Backend) {
    let app = spawn_app(backend).await;

    let id = queue(&app, &email("pas une adresse", "Adresse invalide")).await;

    wait_until(Duration::from_secs(10), "the email is given up", || async { status_of(&app, &id).await.status == DeliveryStatus::Failed }).await;
    let row = status_of(&app, &id).await;
    assert!(row.last_error.unwrap().contains("invalid recipient"));
    assert!(app.smtp.received().is_empty());
    app.stop().await;
}
both_backends!(an_email_that_can_never_be_delivered_is_marked_failed_with_its_error);

#[tokio::test]
async fn dev_mailbox_lists_and_shows_each_email_with_clickable_links() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.mail.transport = passerelle_server::config::MailTransport::Mailbox).await;
    let id = queue(&app, &email("camille@exemple.fr", "Activez votre compte Passerelle")).await;
    wait_until(Duration::from_secs(5), "the mailbox marks it delivered", || async { status_of(&app, &id).await.status == DeliveryStatus::Sent })
        .await;

    let list = app.get("/dev/mailbox").await.text().await.unwrap();
    let page = app.get(&format!("/dev/mailbox/{id}")).await.text().await.unwrap();

    assert!(list.contains("camille@exemple.fr") && list.contains("Activez votre compte Passerelle"));
    assert!(list.contains(&format!("href=\"/dev/mailbox/{id}\"")));
    assert!(page.contains("<a href=\"https://passerelle.example/activation/abc\">"));
    assert!(app.smtp.received().is_empty(), "the development mailbox sends nothing out");
    app.stop().await;
}

#[tokio::test]
async fn dev_mailbox_does_not_exist_outside_development_mode() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.server.dev_mode = false).await;

    let response = app.get("/dev/mailbox").await;

    assert_eq!(response.status(), 404);
    app.stop().await;
}
