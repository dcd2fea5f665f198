//! The database: one pool, SQLite (default, one server) or PostgreSQL (several servers).
//!
//! Both go through sqlx's `Any` driver so that one SQL text (with `$1` placeholders, text ids,
//! integer timestamps and no booleans) serves both. Where the two must differ (`FOR UPDATE SKIP
//! LOCKED`), code asks [`Db::backend`].

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Which backend a database URL names, or `None` when it names neither.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database URL must start with sqlite: or postgres://")]
    UnknownScheme,
    #[error("cannot create the folder of the SQLite file: {0}")]
    Folder(std::io::Error),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// One set of portable migrations serves both backends; the one step whose syntax differs (the
/// audit trail's append-only triggers) runs from code after them ([`Db::migrate`]).
static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

impl Db {
    /// Opens a pool. A SQLite file (and its folder) is created when missing, put in WAL mode,
    /// and every connection enforces foreign keys.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url).ok_or(DbError::UnknownScheme)?;
        if backend == Backend::Sqlite {
            if let Some(folder) = sqlite_file_folder(url) {
                std::fs::create_dir_all(folder).map_err(DbError::Folder)?;
            }
        }
        let options = AnyConnectOptions::from_str(&sqlite_create_if_missing(url))?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        if backend == Backend::Sqlite {
            // WAL is a property of the file: set once, every connection then uses it.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        Ok(Db { pool, backend })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that will write after reading. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): two such transactions then wait for each other (busy timeout)
    /// instead of one failing with "database is locked" when both try to upgrade their read
    /// lock. PostgreSQL locks rows as they are updated and needs nothing more.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Brings the schema up to date (run at every start; already-applied steps are skipped).
    pub async fn migrate(&self) -> Result<(), DbError> {
        MIGRATIONS.run(&self.pool).await?;
        self.protect_audit_trail().await?;
        Ok(())
    }

    /// Makes the trail append-only in the database itself, whoever connects: a trigger refuses any
    /// UPDATE or DELETE of its lines (and, on PostgreSQL, a TRUNCATE). Run after the migrations at
    /// every start (the trigger syntax differs between the two databases, which share migrations).
    async fn protect_audit_trail(&self) -> Result<(), sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                for (name, event) in [("audit_log_no_update", "UPDATE"), ("audit_log_no_delete", "DELETE")] {
                    sqlx::query(&format!(
                        "CREATE TRIGGER IF NOT EXISTS {name} BEFORE {event} ON audit_log \
                         BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed or deleted'); END"
                    ))
                    .execute(&self.pool)
                    .await?;
                }
            }
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                // Several servers may start together.
                sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock(7140011)) AS locked").execute(&mut *tx).await?;
                sqlx::query(
                    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS \
                     $body$ BEGIN RAISE EXCEPTION 'the audit trail cannot be changed or deleted'; END $body$",
                )
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
                     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
                )
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log \
                     FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
                )
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Gives the query planner fresh statistics where the database does not keep them itself:
    /// SQLite analyses the tables that need it (`PRAGMA optimize`); PostgreSQL's autovacuum
    /// already does. Without them SQLite may, say, walk every person in name order to find one
    /// email address. Run at start.
    pub async fn optimize(&self) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA optimize=0x10002").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// True when the database answers a trivial query.
    pub async fn is_healthy(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The placeholders of a statement built piece by piece, and their values, numbered as they
/// are added (`$1`, `$2`…). Not `QueryBuilder<Any>`: it writes `?` placeholders, which
/// PostgreSQL refuses, whereas `$n` serves both databases through the `Any` driver.
#[derive(Default)]
pub struct Binds(pub Vec<String>);

impl Binds {
    /// Adds a value; returns its placeholder.
    pub fn add(&mut self, value: impl Into<String>) -> String {
        self.0.push(value.into());
        format!("${}", self.0.len())
    }
}

/// Current time in milliseconds since the Unix epoch: the one timestamp format of the schema.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A duration as the schema's milliseconds (saturating: a setting cannot overflow a timestamp).
pub fn as_ms(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A new random text id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The file of a `sqlite:` URL.
pub fn sqlite_path(url: &str) -> &str {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    rest.split('?').next().unwrap_or(rest)
}

fn sqlite_file_folder(url: &str) -> Option<&std::path::Path> {
    let path = sqlite_path(url);
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty())
}

fn sqlite_create_if_missing(url: &str) -> String {
    if Backend::of_url(url) == Some(Backend::Sqlite) && !url.contains("mode=") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_read_from_the_url_scheme() {
        assert_eq!(Backend::of_url("sqlite://data/p.db"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("postgres://u@h/db"), Some(Backend::Postgres));
        assert_eq!(Backend::of_url("mysql://u@h/db"), None);
    }

    #[test]
    fn sqlite_url_gains_create_mode_and_its_folder_is_found() {
        assert_eq!(sqlite_create_if_missing("sqlite://data/p.db"), "sqlite://data/p.db?mode=rwc");
        assert_eq!(sqlite_create_if_missing("sqlite://p.db?mode=ro"), "sqlite://p.db?mode=ro");
        assert_eq!(sqlite_file_folder("sqlite://data/p.db"), Some(std::path::Path::new("data")));
        assert_eq!(sqlite_file_folder("sqlite::memory:"), None);
    }
}
