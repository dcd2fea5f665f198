//! What every request handler and server function can reach: the database, the settings the
//! application needs, and the bound on concurrent password hashing.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use leptos::prelude::*;
use tokio::sync::Semaphore;

use crate::db::Db;

/// The settings the application itself reads (the server binary parses and validates them).
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// Public address of the site, without trailing slash, used in emailed links.
    pub base_url: String,
    /// Development mode: `/dev/mailbox` exists, and cookies may go without `Secure` on localhost.
    pub dev_mode: bool,
    /// Proxies whose `X-Forwarded-For`/`Forwarded` name the client (`server.trusted_proxies`).
    pub trusted_proxies: Vec<crate::account::client::Cidr>,
    /// Whether the session cookie carries `Secure`.
    pub secure_cookies: bool,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends this long after login, whatever happens.
    pub session_absolute: Duration,
    /// An exceptional access to a person outside one's scope lasts the rest of the session, at
    /// most this long (`session.exceptional_access_minutes`).
    pub exceptional_access: Duration,
    /// What one person's documents and attachments may take in all (`storage.quota_per_person_mb`).
    pub storage_quota_bytes: i64,
    /// How long data is kept (`[retention]`).
    pub retention: crate::profile::retention::Retention,
    /// Extra `connect-src` origin for cargo-leptos's live-reload socket (development only).
    pub live_reload_origin: Option<String>,
    /// Keys derived from `security.secret_key`.
    pub secrets: Arc<crate::account::secrets::Secrets>,
    /// Lifetime of an activation link.
    pub activation_ttl: Duration,
    /// Lifetime of a password-reset link.
    pub reset_ttl: Duration,
    /// Accounts one address (IP) may create per hour.
    pub registrations_per_ip_per_hour: i64,
    /// Wrong passwords one network (IPv4 address, IPv6 /64) may try per hour, all accounts
    /// together: password spraying from one place slows down.
    pub login_failures_per_ip_per_hour: i64,
    /// Wrong passwords per hour from everywhere together.
    pub login_failures_per_hour: i64,
    /// The robot check's proof of work in ordinary times: the secret number is below this.
    pub robot_difficulty: u64,
    /// Registrations per hour above which the robot check asks more work of everyone.
    pub registrations_per_hour_normal: i64,
}

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<AppConfig>,
    /// At most this many argon2 computations run at once (each takes 19 MiB and a core).
    pub hashing: Arc<Semaphore>,
    /// Uploaded files (documents and message attachments).
    pub storage: crate::documents::storage::Storage,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The application state, from a server function or a page rendered on the server.
pub fn app_state() -> AppState {
    expect_context::<AppState>()
}

/// The Content-Security-Policy for an HTML page: scripts only from us, plus the hydration
/// script carrying this response's nonce; WebAssembly allowed to compile; no framing.
pub fn content_security_policy(nonce: Option<&str>, live_reload_origin: Option<&str>) -> String {
    let script = match nonce {
        Some(n) => format!("script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_string(),
    };
    let connect = match live_reload_origin {
        Some(origin) => format!("connect-src 'self' {origin}"),
        None => "connect-src 'self'".to_string(),
    };
    format!(
        "default-src 'self'; {script}; style-src 'self'; img-src 'self' data:; font-src 'self'; \
         {connect}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets this page's CSP (with its nonce) on the response being rendered.
pub fn set_page_security_headers() {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce().map(|n| n.to_string());
    let live_reload = use_context::<AppState>().and_then(|s| s.config.live_reload_origin.clone());
    let csp = content_security_policy(nonce.as_deref(), live_reload.as_deref());
    if let Ok(value) = http::HeaderValue::from_str(&csp) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The stylesheet's address. With cargo-leptos's `hash-files` (release builds), the site's files
/// carry a hash of their content in their names, listed in `hash.txt` beside the executable (as
/// Leptos reads it for the scripts): a name then always means the same bytes, which browsers may
/// keep for ever. Read once per process.
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    static HREF: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HREF.get_or_init(|| {
        let hash = options
            .hash_files
            .then(|| std::env::current_exe().ok()?.parent().map(|dir| dir.join(options.hash_file.as_ref())))
            .flatten()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|hashes| hashed("css", &hashes));
        match hash {
            Some(hash) => format!("/{}/{}.{hash}.css", options.site_pkg_dir, options.output_name),
            None => format!("/{}/{}.css", options.site_pkg_dir, options.output_name),
        }
    })
    .clone()
}

/// The hash `hash.txt` gives for the file of this `kind` ("css", "js", "wasm").
fn hashed(kind: &str, hashes: &str) -> Option<String> {
    hashes.lines().filter_map(|line| line.split_once(':')).find(|(k, _)| k.trim() == kind).map(|(_, hash)| hash.trim().to_string())
}

/// A body made of what a task sends on `receiver`, in order, ending when the task drops its
/// sender. Fused: a layer may poll a finished body once more (the compression layer does), which
/// `unfold` alone answers with a panic.
pub fn channel_body<E>(receiver: tokio::sync::mpsc::Receiver<Result<axum::body::Bytes, E>>) -> axum::body::Body
where
    E: Into<axum::BoxError> + Send + 'static,
{
    use futures_util::StreamExt;
    let pieces = futures_util::stream::unfold(receiver, |mut receiver| async move { receiver.recv().await.map(|piece| (piece, receiver)) });
    axum::body::Body::from_stream(pieces.fuse())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_hash_file_names_each_kind_of_file() {
        let hashes = "js: AbC-12_x\nwasm: ZZZ\ncss: q1w2e3\nmanifest: M\n";
        assert_eq!(super::hashed("css", hashes).as_deref(), Some("q1w2e3"));
        assert_eq!(super::hashed("wasm", hashes).as_deref(), Some("ZZZ"));
        assert_eq!(super::hashed("map", hashes), None);
    }
}
