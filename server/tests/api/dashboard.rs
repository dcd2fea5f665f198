//! The advisors' dashboard on both databases: who may call what, the search, the 360° page,
//! the support actions and their audit trail, the inbox, the duplicates queue and the merge.

use std::time::Duration;

use app::account::activation::Activate;
use app::account::login::{AcceptTerms, Login, LoginOutcome};
use app::account::registration::{RegistrationOutcome, RequestMerge};
use app::account::space::{MySpace, StaffHome};
use app::account::Role;
use app::admin::{CreateStaff, Overview, PublishLegal, SaveService, UpdateStaff};
use app::dashboard::{
    Approval, AuditTrail, Beneficiary, Dashboard, Duplicates, MergeAccounts, MergePreview, SearchBeneficiaries, SearchPage, SupportAction,
};
use app::documents::{MyDocuments, StaffDocuments};
use app::error::AppError;
use app::messages::{MyThreads, Thread};
use app::project::{MyProject, ProjectState, SaveProject, StaffProject};
use serde::de::IgnoredAny;

use crate::helpers::{
    both_backends, client, login, nir_with_key, pdf, person, refused_fields, registration_form, spawn_app, Backend, TestApp, GOOD_PASSWORD,
};

/// The search's arguments, as the search form sends them.
fn search_for(q: &str, etat: &str, referent: &str, after: &str) -> SearchBeneficiaries {
    SearchBeneficiaries { q: q.into(), etat: etat.into(), referent: referent.into(), after: after.into() }
}

/// The audit trail of one beneficiary and one action (empty: all of them), newest first.
fn audit_of(beneficiary: &str, action: &str) -> AuditTrail {
    AuditTrail { actor: String::new(), beneficiary: beneficiary.into(), action: action.into(), before: String::new() }
}

fn log_in_as(email: &str) -> Login {
    Login { email: email.into(), password: GOOD_PASSWORD.into() }
}

