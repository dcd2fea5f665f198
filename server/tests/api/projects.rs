//! The project: drafts with versions, the state machine, who may read and change what, and
//! the form without JavaScript.

use crate::helpers::{both_backends, client, complete_project as complete, refused_fields, spawn_app, Answer, Backend, TestApp};
use app::account::Role;
use app::error::AppError;
use app::project::{MyProject, ProjectState, ProjectView, RequestReopening, Saved, StaffProject, StaffProjects, StaffTransition, SubmitProject};
use serde::de::IgnoredAny;

fn with_version(version: i64, draft: &[(String, String)]) -> Vec<(String, String)> {
    let mut fields = vec![("version".to_string(), version.to_string())];
    fields.extend(draft.iter().cloned());
    fields
}

/// Posts a save of the project with these fields (`version`, `draft[...]`), made by hand.
async fn save(app: &TestApp, c: &reqwest::Client, fields: &[(String, String)]) -> Answer<Saved> {
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.call_as(c, "project/save", &borrowed).await
}

async fn get(app: &TestApp, c: &reqwest::Client) -> ProjectView {
    let (status, project) = app.call_fn(c, MyProject {}).await;
    assert_eq!(status, 200, "{project:?}");
    project.unwrap()
}

async fn transition(app: &TestApp, c: &reqwest::Client, id: &str, action: &str, reason: &str) -> Answer<()> {
    app.call_fn(c, StaffTransition { id: id.into(), action: action.into(), reason: reason.into() }).await
}

async fn submit(app: &TestApp, c: &reqwest::Client, version: i64) -> Answer<()> {
    app.call_fn(c, SubmitProject { version }).await
}

async fn request_reopening(app: &TestApp, c: &reqwest::Client, message: &str) -> Answer<()> {
    app.call_fn(c, RequestReopening { message: message.into() }).await
}

async fn a_save_names_its_version_and_a_stale_one_is_refused_without_overwriting(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let first = get(&app, &camille).await;
    assert_eq!(first.version, 0);
    assert_eq!(first.state, ProjectState::Draft);

    let (status, saved) = save(&app, &camille, &with_version(0, &complete())).await;
    assert_eq!(status, 200, "{saved:?}");
    assert_eq!(saved.unwrap().version, 1);
    let stored = get(&app, &camille).await;
    assert_eq!(stored.draft["metier_description"], "Soins & accompagnement = 100 % [humain]\nDeuxième ligne ✓ «citation» 😀");

    // Another tab still at version 0, with another text: refused, nothing overwritten.
    let other_tab = with_version(0, &[("draft[motivation]".into(), "Texte de l'autre onglet".into())]);
    let (status, refused) = save(&app, &camille, &other_tab).await;
    assert_eq!(status, 409);
    assert_eq!(refused, Err(AppError::Stale), "a stale save is told apart by its variant, not its message");
    assert_eq!(get(&app, &camille).await.draft["motivation"], "Depuis toujours…");

    // The same text again (a repeated save, a beacon after a save): accepted, no new version.
    let (status, again) = save(&app, &camille, &with_version(0, &complete())).await;
    assert_eq!((status.as_u16(), again.map(|s| s.version)), (200, Ok(1)));

    // Emptying a field removes it; the version moves on.
    let mut emptied = complete();
    emptied.retain(|(k, _)| k != "draft[poste]");
    emptied.push(("draft[poste]".into(), String::new()));
    let (status, saved) = save(&app, &camille, &with_version(1, &emptied)).await;
    assert_eq!((status.as_u16(), saved.map(|s| s.version)), (200, Ok(2)));
    assert!(!get(&app, &camille).await.draft.contains_key("poste"));
    app.stop().await;
}
both_backends!(a_save_names_its_version_and_a_stale_one_is_refused_without_overwriting);

