//! The French app shell and the security headers (no database involved beyond start-up).

use crate::helpers::{spawn_app, Backend};

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
