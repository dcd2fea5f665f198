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

#[tokio::test]
async fn site_files_are_sent_as_the_build_compressed_them_never_compressed_again() {
    // Arrange: a file of the site as `cargo leptos build --precompress` leaves it, with its `.br`
    // and `.gz` (the test server's site is `target/site` under the crate's folder).
    let pkg = std::path::Path::new("target/site/pkg");
    std::fs::create_dir_all(pkg).unwrap();
    let name = format!("essai-{}.wasm", uuid::Uuid::new_v4());
    let raw = vec![b'w'; 50_000];
    let (br, gz) = (b"not really brotli: what the build wrote".to_vec(), b"not really gzip either".to_vec());
    std::fs::write(pkg.join(&name), &raw).unwrap();
    std::fs::write(pkg.join(format!("{name}.br")), &br).unwrap();
    std::fs::write(pkg.join(format!("{name}.gz")), &gz).unwrap();
    let app = spawn_app(Backend::Sqlite).await;
    let ask = |encoding: &'static str| app.client.get(app.url(&format!("/pkg/{name}"))).header("accept-encoding", encoding).send();

    // Act
    let (with_br, with_gzip, plain, missing) =
        (ask("br, gzip").await.unwrap(), ask("gzip").await.unwrap(), ask("identity").await.unwrap(), app.get("/pkg/absent.wasm").await);

    // Assert
    assert_eq!(with_br.headers()["content-encoding"], "br");
    assert_eq!(with_br.headers()["content-length"], br.len().to_string().as_str(), "the build's file as it is");
    assert_eq!(with_br.headers()["cache-control"], "no-cache", "names without a hash (this build) are checked again");
    assert_eq!(with_br.bytes().await.unwrap().to_vec(), br);
    assert_eq!(with_gzip.headers()["content-encoding"], "gzip");
    assert_eq!(with_gzip.bytes().await.unwrap().to_vec(), gz);
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.bytes().await.unwrap().len(), raw.len());
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().get("cache-control").is_none_or(|v| !v.to_str().unwrap().contains("max-age")), "a missing file is not kept");
    for file in [name.clone(), format!("{name}.br"), format!("{name}.gz")] {
        let _ = std::fs::remove_file(pkg.join(file));
    }
    app.stop().await;
}