async fn a_hand_made_save_with_unknown_fields_or_too_long_text_is_refused_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    get(&app, &camille).await;

    let (unknown, _) = save(&app, &camille, &with_version(0, &[("draft[state]".into(), "accepte".into())])).await;
    let (too_long, answer) = save(&app, &camille, &with_version(0, &[("draft[poste]".into(), "x".repeat(301))])).await;
    let (no_version, _) = save(&app, &camille, &[("draft[poste]".into(), "Vendeuse".into())]).await;
    let (bad_version, _) = save(&app, &camille, &[("version".into(), "un".into())]).await;

    assert_eq!(unknown, 400);
    assert_eq!(too_long, 422);
    assert!(refused_fields(&answer)[0].1.contains("300 caractères"));
    assert_eq!([no_version, bad_version], [400, 400]);
    let project = get(&app, &camille).await;
    assert_eq!((project.version, project.draft.len()), (0, 0));
    app.stop().await;
}
both_backends!(a_hand_made_save_with_unknown_fields_or_too_long_text_is_refused_and_changes_nothing);

async fn nobody_but_the_beneficiary_reads_or_writes_the_project_and_advisors_never_change_its_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let (_, other) = app.logged_in("dominique@exemple.fr", "Dominique Roux", Role::Beneficiary).await;
    let (_, advisor) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let anonymous = client();
    let (_, saved) = save(&app, &camille, &with_version(0, &complete())).await;
    assert_eq!(saved.unwrap().version, 1);
    let id = get(&app, &camille).await.id;

    // Another beneficiary only ever reaches their own project.
    let theirs = get(&app, &other).await;
    assert_ne!(theirs.id, id);
    assert_eq!(theirs.draft.len(), 0);
    let (status, _) = save(&app, &other, &with_version(0, &[("draft[motivation]".into(), "le mien".into())])).await;
    assert_eq!(status, 200, "saves their own project");
    assert_eq!(app.call_fn(&other, StaffProject { id: id.clone() }).await.0, 403);
    assert_eq!(app.call_fn(&other, StaffProjects {}).await.0, 403);
    assert_eq!(transition(&app, &other, &id, "rouvrir", "x").await.0, 403);

    // Advisors read it but cannot write through the beneficiary's functions.
    let (status, seen) = app.call_fn(&advisor, StaffProject { id: id.clone() }).await;
    assert_eq!(status, 200);
    assert_eq!(seen.unwrap().draft["motivation"], "Depuis toujours…");
    assert_eq!(save(&app, &advisor, &with_version(1, &complete())).await.0, 403);
    assert_eq!(submit(&app, &advisor, 1).await.0, 403);
    assert_eq!(app.call_fn(&advisor, MyProject {}).await.0, 403);
    assert_eq!(app.call_fn(&advisor, StaffProject { id: "inconnu".into() }).await.0, 404);

    // Nobody anonymous.
    for endpoint in
        ["project/get", "project/save", "project/submit", "project/request-reopening", "staff/projects", "staff/project", "staff/project/transition"]
    {
        let (status, _) =
            app.call_as::<IgnoredAny>(&anonymous, endpoint, &[("version", "1"), ("id", &id), ("action", "rouvrir"), ("reason", "x")]).await;
        assert_eq!(status, 401, "{endpoint}");
    }
    assert_eq!(get(&app, &camille).await.draft["motivation"], "Depuis toujours…");
    app.stop().await;
}
both_backends!(nobody_but_the_beneficiary_reads_or_writes_the_project_and_advisors_never_change_its_text);

