//! `passerelle`: the command line of the server.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use app::account::{password, users, Role};
use app::db::Db;
use app::domain::Email;
use passerelle_server::config::Settings;

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
    /// Manage staff accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a staff account. The password is read from the terminal (hidden) or, when the
    /// input is not a terminal, from the first line of standard input — never from arguments.
    Create {
        #[arg(long)]
        email: String,
        /// Name shown in the interface.
        #[arg(long)]
        name: String,
        /// admin or advisor.
        #[arg(long, default_value = "admin")]
        role: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let settings = match Settings::load(&cli.config, |name| std::env::var(name).ok()) {
        Ok(settings) => settings,
        Err(e) => return fail(e),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(settings).await,
            Command::Admin { command: AdminCommand::Create { email, name, role } } => {
                create_staff(settings, email, name, role).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(message),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("passerelle: {message}");
    ExitCode::from(2)
}

async fn serve(settings: Settings) -> Result<(), String> {
    let running = passerelle_server::start(settings, Some(Box::pin(passerelle_server::termination_signal())))
        .await
        .map_err(|e| e.to_string())?;
    running.wait().await;
    Ok(())
}

async fn create_staff(settings: Settings, email: String, name: String, role: String) -> Result<(), String> {
    let email = Email::parse(&email).map_err(|e| format!("--email: {e}"))?;
    let role = match Role::parse(&role) {
        Some(role @ (Role::Admin | Role::Advisor)) => role,
        _ => return Err("--role must be admin or advisor".into()),
    };
    let name = name.trim();
    if name.is_empty() {
        return Err("--name must not be empty".into());
    }
    let secret = read_password()?;
    if secret.chars().count() < 12 {
        return Err("the password must have at least 12 characters".into());
    }
    let db = Db::connect(&settings.database.url, 2)
        .await
        .map_err(|e| format!("cannot open the database (database.url): {e}"))?;
    db.migrate().await.map_err(|e| format!("cannot update the database schema: {e}"))?;
    let hashing = tokio::sync::Semaphore::new(1);
    let hash = password::hash(&hashing, secret).await.map_err(|e| e.to_string())?;
    let result = users::create(&db, &email, name, role, &hash).await;
    db.close().await;
    match result {
        Ok(_) => {
            println!("Account created for {} ({}).", email.as_str(), role.as_str());
            Ok(())
        }
        Err(users::CreateUserError::EmailTaken) => Err(format!("an account already uses {}", email.as_str())),
        Err(e) => Err(format!("cannot create the account: {e}")),
    }
}

fn read_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password (12 characters or more): ").map_err(|e| e.to_string())
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
