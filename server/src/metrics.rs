//! Metrics in Prometheus's text format (issue 17, point 3), on their own address
//! (`metrics.listen`, off by default: never on the public one). Counted as they happen: requests
//! by route and status with their latency (`passerelle_http_*`), logins by outcome
//! (`passerelle_logins_total`), autosave conflicts (`passerelle_autosave_conflicts_total`). Read
//! at each scrape: the outbox (emails waiting, failed, age of the oldest waiting) and the
//! database pool (connections in use, idle, at most).

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::watch;

use app::db::{now_ms, Db};

/// Latency buckets, in seconds: from a cached asset to the request timeout.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 15.0];

/// The process's recorder, installed on first use (one per process: the metrics macros write to
/// a global one; servers of one process, as in the tests, share it).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("passerelle_http_request_duration_seconds".into()), &LATENCY_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed: passerelle's metrics stay empty");
        }
        handle
    })
}

/// Serves `GET /metrics` on `addr` until `stopped`.
pub async fn serve(
    addr: SocketAddr,
    db: Db,
    mut stopped: watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), std::io::Error> {
    handle();
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let app = Router::new().route("/metrics", get(scrape)).with_state(db);
    let server = tokio::spawn(async move {
        let graceful = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(graceful).await {
            tracing::error!(error = %e, "the metrics listener stopped with an error");
        }
    });
    tracing::info!(%addr, "metrics are served at /metrics");
    Ok((addr, server))
}

async fn scrape(State(db): State<Db>) -> Response {
    read_the_outbox(&db).await;
    let pool = db.pool();
    let idle = pool.num_idle() as f64;
    metrics::gauge!("passerelle_db_connections", "state" => "idle").set(idle);
    metrics::gauge!("passerelle_db_connections", "state" => "in_use").set(f64::from(pool.size()) - idle);
    metrics::gauge!("passerelle_db_connections_max").set(f64::from(pool.options().get_max_connections()));
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle().render()).into_response()
}

/// The outbox's gauges: emails waiting (to send, or being sent), failed for good, and the age
/// of the oldest waiting one (0 when none waits).
async fn read_the_outbox(db: &Db) {
    let counts: Result<Vec<(String, i64, Option<i64>)>, _> =
        sqlx::query_as("SELECT status, COUNT(*), MIN(created_at) FROM outbox WHERE status IN ('pending', 'sending', 'failed') GROUP BY status")
            .fetch_all(db.pool())
            .await;
    let counts = match counts {
        Ok(counts) => counts,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the outbox for the metrics");
            return;
        }
    };
    let (mut queued, mut failed, mut oldest) = (0, 0, None::<i64>);
    for (status, count, first) in counts {
        if status == "failed" {
            failed += count;
        } else {
            queued += count;
            oldest = match (oldest, first) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
    metrics::gauge!("passerelle_outbox_emails", "state" => "queued").set(queued as f64);
    metrics::gauge!("passerelle_outbox_emails", "state" => "failed").set(failed as f64);
    let age = oldest.map(|at| (now_ms() - at).max(0) as f64 / 1000.0).unwrap_or(0.0);
    metrics::gauge!("passerelle_outbox_oldest_queued_seconds").set(age);
}

/// Counts each answer by method, route (its pattern, never its path) and status, and records
/// its latency.
pub async fn measure(request: Request<Body>, next: Next) -> Response {
    let method = request.method().to_string();
    let route = crate::http::route_of(&request);
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("passerelle_http_request_duration_seconds", "method" => method.clone(), "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("passerelle_http_requests_total", "method" => method, "route" => route, "status" => status).increment(1);
    response
}
