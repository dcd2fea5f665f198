//! Metrics (issue 17, point 3), on both databases: Prometheus scrapes `GET /metrics` on its own
//! address and reads requests by route and status, latencies, logins by outcome, autosave
//! conflicts, the outbox's backlog and the database pool.

use app::account::Role;
use serde::de::IgnoredAny;

use crate::helpers::{both_backends, client, spawn_app_with, Backend, TestApp, GOOD_PASSWORD};

/// The value of the sample `series` (name and labels exactly as exported), 0 when absent: the
/// servers of one test process share one recorder, so tests compare before and after.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).and_then(|value| value.trim().parse().ok()))
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp) -> String {
    let addr = app.metrics_addr().expect("metrics are served");
    let answer = client().get(format!("http://{addr}/metrics")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    answer.text().await.unwrap()
}

async fn prometheus_reads_requests_logins_conflicts_the_outbox_and_the_pool(backend: Backend) {
    // Arrange: metrics on a port of their own; an email that cannot leave yet (the retry is due
    // in an hour), queued for ten minutes.
    let app = spawn_app_with(backend, |settings| settings.metrics.listen = "127.0.0.1:0".into()).await;
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let now = app::db::now_ms();
    sqlx::query(
        "INSERT INTO outbox (id, to_address, subject, body_text, body_html, status, attempts, next_attempt_at, created_at) \
         VALUES ('waiting', 'x@exemple.fr', 's', 't', 'h', 'pending', 1, $1, $2)",
    )
    .bind(now + 3_600_000)
    .bind(now - 600_000)
    .execute(app.db.pool())
    .await
    .unwrap();
    let before = scrape(&app).await;

    // Act: a login refused, one that succeeds, a page, and a save from an out-of-date tab.
    let refused = app.login("camille@exemple.fr", "not the password").await;
    assert_eq!(refused.status(), 422);
    let logged = app.login("camille@exemple.fr", GOOD_PASSWORD).await;
    assert_eq!(logged.status(), 200);
    assert_eq!(app.get("/healthz").await.status(), 200);
    let fields = [("version", "0"), ("draft[motivation]", "Première version")];
    assert_eq!(app.call_as::<IgnoredAny>(&camille, "project/save", &fields).await.0, 200);
    let stale = [("version", "0"), ("draft[motivation]", "Depuis un autre onglet")];
    assert_eq!(app.call_as::<IgnoredAny>(&camille, "project/save", &stale).await.0, 409);
    let after = scrape(&app).await;

    // Assert
    let grew = |series: &str| sample(&after, series) - sample(&before, series);
    assert!(grew(r#"passerelle_logins_total{outcome="refused"}"#) >= 1.0, "{after}");
    assert!(grew(r#"passerelle_logins_total{outcome="logged_in"}"#) >= 1.0, "{after}");
    assert!(grew(r#"passerelle_autosave_conflicts_total"#) >= 1.0, "{after}");
    assert!(grew(r#"passerelle_http_requests_total{method="GET",route="/healthz",status="200"}"#) >= 1.0, "{after}");
    assert!(grew(r#"passerelle_http_requests_total{method="POST",route="/api/project/save",status="409"}"#) >= 1.0, "{after}");
    assert!(
        grew(r#"passerelle_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"}"#) >= 1.0,
        "latencies are histograms: {after}"
    );
    assert!(sample(&after, r#"passerelle_outbox_emails{state="queued"}"#) >= 1.0, "{after}");
    assert!(sample(&after, "passerelle_outbox_oldest_queued_seconds") >= 600.0, "{after}");
    assert!(after.contains(r#"passerelle_outbox_emails{state="failed"}"#), "{after}");
    assert!(sample(&after, "passerelle_db_connections_max") >= 1.0, "{after}");
    assert!(after.contains(r#"passerelle_db_connections{state="in_use"}"#), "{after}");
    assert!(!after.contains("camille"), "no personal data in the metrics");

    // The metrics are not on the site's address.
    assert_eq!(app.get("/metrics").await.status(), 404);
    app.stop().await;
}
both_backends!(prometheus_reads_requests_logins_conflicts_the_outbox_and_the_pool);
