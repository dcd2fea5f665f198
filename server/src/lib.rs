//! The `passerelle` server: settings, router, database, mail worker. `main.rs` is the CLI.

pub mod backup;
pub mod config;
pub mod http;
pub mod mail_worker;
pub mod mailbox;
pub mod metrics;

use std::net::SocketAddr;
use std::sync::Arc;

use leptos::prelude::LeptosOptions;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

use app::db::Db;
use app::state::AppState;

use crate::config::Settings;
use crate::mail_worker::MailWorker;

/// Why the server could not start, in one line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("cannot open the database (database.url): {0}")]
    Database(app::db::DbError),
    #[error("cannot update the database schema: {0}")]
    Migration(app::db::DbError),
    #[error("cannot create the file-storage folder (storage.files_dir): {0}")]
    Storage(std::io::Error),
    #[error("cannot listen on {addr} (server.listen): {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("cannot serve the metrics on {addr} (metrics.listen): {source}")]
    Metrics { addr: SocketAddr, source: std::io::Error },
}

/// A running server: its address, and how to stop it.
pub struct Running {
    pub addr: SocketAddr,
    /// Where `/metrics` is served (`metrics.listen`), if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    pub db: Db,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<()>,
    worker: JoinHandle<()>,
}

impl Running {
    /// Asks the server to stop, waits for in-flight requests and the mail worker's current
    /// email to finish, then closes the database pool.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
        let _ = self.worker.await;
        self.db.close().await;
    }

    /// Resolves when the server has stopped (after `SIGTERM` or Ctrl-C, see [`serve`]).
    pub async fn wait(self) {
        let _ = self.server.await;
        let _ = self.worker.await;
        self.db.close().await;
    }
}

/// Leptos's own options: from cargo-leptos's `LEPTOS_*` variables when it runs us, otherwise the
/// values of Cargo.toml's `[[workspace.metadata.leptos]]` so a plain `cargo run` works too.
pub fn leptos_options(settings: &Settings) -> LeptosOptions {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME", "passerelle"))
        .site_root(var("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR", "pkg"))
        // cargo-leptos's `hash-files` names the site's files by their content and lists the
        // hashes in `hash.txt` beside the executable: its presence says the build was hashed.
        .hash_files(std::env::var("LEPTOS_HASH_FILES").map(|v| v == "true").unwrap_or_else(|_| hash_file_beside_us()))
        .site_addr(settings.listen_addr().unwrap_or_else(|_| ([127, 0, 0, 1], 3000).into()))
        .build()
}

fn hash_file_beside_us() -> bool {
    std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt").is_file())).unwrap_or(false)
}

/// Opens the database, runs the migrations, binds the listener and starts the HTTP server and
/// the mail worker. Stop it with [`Running::stop`], or with `shutdown_signal` when given.
pub async fn start(
    settings: Settings,
    shutdown_signal: Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
) -> Result<Running, StartError> {
    let addr = settings.listen_addr().map_err(|e| StartError::Config(e.to_string()))?;
    let db = Db::connect(&settings.database.url, settings.database.max_connections).await.map_err(StartError::Database)?;
    db.migrate().await.map_err(StartError::Migration)?;
    match app::dashboard::search::index_missing(&db).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(accounts = n, "accounts indexed for the advisors' search"),
        Err(e) => tracing::warn!(error = %e, "cannot index accounts for the advisors' search; retried at next start"),
    }
    if let Err(e) = db.optimize().await {
        tracing::warn!(error = %e, "cannot refresh the query planner's statistics");
    }
    let storage = settings.storage().map_err(StartError::Config)?;
    if let app::documents::storage::Storage::Local { root } = &storage {
        std::fs::create_dir_all(root).map_err(StartError::Storage)?;
    }
    let worker = MailWorker::new(db.clone(), &settings).map_err(StartError::Config)?;

    let mut config = settings.app_config();
    if settings.server.dev_mode {
        if let Ok(port) = std::env::var("LEPTOS_RELOAD_PORT") {
            config.live_reload_origin = Some(format!("ws://{}:{port}", addr.ip()));
        }
    }
    let state = AppState {
        leptos_options: leptos_options(&settings),
        db: db.clone(),
        config: Arc::new(config),
        hashing: Arc::new(Semaphore::new(hashing_slots())),
        storage,
    };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| StartError::Listen { addr, source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen { addr, source })?;

    let (shutdown, stopped) = watch::channel(false);
    if let Some(signal) = shutdown_signal {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            signal.await;
            let _ = shutdown.send(true);
        });
    }
    let metrics_addr = match settings.metrics_addr().map_err(|e| StartError::Config(e.to_string()))? {
        Some(addr) => Some(metrics::serve(addr, db.clone(), stopped.clone()).await.map_err(|source| StartError::Metrics { addr, source })?.0),
        None => None,
    };
    let worker = tokio::spawn(worker.run(stopped.clone()));
    // Housekeeping, every minute: files of erased accounts whose deletion failed are tried again
    // until the store deletes them, and the daily retention job runs when due (on one server).
    let purging = state.clone();
    let mut stopped_purge = stopped.clone();
    tokio::spawn(async move {
        loop {
            app::profile::erasure::purge_files(&purging.db, &purging.storage).await;
            let _ran = app::profile::retention::run_if_due(&purging.db, &purging.storage, &purging.config).await;
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                _ = stopped_purge.wait_for(|stop| *stop) => return,
            }
        }
    });
    let app = http::router(state, settings.server.request_timeout, settings.mail.transport == config::MailTransport::Mailbox);
    let mut stopped_http = stopped;
    let server = tokio::spawn(async move {
        let graceful = async move {
            let _ = stopped_http.wait_for(|stop| *stop).await;
        };
        // Answers leave as soon as they are written: without TCP_NODELAY, the end of an answer
        // written in two parts waited for the client's delayed acknowledgement (up to 40 ms on
        // Linux; bench/assets.py measured 69 WASM answers/s on one connection).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY on a connection");
            }
        });
        if let Err(e) = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(graceful).await {
            tracing::error!(error = %e, "HTTP server stopped with an error");
        }
    });
    tracing::info!(%addr, backend = db.backend().name(), "Passerelle is listening");
    Ok(Running { addr, metrics_addr, db, shutdown, server, worker })
}

/// Concurrent argon2 computations: one per core, at least one.
fn hashing_slots() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn termination_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("stopping: finishing the requests under way");
}
