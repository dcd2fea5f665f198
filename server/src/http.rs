//! The axum router: Leptos pages and server functions, health check, development mailbox,
//! session lookup and security headers.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::nonce::provide_nonce;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use app::account::{client, session};
use app::state::{content_security_policy, AppState};
use app::{shell, App};

/// The application's router; `dev_mailbox` adds `/dev/mailbox` (only with `mail.transport = mailbox`).
pub fn router(state: AppState, request_timeout: Duration, dev_mailbox: bool) -> Router {
    let routes = route_list();
    let options = state.leptos_options.clone();
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/fichiers/{id}", get(app::documents::download::download))
        .route(app::profile::page::EXPORT_PATH, get(app::profile::export::export));
    if dev_mailbox {
        router = router.merge(crate::mailbox::routes());
    }
    router = router.nest_service(&format!("/{}", options.site_pkg_dir), site_files(&options));
    let router = router
        .leptos_routes_with_context(&state, routes, provide_nonce, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(provide_nonce, shell))
        .layer(middleware::from_fn_with_state(state.clone(), record_incidents))
        .layer(middleware::from_fn_with_state(state.clone(), attach_session))
        .layer(middleware::from_fn_with_state(state.clone(), attach_client))
        .layer(middleware::from_fn(uploads_are_multipart))
        .layer(middleware::from_fn_with_state(
            (request_timeout, Arc::<str>::from(app::state::stylesheet_href(&state.leptos_options))),
            answer_in_time,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), nothing_personal_is_stored))
        .layer(middleware::from_fn_with_state(Arc::<str>::from(state.config.base_url.as_str()), posts_from_our_pages_only))
        .layer(middleware::from_fn(crate::metrics::measure))
        .layer(request_log())
        .layer(middleware::from_fn_with_state(state.clone(), request_id));
    let https = state.config.base_url.starts_with("https://");
    with_security_headers(router.with_state(state), https).layer(CompressionLayer::new())
}

/// Refuses (403) every `POST` that does not come from one of our pages, before anything reads
/// it: its `Origin` must be our `base_url`; without `Origin` (older browsers), `Sec-Fetch-Site`
/// must say `same-origin` or `none` (typed by the person), or else the `Referer` must be on our
/// site. Another site's form or script cannot act with the person's session, nor log them into
/// an account of the attacker's (login CSRF).
async fn posts_from_our_pages_only(State(origin): State<Arc<str>>, request: Request<Body>, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    // In a block: the borrowing closure must be gone before the request moves on (Send).
    let ours = {
        let header = |name: header::HeaderName| request.headers().get(name).and_then(|v| v.to_str().ok());
        match (header(header::ORIGIN), header(HeaderName::from_static("sec-fetch-site"))) {
            (Some(from), _) => from == &*origin,
            (None, Some(site)) => site == "same-origin" || site == "none",
            (None, None) => header(header::REFERER).is_some_and(|page| page == &*origin || page.starts_with(&format!("{origin}/"))),
        }
    };
    if ours {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "a POST from another site was refused");
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Cette demande ne vient pas d'une page de Passerelle : elle est refusée. Ouvrez le site puis réessayez.",
    )
        .into_response()
}

/// The site's static files (`/pkg/…`: WASM, JavaScript, CSS), sent as the build compressed them
/// (`cargo leptos build --precompress`: `.br` at brotli's quality 11, `.gz`), never compressed
/// again per request. Their names carry a hash of their content (`hash-files`), so browsers keep
/// them for a year without asking again; without hashes (a development build) they ask each time.
fn site_files(options: &leptos::prelude::LeptosOptions) -> axum::routing::MethodRouter {
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    let cache = HeaderValue::from_static(if options.hash_files { "public, max-age=31536000, immutable" } else { "no-cache" });
    axum::routing::get_service(files).layer(middleware::map_response(move |mut response: Response| {
        let cache = cache.clone();
        async move {
            // A missing file's 404 is not kept.
            if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
                response.headers_mut().insert(header::CACHE_CONTROL, cache);
                // The same address holds a brotli, a gzip and a plain answer: caches keep them apart.
                response.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            }
            response
        }
    }))
}

