//! Posts from other sites (issue 15, point 4): refused with 403 before anything reads them,
//! whether a form or a script sends them; our own pages' posts go through.

use crate::helpers::{both_backends, spawn_app, Backend, ORIGIN};

/// A login post to `app` with these extra headers, from a client sending no `Origin` of its own.
async fn login_post(app: &crate::helpers::TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut request = bare.post(app.url("/api/session/login")).form(&[("email", "helene@exemple.fr"), ("password", "peu importe")]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

async fn a_post_from_another_site_is_refused_and_changes_nothing(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let referer = format!("{ORIGIN}/connexion");

    // Act
    let cross_site_form = login_post(&app, &[("origin", "https://malveillant.example"), ("content-type", "application/x-www-form-urlencoded")]).await;
    let cross_site_fetch = login_post(&app, &[("sec-fetch-site", "cross-site")]).await;
    let no_origin_at_all = login_post(&app, &[]).await;
    let opaque_origin = login_post(&app, &[("origin", "null")]).await;
    let our_page = login_post(&app, &[("origin", ORIGIN)]).await;
    let same_origin_without_origin = login_post(&app, &[("sec-fetch-site", "same-origin")]).await;
    let our_referer = login_post(&app, &[("referer", referer.as_str())]).await;

    // Assert
    for refused in [&cross_site_form, &cross_site_fetch, &no_origin_at_all, &opaque_origin] {
        assert_eq!(refused.status(), 403, "{:?}", refused.headers());
    }
    assert!(cross_site_form.headers().get("set-cookie").is_none(), "no session, no cookie");
    for accepted in [our_page, same_origin_without_origin, our_referer] {
        assert_eq!(accepted.status(), 422, "our own page's post reaches the login (and is told the password is wrong)");
    }
    let attempts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_attempts").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(attempts, 0);
    app.stop().await;
}
both_backends!(a_post_from_another_site_is_refused_and_changes_nothing);

async fn over_https_the_session_cookie_is_bound_to_the_host(backend: Backend) {
    // Arrange: production settings with a https address, and an account.
    let app = crate::helpers::spawn_app_with(backend, |s| {
        s.server.base_url = "https://passerelle.example".into();
        s.server.dev_mode = false;
        s.security.secret_key = passerelle_server::config::Secret::from("a-production-secret-of-more-than-32-characters");
    })
    .await;
    app.create_user("helene@exemple.fr", crate::helpers::GOOD_PASSWORD).await;
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // Act
    let logged_in = browser
        .post(app.url("/api/session/login"))
        .header("origin", "https://passerelle.example")
        .form(&[("email", "helene@exemple.fr"), ("password", crate::helpers::GOOD_PASSWORD)])
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(logged_in.status(), 200);
    let cookie = logged_in.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-passerelle_session=") && cookie.contains("; Secure") && cookie.contains("Path=/"), "{cookie}");
    app.stop().await;
}
both_backends!(over_https_the_session_cookie_is_bound_to_the_host);
