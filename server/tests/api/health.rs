use sqlx::Executor;

use crate::helpers::{both_backends, spawn_app, Backend};

async fn healthz_answers_200_when_the_database_answers(backend: Backend) {
    let app = spawn_app(backend).await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 200);
    app.stop().await;
}
both_backends!(healthz_answers_200_when_the_database_answers);

async fn healthz_answers_503_when_the_database_stops_answering(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.get("/healthz").await.status(), 200);

    match backend {
        // The pool is gone: nothing can reach the file any more.
        Backend::Sqlite => app.db.close().await,
        // The database is dropped under the server, its connections cut.
        Backend::Postgres => app.database.drop_database().await,
    }
    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 503);
    app.stop().await;
}
both_backends!(healthz_answers_503_when_the_database_stops_answering);

async fn migrations_run_at_start_and_again_without_harm(backend: Backend) {
    let app = spawn_app(backend).await;

    app.db.migrate().await.expect("a second migration run is a no-op");
    let tables = app.db.pool().execute("SELECT id, status, attempts FROM outbox WHERE 1 = 0").await;

    assert!(tables.is_ok(), "the outbox table exists: {tables:?}");
    app.stop().await;
}
both_backends!(migrations_run_at_start_and_again_without_harm);
