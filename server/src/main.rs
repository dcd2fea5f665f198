//! `passerelle`: the command line of the server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use app::account::Role;
use app::db::Db;
use app::domain::Email;
use passerelle_server::config::{LogFormat, Settings};

#[derive(Parser)]
#[command(name = "passerelle", version, about = "Passerelle — l'espace personnel du projet de transition professionnelle")]
struct Cli {
    /// Settings file (every key can also be set by a PASSERELLE_* environment variable).
    #[arg(long, global = true, default_value = "Leptos.toml", env = "PASSERELLE_CONFIG")]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web application (the default): migrations, then HTTP server and mail worker.
    Serve,
    /// Fill the database with fake beneficiaries (French names, valid NIRs, projects in every
    /// state, referents among the existing advisors), for demonstrations and benchmarks. They all
    /// share the demo password printed at the end.
    SeedDemo {
        #[arg(long)]
        beneficiaries: u32,
        /// Seed of the random choices: the same seed gives the same people.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Check the settings without starting: one line per problem, exit code 0 when there is none.
    Check,
    /// Back up the database and the uploaded files into a new folder, while the servers keep
    /// serving: one consistent moment (SQLite `VACUUM INTO`; PostgreSQL `pg_dump` on a shared
    /// snapshot) and the files it names.
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup onto an empty database (same kind as the backup's) and the file store.
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
    /// Ask the server of these settings (`server.listen`) for `/healthz`: exit code 0 when it
    /// answers 200 (the container image's health check: it has no curl).
    Healthcheck,
    /// Manage staff accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a staff account (advisor or administrator). Prints a single-use link, also sent by
    /// email, where the person chooses their password: no password goes through the command line.
    Create {
        #[arg(long)]
        email: String,
        /// Name shown in the interface.
        #[arg(long)]
        name: String,
        /// admin or advisor.
        #[arg(long, default_value = "admin")]
        role: String,
        /// Services the person answers for, told when a beneficiary writes to them
        /// (comma-separated slugs: accueil, instruction, paiement).
        #[arg(long, value_delimiter = ',')]
        services: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = |name: &str| std::env::var(name).ok();
    if let Some(Command::Check) = cli.command {
        return check(Settings::read(&cli.config, env));
    }
    let settings = match Settings::load(&cli.config, env) {
        Ok(settings) => settings,
        Err(e) => return fail(e),
    };
    start_log(settings.log.format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(settings).await,
            Command::SeedDemo { beneficiaries, seed } => seed_demo(settings, beneficiaries, seed).await,
            Command::Check => Ok(()),
            Command::Healthcheck => healthcheck(&settings).await,
            Command::Backup { to } => passerelle_server::backup::backup(&settings, &to).await.map(|done| {
                println!(
                    "Backed up into {}: the database as of {} ms, {} file(s){}.",
                    to.display(),
                    done.taken_at,
                    done.files,
                    if done.files_erased_meanwhile > 0 { format!(", {} erased meanwhile", done.files_erased_meanwhile) } else { String::new() }
                )
            }),
            Command::Restore { from } => passerelle_server::backup::restore(&settings, &from)
                .await
                .map(|done| println!("Restored the backup of {} ms from {}: {} file(s).", done.taken_at, from.display(), done.files)),
            Command::Admin { command: AdminCommand::Create { email, name, role, services } } => {
                create_staff(settings, email, name, role, services).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(message),
    }
}

/// `passerelle healthcheck`: one `GET /healthz` to `server.listen` (a wildcard address is asked
/// on loopback), within 3 seconds.
async fn healthcheck(settings: &Settings) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut addr = settings.listen_addr().map_err(|e| e.to_string())?;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() { std::net::Ipv4Addr::LOCALHOST.into() } else { std::net::Ipv6Addr::LOCALHOST.into() });
    }
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.write_all(format!("GET /healthz HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(std::time::Duration::from_secs(3), ask)
        .await
        .map_err(|_| format!("{addr} did not answer /healthz within 3 s"))?
        .map_err(|e| format!("cannot ask {addr} for /healthz: {e}"))?;
    let status = String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string();
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(format!("{addr}/healthz answered {status:?}"))
    }
}

/// The log on standard output, as `log.format` says; `RUST_LOG` filters it.
fn start_log(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into());
    let log = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => log.init(),
        LogFormat::Json => log.json().with_current_span(true).with_span_list(false).init(),
    }
}

