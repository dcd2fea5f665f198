//! Role checks on staff and beneficiary server functions, and forms posted without JavaScript.

use crate::helpers::{both_backends, client, create_account, login, nir_with_key, registration_form, spawn_app, Backend, GOOD_PASSWORD};
use app::account::login::{Login, LoginOutcome};
use app::account::Role;

async fn staff_and_beneficiary_server_functions_refuse_the_other_role_and_anonymous_callers(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("camille@exemple.fr", GOOD_PASSWORD).await;
    create_account(&app.db, "alex@exemple.fr", "Alex Conseil", Role::Advisor, GOOD_PASSWORD).await;
    let anonymous = client();
    let beneficiary = client();
    let advisor = client();
    login(&beneficiary, &app.base, "camille@exemple.fr", GOOD_PASSWORD).await;
    login(&advisor, &app.base, "alex@exemple.fr", GOOD_PASSWORD).await;
    let status = |c: &reqwest::Client, endpoint: &str| {
        let request = c.post(app.url(&format!("/api/{endpoint}"))).header("content-type", "application/x-www-form-urlencoded");
        async move { request.send().await.unwrap().status().as_u16() }
    };

    assert_eq!(status(&anonymous, "space/me").await, 401);
    assert_eq!(status(&beneficiary, "space/me").await, 200);
    assert_eq!(status(&advisor, "space/me").await, 403);
    assert_eq!(status(&anonymous, "staff/me").await, 401);
    assert_eq!(status(&beneficiary, "staff/me").await, 403);
    assert_eq!(status(&advisor, "staff/me").await, 200);
    app.stop().await;
}
both_backends!(staff_and_beneficiary_server_functions_refuse_the_other_role_and_anonymous_callers);

async fn staff_land_on_the_advisor_page_and_beneficiaries_on_their_space(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("camille@exemple.fr", GOOD_PASSWORD).await;

    let (_, outcome) = app.call_fn(&app.client, Login { email: "camille@exemple.fr".into(), password: GOOD_PASSWORD.into() }).await;
    let page = app.get("/espace").await.text().await.unwrap();
    let staff_page = app.get("/conseiller").await.text().await.unwrap();

    assert_eq!(outcome, Ok(LoginOutcome::LoggedIn { destination: "/espace".into() }));
    assert!(page.contains("Bonjour Camille Martin"));
    assert!(staff_page.contains("n&#x27;avez pas accès") || staff_page.contains("n'avez pas accès"));
    app.stop().await;
}
both_backends!(staff_land_on_the_advisor_page_and_beneficiaries_on_their_space);

async fn without_javascript_a_refused_registration_comes_back_with_errors_and_values_but_no_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut form = registration_form("helene@exemple.fr", "285077505604299");
    form.push(("robot_solution".into(), app.robot_solution().await));
    let fields: Vec<(String, String)> = form.into_iter().map(|(k, v)| (format!("form[{k}]"), v)).collect();

    let page = app.post_without_javascript("/inscription", "account/register", &fields).await;

    assert!(page.contains("error-summary"), "the summary is on the page");
    assert!(page.contains("La clé (2 derniers chiffres)"), "the NIR key error is shown");
    assert!(page.contains("value=\"helene@exemple.fr\""), "the email is kept");
    assert!(page.contains("value=\"Lefèvre\""), "the name is kept");
    assert!(!page.contains(GOOD_PASSWORD), "passwords are never sent back");
    assert!(page.contains("aria-invalid=\"true\""));
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    app.stop().await;
}
both_backends!(without_javascript_a_refused_registration_comes_back_with_errors_and_values_but_no_password);