async fn the_project_moves_through_its_states_and_refuses_every_other_transition(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let (_, advisor) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let id = get(&app, &camille).await.id;
    let state = |c: &reqwest::Client| {
        let c = c.clone();
        let app = &app;
        async move { get(app, &c).await.state }
    };

    // Draft: incomplete projects cannot be submitted; staff can do nothing yet.
    let _ = save(&app, &camille, &with_version(0, &complete()[..3])).await;
    let (status, missing) = submit(&app, &camille, 1).await;
    assert_eq!(status, 422);
    assert!(refused_fields(&missing).iter().any(|(field, _)| field == "motivation"));
    for action in ["instruire", "rouvrir", "accepter", "refuser"] {
        assert_eq!(transition(&app, &advisor, &id, action, "motif").await.0, 409, "{action} from draft");
    }
    assert_eq!(request_reopening(&app, &camille, "x").await.0, 409);

    // Submitted: what was reviewed (its version) is what is submitted; then it is locked.
    let _ = save(&app, &camille, &with_version(1, &complete())).await;
    assert_eq!(submit(&app, &camille, 1).await.0, 409, "an older version");
    assert_eq!(submit(&app, &camille, 2).await.0, 200);
    assert_eq!(state(&camille).await, ProjectState::Submitted);
    let (status, locked) = save(&app, &camille, &with_version(2, &complete())).await;
    assert_eq!(status, 409);
    assert!(matches!(&locked, Err(AppError::Conflict(m)) if m.contains("verrouillé")), "{locked:?}");
    assert_eq!(save(&app, &camille, &with_version(2, &[("draft[poste]".into(), "autre".into())])).await.0, 409);
    assert_eq!(submit(&app, &camille, 2).await.0, 409);
    for action in ["accepter", "refuser"] {
        assert_eq!(transition(&app, &advisor, &id, action, "motif").await.0, 409, "{action} before review");
    }
    assert_eq!(transition(&app, &advisor, &id, "soumettre", "").await.0, 400, "staff cannot submit");

    // The beneficiary asks for a reopening; the advisor starts the review, then reopens it.
    assert_eq!(request_reopening(&app, &camille, "J'ai oublié mes heures de stage").await.0, 200);
    assert_eq!(transition(&app, &advisor, &id, "instruire", "").await.0, 200);
    assert_eq!(transition(&app, &advisor, &id, "instruire", "").await.0, 409);
    let (status, no_reason) = transition(&app, &advisor, &id, "rouvrir", "  ").await;
    assert_eq!(status, 422);
    assert!(refused_fields(&no_reason)[0].1.contains("raison"));
    assert_eq!(transition(&app, &advisor, &id, "rouvrir", "Ajoutez les heures de stage").await.0, 200);
    assert_eq!(state(&camille).await, ProjectState::Reopened);
    app.smtp.wait_for(2, std::time::Duration::from_secs(10)).await;
    let emails = app.smtp.received();
    assert!(emails.iter().any(|e| e.subject() == "Votre projet est rouvert" && e.to.iter().any(|t| t == "camille@exemple.fr")));
    assert!(emails.iter().all(|e| !e.text().contains("heures de stage")), "reasons stay in the app");

    // Reopened: editable again, submitted again, then decided; a decision is final.
    let (status, _) = save(&app, &camille, &with_version(2, &[complete(), vec![("draft[heures_entreprise]".into(), "140".into())]].concat())).await;
    assert_eq!(status, 200);
    assert_eq!(submit(&app, &camille, 3).await.0, 200);
    assert_eq!(transition(&app, &advisor, &id, "instruire", "").await.0, 200);
    assert_eq!(transition(&app, &advisor, &id, "refuser", "").await.0, 422, "a decision needs its reason");
    assert_eq!(transition(&app, &advisor, &id, "refuser", "Le coût dépasse le plafond").await.0, 200);
    assert_eq!(state(&camille).await, ProjectState::Refused);
    for action in ["instruire", "rouvrir", "accepter", "refuser"] {
        assert_eq!(transition(&app, &advisor, &id, action, "motif").await.0, 409, "{action} after the decision");
    }
    assert_eq!(save(&app, &camille, &with_version(3, &complete())).await.0, 409);
    assert_eq!(request_reopening(&app, &camille, "").await.0, 409);
    assert_eq!(transition(&app, &advisor, &id, "n'importe quoi", "").await.0, 400);

    // Both sides see the whole history: who, what, why.
    let project = get(&app, &camille).await;
    let kinds: Vec<&str> = project.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["soumettre", "reouverture_demandee", "instruire", "rouvrir", "soumettre", "instruire", "refuser"]);
    assert_eq!(project.events[3].reason.as_deref(), Some("Ajoutez les heures de stage"));
    assert_eq!(project.events[3].actor_name, "Alex Conseil");
    let (_, seen) = app.call_fn(&advisor, StaffProject { id: id.clone() }).await;
    assert_eq!(seen.unwrap().events, project.events);
    assert_eq!(app.count("SELECT COUNT(*) FROM project_events").await, 7);
    app.stop().await;
}
both_backends!(the_project_moves_through_its_states_and_refuses_every_other_transition);

