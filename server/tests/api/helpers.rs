//! `spawn_app()` and what tests need around it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use app::account::activation::Activate;
use app::account::login::HeaderUser;
use app::account::registration::RegistrationOutcome;
use app::account::{password, users, Role, SessionUser};
use app::db::Db;
use app::domain::Email;
use app::error::AppError;
use http::StatusCode;
use leptos::server_fn::ServerFn;
use passerelle_server::config::{MailTransport, Settings, SmtpTls};
use passerelle_server::Running;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Runs a test body once on SQLite and once on PostgreSQL, as `<name>::sqlite` and
/// `<name>::postgres`.
macro_rules! both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    };
}
pub(crate) use both_backends;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database for one test: a SQLite file in a temporary folder, or a PostgreSQL database
/// created for this test (and dropped by [`TestDatabase::drop_database`]).
pub struct TestDatabase {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL server of the tests: `PASSERELLE_TEST_POSTGRES`, set by the test command
/// when a server answers on 127.0.0.1:5432. A PostgreSQL test without it fails: it is never
/// silently passed (the test command skips these tests by name, loudly, instead).
pub fn postgres_server_url() -> String {
    std::env::var("PASSERELLE_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "PASSERELLE_TEST_POSTGRES is not set: PostgreSQL tests need a server \
             (e.g. postgres://postgres@127.0.0.1:5432). `make test` sets it when one answers."
        )
    })
}

async fn postgres_admin(server: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(&format!("{server}/postgres")).await.expect("the test PostgreSQL server answers")
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary folder");
                let url = format!("sqlite://{}/passerelle.db", dir.path().display());
                TestDatabase { url, pg_name: None, _dir: Some(dir) }
            }
            Backend::Postgres => {
                use sqlx::Executor;
                let server = postgres_server_url();
                let name = format!("passerelle_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = postgres_admin(&server).await;
                admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("can create a test database");
                TestDatabase { url: format!("{server}/{name}"), pg_name: Some(name), _dir: None }
            }
        }
    }

    /// Removes the PostgreSQL database (its connections are cut first). No-op on SQLite,
    /// whose folder goes with the value.
    pub async fn drop_database(&self) {
        use sqlx::Executor;
        if let Some(name) = &self.pg_name {
            let mut admin = postgres_admin(&postgres_server_url()).await;
            admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await.expect("can drop the test database");
        }
    }
}

/// Settings for a test server: port 0, SMTP without TLS to `smtp_port`, fast retries.
pub fn test_settings(database_url: &str, smtp_port: u16) -> Settings {
    let mut settings = Settings::default();
    settings.server.listen = "127.0.0.1:0".into();
    settings.database.url = database_url.into();
    settings.database.max_connections = 5;
    settings.mail.transport = MailTransport::Smtp;
    settings.mail.smtp_host = "127.0.0.1".into();
    settings.mail.smtp_port = smtp_port;
    settings.mail.smtp_tls = SmtpTls::None;
    settings.mail.poll_interval = Duration::from_millis(20);
    settings.mail.retry_base = Duration::from_millis(50);
    settings.mail.retry_max = Duration::from_millis(200);
    // The least proof of work: the tests solve many challenges, unoptimised.
    settings.accounts.robot_difficulty = 1_000;
    settings.storage.files_dir = std::env::temp_dir().join(format!("passerelle-files-{}", uuid::Uuid::new_v4().simple())).display().to_string();
    settings
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub smtp: SmtpCapture,
    pub db: Db,
    pub database: TestDatabase,
    /// The folder of the local file store.
    pub files_dir: std::path::PathBuf,
    running: Option<Running>,
}

/// Starts the real server on port 0 with a fresh database and a real SMTP listener.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    upload_warnings_are_shown();
    let smtp = SmtpCapture::start(0).await;
    let database = TestDatabase::new(backend).await;
    let mut settings = test_settings(&database.url, smtp.addr.port());
    adjust(&mut settings);
    let files_dir = std::path::PathBuf::from(&settings.storage.files_dir);
    let running = passerelle_server::start(settings, None).await.expect("the server starts");
    TestApp { base: format!("http://{}", running.addr), client: client(), smtp, db: running.db.clone(), database, files_dir, running: Some(running) }
}

