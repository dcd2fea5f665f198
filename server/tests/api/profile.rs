//! The profile, the change of email address, the personal-data export and the deletion request.

use std::io::Read;
use std::time::Duration;

use crate::helpers::{
    both_backends, client, every_row, login, nir_with_key, pdf, person, spawn_app, test_settings, wait_until, Backend, GOOD_PASSWORD, TEN_MB,
};
use app::account::Role;
use app::documents::RequestDocument;
use app::profile::{ChangeEmail, ConfirmEmail, DeletionRequests, EraseAccount, MyProfile, RequestDeletion};
use app::project::SaveProject;
use http::StatusCode;

async fn the_profile_checks_each_field_and_reports_its_completion(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;

    let refused = app
        .call_as::<u32>(
            &camille,
            "profile/save",
            &[("postal_code", "6900"), ("phone", "12"), ("seniority_years", "-3"), ("contract_type", "esclave"), ("city", "Lyon")],
        )
        .await;
    let unchanged = app.call_fn(&camille, MyProfile {}).await.1.unwrap();
    let saved = app
        .call_as::<u32>(
            &camille,
            "profile/save",
            &[
                ("address_line", "3 rue Paul Bert"),
                ("postal_code", "69003"),
                ("city", "Lyon"),
                ("phone", "06 12 34 56 78"),
                ("contract_type", "cdi"),
                ("seniority_years", "7"),
            ],
        )
        .await;
    let profile = app.call_fn(&camille, MyProfile {}).await.1.unwrap();
    let advisor = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await.1;
    let as_advisor = app.call_as::<u32>(&advisor, "profile/save", &[("city", "Paris")]).await;
    let anonymous = app.call_fn(&client(), MyProfile {}).await;

    assert_eq!(refused.0, 422);
    let error = refused.1.as_ref().unwrap_err();
    for field in ["postal_code", "phone", "seniority_years", "contract_type"] {
        assert!(error.field(field).is_some(), "{field} is refused: {error:?}");
    }
    assert!(error.field("city").is_none());
    assert!(!unchanged.values.iter().any(|(_, value)| value.contains("Lyon")), "a refused form changes nothing");
    assert_eq!(saved, (StatusCode::OK, Ok(66)));
    assert!(profile.value("postal_code") == "69003" && profile.value("seniority_years") == "7");
    assert_eq!(as_advisor.0, 403);
    assert_eq!(anonymous.0, 401);
    app.stop().await;
}
both_backends!(the_profile_checks_each_field_and_reports_its_completion);

