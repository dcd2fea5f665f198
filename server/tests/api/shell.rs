//! The French app shell and the security headers (no database involved beyond start-up).

use passerelle_server::config::Secret;

use crate::helpers::{both_backends, spawn_app, spawn_app_with, Backend};

#[tokio::test]
async fn home_page_is_french_with_skip_link_header_main_and_footer_links() {
    let app = spawn_app(Backend::Sqlite).await;

    let response = app.get("/").await;

    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("<html lang=\"fr\""));
    assert!(html.contains("href=\"#contenu\""), "skip link");
    assert!(html.contains("<main id=\"contenu\""));
    for link in ["/cgu", "/confidentialite", "/accessibilite", "/contact"] {
        assert!(html.contains(&format!("href=\"{link}\"")), "footer links to {link}");
    }
    assert!(html.contains("href=\"/connexion\""), "the header offers to log in, without JavaScript");
    app.stop().await;
}

#[tokio::test]
async fn legal_and_contact_pages_answer_with_their_text() {
    let app = spawn_app(Backend::Sqlite).await;

    for (path, heading) in [
        ("/cgu", "Conditions générales d&#x27;utilisation"),
        ("/confidentialite", "Politique de confidentialité"),
        ("/accessibilite", "Déclaration d&#x27;accessibilité"),
        ("/contact", "Contact"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        // Leptos marks text boundaries with empty comments (`<!>`); a reader never sees them.
        let html = response.text().await.unwrap().replace("<!>", "");
        let heading_plain = heading.replace("&#x27;", "'");
        assert!(html.contains(&format!("<h1>{heading}</h1>")) || html.contains(&format!("<h1>{heading_plain}</h1>")), "{path} has its heading");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_address_answers_404_with_the_french_page() {
    let app = spawn_app(Backend::Sqlite).await;

    let response = app.get("/nulle-part").await;

    assert_eq!(response.status(), 404);
    let html = response.text().await.unwrap();
    assert!(html.contains("Cette page n"));
    app.stop().await;
}

#[tokio::test]
async fn pages_carry_a_nonce_csp_nosniff_referrer_policy_and_refuse_framing() {
    let app = spawn_app(Backend::Sqlite).await;

    let response = app.get("/").await;

    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    let csp = header("content-security-policy").expect("a CSP");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(csp.contains("'nonce-"), "the hydration script is allowed by nonce, not by 'unsafe-inline'");
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(header("referrer-policy").as_deref(), Some("same-origin"));
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_string();
    let html = response.text().await.unwrap();
    let scripts = html.matches("<script").count();
    let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
    assert!(scripts > 0 && scripts <= with_nonce, "every inline script carries this response's nonce");
    app.stop().await;
}

#[tokio::test]
async fn every_response_gets_security_headers_even_outside_pages() {
    let app = spawn_app(Backend::Sqlite).await;

    let response = app.get("/healthz").await;

    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    app.stop().await;
}

async fn pages_and_server_function_answers_are_never_stored_and_keep_their_window_to_themselves(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act
    let page = app.get("/connexion").await;
    let answer = app.client.post(app.url("/api/session/current")).send().await.unwrap();

    // Assert
    for response in [&page, &answer] {
        assert_eq!(response.headers()["cache-control"], "no-store", "{}", response.url());
        assert_eq!(response.headers()["cross-origin-opener-policy"], "same-origin", "{}", response.url());
    }
    assert!(page.headers().get("strict-transport-security").is_none(), "no HSTS over plain http");
    app.stop().await;
}
both_backends!(pages_and_server_function_answers_are_never_stored_and_keep_their_window_to_themselves);

async fn a_site_served_over_https_tells_browsers_to_stay_on_https(backend: Backend) {
    // Arrange: production settings with a https address.
    let app = spawn_app_with(backend, |s| {
        s.server.base_url = "https://passerelle.example".into();
        s.server.dev_mode = false;
        s.security.secret_key = Secret::from("a-production-secret-of-more-than-32-characters");
    })
    .await;

    // Act
    let response = app.get("/healthz").await;

    // Assert
    assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains");
    app.stop().await;
}
both_backends!(a_site_served_over_https_tells_browsers_to_stay_on_https);
