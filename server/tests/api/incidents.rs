//! Error references (issue 17, point 2), on both databases: an internal error shows the person a
//! reference; the phone platform finds it — what was asked, when, whose session — on the
//! dashboard and on the person's 360° page; every answer carries its request id.

use app::account::Role;
use app::dashboard::{Beneficiary, Incident, IncidentLine};
use app::error::AppError;
use app::messages::MyThreads;

use crate::helpers::{both_backends, client, person, spawn_app, Backend, TestApp};

/// The messages' tables stop answering (renamed away), as a failed database would.
async fn break_the_threads(app: &TestApp) {
    sqlx::query("ALTER TABLE threads RENAME TO threads_away").execute(app.db.pool()).await.unwrap();
}

async fn repair_the_threads(app: &TestApp) {
    sqlx::query("ALTER TABLE threads_away RENAME TO threads").execute(app.db.pool()).await.unwrap();
}

/// The reference in a French error message ("Référence : 7KQ2-M9PD, …").
fn reference_in(text: &str) -> String {
    let start = text.find("Référence : ").unwrap_or_else(|| panic!("no reference in {text:?}")) + "Référence : ".len();
    text[start..start + 9].to_string()
}

fn lookup(reference: &str) -> Incident {
    Incident { reference: reference.into() }
}

async fn a_forced_database_failure_shows_a_reference_that_the_phone_platform_finds(backend: Backend) {
    // Arrange: Camille's referent is Alex; Béa is another advisor; Pia works at the phone
    // platform (`accueil`).
    let app = spawn_app(backend).await;
    let (alex_id, alex) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let (_, bea) = app.logged_in("bea@exemple.fr", "Béa Conseil", Role::Advisor).await;
    let (pia_id, pia) = app.logged_in("pia@exemple.fr", "Pia Accueil", Role::Advisor).await;
    app.join_service(&pia_id, "service-accueil").await;
    let (camille_id, camille) = person(&app, "camille@exemple.fr", "2850775123456", "Camille", "Martin", "1985-07-14").await;
    sqlx::query("UPDATE users SET referent_id = $1 WHERE id = $2").bind(&alex_id).bind(&camille_id).execute(app.db.pool()).await.unwrap();
    break_the_threads(&app).await;

    // Act: Camille opens her messages, with JavaScript (a server function) and without (the page).
    let call = camille.post(app.url("/api/messages/threads")).header("accept", "application/json").send().await.unwrap();
    let status = call.status();
    let request_id = call.headers().get("x-request-id").expect("every answer names its request").to_str().unwrap().to_string();
    let error: AppError = serde_json::from_str(&call.text().await.unwrap()).unwrap();
    let page = camille.get(app.url("/messages")).send().await.unwrap().text().await.unwrap();
    repair_the_threads(&app).await;

    // Assert: each shows its own reference, in French, with what to do with it.
    assert_eq!(status, 500);
    let message = error.to_string();
    assert!(message.contains("donnez-la si vous nous contactez"), "{message}");
    let reference = reference_in(&message);
    assert!(reference.chars().all(|c| c == '-' || "23456789ABCDEFGHJKMNPQRSTWXYZ".contains(c)), "no ambiguous letter: {reference}");
    let page_reference = reference_in(&page);
    assert_ne!(page_reference, reference, "each error has its own reference");

    // The phone platform finds both, typed as read out on the phone.
    let typed = reference.to_lowercase().replace('-', " ");
    let found: Option<IncidentLine> = app.call_fn(&pia, lookup(&typed)).await.1.unwrap();
    let found = found.expect("the reference is found as soon as the person sees it");
    assert_eq!(found.reference, reference);
    assert_eq!(found.request, "POST /api/messages/threads");
    assert_eq!(found.request_id, request_id, "the incident names the request of the server's log");
    assert_eq!((found.who.as_str(), found.person_id.as_deref()), ("Camille Martin", Some(camille_id.as_str())));
    let from_the_page = app.call_fn(&pia, lookup(&page_reference)).await.1.unwrap().expect("the page's reference is found");
    assert_eq!(from_the_page.request, "GET /messages");

    // An advisor not in charge of Camille learns that the error happened, not to whom.
    let for_bea = app.call_fn(&bea, lookup(&reference)).await.1.unwrap().unwrap();
    assert_eq!((for_bea.who.as_str(), for_bea.person_id), ("Une personne suivie par un autre conseiller", None));

    // Her referent sees them on her 360° page, newest first (the page met the broken table
    // twice: its list and the unread count of the header).
    let camille_page = app.call_fn(&alex, Beneficiary { id: camille_id.clone() }).await.1.unwrap();
    let listed: Vec<&str> = camille_page.incidents.iter().map(|line| line.reference.as_str()).collect();
    assert!(listed.contains(&reference.as_str()) && listed.contains(&page_reference.as_str()), "{listed:?}");
    assert_eq!(listed.last(), Some(&reference.as_str()), "the server function's came first: {listed:?}");
    assert!(camille_page.incidents.windows(2).all(|pair| pair[0].at >= pair[1].at), "newest first: {:?}", camille_page.incidents);

    // The dashboard's lookup form (a plain GET) shows it too.
    let dashboard = pia.get(app.url(&format!("/conseiller?reference={reference}"))).send().await.unwrap().text().await.unwrap();
    assert!(dashboard.contains("POST /api/messages/threads") && dashboard.contains("Camille Martin"), "{dashboard}");

    // Unknown, malformed, or asked by someone who is not staff.
    assert_eq!(app.call_fn(&pia, lookup("ZZZZ-ZZZZ")).await.1, Ok(None));
    let malformed = app.call_fn(&pia, lookup("0O1I")).await.1.unwrap_err();
    assert!(malformed.field("reference").is_some(), "{malformed:?}");
    assert_eq!(app.call_fn(&camille, lookup(&reference)).await.0, 403);
    assert_eq!(app.call_fn(&client(), lookup(&reference)).await.0, 401);
    let still_there = app.call_fn(&camille, MyThreads {}).await;
    assert_eq!(still_there.0, 200, "the repaired table answers again: {still_there:?}");
    app.stop().await;
}
both_backends!(a_forced_database_failure_shows_a_reference_that_the_phone_platform_finds);

async fn the_request_id_comes_from_a_trusted_proxy_only(backend: Backend) {
    // Arrange: the tests' clients connect from 127.0.0.1; one server trusts it as a proxy.
    let direct = spawn_app(backend).await;
    let behind = crate::helpers::spawn_app_with(backend, |settings| settings.server.trusted_proxies = "127.0.0.1".into()).await;
    let ask = |app: &TestApp, id: &'static str| {
        let request = client().get(app.url("/healthz")).header("x-request-id", id);
        async move { request.send().await.unwrap().headers().get("x-request-id").unwrap().to_str().unwrap().to_string() }
    };

    // Act
    let from_a_stranger = ask(&direct, "chosen-by-the-client").await;
    let from_the_proxy = ask(&behind, "lb-4f2a.9").await;
    let unusable = ask(&behind, "no spaces or\tcontrols").await;

    // Assert
    assert_ne!(from_a_stranger, "chosen-by-the-client", "a client does not name its request");
    assert_eq!(from_a_stranger.len(), 16);
    assert_eq!(from_the_proxy, "lb-4f2a.9", "the proxy's id links its log to ours");
    assert_eq!(unusable.len(), 16, "an id that is not plain is replaced: {unusable}");
    direct.stop().await;
    behind.stop().await;
}
both_backends!(the_request_id_comes_from_a_trusted_proxy_only);