async fn every_staff_and_administration_function_answers_anonymous_beneficiaries_advisors_and_administrators_as_expected(backend: Backend) {
    let app = spawn_app(backend).await;
    let (beneficiary_id, beneficiary) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let (other_id, _) = app.logged_in("dominique@exemple.fr", "Dominique Petit", Role::Beneficiary).await;
    let (third_id, _) = app.logged_in("sacha@exemple.fr", "Sacha Roux", Role::Beneficiary).await;
    let (_, advisor) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let (_, admin) = app.logged_in("ada@exemple.fr", "Ada Admin", Role::Admin).await;
    let anonymous = client();
    let reason = ("reason", "Appel du 27/11");
    // (endpoint, arguments, answer for an advisor, answer for an administrator)
    let matrix: Vec<(&str, Vec<(&str, &str)>, u16, u16)> = vec![
        ("staff/me", vec![], 200, 200),
        ("staff/dashboard", vec![], 200, 200),
        ("staff/beneficiaries", vec![("q", "camille")], 200, 200),
        ("staff/beneficiary", vec![("id", &beneficiary_id)], 200, 200),
        ("staff/beneficiary", vec![("id", "inconnu")], 404, 404),
        ("staff/support", vec![("id", &third_id), ("action", "fermer_sessions"), reason], 200, 200),
        ("staff/support", vec![("id", &beneficiary_id), ("action", "supprimer_tout"), reason], 400, 400),
        ("staff/duplicates", vec![], 200, 200),
        ("staff/merge/preview", vec![("kept", &beneficiary_id), ("closed", &other_id)], 200, 200),
        // Two people on paper: the advisor proposes the merge, the administrator approves it.
        ("staff/merge", vec![("kept", &beneficiary_id), ("closed", &other_id), reason], 200, 200),
        ("staff/merge-request/close", vec![("id", "inconnue"), reason], 404, 404),
        ("staff/audit", vec![], 200, 200),
        ("staff/messages/threads", vec![], 200, 200),
        ("staff/deletion-requests", vec![], 200, 200),
        ("staff/projects", vec![], 200, 200),
        ("staff/project", vec![("id", "inconnu")], 404, 404),
        ("staff/project/transition", vec![("id", "inconnu"), ("action", "instruire")], 404, 404),
        ("staff/documents", vec![("beneficiary_id", &third_id)], 200, 200),
        ("staff/documents/request", vec![("beneficiary_id", "inconnu"), ("category", "piece_identite"), ("note", "")], 404, 404),
        // Administration: administrators only.
        ("admin/overview", vec![], 403, 200),
        ("admin/staff/create", vec![("email", "nouveau@exemple.fr"), ("name", "Nouveau Conseil"), ("role", "advisor")], 403, 200),
        ("admin/staff/update", vec![("id", "inconnu"), ("change", "active"), ("value", "0")], 403, 404),
        ("admin/services/save", vec![("slug", "formation"), ("name", "Formation")], 403, 200),
        ("admin/legal/publish", vec![("document", "cgu"), ("version", "2"), ("summary", "Nouvel article")], 403, 200),
    ];

    let mut answers = Vec::new();
    for (endpoint, args, _, _) in &matrix {
        // Only who may call what matters here: the values are not read.
        answers.push((
            app.call_as::<IgnoredAny>(&anonymous, endpoint, args).await.0.as_u16(),
            app.call_as::<IgnoredAny>(&beneficiary, endpoint, args).await.0.as_u16(),
            app.call_as::<IgnoredAny>(&advisor, endpoint, args).await.0.as_u16(),
            app.call_as::<IgnoredAny>(&admin, endpoint, args).await.0.as_u16(),
        ));
    }

    for ((endpoint, args, advisor_expected, admin_expected), answer) in matrix.iter().zip(&answers) {
        let expected = (401, 403, *advisor_expected, *admin_expected);
        assert_eq!(*answer, expected, "{endpoint} {args:?}: (anonymous, beneficiary, advisor, administrator)");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE closed_at IS NOT NULL").await, 1, "one merge, proposed then approved");
    app.stop().await;
}
both_backends!(every_staff_and_administration_function_answers_anonymous_beneficiaries_advisors_and_administrators_as_expected);

async fn search_ignores_accents_and_case_finds_emails_and_nirs_filters_and_pages_by_keyset(backend: Backend) {
    let app = spawn_app(backend).await;
    let (helene, _) = person(&app, "h.lefevre@exemple.fr", "2850775056042", "Hélène", "Lefèvre", "1985-07-14").await;
    let (_, advisor) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let advisor_id: String = sqlx::query_scalar("SELECT id FROM users WHERE role = 'advisor'").fetch_one(app.db.pool()).await.unwrap();
    let config = crate::helpers::test_settings(&app.database.url, 1).app_config();
    app::dashboard::seed::seed(&app.db, &config.secrets, 80, "!", 7).await.unwrap();
    let search = |q: &'static str, etat: &'static str, referent: String, after: String| {
        let advisor = advisor.clone();
        let app = &app;
        async move {
            let (status, page) = app.call_fn(&advisor, search_for(q, etat, &referent, &after)).await;
            assert_eq!(status, 200, "search {q:?} {etat:?}: {page:?}");
            page.unwrap()
        }
    };

    let by_name = search("helene", "", String::new(), String::new()).await;
    let by_upper = search("LEFÈVRE hél", "", String::new(), String::new()).await;
    let by_email = search("H.LEFEVRE@", "", String::new(), String::new()).await;
    let by_nir = search("2 85 07 75 056 042 54", "", String::new(), String::new()).await;
    let by_nir_without_key = search("2850775056042", "", String::new(), String::new()).await;
    let nobody = search("zzzz", "", String::new(), String::new()).await;
    let mut all = Vec::new();
    let mut after = String::new();
    let mut pages = 0;
    loop {
        let page = search("", "", String::new(), after.clone()).await;
        pages += 1;
        all.extend(page.rows.into_iter().map(|r| r.id));
        match page.next {
            Some(next) => after = next,
            None => break,
        }
    }
    let mut by_prefix = Vec::new();
    let mut after = String::new();
    loop {
        let page = search("m", "", String::new(), after.clone()).await;
        by_prefix.extend(page.rows.into_iter().map(|r| r.id));
        match page.next {
            Some(next) => after = next,
            None => break,
        }
    }
    let starting_with_m = app.count("SELECT COUNT(DISTINCT user_id) FROM search_terms WHERE term >= 'm' AND term < 'n'").await as usize;
    let mut m_without_referent = Vec::new();
    let mut after = String::new();
    loop {
        let page = search("m", "", "aucun".into(), after.clone()).await;
        assert!(page.rows.iter().all(|r| r.referent_name.is_none()));
        m_without_referent.extend(page.rows.into_iter().map(|r| r.id));
        match page.next {
            Some(next) => after = next,
            None => break,
        }
    }
    let expected_m_without_referent = app
        .count("SELECT COUNT(DISTINCT t.user_id) FROM search_terms t JOIN users u ON u.id = t.user_id WHERE t.term >= 'm' AND t.term < 'n' AND u.referent_id IS NULL")
        .await as usize;
    let drafts = search("", "brouillon", String::new(), String::new()).await;
    let with_referent = search("", "", advisor_id.clone(), String::new()).await;
    let without_referent = search("", "", "aucun".into(), String::new()).await;
    let bad_state = app.call_as::<SearchPage>(&advisor, "staff/beneficiaries", &[("etat", "n'importe quoi")]).await.0;
    let bad_key = app.call_as::<SearchPage>(&advisor, "staff/beneficiaries", &[("after", "sans-separateur")]).await.0;

    let ids = |page: &SearchPage| page.rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert!(ids(&by_name).contains(&helene), "\"helene\" finds Hélène");
    assert!(ids(&by_upper).contains(&helene), "case and accents are ignored, words are prefixes");
    assert_eq!(ids(&by_email), vec![helene.clone()]);
    assert_eq!(ids(&by_nir), vec![helene.clone()]);
    assert_eq!(ids(&by_nir_without_key), vec![helene.clone()]);
    assert!(ids(&nobody).is_empty());
    let beneficiaries = app.count("SELECT COUNT(*) FROM users WHERE role = 'beneficiary'").await as usize;
    assert_eq!(all.len(), beneficiaries, "every person once across the pages");
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len(), "no one twice");
    assert_eq!(pages, beneficiaries.div_ceil(20));
    let mut unique_m = by_prefix.clone();
    unique_m.sort();
    unique_m.dedup();
    assert!(starting_with_m > 20, "the seed gives more than a page of names starting with m");
    assert_eq!((by_prefix.len(), unique_m.len()), (starting_with_m, starting_with_m), "pages of a name search: everyone once");
    assert_eq!(m_without_referent.len(), expected_m_without_referent, "a name search with a filter, page after page");
    assert!(drafts.rows.iter().all(|r| r.project_state == Some(ProjectState::Draft)), "{drafts:?}");
    assert!(with_referent.rows.iter().all(|r| r.referent_name.as_deref() == Some("Alex Conseil")));
    assert!(without_referent.rows.iter().all(|r| r.referent_name.is_none()));
    assert_eq!([bad_state, bad_key], [400, 400]);
    app.stop().await;
}
both_backends!(search_ignores_accents_and_case_finds_emails_and_nirs_filters_and_pages_by_keyset);

