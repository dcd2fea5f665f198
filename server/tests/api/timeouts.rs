//! The request timeout (`server.request_timeout_ms`): nothing is left unanswered, even when the
//! database holds a request up. (Pages with a frozen resource: `tests/unanswered_pages.rs`.)

use std::time::{Duration, Instant};

use crate::helpers::{both_backends, create_account, spawn_app_with, Backend, TestApp, GOOD_PASSWORD};
use app::account::{session, Role};

/// A beneficiary's session cookie, opened directly: logging in hashes a password, which on a
/// loaded machine can take longer than these tests' short timeouts.
async fn beneficiary_cookie(app: &TestApp) -> String {
    let id = create_account(&app.db, "camille@exemple.fr", "Camille Martin", Role::Beneficiary, GOOD_PASSWORD).await;
    let token = session::start(&app.db, &id).await.unwrap();
    format!("{}={token}", session::COOKIE_NAME)
}

fn client_with(cookie: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
    headers.insert(reqwest::header::ORIGIN, reqwest::header::HeaderValue::from_static(crate::helpers::ORIGIN));
    reqwest::Client::builder().default_headers(headers).redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(60)).build().unwrap()
}

/// Another connection takes the projects table, as a long migration or a stuck transaction
/// would: writes wait on SQLite (reads go on, WAL), reads and writes wait on PostgreSQL.
async fn hold_the_projects_table(app: &TestApp, backend: Backend) -> sqlx::pool::PoolConnection<sqlx::Any> {
    let mut conn = app.db.pool().acquire().await.unwrap();
    match backend {
        Backend::Sqlite => {
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await.unwrap();
            sqlx::query("UPDATE projects SET updated_at = updated_at").execute(&mut *conn).await.unwrap();
        }
        Backend::Postgres => {
            sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
            sqlx::query("LOCK TABLE projects IN ACCESS EXCLUSIVE MODE").execute(&mut *conn).await.unwrap();
        }
    }
    conn
}

fn draft(poste: &str) -> Vec<(&'static str, String)> {
    vec![("version", "0".into()), ("draft[poste]", poste.into())]
}

async fn a_server_function_held_up_by_the_database_answers_503_in_time_and_the_next_one_goes_through(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.server.request_timeout = std::time::Duration::from_millis(2000)).await;
    let camille = client_with(&beneficiary_cookie(&app).await);
    assert_eq!(app.call_fn(&camille, app::project::MyProject {}).await.0, 200);
    let mut lock = hold_the_projects_table(&app, backend).await;

    let started = Instant::now();
    let scripted = camille.post(app.url("/api/project/save")).form(&draft("Vendeuse")).send().await.unwrap();
    let waited = started.elapsed();
    let plain = camille
        .post(app.url("/api/project/save"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url("/projet"))
        .form(&draft("Vendeuse"))
        .send()
        .await
        .unwrap();
    sqlx::query("ROLLBACK").execute(&mut *lock).await.unwrap();
    let after = camille.post(app.url("/api/project/save")).form(&draft("Vendeuse")).send().await.unwrap();

    assert_eq!(scripted.status(), 503);
    assert!(waited < Duration::from_millis(4500), "answered after the 2 s timeout, not the database's: {waited:?}");
    let error: app::error::AppError = scripted.json().await.unwrap();
    assert_eq!(error, app::error::AppError::Unavailable, "the page's script shows the French sentence");
    assert_eq!(plain.status(), 503, "a form posted without JavaScript gets the page, not a redirect");
    let request_id = plain.headers().get("x-request-id").expect("the answer names its request").to_str().unwrap().to_string();
    let page = plain.text().await.unwrap();
    assert!(page.contains("Le service met trop de temps à répondre"), "{page}");
    assert!(page.contains(&format!("référence de la demande : <strong>{request_id}</strong>")), "the page names the request of the log: {page}");
    assert_eq!(after.status(), 200, "once the table is free the save goes through: {}", after.text().await.unwrap());
    app.stop().await;
}
both_backends!(a_server_function_held_up_by_the_database_answers_503_in_time_and_the_next_one_goes_through);

/// A person on a slow line: the upload's body takes longer than the request timeout to arrive,
/// and the document is still received.
async fn an_upload_slower_than_the_request_timeout_is_received_whole(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(backend, |s| s.server.request_timeout = std::time::Duration::from_millis(300)).await;
    let cookie = beneficiary_cookie(&app).await;
    let (head, body) = crate::helpers::raw_cv_upload(&cookie, 64 * 1024);
    let (first, rest) = body.split_at(body.len() / 2);

    let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first).await.unwrap();
    // The slow line itself: the rest of the body comes three timeouts later.
    tokio::time::sleep(Duration::from_millis(900)).await;
    stream.write_all(rest).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_string(&mut answer)).await.unwrap().unwrap();

    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(app.count("SELECT COUNT(*) FROM documents").await, 1);
    app.stop().await;
}
both_backends!(an_upload_slower_than_the_request_timeout_is_received_whole);
