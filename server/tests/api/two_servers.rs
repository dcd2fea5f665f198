//! The real `passerelle` binary, as separate processes: two servers on one PostgreSQL database,
//! graceful stop on SIGTERM, and a bad setting refused in one line.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use app::db::Db;
use app::mail::{enqueue, OutgoingEmail};

use crate::helpers::{client, free_port, login, wait_until, whoami, Backend, SmtpCapture, TestDatabase};

const PASSWORD: &str = "une phrase de passe assez longue";

struct ServerProcess {
    child: Child,
    base: String,
    port: u16,
    _files: tempfile::TempDir,
}

fn passerelle(database_url: &str, smtp_port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_passerelle"));
    command
        .env("PASSERELLE_CONFIG", "/dev/null") // embedded defaults, then the variables below
        .env("PASSERELLE_DATABASE_URL", database_url)
        .env("PASSERELLE_MAIL_TRANSPORT", "smtp")
        .env("PASSERELLE_MAIL_SMTP_HOST", "127.0.0.1")
        .env("PASSERELLE_MAIL_SMTP_PORT", smtp_port.to_string())
        .env("PASSERELLE_MAIL_SMTP_TLS", "none")
        .env("PASSERELLE_MAIL_POLL_INTERVAL_MS", "20")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    command
}