/// Answers that involve no account and no personal data: the site's static files and the health
/// check. They skip the session lookup and the incidents' recorder.
fn is_static(state: &AppState, path: &str) -> bool {
    site_file(state, path) || path == "/healthz"
}

/// Whether `path` is one of the site's static files (`/pkg/…`: WASM, JavaScript, CSS).
fn site_file(state: &AppState, path: &str) -> bool {
    path.strip_prefix('/').and_then(|rest| rest.strip_prefix(state.leptos_options.site_pkg_dir.as_ref())).is_some_and(|rest| rest.starts_with('/'))
}

/// `Cache-Control: no-store` on every answer but the site's static files, unless the handler
/// chose its own: pages and server-function answers may hold personal data, and after a logout a
/// shared computer's Back button must show nothing.
async fn nothing_personal_is_stored(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    let asset = site_file(&state, request.uri().path());
    let mut response = next.run(request).await;
    if !asset {
        response.headers_mut().entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    response
}

/// The application's routes, listed once per process.
///
/// Listing them renders the whole app once, and during that render leptos_router
/// (`RouteList::generate`) sets leptos_server's `SuppressResourceLoad`, a **process-wide** flag:
/// every resource created anywhere in the process meanwhile — in a page another server of the
/// process is rendering — gets a fetcher that waits for ever, and that page is never answered.
/// Several servers in one process (the integration tests) therefore stalled a page now and then
/// (README, "Notes: the page that never answered"). Listing once, before any router exists,
/// means no page can be rendering while the flag is up.
pub fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The request's id, on its log lines, its incidents and its answer's `X-Request-Id`.
#[derive(Clone, Debug)]
pub struct RequestId(pub Arc<str>);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives the request its id: the `X-Request-Id` a trusted proxy (`server.trusted_proxies`) sent,
/// when it is a plain one (at most 64 letters, digits, `-`, `_` or `.`), else a new one. The
/// answer carries it back.
async fn request_id(State(state): State<AppState>, mut request: Request<Body>, next: Next) -> Response {
    let peer = request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip());
    let from_proxy = peer.is_some_and(|peer| state.config.trusted_proxies.iter().any(|proxy| proxy.contains(peer)));
    let given = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| from_proxy && !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
    let id: Arc<str> = match given {
        Some(id) => id.into(),
        None => uuid::Uuid::new_v4().simple().to_string()[..16].into(),
    };
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// The request log's layer: [`request_span`] and [`log_answer`].
type RequestLog = tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    fn(&Request<Body>) -> tracing::Span,
    (),
    fn(&Response, Duration, &tracing::Span),
    (),
    (),
    (),
>;

/// A span per request — request id, method, route (its pattern: paths carry link tokens), and
/// the account once the session is known (`attach_session`) — and one line per answer with its
/// status and latency. Never a query string, a body, a token or a NIR.
fn request_log() -> RequestLog {
    tower_http::trace::TraceLayer::new_for_http()
        .make_span_with(request_span as fn(&Request<Body>) -> tracing::Span)
        .on_request(())
        .on_response(log_answer as fn(&Response, Duration, &tracing::Span))
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

fn request_span(request: &Request<Body>) -> tracing::Span {
    let id = request.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_else(|| Arc::from("-"));
    tracing::info_span!("request", request_id = %id, method = %request.method(), route = %route_of(request), user_id = tracing::field::Empty)
}

fn log_answer(response: &Response, latency: Duration, _: &tracing::Span) {
    tracing::info!(status = response.status().as_u16(), latency_ms = latency.as_secs_f64() * 1000.0, "answered");
}

/// The route's pattern of a request ("/conseiller/beneficiaires/{id}"), never its path.
pub(crate) fn route_of(request: &Request<Body>) -> String {
    request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "(no route: fallback)".to_string())
}

/// Keeps the internal errors met while answering in the `incidents` table, with this request's
/// route, id and account (`app::incidents`); the answer leaves once they are written.
async fn record_incidents(State(state): State<AppState>, mut request: Request<Body>, next: Next) -> Response {
    if is_static(&state, request.uri().path()) {
        return next.run(request).await;
    }
    let id = request.extensions().get::<RequestId>().map(|id| id.0.to_string()).unwrap_or_default();
    let user = request.extensions().get::<session::CurrentSession>().map(|current| current.user.user_id.clone());
    let recorder = app::incidents::Recorder::new(state.db.clone(), request.method().as_str(), &route_of(&request), &id, user);
    request.extensions_mut().insert(recorder.clone());
    recorder.around(next.run(request)).await
}

/// Nothing is left waiting for ever: a page, server function or download whose answer has not
/// started after `server.request_timeout_ms` is abandoned (its work is dropped) and answered 503
/// — a French page for browsers, the `Unavailable` error for the JavaScript client — and the
/// route is logged. The route's pattern is logged, never the path: paths carry link tokens.
/// Uploads are left out: reading their body takes as long as the person's connection needs
/// (10 MB on a slow mobile line is over a minute), and cutting them would lose the file.
async fn answer_in_time(State((timeout, stylesheet)): State<(Duration, Arc<str>)>, request: Request<Body>, next: Next) -> Response {
    if app::documents::files::MULTIPART_ENDPOINTS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let route = route_of(&request);
    let method = request.method().clone();
    let request_id = request.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_else(|| Arc::from("-"));
    let wants_json = request.uri().path().starts_with("/api/")
        && !request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!(%method, %route, timeout_ms = timeout.as_millis() as u64, "no answer within the request timeout: answered 503");
            too_slow(wants_json, &stylesheet, &request_id)
        }
    }
}