async fn the_phone_platform_corrects_a_mistyped_address_and_the_activation_link_reaches_the_right_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let (registered, _) = app.register_with(registration_form("helene@exemple.ft", &nir_with_key("2850775056042"))).await;
    assert_eq!(registered, 200);
    let id: String = sqlx::query_scalar("SELECT id FROM users WHERE role = 'beneficiary'").fetch_one(app.db.pool()).await.unwrap();
    let (_, advisor) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    app.smtp.wait_for(1, Duration::from_secs(10)).await;
    let correct_address = |value: &str, reason: &str| {
        let args = SupportAction { id: id.clone(), action: "corriger_adresse".into(), reason: reason.into(), value: value.into() };
        app.call_fn(&advisor, args)
    };

    let before = app.call_fn(&advisor, Beneficiary { id: id.clone() }).await.1.unwrap();
    let no_reason =
        app.call_as::<String>(&advisor, "staff/support", &[("id", &id), ("action", "corriger_adresse"), ("value", "helene@exemple.fr")]).await;
    let bad_address = correct_address("helene@", "Appel").await;
    let corrected = correct_address("helene@exemple.fr", "Appel : faute de frappe .ft").await;
    let token = app.last_link_to("helene@exemple.fr", "/activation").await;
    let activated = app.call_fn(&app.client, Activate { token }).await.0;
    let after = app.call_fn(&advisor, Beneficiary { id: id.clone() }).await.1.unwrap();
    let found_by_new = app.call_fn(&advisor, search_for("helene@exemple.fr", "", "", "")).await.1.unwrap();
    let found_by_old = app.call_fn(&advisor, search_for("helene@exemple.ft", "", "", "")).await.1.unwrap();

    assert_eq!(before.emails[0].to, "helene@exemple.ft", "the address typed is visible with its email");
    assert_eq!(before.activated_at, None);
    assert_eq!(no_reason.0, 422);
    assert_eq!(bad_address.0, 422);
    assert_eq!(corrected.0, 200, "{corrected:?}");
    assert!(activated.as_u16() < 400);
    assert_eq!(after.email, "helene@exemple.fr");
    assert!(after.activated_at.is_some());
    let recipients: Vec<&str> = after.emails.iter().map(|e| e.to.as_str()).collect();
    assert_eq!(recipients, vec!["helene@exemple.fr", "helene@exemple.ft"], "both emails, newest first, on the one account");
    assert_eq!(found_by_new.rows[0].id, id, "the search knows the corrected address");
    assert!(found_by_old.rows.is_empty());
    let audit = &after.audit;
    assert_eq!(audit.len(), 1, "refused attempts leave no trace and change nothing");
    assert_eq!(audit[0].action, "corriger_adresse");
    assert_eq!(audit[0].actor_name, "Alex Conseil");
    assert_eq!(audit[0].reason, "Appel : faute de frappe .ft");
    assert!(audit[0].detail.contains("helene@exemple.ft → helene@exemple.fr"));
    app.stop().await;
}
both_backends!(the_phone_platform_corrects_a_mistyped_address_and_the_activation_link_reaches_the_right_one);

async fn support_actions_unlock_end_sessions_send_links_assign_the_referent_and_are_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, beneficiary) = person(&app, "camille@exemple.fr", "2850775056042", "Camille", "Martin", "1985-07-14").await;
    let (advisor_id, advisor) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    for _ in 0..5 {
        login(&client(), &app.base, "camille@exemple.fr", "pas le bon mot de passe").await;
    }
    let act = |action: &'static str, value: String| {
        let (app, advisor, id) = (&app, advisor.clone(), id.clone());
        async move {
            let args = SupportAction { id, action: action.into(), reason: "Appel téléphonique".into(), value };
            app.call_fn(&advisor, args).await
        }
    };

    let locked_before = app.call_fn(&advisor, Beneficiary { id: id.clone() }).await.1.unwrap().locked;
    let unlocked = act("debloquer", String::new()).await;
    let can_log_in = login(&client(), &app.base, "camille@exemple.fr", GOOD_PASSWORD).await.status();
    let ended = act("fermer_sessions", String::new()).await;
    let session_after = app.call_fn(&beneficiary, MySpace {}).await.0;
    let reset = act("envoyer_reinitialisation", String::new()).await;
    let reset_link = app.last_link_to("camille@exemple.fr", "/mot-de-passe/nouveau").await;
    let activation_refused = act("renvoyer_activation", String::new()).await;
    let assigned = act("attribuer_referent", advisor_id.clone()).await;
    let not_an_advisor = act("attribuer_referent", id.clone()).await;
    let page = app.call_fn(&advisor, Beneficiary { id: id.clone() }).await.1.unwrap();
    let (trail, _) = app.call_fn(&advisor, audit_of(&id, "")).await.1.unwrap();
    let (by_action, _) = app.call_fn(&advisor, audit_of("", "debloquer")).await.1.unwrap();

    assert!(locked_before);
    assert_eq!(unlocked.0, 200);
    assert_eq!(can_log_in, 200);
    assert_eq!(ended.0, 200);
    assert!(ended.1.as_ref().unwrap().contains("session"));
    assert_eq!(session_after, 401, "the person's sessions have ended");
    assert_eq!(reset.0, 200);
    assert!(!reset_link.is_empty());
    assert_eq!(activation_refused.0, 409, "an activated account gets no activation link");
    assert_eq!(assigned.0, 200);
    assert_eq!(not_an_advisor.0, 422);
    assert_eq!(page.referent.map(|r| r.name).as_deref(), Some("Alex Conseil"));
    assert!(!page.locked);
    let attempts: Vec<&str> = page.attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert!(attempts.contains(&"bad_password") && attempts.contains(&"success"));
    let actions: Vec<&str> = trail.iter().map(|l| l.action.as_str()).collect();
    assert_eq!(actions, vec!["attribuer_referent", "envoyer_reinitialisation", "fermer_sessions", "debloquer"], "newest first");
    assert_eq!(by_action.len(), 1);
    app.stop().await;
}
both_backends!(support_actions_unlock_end_sessions_send_links_assign_the_referent_and_are_audited);

async fn an_advisors_unlock_clears_the_days_failures_so_the_next_wrong_password_does_not_lock_for_hours(backend: Backend) {
    // Arrange: 24 failures 20 hours ago, then a 25th that locks until they leave the window.
    let app = spawn_app(backend).await;
    let (id, _) = person(&app, "camille@exemple.fr", "2850775056042", "Camille", "Martin", "1985-07-14").await;
    let (_, advisor) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    app.past_failures("camille@exemple.fr", 24, 20).await;
    let (_, locked) = app.call_fn(&client(), Login { email: "camille@exemple.fr".into(), password: "pas le bon mot de passe".into() }).await;
    assert!(matches!(locked, Ok(LoginOutcome::Locked { minutes }) if minutes > 60), "locked for hours first: {locked:?}");

    // Act
    let unlock = SupportAction { id, action: "debloquer".into(), reason: "Appel téléphonique".into(), value: String::new() };
    let (unlocked, _) = app.call_fn(&advisor, unlock).await;
    let (_, wrong) = app.call_fn(&client(), Login { email: "camille@exemple.fr".into(), password: "pas le bon mot de passe".into() }).await;
    let (_, right) = app.call_fn(&client(), log_in_as("camille@exemple.fr")).await;

    // Assert
    assert_eq!(unlocked, 200);
    assert!(matches!(&wrong, Err(AppError::Validation(_))), "an ordinary failure (identifiants invalides), no lock: {wrong:?}");
    assert!(matches!(right, Ok(LoginOutcome::LoggedIn { .. })), "the right password works at once: {right:?}");
    app.stop().await;
}
both_backends!(an_advisors_unlock_clears_the_days_failures_so_the_next_wrong_password_does_not_lock_for_hours);