async fn spawn_server(database_url: &str, smtp_port: u16) -> ServerProcess {
    let port = free_port().await;
    let files = tempfile::tempdir().unwrap();
    let child = passerelle(database_url, smtp_port)
        .arg("serve")
        .env("PASSERELLE_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("PASSERELLE_STORAGE_FILES_DIR", files.path())
        .stdout(Stdio::null())
        .spawn()
        .expect("the passerelle binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let probe = client();
    wait_until(Duration::from_secs(30), "the server process answers /healthz", || async {
        matches!(probe.get(format!("{base}/healthz")).send().await, Ok(r) if r.status() == 200)
    })
    .await;
    ServerProcess { child, base, port, _files: files }
}

/// Creates a staff account with the CLI and returns the token of the printed set-up link.
async fn create_staff_with_the_cli(database_url: &str, email: &str) -> String {
    let output = passerelle(database_url, 25)
        .args(["admin", "create", "--email", email, "--name", "Alex Conseil", "--role", "advisor"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "passerelle admin create succeeds: {output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    let link = printed.lines().find(|l| l.contains("/mot-de-passe/nouveau/")).expect("a set-up link is printed");
    link.rsplit('/').next().unwrap().trim().to_string()
}

fn session_cookie(response: &reqwest::Response) -> String {
    response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_share_sessions_and_deliver_100_emails_exactly_once() {
    let database = TestDatabase::new(Backend::Postgres).await;
    let smtp = SmtpCapture::start(0).await;
    let first = spawn_server(&database.url, smtp.addr.port()).await;
    let second = spawn_server(&database.url, smtp.addr.port()).await;
    let setup = create_staff_with_the_cli(&database.url, "alex@exemple.fr").await;
    let chosen = client()
        .post(format!("{}/api/account/reset-password", second.base))
        .form(&[("token", setup.as_str()), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(chosen.status().is_success() || chosen.status().is_redirection(), "{}", chosen.status());
    smtp.wait_for(2, Duration::from_secs(20)).await; // set-up link, then "password changed"

    // Log in through the first server, be recognised by the second.
    let response = login(&client(), &first.base, "alex@exemple.fr", PASSWORD).await;
    let cookie = session_cookie(&response);
    let headers = [(reqwest::header::COOKIE, cookie.parse().unwrap()), (reqwest::header::ORIGIN, crate::helpers::ORIGIN.parse().unwrap())];
    let other = reqwest::Client::builder().default_headers(headers.into_iter().collect()).build().unwrap();
    assert_eq!(whoami(&other, &second.base).await.map(|u| u.display_name).as_deref(), Some("Alex Conseil"));

    // 100 emails queued at once; both workers deliver, none twice.
    let db = Db::connect(&database.url, 2).await.unwrap();
    let mut tx = db.pool().begin().await.unwrap();
    for n in 0..100 {
        let email = OutgoingEmail {
            to: format!("personne{n}@exemple.fr"),
            subject: format!("Message {n}"),
            text: "Bonjour".into(),
            html: "<p>Bonjour</p>".into(),
        };
        enqueue(&mut tx, &email).await.unwrap();
    }
    tx.commit().await.unwrap();

    smtp.wait_for(102, Duration::from_secs(60)).await;
    wait_until(Duration::from_secs(10), "every outbox row is marked sent", || async {
        let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent'").fetch_one(db.pool()).await.unwrap();
        sent == 102
    })
    .await;
    let mut per_subject: HashMap<String, usize> = HashMap::new();
    for email in smtp.received().iter().filter(|e| e.subject().starts_with("Message ")) {
        *per_subject.entry(email.subject()).or_default() += 1;
    }
    assert_eq!(per_subject.len(), 100);
    assert!(per_subject.values().all(|&count| count == 1), "no email was delivered twice");

    db.close().await;
    drop((first, second));
    database.drop_database().await;
}

#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish_then_the_process_exits() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let mut server = spawn_server(&database.url, 25).await;
    // A request whose body is only half sent is in flight.
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port)).await.unwrap();
    stream
        .write_all(
            b"POST /api/session/current HTTP/1.1\r\nHost: test\r\nOrigin: http://127.0.0.1:3000\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\nx=123",
        )
        .await
        .unwrap();

    let pid = server.child.id().unwrap().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().await.unwrap().success());
    wait_until(Duration::from_secs(10), "the server stops accepting connections", || async {
        tokio::net::TcpStream::connect(("127.0.0.1", server.port)).await.is_err()
    })
    .await;
    stream.write_all(b"45678").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();

    assert!(answer.starts_with("HTTP/1.1 200"), "the request in flight was answered: {answer:?}");
    let status = tokio::time::timeout(Duration::from_secs(10), server.child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "exit status {status:?}");
    let _ = &server.base;
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_with_one_line_naming_the_key() {
    let output = passerelle("sqlite::memory:", 25).env("PASSERELLE_MAIL_TRANSPORT", "pigeon").arg("serve").output().await.unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr:?}");
    assert!(lines[0].contains("mail.transport") && lines[0].contains("PASSERELLE_MAIL_TRANSPORT"));
    assert!(!stderr.contains("panicked"));
}

#[tokio::test]
async fn admin_create_links_staff_to_their_services_and_refuses_an_unknown_one() {
    let database = TestDatabase::new(Backend::Sqlite).await;

    let linked = passerelle(&database.url, 25)
        .args(["admin", "create", "--email", "accueil@exemple.fr", "--name", "Agent Accueil", "--role", "advisor", "--services", "accueil,paiement"])
        .output()
        .await
        .unwrap();
    let unknown = passerelle(&database.url, 25)
        .args(["admin", "create", "--email", "autre@exemple.fr", "--name", "Autre", "--role", "advisor", "--services", "guichet"])
        .output()
        .await
        .unwrap();

    assert!(linked.status.success(), "{linked:?}");
    assert!(!unknown.status.success());
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr).trim(),
        "passerelle: --services: no service \"guichet\" (known: accueil, instruction, paiement)"
    );
    let db = app::db::Db::connect(&database.url, 1).await.unwrap();
    let services: Vec<String> = sqlx::query_scalar(
        "SELECT s.slug FROM staff_services m JOIN services s ON s.id = m.service_id JOIN users u ON u.id = m.user_id \
         WHERE u.email = 'accueil@exemple.fr' ORDER BY s.slug",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let created: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'autre@exemple.fr'").fetch_one(db.pool()).await.unwrap();
    assert_eq!(services, ["accueil", "paiement"]);
    assert_eq!(created, 0, "nothing is created when a service is unknown");
    db.close().await;
}
