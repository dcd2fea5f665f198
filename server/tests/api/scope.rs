//! Who among the staff reaches a person (issue 16, point 1), on both databases: the referent, a
//! member of the service a thread was written to, anyone while the person has no referent; an
//! administrator or the phone platform after giving the reason of an exceptional access, for
//! the rest of that session only; nobody else — and an out-of-scope call answers like a missing
//! person.

use app::account::Role;
use app::dashboard::{AuditTrail, Beneficiary, ExceptionalAccess, SearchBeneficiaries, SearchPage};
use app::error::AppError;
use app::project::{MyProject, ProjectSummary, StaffProjects};
use serde::de::IgnoredAny;

use crate::helpers::{both_backends, client, login, pdf, person, spawn_app, Backend, TestApp, GOOD_PASSWORD};

fn search_for(q: &str) -> SearchBeneficiaries {
    SearchBeneficiaries { q: q.into(), etat: String::new(), referent: String::new(), after: String::new() }
}

fn open(id: &str, motif: &str, precision: &str) -> ExceptionalAccess {
    ExceptionalAccess { id: id.into(), motif: motif.into(), precision: precision.into() }
}

/// What one staff member gets for each of Camille's data, in the order of [`COLUMNS`].
async fn answers(app: &TestApp, staff: &reqwest::Client, camille: &Camille) -> Vec<u16> {
    let status = |answer: (reqwest::StatusCode, Result<IgnoredAny, AppError>)| answer.0.as_u16();
    let found = |page: Result<SearchPage, AppError>| if page.unwrap().rows.is_empty() { 0 } else { 1 };
    let listed = |list: Result<Vec<ProjectSummary>, AppError>| u16::from(list.unwrap().iter().any(|p| p.owner_name == "Camille Martin"));
    vec![
        status(app.call_as(staff, "staff/beneficiary", &[("id", &camille.id)]).await),
        status(app.call_as(staff, "staff/project", &[("id", &camille.project)]).await),
        status(app.call_as(staff, "messages/thread", &[("id", &camille.referent_thread)]).await),
        status(app.call_as(staff, "messages/thread", &[("id", &camille.payment_thread)]).await),
        status(app.call_as(staff, "staff/documents", &[("beneficiary_id", &camille.id)]).await),
        staff.get(app.url(&format!("/fichiers/{}", camille.document))).send().await.unwrap().status().as_u16(),
        status(app.call_as(staff, "staff/documents/request", &[("beneficiary_id", &camille.id), ("category", "cv"), ("note", "")]).await),
        found(app.call_fn(staff, search_for("camille")).await.1),
        listed(app.call_fn(staff, StaffProjects {}).await.1),
    ]
}

const COLUMNS: &str =
    "(360° page, project, referent thread, payment thread, documents, download, document request, search finds her, projects list has her)";

struct Camille {
    id: String,
    project: String,
    referent_thread: String,
    payment_thread: String,
    document: String,
}

/// Camille, whose referent is Alex: a project, a document, a thread with Alex and one with the
/// payment service.
async fn camille(app: &TestApp, referent_id: &str) -> Camille {
    let (id, camille) = person(app, "camille@exemple.fr", "2850775056042", "Camille", "Martin", "1985-07-14").await;
    let project = app.call_fn(&camille, MyProject {}).await.1.unwrap().id;
    let (_, document) = app.upload_as::<String>(&camille, "documents/upload", &[("category", "cv")], &[("file", "cv.pdf", pdf(2000))]).await;
    let send = |to: &'static str| {
        let camille = camille.clone();
        async move {
            app.upload_as::<String>(&camille, "messages/send", &[("to", to), ("subject", "Question"), ("body", "Bonjour")], &[]).await.1.unwrap()
        }
    };
    let (referent_thread, payment_thread) = (send("referent").await, send("paiement").await);
    sqlx::query("UPDATE users SET referent_id = $1 WHERE id = $2").bind(referent_id).bind(&id).execute(app.db.pool()).await.unwrap();
    Camille { id, project, referent_thread, payment_thread, document: document.unwrap() }
}

