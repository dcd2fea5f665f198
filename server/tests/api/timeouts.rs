//! The request timeout (`server.request_timeout_ms`): nothing is left unanswered, even when the
//! database holds a request up. (Pages with a frozen resource: `tests/unanswered_pages.rs`.)

use std::time::{Duration, Instant};

use crate::helpers::{both_backends, spawn_app_with, Backend, TestApp};
use app::account::Role;

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
    let app = spawn_app_with(backend, |s| s.server.request_timeout_ms = 1000).await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    assert_eq!(app.call_as(&camille, "project/get", &[]).await.0, 200);
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
    assert!(waited < Duration::from_secs(4), "answered after the 1 s timeout, not the database's: {waited:?}");
    let error: app::error::AppError = scripted.json().await.unwrap();
    assert_eq!(error, app::error::AppError::Unavailable, "the page's script shows the French sentence");
    assert_eq!(plain.status(), 503, "a form posted without JavaScript gets the page, not a redirect");
    assert!(plain.text().await.unwrap().contains("Le service met trop de temps à répondre"));
    assert_eq!(after.status(), 200, "once the table is free the save goes through: {}", after.text().await.unwrap());
    app.stop().await;
}
both_backends!(a_server_function_held_up_by_the_database_answers_503_in_time_and_the_next_one_goes_through);