async fn the_inbox_holds_the_advisors_people_and_services_and_people_without_referent(backend: Backend) {
    let app = spawn_app(backend).await;
    let (camille_id, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let (_, sacha) = app.logged_in("sacha@exemple.fr", "Sacha Roux", Role::Beneficiary).await;
    let (alex_id, alex) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let (bea_id, bea) = app.logged_in("bea@exemple.fr", "Béa Paiement", Role::Advisor).await;
    sqlx::query("UPDATE users SET referent_id = $1 WHERE id = $2").bind(&alex_id).bind(&camille_id).execute(app.db.pool()).await.unwrap();
    app.join_service(&bea_id, "service-paiement").await;
    let send = |c: reqwest::Client, to: &'static str, subject: &'static str| {
        let app = &app;
        async move {
            let (status, _) = app.upload_as::<String>(&c, "messages/send", &[("to", to), ("subject", subject), ("body", "Bonjour")], &[]).await;
            assert_eq!(status, 200);
        }
    };

    send(camille.clone(), "referent", "Pour Alex").await;
    send(camille.clone(), "paiement", "Pour le paiement").await;
    send(sacha.clone(), "referent", "Sans référent").await;
    let subjects = |c: reqwest::Client| {
        let app = &app;
        async move {
            let mut s: Vec<String> = app.call_fn(&c, Dashboard {}).await.1.unwrap().inbox.into_iter().map(|t| t.subject).collect();
            s.sort();
            s
        }
    };
    let alex_sees = subjects(alex.clone()).await;
    let bea_sees = subjects(bea.clone()).await;

    assert_eq!(alex_sees, vec!["Pour Alex", "Sans référent"]);
    assert_eq!(bea_sees, vec!["Pour le paiement", "Sans référent"]);
    app.stop().await;
}
both_backends!(the_inbox_holds_the_advisors_people_and_services_and_people_without_referent);

/// Every table and its row count.
async fn row_counts(app: &TestApp) -> Vec<(String, i64)> {
    let mut counts = Vec::new();
    for table in [
        "users",
        "projects",
        "project_events",
        "threads",
        "messages",
        "thread_reads",
        "documents",
        "document_requests",
        "outbox",
        "consents",
        "login_attempts",
        "account_tokens",
        "deletion_requests",
        "merge_requests",
        "search_terms",
        "staff_services",
        "services",
        "audit_log",
        "sessions",
    ] {
        counts.push((table.to_string(), app.count(&format!("SELECT COUNT(*) FROM {table}")).await));
    }
    counts
}

async fn merging_moves_everything_to_the_kept_account_deletes_nothing_and_the_closed_one_explains_itself(backend: Backend) {
    let app = spawn_app(backend).await;
    let (kept, kept_client) = person(&app, "helene@exemple.fr", "2850775056042", "Hélène", "Lefèvre", "1985-07-14").await;
    let (closed, closed_client) = person(&app, "h.lefevre@exemple.fr", "2850775056043", "Helene", "LEFEVRE", "1985-07-14").await;
    let (_, advisor) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    // The kept account has a project; the other one wrote a message and posted a document.
    let project = app.call_fn(&kept_client, MyProject {}).await.1.unwrap();
    let save = SaveProject { version: project.version, draft: [("poste".to_string(), "Comptable".to_string())].into() };
    assert_eq!(app.call_fn(&kept_client, save).await.0, 200);
    let (sent, _) = app
        .upload_as::<String>(&closed_client, "messages/send", &[("to", "referent"), ("subject", "Mon ancien compte"), ("body", "Bonjour")], &[])
        .await;
    let (uploaded, _) =
        app.upload_as::<String>(&closed_client, "documents/upload", &[("category", "piece_identite")], &[("file", "cni.pdf", pdf(2000))]).await;
    assert_eq!([sent, uploaded], [200, 200]);
    let queue = app.call_fn(&advisor, Duplicates {}).await.1.unwrap();
    let preview = app.call_fn(&advisor, MergePreview { kept: kept.clone(), closed: closed.clone() }).await.1.unwrap();
    let merge =
        MergeAccounts {
            kept: kept.clone(), closed: closed.clone(), reason: "Même personne, vérifié par téléphone".into(), request: String::new()
        };
    // Two NIRs: Alex proposes, Béa approves (four eyes).
    assert_eq!(app.call_fn(&advisor, merge.clone()).await.0, 200);
    let (_, second) = app.logged_in("bea@exemple.fr", "Béa Conseil", Role::Advisor).await;
    let before = row_counts(&app).await;

    let merged = app.call_fn(&second, merge).await;

    let after = row_counts(&app).await;
    let closed_login = app.call_fn(&client(), log_in_as("h.lefevre@exemple.fr")).await.1;
    let kept_threads = app.call_fn(&kept_client, MyThreads {}).await.1.unwrap();
    let kept_documents = app.call_fn(&kept_client, MyDocuments {}).await;
    let closed_session = app.call_fn(&closed_client, MySpace {}).await.0;
    let queue_after = app.call_fn(&advisor, Duplicates {}).await.1.unwrap();

    let group = queue.suspected.first();
    assert_eq!(group.map(Vec::len), Some(2), "same folded names and birth date: suspected duplicates {queue:?}");
    assert!(preview.moves.iter().any(|(what, count)| what == "Fils de messages" && *count == 1), "{preview:?}");
    assert_eq!(merged.0, 200, "{merged:?}");
    for ((table, n_before), (_, n_after)) in before.iter().zip(&after) {
        let expected = match table.as_str() {
            // The closed account's sessions end; the merge adds its two audit lines, an email
            // to the person and the login attempt below is not counted yet.
            "sessions" => n_before - 1,
            "audit_log" => n_before + 2,
            // Both addresses are told.
            "outbox" => n_before + 2,
            _ => *n_before,
        };
        assert_eq!(*n_after, expected, "{table}: {n_before} before the merge");
    }
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM threads WHERE beneficiary_id = '{closed}'")).await, 0);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM documents WHERE beneficiary_id = '{closed}'")).await, 0);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM consents WHERE user_id = '{kept}'")).await, 4);
    assert_eq!(closed_login, Ok(LoginOutcome::Merged { masked_email: "h•••@exemple.fr".into() }));
    assert_eq!(kept_threads.threads[0].subject, "Mon ancien compte");
    assert_eq!(kept_documents.0, 200);
    assert!(kept_documents.1.unwrap().documents.iter().any(|d| d.file_name == "cni.pdf"));
    assert_eq!(closed_session, 401);
    assert!(queue_after.suspected.is_empty());
    app.stop().await;
}
both_backends!(merging_moves_everything_to_the_kept_account_deletes_nothing_and_the_closed_one_explains_itself);