/// The upload reader's warnings (why a multipart body could not be read) reach the test output:
/// a refused upload's cause is then in the log of a failed run.
fn upload_warnings_are_shown() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt().with_env_filter("app::documents::files=warn").with_ansi(false).try_init();
    });
}

/// An HTTP client that keeps cookies and does not follow redirects (tests look at them).
/// The test settings' `base_url`: every test client's requests come from our pages (`Origin`).
pub const ORIGIN: &str = "http://127.0.0.1:3000";

pub fn client() -> reqwest::Client {
    client_builder().build().expect("an HTTP client")
}

/// A [`client`] whose requests come from another loopback address (`127.0.0.2`…): for the
/// server, another network.
pub fn client_from(local: std::net::IpAddr) -> reqwest::Client {
    client_builder().local_address(local).build().expect("an HTTP client")
}

fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers([(reqwest::header::ORIGIN, reqwest::header::HeaderValue::from_static(ORIGIN))].into_iter().collect())
        // A request the server never answers fails the test (naming the call) instead of hanging it.
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET answered")
    }

    /// Creates an account directly (registration comes with the accounts feature).
    pub async fn create_user(&self, email: &str, password_text: &str) -> String {
        create_user(&self.db, email, password_text).await
    }

    /// Logs in through the login server function, as a browser form post would.
    pub async fn login(&self, email: &str, password_text: &str) -> reqwest::Response {
        login(&self.client, &self.base, email, password_text).await
    }

    /// Stops the server (graceful) and drops a PostgreSQL test database.
    /// Where the server serves its metrics (`metrics.listen`), if it does.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.running.as_ref().and_then(|running| running.metrics_addr)
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
        self.smtp.stop();
        self.database.drop_database().await;
    }
}

pub async fn create_user(db: &Db, email: &str, password_text: &str) -> String {
    create_account(db, email, "Camille Martin", Role::Beneficiary, password_text).await
}

/// Creates an activated account with this role (a beneficiary has accepted the CGU and privacy
/// policy in force, as at registration).
pub async fn create_account(db: &Db, email: &str, name: &str, role: Role, password_text: &str) -> String {
    let hashing = tokio::sync::Semaphore::new(1);
    let hash = password::hash(&hashing, password_text.into()).await.expect("hashing works");
    let mut conn = db.pool().acquire().await.unwrap();
    let id = users::create(&mut conn, &Email::parse(email).unwrap(), name, role, &hash, true).await.expect("the account is created");
    if role == Role::Beneficiary {
        app::admin::service::accept_current(&mut conn, &id).await.expect("the terms are accepted");
    }
    id
}

pub async fn login(client: &reqwest::Client, base: &str, email: &str, password_text: &str) -> reqwest::Response {
    client.post(format!("{base}/api/session/login")).form(&[("email", email), ("password", password_text)]).send().await.expect("login answered")
}

