//! Pages that were never answered, and the safety net that answers them.
//!
//! A test binary of its own, unlike the rest (`tests/api/`): these tests raise Leptos's
//! process-wide "suppress resource load" flag, which freezes every resource created anywhere in
//! the process while it is up. Shared with other tests, they would stall those tests' pages — the
//! very defect they are about. Within this binary they take turns (`one_at_a_time`).

#[allow(dead_code, unused_imports, unused_macros)]
#[path = "api/helpers.rs"]
mod helpers;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use leptos::prelude::*;

use helpers::{spawn_app, spawn_app_with, Backend};

/// The tests of this binary run one at a time (see the module's documentation).
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// The root cause, shown on Leptos alone (a canary: the day Leptos scopes this flag to the
/// listing's own render, this test fails and `passerelle_server::http::route_list`'s workaround
/// can go). While one thread lists an app's routes (`RouteList::generate`, which
/// `leptos_axum::generate_route_list` calls when a router is built), a resource created on
/// another thread never loads, even after the listing has ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_leptos_listing_routes_on_one_thread_freezes_resources_created_on_another() {
    let _turn = one_at_a_time().await;
    // Lists the app's routes once, as a server start does; this also sets up Leptos's executor.
    let _ = passerelle_server::http::route_list();
    let (entered_tx, entered_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let lister = std::thread::spawn(move || {
        leptos_router::RouteList::generate(move || {
            entered_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
    });
    tokio::task::spawn_blocking(move || entered_rx.recv().unwrap()).await.unwrap();

    let owner = Owner::new();
    let during_listing = owner.with(|| Resource::new(|| (), |_| async { 42 }));
    let frozen = tokio::time::timeout(Duration::from_secs(2), async move { during_listing.await }).await;
    release_tx.send(()).unwrap();
    lister.join().unwrap();
    let after_listing = owner.with(|| Resource::new(|| (), |_| async { 42 }));
    let loaded = tokio::time::timeout(Duration::from_secs(2), async move { after_listing.await }).await;

    assert!(frozen.is_err(), "a resource created during another thread's route listing never loads");
    assert_eq!(loaded.ok(), Some(42), "a resource created after the listing loads at once");
}

/// The defect as the integration tests met it (1 run in 50 of two test processes left a page
/// unanswered): servers started in the process while another serves pages. Each start used to
/// list the routes again; now they are listed once per process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_keep_answering_while_other_servers_start_in_the_same_process() {
    let _turn = one_at_a_time().await;
    let app = spawn_app(Backend::Sqlite).await;
    let done = Arc::new(AtomicBool::new(false));
    let starter = std::thread::spawn({
        let done = done.clone();
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                for _ in 0..15 {
                    spawn_app(Backend::Sqlite).await.stop().await;
                }
            });
            done.store(true, Ordering::SeqCst);
        }
    });
    let impatient = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();

    let mut answered = 0;
    let mut unanswered = Vec::new();
    while !done.load(Ordering::SeqCst) {
        for path in ["/", "/cgu", "/connexion", "/nulle-part"] {
            match impatient.get(app.url(path)).send().await {
                Ok(_) => answered += 1,
                Err(e) => unanswered.push(format!("{path}: {e}")),
            }
        }
    }
    starter.join().unwrap();

    assert!(answered > 0, "pages were requested while servers started");
    assert!(unanswered.is_empty(), "{} of {} page requests unanswered: {unanswered:?}", unanswered.len(), answered + unanswered.len());
    app.stop().await;
}

/// The production safety net: a page whose resource never resolves (frozen here by the same
/// process-wide flag) is answered 503 with a French page after `server.request_timeout_ms`,
/// and the route is logged; once the resource can load again, so does the page.
#[tokio::test]
async fn a_page_whose_resource_never_resolves_is_answered_503_in_french_and_its_route_logged() {
    let _turn = one_at_a_time().await;
    let logs = CapturedLogs::install();
    let app = spawn_app_with(Backend::Sqlite, |s| s.server.request_timeout = std::time::Duration::from_millis(500)).await;
    assert_eq!(app.get("/cgu").await.status(), 200, "the page answers before");

    let frozen = leptos::server::SuppressResourceLoad::new();
    let stuck = app.get("/cgu").await;
    drop(frozen);
    let again = app.get("/cgu").await;

    assert_eq!(stuck.status(), 503);
    assert_eq!(stuck.headers()["cache-control"], "no-store");
    assert!(stuck.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = stuck.text().await.unwrap();
    assert!(page.contains("<html lang=\"fr\""), "{page}");
    assert!(page.contains("Le service met trop de temps à répondre"), "{page}");
    assert!(page.contains("Réessayez dans quelques minutes"), "says what to do: {page}");
    let logged = logs.text();
    assert!(
        logged.contains("no answer within the request timeout") && logged.contains("route=/cgu") && logged.contains("method=GET"),
        "the route is logged: {logged}"
    );
    assert_eq!(again.status(), 200, "the page answers again once resources load");
    app.stop().await;
}

/// What the server logs, for the current thread (a current-thread runtime runs the server there).
struct CapturedLogs {
    buffer: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl CapturedLogs {
    fn install() -> CapturedLogs {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let buffer = buffer.clone();
            move || LogWriter(buffer.clone())
        };
        let subscriber = tracing_subscriber::fmt().with_writer(writer).with_ansi(false).finish();
        CapturedLogs { buffer, _guard: tracing::subscriber::set_default(subscriber) }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap()).into_owned()
    }
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