async fn two_advisors_merging_the_same_accounts_at_once_one_wins_and_the_other_is_told(backend: Backend) {
    let app = spawn_app(backend).await;
    let (a, _) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let (b, _) = app.logged_in("camille.m@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let (_, alex) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let (_, bea) = app.logged_in("bea@exemple.fr", "Béa Conseil", Role::Advisor).await;
    // One person on paper (same names and birth date, no NIR): no second approval needed.
    sqlx::query("UPDATE users SET identity_key = 'camille|martin|1985-07-14' WHERE id IN ($1, $2)")
        .bind(&a)
        .bind(&b)
        .execute(app.db.pool())
        .await
        .unwrap();

    let merge =
        |kept: &str, closed: &str| MergeAccounts { kept: kept.into(), closed: closed.into(), reason: "Doublon".into(), request: String::new() };
    let (first, second) = tokio::join!(app.call_fn(&alex, merge(&a, &b)), app.call_fn(&bea, merge(&b, &a)));

    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{first:?} {second:?}");
    let loser = if first.0 == 409 { &first.1 } else { &second.1 };
    assert!(matches!(loser, Err(AppError::Conflict(m)) if m.contains("autre conseiller")), "{loser:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE closed_at IS NOT NULL").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'fusionner'").await, 2);
    app.stop().await;
}
both_backends!(two_advisors_merging_the_same_accounts_at_once_one_wins_and_the_other_is_told);

async fn an_advisor_alone_cannot_merge_two_different_people(backend: Backend) {
    // Arrange: two accounts with other names and NIRs; Alex and Béa are advisors.
    let app = spawn_app(backend).await;
    let (kept, _) = person(&app, "helene@exemple.fr", "2850775056042", "Hélène", "Lefèvre", "1985-07-14").await;
    let (closed, _) = person(&app, "marie@exemple.fr", "2900175056042", "Marie", "Durand", "1990-01-01").await;
    let (_, alex) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let (_, bea) = app.logged_in("bea@exemple.fr", "Béa Conseil", Role::Advisor).await;
    let merge = MergeAccounts { kept: kept.clone(), closed: closed.clone(), reason: "Appel de Mme Lefèvre".into(), request: String::new() };
    let closed_accounts = || app.count("SELECT COUNT(*) FROM users WHERE closed_at IS NOT NULL");

    // Act
    let plan = app.call_fn(&alex, MergePreview { kept: kept.clone(), closed: closed.clone() }).await.1.unwrap();
    let proposed = app.call_fn(&alex, merge.clone()).await;
    let closed_after_proposal = closed_accounts().await;
    let again = app.call_fn(&alex, merge.clone()).await;
    let queue = app.call_fn(&bea, Duplicates {}).await.1.unwrap();
    let plan_for_bea = app.call_fn(&bea, MergePreview { kept: kept.clone(), closed: closed.clone() }).await.1.unwrap();
    let approved = app.call_fn(&bea, MergeAccounts { reason: "Vérifié : même personne, NIR mal saisi".into(), ..merge.clone() }).await;

    // Assert
    assert_eq!(plan.approval, Approval::ToPropose);
    assert_eq!(proposed.0, 200, "{proposed:?}");
    assert!(proposed.1.unwrap().contains("un second membre du personnel doit l'approuver"));
    assert_eq!(closed_after_proposal, 0, "a proposal changes nothing");
    assert!(matches!(&again.1, Err(AppError::Conflict(m)) if m.contains("un autre membre du personnel")), "{again:?}");
    assert_eq!(queue.proposals.len(), 1);
    assert_eq!(queue.proposals[0].proposed_by, "Alex Conseil");
    assert!(matches!(&plan_for_bea.approval, Approval::ToApprove { by, .. } if by == "Alex Conseil"), "{plan_for_bea:?}");
    assert_eq!(approved.0, 200, "{approved:?}");
    assert_eq!(closed_accounts().await, 1);
    let trail: Vec<(String, String)> = sqlx::query_as("SELECT u.display_name, a.action FROM audit_log a JOIN users u ON u.id = a.actor_id WHERE a.beneficiary_id = $1 AND a.action IN ('fusion_proposee', 'fusionner') ORDER BY a.at")
        .bind(&closed)
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(trail, [("Alex Conseil".to_string(), "fusion_proposee".to_string()), ("Béa Conseil".to_string(), "fusionner".to_string())]);
    let subjects: Vec<(String, String)> = sqlx::query_as("SELECT to_address, subject FROM outbox").fetch_all(app.db.pool()).await.unwrap();
    assert!(subjects.contains(&("helene@exemple.fr".into(), "Vos comptes Passerelle sont regroupés".into())), "{subjects:?}");
    assert!(
        subjects.contains(&("marie@exemple.fr".into(), "Votre compte Passerelle est regroupé avec un autre".into())),
        "the closed account's owner is told: {subjects:?}"
    );
    app.stop().await;
}
both_backends!(an_advisor_alone_cannot_merge_two_different_people);

async fn two_staff_approving_one_proposal_at_once_merge_once_and_the_other_is_told(backend: Backend) {
    // Arrange: Alex proposed merging two accounts of different people on paper.
    let app = spawn_app(backend).await;
    let (kept, _) = person(&app, "helene@exemple.fr", "2850775056042", "Hélène", "Lefèvre", "1985-07-14").await;
    let (closed, _) = person(&app, "marie@exemple.fr", "2900175056042", "Marie", "Durand", "1990-01-01").await;
    let (_, alex) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let (_, bea) = app.logged_in("bea@exemple.fr", "Béa Conseil", Role::Advisor).await;
    let (_, carl) = app.logged_in("carl@exemple.fr", "Carl Conseil", Role::Advisor).await;
    let merge = MergeAccounts { kept: kept.clone(), closed: closed.clone(), reason: "Vérifié".into(), request: String::new() };
    assert_eq!(app.call_fn(&alex, merge.clone()).await.0, 200);

    // Act: Béa and Carl approve at once.
    let (first, second) = tokio::join!(app.call_fn(&bea, merge.clone()), app.call_fn(&carl, merge.clone()));

    // Assert
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{first:?} {second:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE closed_at IS NOT NULL").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'fusionner'").await, 2, "one merge, on both accounts");
    assert_eq!(app.count("SELECT COUNT(*) FROM merge_proposals WHERE status = 'approuvee'").await, 1);
    app.stop().await;
}
both_backends!(two_staff_approving_one_proposal_at_once_merge_once_and_the_other_is_told);