/// The 503 of [`answer_in_time`], its page styled by `stylesheet` and naming the request (its
/// id is made of letters, digits, `-`, `_` and `.` only: [`request_id`]).
fn too_slow(wants_json: bool, stylesheet: &str, request_id: &str) -> Response {
    let headers = [(header::CACHE_CONTROL, HeaderValue::from_static("no-store")), (header::RETRY_AFTER, HeaderValue::from_static("30"))];
    if wants_json {
        let body = serde_json::to_string(&app::error::AppError::Unavailable).unwrap_or_default();
        return (StatusCode::SERVICE_UNAVAILABLE, headers, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    (
        StatusCode::SERVICE_UNAVAILABLE,
        headers,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        TOO_SLOW_PAGE.replace("{stylesheet}", stylesheet).replace("{request}", request_id),
    )
        .into_response()
}

/// Plain HTML with the site's stylesheet: it must show even when the application cannot render.
const TOO_SLOW_PAGE: &str = r#"<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Le service met trop de temps à répondre — Passerelle</title>
<link rel="stylesheet" href="{stylesheet}">
</head>
<body>
<header class="site-header"><div class="wrap header-inner"><a class="brand" href="/"><span class="brand-name">Passerelle</span></a></div></header>
<main id="contenu" class="wrap">
<h1>Le service met trop de temps à répondre</h1>
<p>Votre demande n'a pas abouti dans le délai prévu. Ce que vous aviez déjà enregistré est conservé.</p>
<p>Réessayez dans quelques minutes : rechargez la page, ou revenez en arrière et envoyez à nouveau le formulaire.</p>
<p>Si le problème continue, <a href="/contact">contactez-nous</a> en donnant la référence de la demande : <strong>{request}</strong>.</p>
<p><a href="/">Retour à l'accueil</a></p>
</main>
</body>
</html>
"#;

/// 200 when the database answers, 503 otherwise (for load balancers and monitoring).
async fn healthz(State(state): State<AppState>) -> Response {
    if state.db.is_healthy().await {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}

/// Puts the client's address, read behind the trusted proxies, in the request's extensions
/// (`app::account::client_ip`): rate limits and the login history use it.
async fn attach_client(State(state): State<AppState>, mut request: Request<Body>, next: Next) -> Response {
    let peer = request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip());
    if let Some(peer) = peer {
        let client = client::client_address(peer, request.headers(), &state.config.trusted_proxies);
        request.extensions_mut().insert(client::ClientAddr(client));
    }
    next.run(request).await
}

/// Looks up the session named by the cookie and puts it in the request's extensions, where
/// server functions and pages find it (`app::account::session::current`). Static files skip it.
async fn attach_session(State(state): State<AppState>, mut request: Request<Body>, next: Next) -> Response {
    if !is_static(&state, request.uri().path()) {
        let token = request
            .headers()
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| session::token_from_cookie_header(&state.config, c))
            .map(str::to_string);
        if let Some(token) = token {
            // The session-expiry watcher polls this: it must not keep the session alive.
            let activity = request.uri().path() != "/api/session/time";
            match session::resolve(&state.db, &state.config, &token, activity).await {
                Ok(Some(current)) => {
                    tracing::Span::current().record("user_id", current.user.user_id.as_str());
                    request.extensions_mut().insert(current);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the session");
                    return (StatusCode::SERVICE_UNAVAILABLE, "Le service est momentanément indisponible. Réessayez dans quelques minutes.")
                        .into_response();
                }
            }
        }
    }
    next.run(request).await
}

/// An upload endpoint called without a multipart body (a hand-made call) is refused with 400
/// before the server function machinery, which cannot read it, sees it; a refused upload closes
/// its connection.
async fn uploads_are_multipart(request: Request<Body>, next: Next) -> Response {
    let path = request.uri().path();
    if app::documents::files::MULTIPART_ENDPOINTS.contains(&path) {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if !app::documents::files::is_multipart_form(content_type) {
            let body = serde_json::to_string(&app::error::AppError::BadRequest).unwrap_or_default();
            return (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        }
        // A refused upload may be answered before its body has all arrived (over the size
        // limits). The rest is still read, and thrown away, so that the client finishes sending
        // and reads the answer instead of meeting a broken pipe; and the connection is closed
        // after it (`Connection: close`), so that no next request is sent on it.
        let mut response = next.run(read_to_the_end(request)).await;
        if response.status().is_client_error() || response.status().is_server_error() {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        return response;
    }
    next.run(request).await
}

/// At most this much of a refused upload is read and thrown away, for at most this long (a
/// "lingering close"): enough for what a browser has already sent, not a way to hold the server.
const LINGER_BYTES: usize = 64 * 1024 * 1024;
const LINGER_TIME: Duration = Duration::from_secs(30);

/// The request, with a body that a task reads from the connection to its end: when the server
/// function stops reading (it refused the upload), the task goes on reading and discards the
/// rest, within [`LINGER_BYTES`] and [`LINGER_TIME`].
fn read_to_the_end(request: Request<Body>) -> Request<Body> {
    use futures_util::StreamExt;
    let (parts, body) = request.into_parts();
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, axum::Error>>(4);
    tokio::spawn(async move {
        let mut incoming = body.into_data_stream();
        while let Some(chunk) = incoming.next().await {
            let failed = chunk.is_err();
            if sender.send(chunk).await.is_err() {
                // Refused: read the rest, within limits, without keeping it.
                let mut discarded = 0usize;
                let _ = tokio::time::timeout(LINGER_TIME, async {
                    while let Some(Ok(bytes)) = incoming.next().await {
                        discarded += bytes.len();
                        if discarded > LINGER_BYTES {
                            break;
                        }
                    }
                })
                .await;
                return;
            }
            if failed {
                return;
            }
        }
    });
    Request::from_parts(parts, app::state::channel_body(receiver))
}

/// Headers on every response. Pages rendered by Leptos set their own CSP with a nonce; the
/// default here (no inline script at all) covers everything else.
/// Headers for every answer; `https`: the site is served over https only (HSTS).
fn with_security_headers(router: Router, https: bool) -> Router {
    let default_csp = HeaderValue::from_str(&content_security_policy(None, None)).expect("the CSP is a valid header value");
    let router = if https {
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ))
    } else {
        router
    };
    router
        // No other site's window keeps a handle on ours (and ours on theirs).
        .layer(SetResponseHeaderLayer::overriding(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, default_csp))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        // Reset and activation links carry tokens: a URL never leaves for another site. Same-origin
        // requests keep their Referer, which plain form posts (JavaScript off) use to come back.
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ))
}