async fn only_the_referent_the_threads_service_and_an_exceptional_access_with_a_reason_reach_a_person(backend: Backend) {
    // Arrange: Alex is Camille's referent; Béa is another advisor; Paul answers for the payment
    // service; Ada is an administrator; Pia works at the phone platform (`accueil`).
    let app = spawn_app(backend).await;
    let (alex_id, alex) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let (_, bea) = app.logged_in("bea@exemple.fr", "Béa Conseil", Role::Advisor).await;
    let (paul_id, paul) = app.logged_in("paul@exemple.fr", "Paul Paiement", Role::Advisor).await;
    let (_, ada) = app.logged_in("ada@exemple.fr", "Ada Admin", Role::Admin).await;
    let (pia_id, pia) = app.logged_in("pia@exemple.fr", "Pia Accueil", Role::Advisor).await;
    app.join_service(&paul_id, "service-paiement").await;
    app.join_service(&pia_id, "service-accueil").await;
    let camille = camille(&app, &alex_id).await;

    // Act
    let referent = answers(&app, &alex, &camille).await;
    let other_advisor = answers(&app, &bea, &camille).await;
    let payment_service = answers(&app, &paul, &camille).await;
    let admin_before = answers(&app, &ada, &camille).await;
    let reception_before = answers(&app, &pia, &camille).await;
    let advisor_opens = app.call_fn(&bea, open(&camille.id, "appel_entrant", "")).await.0;
    let admin_opens = app.call_fn(&ada, open(&camille.id, "appel_entrant", "")).await.0;
    let reception_opens = app.call_fn(&pia, open(&camille.id, "accueil_antenne", "rendez-vous de 14 h")).await.0;
    let admin_after = answers(&app, &ada, &camille).await;
    let reception_after = answers(&app, &pia, &camille).await;
    let ada_elsewhere = client();
    assert_eq!(login(&ada_elsewhere, &app.base, "ada@exemple.fr", GOOD_PASSWORD).await.status(), 200);
    let admin_other_session = answers(&app, &ada_elsewhere, &camille).await;
    let unknown_person = app.call_fn(&ada, open("inconnu", "appel_entrant", "")).await.0;

    // Assert
    assert_eq!(referent, [200, 200, 200, 200, 200, 200, 200, 1, 1], "the referent reaches everything {COLUMNS}");
    assert_eq!(other_advisor, [404, 404, 404, 404, 404, 404, 404, 0, 0], "another advisor: as if she did not exist {COLUMNS}");
    assert_eq!(payment_service, [404, 404, 404, 200, 404, 404, 404, 0, 0], "the payment service reaches its thread only {COLUMNS}");
    let asks_why = [403, 403, 403, 403, 403, 404, 403, 1, 1];
    assert_eq!(admin_before, asks_why, "an administrator finds her, and is asked why before opening {COLUMNS}");
    assert_eq!(reception_before, asks_why, "so is the phone platform {COLUMNS}");
    assert_eq!(advisor_opens, 404, "an advisor cannot open an exceptional access");
    assert_eq!([admin_opens, reception_opens], [200, 200]);
    assert_eq!(admin_after, [200, 200, 200, 200, 200, 200, 200, 1, 1], "then everything, for the session {COLUMNS}");
    assert_eq!(reception_after, [200, 200, 200, 200, 200, 200, 200, 1, 1], "{COLUMNS}");
    assert_eq!(admin_other_session, asks_why, "another session asks again {COLUMNS}");
    assert_eq!(unknown_person, 404);
    let reasons: Vec<(String, String)> =
        sqlx::query_as("SELECT a.action, a.reason FROM audit_log a WHERE a.actor_id = $1 AND a.beneficiary_id = $2 ORDER BY a.at, a.action")
            .bind(&pia_id)
            .bind(&camille.id)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(reasons.first().map(|(action, _)| action.as_str()), Some("acces_exceptionnel"), "{reasons:?}");
    assert!(reasons.len() >= 6, "the access, then each read: {reasons:?}");
    assert!(reasons.iter().all(|(_, reason)| reason == "Accueil en antenne : rendez-vous de 14 h"), "every line carries the reason: {reasons:?}");
    let bea_lines = app.count("SELECT COUNT(*) FROM audit_log a JOIN users u ON u.id = a.actor_id WHERE u.email = 'bea@exemple.fr'").await;
    assert_eq!(bea_lines, 0, "refused reads write nothing");
    app.stop().await;
}
both_backends!(only_the_referent_the_threads_service_and_an_exceptional_access_with_a_reason_reach_a_person);

async fn an_exceptional_access_needs_a_motive_and_ends_with_its_time_or_the_session(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let (alex_id, _) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let (ada_id, ada) = app.logged_in("ada@exemple.fr", "Ada Admin", Role::Admin).await;
    let camille = camille(&app, &alex_id).await;
    let page = |c: reqwest::Client| {
        let app = &app;
        let id = camille.id.clone();
        async move { app.call_fn(&c, Beneficiary { id }).await }
    };

    // Act
    let without_motive = app.call_fn(&ada, open(&camille.id, "", "")).await;
    let other_without_details = app.call_fn(&ada, open(&camille.id, "autre", "  ")).await;
    let written_after_refusals = app.count("SELECT COUNT(*) FROM exceptional_accesses").await;
    let opened = app.call_fn(&ada, open(&camille.id, "autre", "Courrier reçu au siège")).await.0;
    let (status_open, shown) = page(ada.clone()).await;
    sqlx::query("UPDATE exceptional_accesses SET expires_at = $1 WHERE staff_id = $2")
        .bind(1_i64)
        .bind(&ada_id)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (status_expired, _) = page(ada.clone()).await;
    app.call_fn(&ada, open(&camille.id, "appel_entrant", "")).await.1.unwrap();
    let (status_reopened, _) = page(ada.clone()).await;
    ada.post(app.url("/api/session/logout")).send().await.unwrap();
    assert_eq!(login(&ada, &app.base, "ada@exemple.fr", GOOD_PASSWORD).await.status(), 200);
    let (status_next_session, _) = page(ada.clone()).await;
    let trail = app
        .call_fn(
            &ada,
            AuditTrail { actor: ada_id.clone(), beneficiary: camille.id.clone(), action: "acces_exceptionnel".into(), before: String::new() },
        )
        .await;

    // Assert
    assert!(without_motive.1.as_ref().unwrap_err().field("motif").is_some(), "{without_motive:?}");
    assert!(other_without_details.1.as_ref().unwrap_err().field("precision").is_some(), "{other_without_details:?}");
    assert_eq!(written_after_refusals, 0);
    assert_eq!(opened, 200);
    assert_eq!(status_open, 200);
    assert_eq!(shown.unwrap().exceptional.as_deref(), Some("Autre motif : Courrier reçu au siège"), "the page says under which reason it is open");
    assert_eq!([status_expired, status_reopened, status_next_session], [403, 200, 403], "expired, opened again, then a new session asks again");
    let reasons: Vec<String> = trail.1.unwrap().0.into_iter().map(|line| line.reason).collect();
    assert_eq!(reasons, ["Appel entrant", "Autre motif : Courrier reçu au siège"], "each access is in the trail, newest first");
    app.stop().await;
}
both_backends!(an_exceptional_access_needs_a_motive_and_ends_with_its_time_or_the_session);