async fn a_merge_request_shows_the_advisors_what_the_person_typed_beside_the_existing_account(backend: Backend) {
    // Arrange: Hélène registers again under another name and address, with her NIR.
    let app = spawn_app(backend).await;
    let (existing, _) = person(&app, "helene@exemple.fr", "2850775056042", "Hélène", "Lefèvre", "1985-07-14").await;
    let mut again = registration_form("h.martin@exemple.fr", &nir_with_key("2850775056042"));
    for (key, value) in again.iter_mut() {
        match key.as_str() {
            "usage_name" => *value = "Martin".into(),
            "birth_date" => *value = "14/07/1985".into(),
            _ => {}
        }
    }
    let (_, outcome) = app.register_with(again).await;
    let Ok(RegistrationOutcome::NirTaken { ticket, .. }) = outcome else { panic!("her NIR is known: {outcome:?}") };
    let (_, alex) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;

    // Act
    let merge = RequestMerge { ticket, contact_email: "h.martin@exemple.fr".into(), message: "J'ai changé de nom".into() };
    let (asked, _) = app.call_fn(&client(), merge).await;
    let queue = app.call_fn(&alex, Duplicates {}).await.1.unwrap();

    // Assert
    assert_eq!(asked, 200);
    let request = &queue.requests[0];
    assert_eq!(request.existing.id, existing);
    assert_eq!(
        request.submitted,
        "Saisi à l'inscription : Madame Hélène Lefèvre, nom d'usage Martin, né(e) le 14/07/1985, adresse saisie h.martin@exemple.fr. \
         Message : « J'ai changé de nom »"
    );
    app.stop().await;
}
both_backends!(a_merge_request_shows_the_advisors_what_the_person_typed_beside_the_existing_account);

async fn administrators_create_and_deactivate_staff_and_manage_services_with_every_change_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, admin) = app.logged_in("ada@exemple.fr", "Ada Admin", Role::Admin).await;
    let (alex_id, alex) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;

    let create = |email: &str, name: &str, role: &str, service: &str| {
        app.call_fn(&admin, CreateStaff { email: email.into(), name: name.into(), role: role.into(), service: service.into() })
    };
    let update = |id: &str, change: &str, value: &str| app.call_fn(&admin, UpdateStaff { id: id.into(), change: change.into(), value: value.into() });
    let save_service =
        |slug: &str, name: &str, active: &str| app.call_fn(&admin, SaveService { slug: slug.into(), name: name.into(), active: active.into() });

    let bad = create("pas-une-adresse", "", "beneficiary", "").await;
    let created = create("bea@exemple.fr", "Béa Paiement", "advisor", "paiement").await;
    let taken = create("BEA@exemple.fr", "Béa", "advisor", "").await;
    let setup = app.last_link_to("bea@exemple.fr", "/mot-de-passe/nouveau").await;
    let joined = update(&alex_id, "join", "accueil").await;
    let deactivated = update(&alex_id, "active", "0").await;
    let alex_session = app.call_fn(&alex, StaffHome {}).await.0;
    let alex_login = app.call_fn(&client(), log_in_as("alex@exemple.fr")).await;
    let bad_slug = save_service("Très Bien", "X", "").await.0;
    let new_service = save_service("formation", "Formation", "").await.0;
    let closed_service = save_service("paiement", "Paiement", "0").await.0;
    let overview = app.call_fn(&admin, Overview {}).await.1.unwrap();
    let self_demotion = update(&overview.me, "role", "advisor").await.0;
    let (trail, _) = app.call_fn(&admin, audit_of("", "")).await.1.unwrap();

    assert_eq!(bad.0, 422);
    let fields: Vec<&str> = refused_fields(&bad.1).iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(fields, vec!["email", "name", "role"]);
    assert_eq!(created.0, 200, "{created:?}");
    assert_eq!(taken.0, 422);
    assert!(!setup.is_empty(), "the new advisor is emailed a set-up link");
    assert_eq!(joined.0, 200);
    assert_eq!(deactivated.0, 200);
    assert_eq!(alex_session, 401, "a deactivated account's sessions end");
    assert_eq!(alex_login.0, 409);
    assert!(matches!(&alex_login.1, Err(AppError::Conflict(m)) if m.contains("désactivé")), "{alex_login:?}");
    assert_eq!([bad_slug, new_service, closed_service], [422, 200, 200]);
    let bea = overview.staff.iter().find(|m| m.email == "bea@exemple.fr").unwrap();
    assert_eq!(bea.services, ["paiement"]);
    assert!(!bea.ready);
    let services: Vec<(String, bool)> = overview.services.iter().map(|s| (s.slug.clone(), s.active)).collect();
    assert!(services.contains(&("formation".into(), true)) && services.contains(&("paiement".into(), false)));
    assert_eq!(self_demotion, 409);
    let actions: Vec<&str> = trail.iter().map(|l| l.action.as_str()).collect();
    assert_eq!(actions, vec!["service_ferme", "service_cree", "compte_personnel_desactive", "service_rejoint", "compte_personnel_cree"]);
    app.stop().await;
}
both_backends!(administrators_create_and_deactivate_staff_and_manage_services_with_every_change_audited);