async fn a_new_email_needs_the_password_then_its_link_and_the_old_address_is_told(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    app.logged_in("pris@exemple.fr", "Autre Personne", Role::Beneficiary).await;

    let change_email =
        |new_email: &str, password: &str| app.call_fn(&camille, ChangeEmail { new_email: new_email.into(), password: password.into() });

    let wrong_password = change_email("camille.m@exemple.fr", "pas le bon").await;
    let taken = change_email("PRIS@exemple.fr", GOOD_PASSWORD).await;
    let started = change_email("camille.m@exemple.fr", GOOD_PASSWORD).await;
    let token = app.last_link_to("camille.m@exemple.fr", "/profil/courriel").await;
    let pending = app.call_fn(&camille, MyProfile {}).await.1.unwrap();
    let old_still_works = login(&client(), &app.base, "camille@exemple.fr", GOOD_PASSWORD).await.status();
    // Opening the link, as a mail scanner does, only shows a button.
    let opened = app.get(&format!("/profil/courriel/{token}")).await.text().await.unwrap();
    let after_opening = app.call_fn(&camille, MyProfile {}).await.1.unwrap();
    let confirmed = app.call_fn(&app.client, ConfirmEmail { token: token.clone() }).await;
    let again = app.call_fn(&app.client, ConfirmEmail { token }).await;
    let notice = {
        let emails = app.smtp.wait_for(2, Duration::from_secs(10)).await;
        emails.into_iter().find(|e| e.to.iter().any(|t| t == "camille@exemple.fr")).unwrap()
    };
    let new_login = login(&client(), &app.base, "camille.m@exemple.fr", GOOD_PASSWORD).await.status();
    let old_login = login(&client(), &app.base, "camille@exemple.fr", GOOD_PASSWORD).await.status();

    assert_eq!(wrong_password.0, 422);
    assert!(wrong_password.1.as_ref().is_err_and(|e| e.field("password").is_some()), "{wrong_password:?}");
    assert_eq!(taken.0, 422);
    assert_eq!(started, (StatusCode::OK, Ok("camille.m@exemple.fr".to_string())));
    assert_eq!(pending.pending_email.as_deref(), Some("camille.m@exemple.fr"));
    assert_eq!(pending.email, "camille@exemple.fr", "the address changes only with the link");
    assert_eq!(old_still_works, 200);
    assert!(opened.contains("Confirmer ma nouvelle adresse"), "the page offers the button");
    assert_eq!(after_opening.email, "camille@exemple.fr", "opening the link changes nothing");
    assert_eq!(confirmed, (StatusCode::OK, Ok("camille.m@exemple.fr".to_string())));
    assert_eq!(again.0, 409);
    assert_eq!(notice.subject(), "L'adresse de votre compte Passerelle a changé");
    assert!(notice.text().contains("c•••@exemple.fr"), "the old address sees the new one masked");
    assert_eq!(new_login, 200);
    assert_ne!(old_login, 200);
    app.stop().await;
}
both_backends!(a_new_email_needs_the_password_then_its_link_and_the_old_address_is_told);

async fn the_export_zip_holds_everything_held_about_the_person_and_their_documents_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let (camille_id, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let (_, dominique) = app.logged_in("dominique@exemple.fr", "Dominique Roux", Role::Beneficiary).await;
    let (_, alex) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let _ = app.call_as::<u32>(&camille, "profile/save", &[("city", "Lyon")]).await;
    let _ = app.call_fn(&camille, SaveProject { version: 0, draft: [("motivation".to_string(), "Devenir infirmière".to_string())].into() }).await;
    let cv = pdf(4000);
    let _ = app.upload_as::<String>(&camille, "documents/upload", &[("category", "cv")], &[("file", "cv.pdf", cv.clone())]).await;
    let _ = app
        .upload_as::<String>(
            &camille,
            "messages/send",
            &[("to", "referent"), ("subject", "Question"), ("body", "Mon message à moi")],
            &[("file", "joint.pdf", pdf(300))],
        )
        .await;
    let request = RequestDocument { beneficiary_id: camille_id.clone(), category: "cv".into(), note: String::new(), due_date: String::new() };
    let _ = app.call_fn(&alex, request).await;
    let _ = app
        .upload_as::<String>(&dominique, "messages/send", &[("to", "referent"), ("subject", "Autre"), ("body", "Message de Dominique")], &[])
        .await;
    app.smtp.wait_for(1, Duration::from_secs(10)).await;

    let response = camille.get(app.url("/mes-donnees/export.zip")).send().await.unwrap();
    let anonymous = client().get(app.url("/mes-donnees/export.zip")).send().await.unwrap().status();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(response.bytes().await.unwrap().to_vec())).unwrap();
    let mut json = String::new();
    archive.by_name("mes-donnees.json").unwrap().read_to_string(&mut json).unwrap();
    // The export is a JSON file for the person, not a server function's answer: read as it is.
    let data: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(data["profil"]["email"], "camille@exemple.fr");
    assert_eq!(data["profil"]["city"], "Lyon");
    assert!(data["profil"].get("password_hash").is_none());
    assert!(data["projet"][0]["draft"].as_str().unwrap().contains("Devenir infirmière"));
    assert_eq!(data["messages"][0]["body"], "Mon message à moi");
    assert_eq!(data["documents"].as_array().unwrap().len(), 2, "the document and the attachment");
    assert_eq!(data["documents_demandes"].as_array().unwrap().len(), 1);
    assert!(data["courriels_envoyes"].as_array().unwrap().iter().any(|e| e["subject"] == "Un document vous est demandé"));
    assert!(data.get("consentements").is_some() && data.get("connexions").is_some());
    assert!(!json.contains("Message de Dominique") && !json.contains("dominique@exemple.fr"), "nobody else's data");
    let names: Vec<String> = archive.file_names().map(str::to_string).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let cv_entry = names.iter().find(|n| n.starts_with("documents/") && n.ends_with("-cv.pdf")).unwrap().clone();
    let mut stored = Vec::new();
    archive.by_name(&cv_entry).unwrap().read_to_end(&mut stored).unwrap();
    assert_eq!(stored, cv);
    assert_eq!(anonymous, 401);
    app.stop().await;
}
both_backends!(the_export_zip_holds_everything_held_about_the_person_and_their_documents_only);