async fn two_advisors_acting_at_once_on_a_project_cannot_both_succeed(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let (_, first) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let (_, second) = app.logged_in("sam@exemple.fr", "Sam Conseil", Role::Advisor).await;
    let _ = save(&app, &camille, &with_version(0, &complete())).await;
    assert_eq!(submit(&app, &camille, 1).await.0, 200);
    let id = get(&app, &camille).await.id;

    let (a, b) = tokio::join!(transition(&app, &first, &id, "instruire", ""), transition(&app, &second, &id, "rouvrir", "Motif"));

    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses[0], 200);
    assert!(statuses[1] == 409 || statuses[1] == 200, "{statuses:?}");
    // Whatever the order, the history holds exactly the transitions that happened.
    let successes = [a.0, b.0].iter().filter(|s| **s == 200).count() as i64;
    assert_eq!(app.count("SELECT COUNT(*) FROM project_events WHERE kind <> 'soumettre'").await, successes);
    app.stop().await;
}
both_backends!(two_advisors_acting_at_once_on_a_project_cannot_both_succeed);

async fn without_javascript_the_form_saves_and_a_stale_post_shows_both_texts(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("camille@exemple.fr", crate::helpers::GOOD_PASSWORD).await;
    app.login("camille@exemple.fr", crate::helpers::GOOD_PASSWORD).await;
    let empty_page = app.get("/projet").await.text().await.unwrap();
    assert!(empty_page.contains("action=\"/api/project/save\""), "a real form");
    assert!(empty_page.contains("Situation actuelle") && empty_page.contains("Motivation"));

    let saved_page =
        app.post_without_javascript("/projet", "project/save", &with_version(0, &[("draft[motivation]".into(), "Première version".into())])).await;
    assert!(saved_page.contains("Première version"));
    assert!(saved_page.contains("Enregistré le"));

    let stale_page = app
        .post_without_javascript("/projet", "project/save", &with_version(0, &[("draft[motivation]".into(), "Version de l'autre onglet".into())]))
        .await
        .replace("<!>", "");
    assert!(stale_page.contains("Votre projet a été modifié ailleurs"));
    assert!(
        stale_page.contains("Première version") && stale_page.contains("Version de l&#x27;autre onglet")
            || stale_page.contains("Version de l'autre onglet")
    );
    assert!(stale_page.contains("name=\"version\" value=\"1\""), "saving again is a deliberate choice over version 1");
    app.stop().await;
}
both_backends!(without_javascript_the_form_saves_and_a_stale_post_shows_both_texts);

async fn the_recap_lists_what_is_missing_with_links_and_offers_submission_only_when_complete(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("camille@exemple.fr", crate::helpers::GOOD_PASSWORD).await;
    app.login("camille@exemple.fr", crate::helpers::GOOD_PASSWORD).await;
    app.post_without_javascript("/projet", "project/save", &with_version(0, &complete()[..5])).await;

    let incomplete = app.get("/projet/recapitulatif").await.text().await.unwrap().replace("<!>", "");
    assert!(incomplete.contains("href=\"/projet#champ-motivation\""), "each missing answer links to its field");
    assert!(incomplete.contains("réponses manquent ou sont à corriger"));
    assert!(!incomplete.contains("Soumettre mon projet"));

    app.post_without_javascript("/projet", "project/save", &with_version(1, &complete())).await;
    let complete_page = app.get("/projet/recapitulatif").await.text().await.unwrap().replace("<!>", "");
    assert!(complete_page.contains("Votre projet est complet") && complete_page.contains("Soumettre mon projet"));
    assert!(complete_page.contains("732 829 320 00074") && complete_page.contains("24\u{202f}000 €"), "answers shown as typed, amounts in euros");

    // Submitted without JavaScript: back on the project page, locked, with the printable recap one click away.
    let locked = app.post_without_javascript("/projet/recapitulatif", "project/submit", &[("version".into(), "2".into())]).await.replace("<!>", "");
    assert!(locked.contains("État : Soumis"));
    assert!(!locked.contains("action=\"/api/project/save\""), "no form once submitted");
    assert!(locked.contains("href=\"/projet/recapitulatif\""));
    assert!(locked.contains("Demander la réouverture"));
    let printable = app.get("/projet/recapitulatif").await.text().await.unwrap().replace("<!>", "");
    assert!(printable.contains("Imprimer ce récapitulatif") && printable.contains("Projet soumis par Camille Martin"));
    app.stop().await;
}
both_backends!(the_recap_lists_what_is_missing_with_links_and_offers_submission_only_when_complete);