async fn a_new_version_of_the_cgu_is_accepted_at_the_next_login_before_the_session_opens(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, _) = person(&app, "camille@exemple.fr", "2850775056042", "Camille", "Martin", "1985-07-14").await;
    let (_, admin) = app.logged_in("ada@exemple.fr", "Ada Admin", Role::Admin).await;
    let registration = app.register("autre@exemple.fr", &nir_with_key("1850775056042")).await;
    let RegistrationOutcome::Registered { ticket: registration_ticket, .. } = &registration else { panic!("registered: {registration:?}") };
    let publish = |summary: &str| app.call_fn(&admin, PublishLegal { document: "cgu".into(), version: "2".into(), summary: summary.into() });
    let accept_terms = |ticket: &str| AcceptTerms { ticket: ticket.into(), accept: "on".into() };

    let published = publish("Un article sur les cookies").await.0;
    let again = publish("Doublon").await.0;
    let c = client();
    let login = app.call_fn(&c, log_in_as("camille@exemple.fr")).await.1;
    let ticket = match &login {
        Ok(LoginOutcome::NewTerms { ticket, .. }) => ticket.clone(),
        _ => String::new(),
    };
    let no_session_yet = app.call_fn(&c, MySpace {}).await.0;
    let unticked = app.call_as::<LoginOutcome>(&c, "session/accept-terms", &[("ticket", &ticket)]).await.0;
    let wrong_ticket = app.call_fn(&c, accept_terms(registration_ticket)).await.0;
    let accepted = app.call_fn(&c, accept_terms(&ticket)).await;
    let in_space = app.call_fn(&c, MySpace {}).await.0;
    let replayed = app.call_fn(&client(), accept_terms(&ticket)).await.0;
    let next_login = app.call_fn(&client(), log_in_as("camille@exemple.fr")).await.1;
    let cgu_page = app.get("/cgu").await.text().await.unwrap();

    assert_eq!([published, again], [200, 422]);
    let Ok(LoginOutcome::NewTerms { texts, .. }) = &login else { panic!("new terms to accept: {login:?}") };
    assert_eq!(texts[0].version, "2", "{login:?}");
    assert_eq!(texts[0].summary, "Un article sur les cookies");
    assert_eq!(no_session_yet, 401, "no session before the new terms are accepted");
    assert_eq!(unticked, 422);
    assert_eq!(wrong_ticket, 409, "a registration ticket does not log anyone in");
    assert_eq!(accepted.0, 200, "{accepted:?}");
    assert_eq!(in_space, 200);
    assert_eq!(replayed, 409, "a terms ticket works once");
    assert!(matches!(next_login, Ok(LoginOutcome::LoggedIn { .. })), "accepted once: {next_login:?}");
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM consents WHERE user_id = '{id}' AND document = 'cgu' AND version = '2'")).await, 1);
    assert!(cgu_page.contains("Version 2") && cgu_page.contains("Un article sur les cookies"));
    app.stop().await;
}
both_backends!(a_new_version_of_the_cgu_is_accepted_at_the_next_login_before_the_session_opens);

async fn a_terms_ticket_lasts_five_minutes_and_dies_with_a_lock_or_a_reset(backend: Backend) {
    // Arrange: new terms, and three logins waiting for them.
    let app = spawn_app(backend).await;
    let (id, _) = person(&app, "camille@exemple.fr", "2850775056042", "Camille", "Martin", "1985-07-14").await;
    let (_, admin) = app.logged_in("ada@exemple.fr", "Ada Admin", Role::Admin).await;
    let _ = app.call_fn(&admin, PublishLegal { document: "cgu".into(), version: "2".into(), summary: "Nouvel article".into() }).await;
    let ticket = || async {
        match app.call_fn(&client(), log_in_as("camille@exemple.fr")).await.1 {
            Ok(LoginOutcome::NewTerms { ticket, .. }) => ticket,
            other => panic!("new terms: {other:?}"),
        }
    };
    let stranger = client();
    let accept = |ticket: String| app.call_fn(&stranger, AcceptTerms { ticket, accept: "on".into() });

    // Act
    let old = ticket().await;
    sqlx::query("UPDATE account_tokens SET expires_at = $1 WHERE purpose = 'terms'")
        .bind(app::db::now_ms() - 1)
        .execute(app.db.pool())
        .await
        .unwrap();
    let after_five_minutes = accept(old).await.0;
    let before_lock = ticket().await;
    sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2").bind(app::db::now_ms() + 60_000).bind(&id).execute(app.db.pool()).await.unwrap();
    let while_locked = accept(before_lock).await.0;
    sqlx::query("UPDATE users SET locked_until = NULL WHERE id = $1").bind(&id).execute(app.db.pool()).await.unwrap();
    let before_reset = ticket().await;
    let _ = app.call_fn(&app.client, app::account::reset::RequestPasswordReset { email: "camille@exemple.fr".into() }).await;
    let token = app.last_link_to("camille@exemple.fr", "/mot-de-passe/nouveau").await;
    let new_password = "Un tout nouveau mot de passe 2026";
    let reset =
        app.call_fn(&app.client, app::account::reset::ResetPassword { token, password: new_password.into(), password_confirm: new_password.into() });
    assert!(reset.await.0.is_success());
    let after_reset = accept(before_reset).await.0;

    // Assert
    assert_eq!([after_five_minutes, while_locked, after_reset], [409, 409, 409]);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM sessions WHERE user_id = '{id}'")).await, 0, "no session opened");
    app.stop().await;
}
both_backends!(a_terms_ticket_lasts_five_minutes_and_dies_with_a_lock_or_a_reset);

