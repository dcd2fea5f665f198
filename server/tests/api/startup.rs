//! Production-safe defaults (issue 15, point 3), through the real `passerelle` binary: a public
//! address never runs in development mode, `passerelle check` lists every problem, `seed-demo`
//! only fills a development database, and `/dev/mailbox` exists only with the mailbox transport.

use std::process::{Command, Output};

use crate::helpers::{both_backends, spawn_app, Backend, TestDatabase};

/// Runs `passerelle <args>` with no settings file and these environment variables.
fn passerelle(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(["--config", "/nonexistent/Leptos.toml"])
        .args(args)
        .envs(env.iter().copied())
        .env("PASSERELLE_SERVER_LISTEN", "127.0.0.1:0")
        .output()
        .expect("the passerelle binary runs")
}

async fn serve_refuses_a_public_address_in_development_mode_in_one_line(backend: Backend) {
    // Arrange
    let database = TestDatabase::new(backend).await;
    let public = [("PASSERELLE_DATABASE_URL", database.url.as_str()), ("PASSERELLE_SERVER_BASE_URL", "https://passerelle.example")];

    // Act
    let serve = passerelle(&["serve"], &public);

    // Assert
    let said = String::from_utf8_lossy(&serve.stderr);
    assert!(!serve.status.success(), "it does not start: {said}");
    assert_eq!(said.trim().lines().count(), 1, "one line: {said}");
    assert!(said.contains("server.dev_mode") && said.contains("PASSERELLE_SERVER_DEV_MODE"), "{said}");
    database.drop_database().await;
}
both_backends!(serve_refuses_a_public_address_in_development_mode_in_one_line);

#[test]
fn check_lists_every_problem_one_per_line_and_fails() {
    // Arrange
    let broken = [
        ("PASSERELLE_SERVER_BASE_URL", "https://passerelle.example"),
        ("PASSERELLE_DATABASE_URL", "mysql://nowhere"),
        ("PASSERELLE_SESSION_IDLE_TIMEOUT_MINUTES", "0"),
    ];

    // Act
    let refused = passerelle(&["check"], &broken);
    let valid = passerelle(&["check"], &[]);

    // Assert
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    let lines: Vec<&str> = said.trim().lines().collect();
    assert_eq!(lines.len(), 3, "{said}");
    for (line, key) in lines.iter().zip(["server.dev_mode", "database.url", "session.idle_timeout_minutes"]) {
        assert!(line.contains(key), "{line} names {key}");
    }
    assert!(valid.status.success(), "the embedded defaults are valid: {}", String::from_utf8_lossy(&valid.stderr));
}

async fn seed_demo_refuses_outside_development_mode(backend: Backend) {
    // Arrange
    let database = TestDatabase::new(backend).await;
    let production = [
        ("PASSERELLE_DATABASE_URL", database.url.as_str()),
        ("PASSERELLE_SERVER_DEV_MODE", "false"),
        ("PASSERELLE_MAIL_TRANSPORT", "smtp"),
        ("PASSERELLE_SECURITY_SECRET_KEY", "a-production-secret-of-more-than-32-characters"),
    ];

    // Act
    let seeded = passerelle(&["seed-demo", "--beneficiaries", "3"], &production);

    // Assert
    let said = String::from_utf8_lossy(&seeded.stderr);
    assert!(!seeded.status.success(), "{said}");
    assert!(said.contains("development mode"), "{said}");
    database.drop_database().await;
}
both_backends!(seed_demo_refuses_outside_development_mode);

async fn the_development_mailbox_exists_only_with_the_mailbox_transport(backend: Backend) {
    // Arrange: development mode, emails sent by SMTP.
    let app = spawn_app(backend).await;

    // Act
    let mailbox = app.get("/dev/mailbox").await;

    // Assert
    assert_eq!(mailbox.status(), 404);
    app.stop().await;
}
both_backends!(the_development_mailbox_exists_only_with_the_mailbox_transport);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_log_format_json_every_line_is_json_and_names_the_request() {
    // Arrange: the real binary on a free port, SQLite in a temporary folder.
    let folder = std::env::temp_dir().join(format!("passerelle-json-log-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&folder).unwrap();
    let port = crate::helpers::free_port().await;
    let server = Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(["--config", "/nonexistent/Leptos.toml", "serve"])
        .env("PASSERELLE_LOG_FORMAT", "json")
        .env("PASSERELLE_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("PASSERELLE_DATABASE_URL", format!("sqlite://{}/p.db", folder.display()))
        .env("PASSERELLE_STORAGE_FILES_DIR", folder.join("files"))
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the passerelle binary runs");
    let health = format!("http://127.0.0.1:{port}/healthz");
    crate::helpers::wait_until(std::time::Duration::from_secs(30), "the server answers", || {
        let answer = reqwest::get(health.clone());
        async move { answer.await.is_ok_and(|answer| answer.status() == 200) }
    })
    .await;
    let request_id = reqwest::get(&health).await.unwrap().headers().get("x-request-id").map(|v| v.to_str().unwrap().to_string());
    let request_id = request_id.expect("the answer names its request");

    // Act: stop it and read what it wrote.
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let output = server.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&folder);

    // Assert
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<serde_json::Value> =
        text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))).collect();
    let answered = lines
        .iter()
        .find(|line| line["fields"]["message"] == "answered" && line["span"]["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("a line for request {request_id}: {text}"));
    assert_eq!(answered["span"]["route"], "/healthz");
    assert_eq!(answered["fields"]["status"], 200);
    assert!(answered["fields"]["latency_ms"].is_number(), "{answered}");
}

async fn healthcheck_succeeds_on_a_serving_address_and_fails_in_one_line_elsewhere(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let serving = app.base.trim_start_matches("http://").to_string();
    let closed = format!("127.0.0.1:{}", crate::helpers::free_port().await);
    let healthcheck = |listen: &str| {
        Command::new(env!("CARGO_BIN_EXE_passerelle"))
            .args(["--config", "/nonexistent/Leptos.toml", "healthcheck"])
            .env("PASSERELLE_SERVER_LISTEN", listen)
            .env("PASSERELLE_DATABASE_URL", &app.database.url)
            .output()
            .expect("the passerelle binary runs")
    };

    // Act
    let up = healthcheck(&serving);
    let down = healthcheck(&closed);

    // Assert
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    let said = String::from_utf8_lossy(&down.stderr);
    assert!(!down.status.success());
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    assert!(said.contains(&closed), "{said}");
    app.stop().await;
}
both_backends!(healthcheck_succeeds_on_a_serving_address_and_fails_in_one_line_elsewhere);