async fn without_javascript_a_refused_registration_keeps_no_nir_and_asks_for_it_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let nir = nir_with_key("2850775056042");
    let mut form = registration_form("helene@exemple.fr", &nir);
    for (k, v) in form.iter_mut() {
        if k == "password_confirm" {
            *v = "une autre phrase de passe".into();
        }
    }
    form.push(("robot_solution".into(), app.robot_solution().await));
    let fields: Vec<(String, String)> = form.into_iter().map(|(k, v)| (format!("form[{k}]"), v)).collect();

    let posted = app
        .client
        .post(app.url("/api/account/register"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url("/inscription"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let kept: Vec<String> = sqlx::query_scalar("SELECT payload FROM form_flashes").fetch_all(app.db.pool()).await.unwrap();
    let page = app.get("/inscription").await.text().await.unwrap();

    assert_eq!(posted.status(), 303);
    assert_eq!(kept.len(), 1, "the refused form is kept for its page");
    assert!(kept[0].contains("helene@exemple.fr"), "what was typed is kept: {}", kept[0]);
    assert!(!kept[0].contains(&nir) && !kept[0].contains(&nir[..13]), "the NIR is not: {}", kept[0]);
    assert!(page.contains("value=\"helene@exemple.fr\""), "the email comes back");
    assert!(!page.contains(&nir[..13]), "the NIR does not");
    assert!(page.contains("saisissez-le de nouveau"), "the page asks for the NIR again");
    app.stop().await;
}
both_backends!(without_javascript_a_refused_registration_keeps_no_nir_and_asks_for_it_again);

async fn without_javascript_registration_then_activation_then_login_work(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.get("/inscription").await.text().await.unwrap();
    let question = page.split("for=\"champ-robot-answer\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let token = page.split("name=\"form[robot_token]\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let answer = solve_question(&question);
    let mut form = registration_form("helene@exemple.fr", &nir_with_key("2850775056042"));
    form.push(("robot_token".into(), token));
    form.push(("robot_answer".into(), answer.to_string()));
    let fields: Vec<(String, String)> = form.into_iter().map(|(k, v)| (format!("form[{k}]"), v)).collect();

    let sent = app.post_without_javascript("/inscription", "account/register", &fields).await;
    assert!(sent.contains("h•••@exemple.fr"), "the page shows where the link went");
    let link = app.last_link_to("helene@exemple.fr", "/activation").await;
    let activated = app.post_without_javascript(&format!("/activation/{link}"), "account/activate", &[("token".into(), link.clone())]).await;
    assert!(activated.contains("Votre compte est activé"));
    let space = app
        .post_without_javascript(
            "/connexion",
            "session/login",
            &[("email".into(), "helene@exemple.fr".into()), ("password".into(), GOOD_PASSWORD.into())],
        )
        .await;
    assert!(space.contains("Bonjour Hélène Lefèvre"));
    app.stop().await;
}
both_backends!(without_javascript_registration_then_activation_then_login_work);

/// Answers "Combien font trois plus quatre ? …".
fn solve_question(question: &str) -> u32 {
    const WORDS: [&str; 10] = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"];
    let words: Vec<&str> = question.split(|c: char| c.is_whitespace() || c == '?').collect();
    let value = |w: &str| WORDS.iter().position(|x| *x == w).unwrap() as u32;
    let plus = words.iter().position(|w| *w == "plus").unwrap();
    value(words[plus - 1]) + value(words[plus + 1])
}

async fn a_robot_question_answered_wrong_is_refused_and_cannot_be_reused(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.get("/inscription").await.text().await.unwrap();
    let question = page.split("for=\"champ-robot-answer\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let token = page.split("name=\"form[robot_token]\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let right = solve_question(&question);
    let attempt = |email: &str, answer: u32| {
        let mut form = registration_form(email, &nir_with_key(if email.starts_with('a') { "2850775056042" } else { "1850575056042" }));
        form.push(("robot_token".into(), token.clone()));
        form.push(("robot_answer".into(), answer.to_string()));
        form
    };

    let (wrong, _) = app.register_with(attempt("a@exemple.fr", right + 1)).await;
    let (good, _) = app.register_with(attempt("a@exemple.fr", right)).await;
    let (replay, _) = app.register_with(attempt("b@exemple.fr", right)).await;

    assert_eq!(wrong, 422);
    assert_eq!(good, 200);
    assert_eq!(replay, 422);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    app.stop().await;
}
both_backends!(a_robot_question_answered_wrong_is_refused_and_cannot_be_reused);

/// A browser leaves out an unticked radio or checkbox: the registration form posted with each
/// field left out in turn, then with every field left out, as the page's script posts it and as
/// a plain form post. Each answer names what is missing beside its field (never "mal formée"),
/// keeps what was typed (never a password), and creates nothing.
async fn a_registration_with_fields_left_out_names_them_keeps_the_rest_and_creates_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let nir = nir_with_key("2850775056042");
    let complete = registration_form("helene@exemple.fr", &nir);
    let optional = ["usage_name"];
    // Leaving out only the optional usage name is a valid registration (tested elsewhere).
    let mut cases: Vec<(String, Vec<(String, String)>)> = complete
        .iter()
        .filter(|(k, _)| !optional.contains(&k.as_str()))
        .map(|(left_out, _)| (left_out.clone(), complete.iter().filter(|(k, _)| k != left_out).cloned().collect()))
        .collect();
    cases.push(("every field".into(), Vec::new()));

    for (left_out, fields) in cases {
        let (status, scripted) = app.register_with(fields.clone()).await;
        let error = scripted.unwrap_err();
        let mut plain_fields = fields.clone();
        plain_fields.push(("robot_solution".into(), app.robot_solution().await));
        let plain_fields: Vec<(String, String)> = plain_fields.into_iter().map(|(k, v)| (format!("form[{k}]"), v)).collect();
        let page = app.post_without_javascript("/inscription", "account/register", &plain_fields).await.replace("<!>", "");

        assert_eq!(status, 422, "{left_out} left out: a field error, got {error:?}");
        let missing: Vec<&str> = if left_out == "every field" {
            complete.iter().map(|(k, _)| k.as_str()).filter(|k| !optional.contains(k)).collect()
        } else {
            vec![left_out.as_str()]
        };
        for field in &missing {
            assert!(error.field(field).is_some(), "{left_out} left out: {field} is named, got {error:?}");
        }
        assert!(!page.contains("mal formée") && !page.contains("connexion au service"), "{left_out} left out: {page}");
        assert!(page.contains("error-summary"), "{left_out} left out: the summary is on the page");
        for field in &missing {
            let message = error.field(field).unwrap().replace('\'', "&#x27;");
            assert!(page.contains(&message) || page.contains(error.field(field).unwrap()), "{left_out} left out: the page says {message:?}");
        }
        for (key, value) in &fields {
            // Passwords and the NIR are never kept: they are typed again.
            if !key.starts_with("password") && !key.starts_with("accept") && !value.is_empty() && key != "civility" && key != "nir" {
                assert!(page.contains(&format!("value=\"{value}\"")), "{left_out} left out: {key} is kept");
            }
        }
        assert!(!page.contains(GOOD_PASSWORD), "passwords are never sent back");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0, "nothing was created");
    app.stop().await;
}
both_backends!(a_registration_with_fields_left_out_names_them_keeps_the_rest_and_creates_nothing);