async fn the_export_holds_the_emails_sent_to_the_account_not_whatever_reached_its_current_address(backend: Backend) {
    // Arrange: an email to Camille's earlier address, linked to her account; and one sent to her
    // current address before it was hers (linked to nobody).
    let app = spawn_app(backend).await;
    let (camille_id, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    for (to, subject, user) in
        [("ancienne@exemple.fr", "Pour Camille", Some(camille_id.as_str())), ("camille@exemple.fr", "Pour quelqu'un d'autre", None)]
    {
        sqlx::query(
            "INSERT INTO outbox (id, to_address, subject, body_text, body_html, status, attempts, next_attempt_at, created_at, user_id) \
             VALUES ($1, $2, $3, 'texte', '<p>texte</p>', 'sent', 1, 0, 0, $4)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(to)
        .bind(subject)
        .bind(user)
        .execute(app.db.pool())
        .await
        .unwrap();
    }

    // Act
    let response = camille.get(app.url("/mes-donnees/export.zip")).send().await.unwrap();

    // Assert
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(response.bytes().await.unwrap().to_vec())).unwrap();
    let mut json = String::new();
    archive.by_name("mes-donnees.json").unwrap().read_to_string(&mut json).unwrap();
    let data: serde_json::Value = serde_json::from_str(&json).unwrap();
    let subjects: Vec<&str> = data["courriels_envoyes"].as_array().unwrap().iter().filter_map(|e| e["subject"].as_str()).collect();
    assert_eq!(subjects, ["Pour Camille"]);
    assert_eq!(data["connexions"][0]["ip"], "127.0.0.1", "where each login came from is the person's data too");
    app.stop().await;
}
both_backends!(the_export_holds_the_emails_sent_to_the_account_not_whatever_reached_its_current_address);

async fn exports_asked_at_once_by_one_person_stream_one_archive_and_the_others_wait_for_its_end(backend: Backend) {
    // Arrange: 30 MB of documents, more than the connection holds while nobody reads.
    let app = spawn_app(backend).await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    for n in 0..3 {
        let stored =
            app.upload_as::<String>(&camille, "documents/upload", &[("category", "cv")], &[("file", &format!("cv{n}.pdf"), pdf(TEN_MB - 10))]).await;
        assert_eq!(stored.0, 200, "{stored:?}");
    }
    let url = app.url("/mes-donnees/export.zip");

    // Act: five exports at once, none read yet.
    let answers = futures_util::future::join_all((0..5).map(|_| camille.get(&url).send())).await;

    // Assert
    let (mut running, waiting): (Vec<_>, Vec<_>) = answers.into_iter().map(Result::unwrap).partition(|r| r.status() == 200);
    assert_eq!((running.len(), waiting.len()), (1, 4), "one export runs at a time for a person");
    let running = running.remove(0);
    assert!(running.headers().get("content-length").is_none(), "the archive is sent as it is written, not built first");
    for refused in waiting {
        assert_eq!(refused.status(), 429);
        assert!(refused.text().await.unwrap().contains("déjà en cours"));
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(running.bytes().await.unwrap().to_vec())).unwrap();
    let sizes: Vec<u64> = (1..archive.len()).map(|i| archive.by_index(i).unwrap().size()).collect();
    assert_eq!(sizes, [(TEN_MB - 10) as u64; 3], "every document, whole");
    wait_until(Duration::from_secs(10), "the person may export again, once the archive has been sent", || async {
        camille.get(&url).send().await.unwrap().status() == 200
    })
    .await;
    // A browser accepts compressed answers: the streamed archive reaches its end through the
    // compression layer too (it once polled the finished stream again, and the server panicked).
    wait_until(Duration::from_secs(10), "a compressed export to be read to its end", || async {
        let compressed = camille.get(&url).header("accept-encoding", "br").send().await.unwrap();
        compressed.status() == 200 && compressed.headers()["content-encoding"] == "br" && compressed.bytes().await.is_ok()
    })
    .await;
    app.stop().await;
}
both_backends!(exports_asked_at_once_by_one_person_stream_one_archive_and_the_others_wait_for_its_end);

async fn a_deletion_request_is_filed_once_and_advisors_see_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let (_, alex) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;

    let first = app.call_fn(&camille, RequestDeletion {}).await;
    let second = app.call_fn(&camille, RequestDeletion {}).await;
    let listed = app.call_fn(&alex, DeletionRequests {}).await;
    let as_beneficiary = app.call_fn(&camille, DeletionRequests {}).await;

    assert_eq!(first.0, 200);
    assert_eq!(second, first, "the same open request");
    assert_eq!(app.count("SELECT COUNT(*) FROM deletion_requests").await, 1);
    assert_eq!(listed.1.unwrap()[0].name, "Camille Martin");
    assert_eq!(as_beneficiary.0, 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email = 'camille@exemple.fr'").await, 1, "nothing is deleted by the request itself");
    app.stop().await;
}
both_backends!(a_deletion_request_is_filed_once_and_advisors_see_it);

async fn after_an_erasure_no_table_and_no_stored_file_holds_any_of_the_persons_values(backend: Backend) {
    // Arrange: Philomène wrote a project sentence and a message, filed a document and asked for
    // her account to be deleted; Alex processes the request.
    let app = spawn_app(backend).await;
    let (id, philomene) = person(&app, "philomene.quintard@exemple.fr", "2850775056042", "Philomène", "Quintard", "1985-07-14").await;
    let sentence = "Je veux devenir luthière à Mirecourt depuis toujours";
    let draft = [("enquete_metier".to_string(), sentence.to_string())].into();
    assert_eq!(app.call_fn(&philomene, SaveProject { version: 0, draft }).await.0, 200);
    let mut document = pdf(4000);
    document.extend_from_slice(b"contenu-unique-du-bulletin-de-philomene");
    let (uploaded, _) = app.upload_as::<String>(&philomene, "documents/upload", &[("category", "cv")], &[("file", "cv.pdf", document.clone())]).await;
    let (sent, _) = app
        .upload_as::<String>(
            &philomene,
            "messages/send",
            &[("to", "referent"), ("subject", "Mon dossier"), ("body", "Message très personnel de Philomène")],
            &[],
        )
        .await;
    assert_eq!([uploaded, sent], [200, 200]);
    assert_eq!(app.call_fn(&philomene, RequestDeletion {}).await.0, 200);
    let (nir_hash, nir_encrypted, phone): (String, String, String) =
        sqlx::query_as("SELECT nir_hash, nir_encrypted, phone FROM users WHERE id = $1").bind(&id).fetch_one(app.db.pool()).await.unwrap();
    let (_, alex) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;

    // Act
    let without_reason = app.call_fn(&alex, EraseAccount { id: id.clone(), reason: String::new() }).await.0;
    let erased = app.call_fn(&alex, EraseAccount { id: id.clone(), reason: "Demande du 02/12, identité vérifiée".into() }).await;
    let twice = app.call_fn(&alex, EraseAccount { id: id.clone(), reason: "Encore".into() }).await.0;
    wait_until(Duration::from_secs(15), "the goodbye email is sent, then emptied", || async {
        app.smtp.received().iter().any(|e| e.subject() == "Votre compte Passerelle est supprimé")
            && app.count("SELECT COUNT(*) FROM outbox WHERE to_address = 'philomene.quintard@exemple.fr'").await == 0
    })
    .await;
    let rows = every_row(&app.db, backend, |table| (table != "_sqlx_migrations").then(|| format!("SELECT * FROM {table}"))).await;
    let login = login(&client(), &app.base, "philomene.quintard@exemple.fr", GOOD_PASSWORD).await.status();
    let session = app.call_as::<serde::de::IgnoredAny>(&philomene, "profile/get", &[]).await.0;

    // Assert
    assert_eq!(without_reason, 422);
    assert_eq!(erased.0, 200, "{erased:?}");
    assert_eq!(twice, 409, "an erasure happens once");
    let nir = nir_with_key("2850775056042");
    let values = [
        "Philomène",
        "Philomene",
        "philomene",
        "Quintard",
        "quintard",
        &nir,
        &nir_hash,
        &nir_encrypted,
        &phone,
        "1985-07-14",
        sentence,
        "Message très personnel",
        "Mon dossier",
    ];
    for (table, lines) in &rows {
        for line in lines {
            for value in values {
                assert!(!line.contains(value), "{table} still holds {value:?}: {line}");
            }
        }
    }
    assert!(app.stored_files().await.is_empty(), "the document's file is deleted from the store");
    let user = rows["users"].iter().find(|line| line.contains(&id)).unwrap();
    assert!(user.contains("Personne supprimée"), "{user}");
    assert!(rows["audit_log"].iter().any(|line| line.contains("suppression_compte") && line.contains(&id)), "the trail keeps the id");
    assert!(rows["projects"].iter().any(|line| line.contains(&id)), "the project's row (state, dates) stays");
    assert_eq!(login, 422, "the old address opens nothing");
    assert_eq!(session, 401, "her sessions ended");
    app.stop().await;
}
both_backends!(after_an_erasure_no_table_and_no_stored_file_holds_any_of_the_persons_values);

async fn the_daily_retention_job_keeps_data_no_longer_than_the_privacy_policy_says(backend: Backend) {
    // Arrange: Paul never activated; Philomène and Rose did, and logged in today.
    let app = spawn_app(backend).await;
    app.register("paul@exemple.fr", &nir_with_key("1850775056042")).await;
    let (philomene, _) = person(&app, "philomene@exemple.fr", "2850775056042", "Philomène", "Quintard", "1985-07-14").await;
    let (rose, _) = person(&app, "rose@exemple.fr", "2900175056042", "Rose", "Durand", "1990-01-01").await;
    let config = test_settings(&app.database.url, 1).app_config();
    let storage = app::documents::storage::Storage::local(&app.files_dir);
    let day = 86_400_000_i64;
    let now = app::db::now_ms();
    let sweep = |days: i64| {
        let (db, storage, config) = (&app.db, &storage, &config);
        async move { app::profile::retention::sweep(db, storage, config, now + days * day).await.unwrap() }
    };
    let erased = |id: &str| {
        let sql = format!("SELECT COUNT(*) FROM users WHERE id = '{id}' AND erased_at IS NOT NULL");
        let app = &app;
        async move { app.count(&sql).await }
    };
    let paul_id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = 'paul@exemple.fr'").fetch_one(app.db.pool()).await.unwrap();
    let three_years = 3 * 365;

    // Act and assert, the clock moving forward.
    let after_29_days = sweep(29).await;
    assert_eq!(after_29_days.unactivated, 0, "an unactivated account is kept 30 days");
    assert!(after_29_days.sessions >= 2, "sessions past their end go: {after_29_days:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);

    let after_31_days = sweep(31).await;
    assert_eq!(after_31_days.unactivated, 1);
    assert_eq!(erased(&paul_id).await, 1, "Paul's account is emptied");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE to_address = 'paul@exemple.fr'").await, 0, "and the emails he was sent");
    assert_eq!(app.count("SELECT COUNT(*) FROM account_tokens").await, 0, "links expired for a week go");
    assert_eq!(app.count("SELECT COUNT(*) FROM login_attempts").await, 2, "login attempts are kept six months");

    let after_184_days = sweep(184).await;
    assert_eq!(after_184_days.login_attempts, 2);
    assert_eq!(after_184_days.warned, 0);

    // Rose logs in again a few days after her warning; Philomène does not.
    let warned = sweep(three_years - 29).await;
    assert_eq!(warned.warned, 2);
    let warnings = app.count("SELECT COUNT(*) FROM outbox WHERE subject = 'Votre compte Passerelle sera supprimé faute de connexion'").await;
    assert_eq!(warnings, 2);
    assert_eq!(sweep(three_years - 28).await.warned, 0, "one warning each");
    sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
        .bind(now + (three_years - 20) * day)
        .bind(&rose)
        .execute(app.db.pool())
        .await
        .unwrap();
    let after_three_years = sweep(three_years + 2).await;
    assert_eq!(after_three_years.inactive, 1);
    assert_eq!(erased(&philomene).await, 1, "Philomène's account is emptied after the warning");
    assert_eq!(erased(&rose).await, 0, "Rose logged in after her warning: her account stays");
    app.stop().await;
}
both_backends!(the_daily_retention_job_keeps_data_no_longer_than_the_privacy_policy_says);

async fn the_retention_job_runs_once_a_day_on_one_server_even_when_several_try_at_once(backend: Backend) {
    // Arrange: the server's own housekeeping runs the job at start; once that run is over (it
    // would otherwise end after the reset below and push the job to tomorrow), the job is due.
    let app = spawn_app(backend).await;
    let config = test_settings(&app.database.url, 1).app_config();
    let storage = app::documents::storage::Storage::local(&app.files_dir);
    wait_until(Duration::from_secs(20), "the server's first run of the job to end", || async {
        let (next_run_at, claimed_until): (i64, Option<i64>) =
            sqlx::query_as("SELECT next_run_at, claimed_until FROM jobs WHERE name = 'retention'").fetch_one(app.db.pool()).await.unwrap();
        next_run_at > app::db::now_ms() && claimed_until.is_none()
    })
    .await;
    sqlx::query("UPDATE jobs SET next_run_at = 0, claimed_until = NULL WHERE name = 'retention'").execute(app.db.pool()).await.unwrap();

    // Act: eight servers' housekeeping at once.
    let runs: Vec<_> = (0..8).map(|_| app::profile::retention::run_if_due(&app.db, &storage, &config)).collect();
    let ran = futures_util::future::join_all(runs).await;

    // Assert
    let (next_run_at, claimed_until): (i64, Option<i64>) =
        sqlx::query_as("SELECT next_run_at, claimed_until FROM jobs WHERE name = 'retention'").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(ran.iter().filter(|ran| **ran).count(), 1, "one run: {ran:?}");
    assert!(next_run_at > app::db::now_ms() + 23 * 3_600_000, "due again in a day");
    assert_eq!(claimed_until, None);
    app.stop().await;
}
both_backends!(the_retention_job_runs_once_a_day_on_one_server_even_when_several_try_at_once);