async fn every_read_of_a_persons_data_by_staff_is_audited_and_the_trail_cannot_be_changed(backend: Backend) {
    // Arrange: Camille has a project, a document and a thread with the reception service.
    let app = spawn_app(backend).await;
    let nir = nir_with_key("2850775056042");
    let (camille_id, camille) = person(&app, "camille@exemple.fr", "2850775056042", "Camille", "Martin", "1985-07-14").await;
    let project = app.call_fn(&camille, MyProject {}).await.1.unwrap();
    let (_, document) =
        app.upload_as::<String>(&camille, "documents/upload", &[("category", "devis_formation")], &[("file", "devis.pdf", pdf(2000))]).await;
    let (_, thread) =
        app.upload_as::<String>(&camille, "messages/send", &[("to", "accueil"), ("subject", "Rendez-vous"), ("body", "Bonjour")], &[]).await;
    let (alex_id, alex) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;

    // Act: Alex finds her by NIR, opens her page, project, documents, a document and the thread;
    // Camille reads her own documents.
    assert_eq!(app.call_fn(&alex, search_for(&nir, "", "", "")).await.1.unwrap().rows.len(), 1);
    app.call_fn(&alex, search_for("1850775056043", "", "", "")).await.1.unwrap();
    app.call_fn(&alex, Beneficiary { id: camille_id.clone() }).await.1.unwrap();
    app.call_fn(&alex, StaffProject { id: project.id }).await.1.unwrap();
    app.call_fn(&alex, StaffDocuments { beneficiary_id: camille_id.clone() }).await.1.unwrap();
    let download = alex.get(app.url(&format!("/fichiers/{}", document.unwrap()))).send().await.unwrap();
    assert_eq!(download.status(), 200);
    app.call_fn(&alex, Thread { id: thread.unwrap() }).await.1.unwrap();
    app.call_fn(&camille, MyDocuments {}).await.1.unwrap();
    let (_, trail) = app.call_fn(&alex, audit_of(&camille_id, "consultations")).await;
    let (_, unknown_nir) = app.call_fn(&alex, audit_of("", "lecture_recherche_nir")).await;
    let lines = app.count("SELECT COUNT(*) FROM audit_log").await;
    let update = sqlx::query("UPDATE audit_log SET reason = 'effacé'").execute(app.db.pool()).await;
    let delete = sqlx::query("DELETE FROM audit_log").execute(app.db.pool()).await;

    // Assert
    let (trail, _) = trail.unwrap();
    let mut actions: Vec<&str> = trail.iter().map(|l| l.action.as_str()).collect();
    actions.sort();
    assert_eq!(
        actions,
        ["lecture_document", "lecture_documents", "lecture_echange", "lecture_fiche", "lecture_projet", "lecture_recherche_nir"],
        "one line per read, none for Camille's own"
    );
    assert!(trail.iter().all(|l| l.actor_name == "Alex Conseil"));
    let (unknown_nir, _) = unknown_nir.unwrap();
    assert!(unknown_nir.iter().any(|l| l.beneficiary_id.is_none() && l.detail == "aucun résultat"), "a NIR that finds nobody is recorded too");
    let everything: Vec<String> = sqlx::query_scalar("SELECT actor_id || ' ' || action || ' ' || reason || ' ' || detail FROM audit_log")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert!(everything.iter().all(|line| !line.contains(&nir[..13]) && !line.contains("1850775056043")), "never a NIR: {everything:?}");
    assert!(everything.iter().all(|line| line.starts_with(&alex_id)));
    assert!(update.is_err(), "no line can be changed");
    assert!(delete.is_err(), "no line can be deleted");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, lines);
    app.stop().await;
}
both_backends!(every_read_of_a_persons_data_by_staff_is_audited_and_the_trail_cannot_be_changed);

async fn correcting_an_activated_accounts_address_waits_for_the_new_address_to_confirm_and_tells_the_old_one(backend: Backend) {
    // Arrange: Camille's account is activated; someone calls the phone platform claiming to be her.
    let app = spawn_app(backend).await;
    let (id, _) = person(&app, "camille@exemple.fr", "2850775056042", "Camille", "Martin", "1985-07-14").await;
    let (_, advisor) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let correct =
        SupportAction { id: id.clone(), action: "corriger_adresse".into(), reason: "Appel entrant".into(), value: "pirate@exemple.fr".into() };

    // Act
    let (status, said) = app.call_fn(&advisor, correct).await;
    let unchanged: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(&id).fetch_one(app.db.pool()).await.unwrap();
    let _ = app.call_fn(&client(), app::account::reset::RequestPasswordReset { email: "pirate@exemple.fr".into() }).await;
    let _ = app.call_fn(&client(), app::account::reset::RequestPasswordReset { email: "camille@exemple.fr".into() }).await;
    let reset_to_old = app.last_link_to("camille@exemple.fr", "/mot-de-passe/nouveau").await;
    let token = app.last_link_to("pirate@exemple.fr", "/profil/courriel").await;
    let notice_to_old =
        app.count("SELECT COUNT(*) FROM outbox WHERE to_address = 'camille@exemple.fr' AND subject LIKE 'Demande de changement%'").await;
    let resets_to_new = app.count("SELECT COUNT(*) FROM outbox WHERE to_address = 'pirate@exemple.fr' AND subject LIKE 'Réinitialisation%'").await;
    let (confirmed, _) = app.call_fn(&client(), app::profile::ConfirmEmail { token }).await;
    let changed: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(&id).fetch_one(app.db.pool()).await.unwrap();

    // Assert
    assert_eq!(status, 200, "{said:?}");
    assert!(said.unwrap().contains("Un lien de confirmation a été envoyé à pirate@exemple.fr"));
    assert_eq!(unchanged, "camille@exemple.fr", "nothing changes before the new address confirms");
    assert!(!reset_to_old.is_empty(), "until then, reset links go to the current address");
    assert_eq!(resets_to_new, 0);
    assert_eq!(notice_to_old, 1, "the current address is told");
    assert_eq!(confirmed, 200);
    assert_eq!(changed, "pirate@exemple.fr", "the change applies when the link's button is pressed");
    app.stop().await;
}
both_backends!(correcting_an_activated_accounts_address_waits_for_the_new_address_to_confirm_and_tells_the_old_one);