async fn advisors_see_the_projects_and_the_actions_the_state_allows(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let _ = save(&app, &camille, &with_version(0, &complete())).await;
    let _ = submit(&app, &camille, 1).await;
    let id = get(&app, &camille).await.id;
    app.create_user("autre@exemple.fr", crate::helpers::GOOD_PASSWORD).await;
    crate::helpers::create_account(&app.db, "alex@exemple.fr", "Alex Conseil", Role::Advisor, crate::helpers::GOOD_PASSWORD).await;
    app.login("alex@exemple.fr", crate::helpers::GOOD_PASSWORD).await;

    let list = app.get("/conseiller/projets").await.text().await.unwrap().replace("<!>", "");
    let page = app.get(&format!("/conseiller/projets/{id}")).await.text().await.unwrap().replace("<!>", "");
    let after = app
        .post_without_javascript(
            &format!("/conseiller/projets/{id}"),
            "staff/project/transition",
            &[("id".into(), id.clone()), ("action".into(), "instruire".into()), ("reason".into(), String::new())],
        )
        .await
        .replace("<!>", "");

    assert!(list.contains(&format!("href=\"/conseiller/projets/{id}\"")) && list.contains("Soumis"));
    assert!(page.contains("Commencer l&#x27;instruction") || page.contains("Commencer l'instruction"));
    assert!(page.contains("Rouvrir le projet") && !page.contains("Accepter le projet"));
    assert!(page.contains("Depuis toujours…"), "the advisor reads the text");
    assert!(after.contains("État : En instruction") && after.contains("Accepter le projet") && after.contains("Refuser le projet"));
    assert!(after.contains("Instruction commencée par Alex Conseil (conseiller)"));
    app.stop().await;
}
both_backends!(advisors_see_the_projects_and_the_actions_the_state_allows);

async fn the_referent_advisor_is_emailed_when_the_project_is_submitted_and_when_a_reopening_is_asked(backend: Backend) {
    let app = spawn_app(backend).await;
    let (camille_id, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let (alex_id, _) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    sqlx::query("UPDATE users SET referent_id = $1 WHERE id = $2").bind(&alex_id).bind(&camille_id).execute(app.db.pool()).await.unwrap();
    let _ = save(&app, &camille, &with_version(0, &complete())).await;

    assert_eq!(submit(&app, &camille, 1).await.0, 200);
    assert_eq!(request_reopening(&app, &camille, "Mes heures de stage").await.0, 200);

    let emails = app.smtp.wait_for(2, std::time::Duration::from_secs(10)).await;
    // The outbox delivers in parallel: the order of arrival is not the order of sending.
    let mut to_alex: Vec<String> = emails.iter().filter(|e| e.to.iter().any(|t| t == "alex@exemple.fr")).map(|e| e.subject()).collect();
    to_alex.sort();
    assert_eq!(to_alex, ["Un projet vous a été soumis", "Une réouverture de projet est demandée"]);
    assert!(emails.iter().all(|e| !e.text().contains("Mes heures de stage")), "the request's text stays in the app");
    app.stop().await;
}
both_backends!(the_referent_advisor_is_emailed_when_the_project_is_submitted_and_when_a_reopening_is_asked);