/// `passerelle check`: every problem of the settings, one per line.
fn check(settings: Result<Settings, passerelle_server::config::ConfigError>) -> ExitCode {
    let problems = match settings {
        Ok(settings) => settings.problems(),
        Err(e) => vec![e],
    };
    for problem in &problems {
        eprintln!("passerelle: {problem}");
    }
    if problems.is_empty() {
        println!("The settings are valid.");
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("passerelle: {message}");
    ExitCode::from(2)
}

async fn serve(settings: Settings) -> Result<(), String> {
    let running = passerelle_server::start(settings, Some(Box::pin(passerelle_server::termination_signal()))).await.map_err(|e| e.to_string())?;
    running.wait().await;
    Ok(())
}

/// The password of every demo account.
const DEMO_PASSWORD: &str = "Demo-Passerelle-2026";

async fn seed_demo(settings: Settings, beneficiaries: u32, seed: u64) -> Result<(), String> {
    if !settings.server.dev_mode {
        return Err("seed-demo fills the database with fake people: it only runs in development mode (server.dev_mode)".into());
    }
    if beneficiaries == 0 || beneficiaries > 998_000 {
        return Err("--beneficiaries must be between 1 and 998000".into());
    }
    let config = settings.app_config();
    let db = Db::connect(&settings.database.url, 2).await.map_err(|e| format!("cannot open the database (database.url): {e}"))?;
    db.migrate().await.map_err(|e| format!("cannot update the database schema: {e}"))?;
    let hashing = tokio::sync::Semaphore::new(1);
    let hash = app::account::password::hash(&hashing, DEMO_PASSWORD.to_string()).await.map_err(|e| format!("cannot hash the demo password: {e}"))?;
    let started = std::time::Instant::now();
    let result = app::dashboard::seed::seed(&db, &config.secrets, beneficiaries, &hash, seed).await;
    db.close().await;
    let created = result.map_err(|e| format!("cannot write the demo accounts: {e}"))?;
    println!(
        "{created} demo beneficiaries created in {:.1} s. Their addresses end with @exemple.fr; their password is {DEMO_PASSWORD}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn create_staff(settings: Settings, email: String, name: String, role: String, services: Vec<String>) -> Result<(), String> {
    let email = Email::parse(&email).map_err(|e| format!("--email: {e}"))?;
    let role = match Role::parse(&role) {
        Some(role @ (Role::Admin | Role::Advisor)) => role,
        _ => return Err("--role must be admin or advisor".into()),
    };
    let name = name.trim();
    if name.is_empty() {
        return Err("--name must not be empty".into());
    }
    let config = settings.app_config();
    let db = Db::connect(&settings.database.url, 2).await.map_err(|e| format!("cannot open the database (database.url): {e}"))?;
    db.migrate().await.map_err(|e| format!("cannot update the database schema: {e}"))?;
    let mut service_ids = Vec::new();
    for slug in services.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM services WHERE slug = $1")
            .bind(slug)
            .fetch_optional(db.pool())
            .await
            .map_err(|e| format!("cannot read the services: {e}"))?;
        match id {
            Some(id) => service_ids.push(id),
            None => {
                let known: Vec<String> = sqlx::query_scalar("SELECT slug FROM services ORDER BY slug").fetch_all(db.pool()).await.unwrap_or_default();
                db.close().await;
                return Err(format!("--services: no service \"{slug}\" (known: {})", known.join(", ")));
            }
        }
    }
    let result = async {
        let mut tx = db.pool().begin().await?;
        match app::admin::service::new_staff(&mut tx, &config, &email, name, role, &service_ids).await {
            Ok((_, token)) => {
                tx.commit().await?;
                Ok(Some(token))
            }
            Err(app::admin::service::NewStaffError::EmailTaken) => Ok(None),
            Err(app::admin::service::NewStaffError::Database(e)) => Err(e),
        }
    }
    .await;
    db.close().await;
    match result {
        Ok(Some(token)) => {
            println!(
                "Account created for {} ({}).\nTo choose the password, open this link (valid {} hours, once):\n{}/mot-de-passe/nouveau/{token}\nThe same link is emailed to {}.",
                email.as_str(),
                role.as_str(),
                settings.accounts.activation_link.as_secs() / 3600,
                config.base_url,
                email.as_str()
            );
            Ok(())
        }
        Ok(None) => Err(format!("an account already uses {}", email.as_str())),
        Err(e) => Err(format!("cannot create the account: {e}")),
    }
}