/// The user the server recognises from this client's cookie (`None` when anonymous).
pub async fn whoami(client: &reqwest::Client, base: &str) -> Option<SessionUser> {
    let header: Option<HeaderUser> = client
        .post(format!("{base}/api/session/current"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .expect("current-user answered")
        .json()
        .await
        .expect("current-user answers who is logged in");
    header.map(|h| h.user)
}

/// Polls `condition` until it holds; fails with `what` after `timeout`.
pub async fn wait_until<F, Fut>(timeout: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A free port on loopback (bound then released).
pub async fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port()
}

/// One message received by the SMTP listener.
#[derive(Clone, Debug)]
pub struct CapturedEmail {
    pub to: Vec<String>,
    pub raw: String,
}

impl CapturedEmail {
    pub fn subject(&self) -> String {
        mail_parser::MessageParser::default().parse(self.raw.as_bytes()).and_then(|m| m.subject().map(str::to_string)).unwrap_or_default()
    }

    pub fn text(&self) -> String {
        mail_parser::MessageParser::default().parse(self.raw.as_bytes()).and_then(|m| m.body_text(0).map(|t| t.to_string())).unwrap_or_default()
    }
}

/// A real SMTP server on loopback that accepts every message and keeps it.
pub struct SmtpCapture {
    pub addr: SocketAddr,
    pub messages: Arc<Mutex<Vec<CapturedEmail>>>,
    tasks: Option<tokio::task::JoinHandle<()>>,
}

impl SmtpCapture {
    /// Listens on `port` (0: any free port).
    pub async fn start(port: u16) -> SmtpCapture {
        SmtpCapture::start_slow(port, Duration::ZERO).await
    }

    /// Like [`SmtpCapture::start`], but each message is acknowledged `delay` after it arrived:
    /// a mail server taking its time.
    pub async fn start_slow(port: u16, delay: Duration) -> SmtpCapture {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("SMTP listener binds");
        let addr = listener.local_addr().unwrap();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        let tasks = tokio::spawn(async move {
            let mut sessions = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                sessions.spawn(smtp_session(stream, store.clone(), delay));
            }
        });
        SmtpCapture { addr, messages, tasks: Some(tasks) }
    }

    /// Stops listening and cuts every open SMTP connection: the mail server is down.
    pub fn stop(&mut self) {
        if let Some(tasks) = self.tasks.take() {
            tasks.abort();
        }
    }

    pub fn received(&self) -> Vec<CapturedEmail> {
        self.messages.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<CapturedEmail> {
        wait_until(timeout, &format!("the SMTP listener received {count} message(s)"), || async { self.messages.lock().unwrap().len() >= count })
            .await;
        self.received()
    }
}

impl Drop for SmtpCapture {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn smtp_session(stream: TcpStream, store: Arc<Mutex<Vec<CapturedEmail>>>, delay: Duration) {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut rcpt = Vec::new();
    let mut line = String::new();
    if writer.write_all(b"220 passerelle-test ESMTP\r\n").await.is_err() {
        return;
    }
    loop {
        line.clear();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-passerelle-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if command.starts_with("HELO") || command.starts_with("MAIL FROM") || command == "NOOP" {
            b"250 OK\r\n"
        } else if command.starts_with("RSET") {
            rcpt.clear();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            let address = line.trim_end()[8..].trim().trim_start_matches('<').trim_end_matches('>');
            rcpt.push(address.to_string());
            b"250 OK\r\n"
        } else if command == "DATA" {
            if writer.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await.is_err() {
                return;
            }
            let mut raw = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                raw.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            store.lock().unwrap().push(CapturedEmail { to: std::mem::take(&mut rcpt), raw });
            tokio::time::sleep(delay).await;
            b"250 OK queued\r\n"
        } else if command == "QUIT" {
            let _ = writer.write_all(b"221 Bye\r\n").await;
            return;
        } else {
            b"502 Command not implemented\r\n"
        };
        if writer.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// A complete project, as the form posts it (`draft[key]`).
pub fn complete_project() -> Vec<(String, String)> {
    [
        ("employeur", "Boulangerie Martin"),
        ("siret", "732 829 320 00074"),
        ("contrat", "cdi"),
        ("date_entree", "01/09/2015"),
        ("poste", "Vendeuse"),
        ("metier_intitule", "Infirmière"),
        ("metier_description", "Soins & accompagnement = 100 % [humain]\nDeuxième ligne ✓ «citation» 😀"),
        ("organisme", "IFSI de Lyon"),
        ("numero_declaration", "11751234575"),
        ("certification", "Diplôme d'État d'infirmier"),
        ("code_certification", "RNCP8940"),
        ("date_debut", "01/09/2027"),
        ("date_fin", "01/07/2030"),
        ("heures_centre", "2100"),
        ("modalite", "presentiel"),
        ("cout_pedagogique", "24 000"),
        ("motivation", "Depuis toujours…"),
    ]
    .into_iter()
    .map(|(k, v)| (format!("draft[{k}]"), v.to_string()))
    .collect()
}

/// A NIR with a correct key, built from its 13 first characters (test fixtures).
pub fn nir_with_key(first13: &str) -> String {
    let n: u64 = first13.replace("2A", "19").replace("2B", "18").parse().unwrap();
    format!("{first13}{:02}", 97 - n % 97)
}

pub const GOOD_PASSWORD: &str = "marmotte violette sur le toit";

/// A complete, valid registration form; tests change what they need.
pub fn registration_form(email: &str, nir: &str) -> Vec<(String, String)> {
    [
        ("civility", "Madame"),
        ("birth_name", "Lefèvre"),
        ("usage_name", ""),
        ("first_name", "Hélène"),
        ("birth_date", "1985-07-14"),
        ("email", email),
        ("phone", "06 12 34 56 78"),
        ("nir", nir),
        ("password", GOOD_PASSWORD),
        ("password_confirm", GOOD_PASSWORD),
        ("accept_cgu", "on"),
        ("accept_privacy", "on"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Registers a beneficiary with these names and birth date, activates and logs them in.
pub async fn person(app: &TestApp, email: &str, nir13: &str, first: &str, birth: &str, born: &str) -> (String, reqwest::Client) {
    let mut form = registration_form(email, &nir_with_key(nir13));
    for (k, v) in form.iter_mut() {
        match k.as_str() {
            "first_name" => *v = first.into(),
            "birth_name" => *v = birth.into(),
            "birth_date" => *v = born.into(),
            _ => {}
        }
    }
    let (status, outcome) = app.register_with(form).await;
    assert_eq!(status, 200, "{email} registers: {outcome:?}");
    let token = app.last_link_to(email, "/activation").await;
    assert!(app.call_fn(&app.client, Activate { token }).await.0.as_u16() < 400);
    let c = client();
    assert_eq!(login(&c, &app.base, email, GOOD_PASSWORD).await.status(), 200);
    let id: String = sqlx::query_scalar("SELECT id FROM users WHERE email_normalized = $1").bind(email).fetch_one(app.db.pool()).await.unwrap();
    (id, c)
}

impl TestApp {
    /// A solved proof-of-work challenge from this server, encoded as the browser sends it.
    pub async fn robot_solution(&self) -> String {
        app::account::robot::encode_solution(&app::account::robot::solve(&self.robot_challenge(&self.client).await).expect("solvable"))
    }

    /// A robot-check challenge, as the registration page asks for one for `c`.
    pub async fn robot_challenge(&self, c: &reqwest::Client) -> app::account::robot::Challenge {
        c.post(self.url("/api/robot/challenge"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Posts the registration form (fields as the page names them, `form[...]`, some left out or
    /// wrong as a test needs), adding a solved robot check unless the fields already hold one.
    pub async fn register_with(&self, fields: Vec<(String, String)>) -> Answer<RegistrationOutcome> {
        let body = self.registration_body(fields).await;
        let borrowed: Vec<(&str, &str)> = body.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.call_as(&self.client, "account/register", &borrowed).await
    }

    /// The body the registration page posts for these fields (`form[...]`), with a solved robot
    /// check unless the fields already hold one.
    pub async fn registration_body(&self, mut fields: Vec<(String, String)>) -> Vec<(String, String)> {
        if !fields.iter().any(|(k, _)| k.starts_with("robot")) {
            fields.push(("robot_solution".into(), self.robot_solution().await));
        }
        fields.into_iter().map(|(k, v)| (format!("form[{k}]"), v)).collect()
    }

    /// Registers with a complete, valid form: what the registration led to.
    pub async fn register(&self, email: &str, nir: &str) -> RegistrationOutcome {
        let (status, outcome) = self.register_with(registration_form(email, nir)).await;
        assert_eq!(status, 200, "registration answered {status}: {outcome:?}");
        outcome.unwrap()
    }

    /// Calls the server function `F` as `c` with typed arguments, encoded as the browser encodes
    /// them: a URL-encoded form (`form[email]=…` for a nested argument) posted to `F::PATH`.
    pub async fn call_fn<F>(&self, c: &reqwest::Client, args: F) -> Answer<F::Output>
    where
        F: ServerFn + Serialize,
        F::Output: DeserializeOwned,
    {
        let body = serde_qs::to_string(&args).expect("the arguments encode as a form");
        let response = c
            .post(self.url(F::PATH))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        answer(F::PATH, response).await
    }

    /// The token of the last link to `/{path_prefix}/…` emailed to `to`.
    pub async fn last_link_to(&self, to: &str, path_prefix: &str) -> String {
        let marker = format!("{path_prefix}/");
        let mut found = None;
        wait_until(Duration::from_secs(10), &format!("an email with a {path_prefix} link reaches {to}"), || {
            let emails = self.smtp.received();
            found = emails.iter().rev().filter(|e| e.to.iter().any(|t| t == to)).find_map(|e| {
                let text = e.text();
                let start = text.find(&marker)? + marker.len();
                Some(text[start..].split_whitespace().next()?.to_string())
            });
            let done = found.is_some();
            async move { done }
        })
        .await;
        found.unwrap()
    }

    /// A new client logged in to a new account with this role (password [`GOOD_PASSWORD`]).
    pub async fn logged_in(&self, email: &str, name: &str, role: Role) -> (String, reqwest::Client) {
        let id = create_account(&self.db, email, name, role, GOOD_PASSWORD).await;
        let c = client();
        let response = login(&c, &self.base, email, GOOD_PASSWORD).await;
        assert_eq!(response.status(), 200, "{email} logs in");
        (id, c)
    }

    /// Makes the staff member `staff_id` a member of the service `service_id`
    /// ("service-accueil": the phone platform).
    pub async fn join_service(&self, staff_id: &str, service_id: &str) {
        sqlx::query("INSERT INTO staff_services (user_id, service_id) VALUES ($1, $2)")
            .bind(staff_id)
            .bind(service_id)
            .execute(self.db.pool())
            .await
            .unwrap();
    }

    /// Posts form fields made by hand (left out, unknown or wrong as a test needs) to the server
    /// function at `/api/{endpoint}` as `c`; its value is read as `T` (`IgnoredAny` when only
    /// the status matters).
    pub async fn call_as<T: DeserializeOwned>(&self, c: &reqwest::Client, endpoint: &str, fields: &[(&str, &str)]) -> Answer<T> {
        let response = c.post(self.url(&format!("/api/{endpoint}"))).form(fields).send().await.unwrap();
        answer(endpoint, response).await
    }

    /// Posts a form the way a browser without JavaScript does, from `page`, and follows the
    /// redirect back with the same cookies.
    pub async fn post_without_javascript(&self, page: &str, endpoint: &str, fields: &[(String, String)]) -> String {
        let response = self
            .client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", self.url(page))
            .form(fields)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "a plain form post is answered by a redirect, got {}", response.status());
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let target = if location.starts_with("http") { location } else { self.url(&location) };
        self.client.get(target).send().await.unwrap().text().await.unwrap()
    }

    /// Posts a multipart form as the page's script does: text `fields`, then `files` as
    /// (field, file name, bytes); the value is read as `T`.
    pub async fn upload_as<T: DeserializeOwned>(
        &self,
        c: &reqwest::Client,
        endpoint: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Vec<u8>)],
    ) -> Answer<T> {
        let response = c.post(self.url(&format!("/api/{endpoint}"))).multipart(multipart(fields, files)).send().await.unwrap();
        answer(endpoint, response).await
    }

    /// Every file in the store, partial writes included.
    pub async fn stored_files(&self) -> Vec<String> {
        app::documents::storage::Storage::local(&self.files_dir).keys().await.unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(self.db.pool()).await.unwrap()
    }

    /// Writes `count` wrong-password attempts on the account of `email`, `hours` hours ago.
    pub async fn past_failures(&self, email: &str, count: usize, hours: i64) {
        let user_id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(email).fetch_one(self.db.pool()).await.unwrap();
        for n in 0..count {
            sqlx::query("INSERT INTO login_attempts (id, user_id, at, outcome) VALUES ($1, $2, $3, 'bad_password')")
                .bind(format!("old-{n}"))
                .bind(&user_id)
                .bind(app::db::now_ms() - hours * 3_600_000)
                .execute(self.db.pool())
                .await
                .unwrap();
        }
    }
}

/// What a server function answered: the HTTP status, and the function's value or the error it
/// refused with.
pub type Answer<T> = (StatusCode, Result<T, AppError>);

/// Reads a server function's answer: a 2xx body is its value, any other is an [`AppError`]; a
/// body that is neither fails the test, showing it.
async fn answer<T: DeserializeOwned>(called: &str, response: reqwest::Response) -> Answer<T> {
    let status = response.status();
    let body = response.text().await.unwrap();
    let result = if status.is_success() {
        Ok(serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{called} answered {status} with no {}: {e}; the body: {body}", std::any::type_name::<T>())))
    } else {
        Err(serde_json::from_str(&body).unwrap_or_else(|e| panic!("{called} answered {status} with no AppError: {e}; the body: {body}")))
    };
    (status, result)
}

/// The fields a validation error names, each with its message, in order; any other answer fails
/// the test.
pub fn refused_fields<T: std::fmt::Debug>(result: &Result<T, AppError>) -> &[app::error::FieldError] {
    match result {
        Err(AppError::Validation(fields)) => fields,
        other => panic!("a validation error, got {other:?}"),
    }
}

/// The largest file an upload accepts.
pub const TEN_MB: usize = 10 * 1024 * 1024;

pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, Vec<u8>)]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    for (name, file_name, bytes) in files {
        form = form.part(name.to_string(), reqwest::multipart::Part::bytes(bytes.clone()).file_name(file_name.to_string()));
    }
    form
}

/// A CV upload to `documents/upload` written by hand, for tests that send its body in pieces
/// over a raw socket: the request head and the multipart body (a PDF of `pdf_size` bytes).
pub fn raw_cv_upload(cookie: &str, pdf_size: usize) -> (String, Vec<u8>) {
    let boundary = "----passerelle-raw";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\ncv\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cv.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend(pdf(pdf_size));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let head = format!(
        "POST /api/documents/upload HTTP/1.1\r\nHost: localhost\r\nOrigin: {ORIGIN}\r\nCookie: {cookie}\r\nAccept: application/json\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    (head, body)
}

/// A small valid-looking PDF of `size` bytes.
pub fn pdf(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(size.max(bytes.len()), b'a');
    bytes
}

pub fn png() -> Vec<u8> {
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()
}

pub async fn session_cookie(app: &TestApp, email: &str) -> String {
    use reqwest::cookie::CookieStore;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let c = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .default_headers([(reqwest::header::ORIGIN, reqwest::header::HeaderValue::from_static(ORIGIN))].into_iter().collect())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    assert_eq!(login(&c, &app.base, email, GOOD_PASSWORD).await.status(), 200);
    jar.cookies(&app.base.parse().unwrap()).unwrap().to_str().unwrap().to_string()
}

/// Every table's rows, as text (one line per row, sorted): `sql_for` gives each table's query,
/// or `None` to leave the table out.
pub async fn every_row(db: &Db, backend: Backend, sql_for: impl Fn(&str) -> Option<String>) -> std::collections::BTreeMap<String, Vec<String>> {
    use sqlx::Row;
    let list = match backend {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        Backend::Postgres => "SELECT CAST(tablename AS TEXT) FROM pg_tables WHERE schemaname = current_schema()",
    };
    let tables: Vec<String> = sqlx::query_scalar(list).fetch_all(db.pool()).await.unwrap();
    let mut all = std::collections::BTreeMap::new();
    for table in tables {
        let Some(sql) = sql_for(&table) else { continue };
        let rows = sqlx::query(&sql).fetch_all(db.pool()).await.unwrap();
        let mut lines: Vec<String> = rows
            .iter()
            .map(|row| {
                (0..row.columns().len())
                    .map(|i| {
                        if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                            format!("{v:?}")
                        } else if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                            format!("{v:?}")
                        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
                            format!("{v:?}")
                        } else if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
                            format!("{} bytes", v.map_or(0, |b| b.len()))
                        } else {
                            "?".into()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect();
        lines.sort();
        all.insert(table, lines);
    }
    all
}
