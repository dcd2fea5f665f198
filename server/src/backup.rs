//! `passerelle backup --to DIR` and `passerelle restore --from DIR` (issue 17, point 4).
//!
//! A backup is one consistent moment of the database, taken while the servers keep serving, and
//! the uploaded files that moment names:
//! - SQLite: `VACUUM INTO DIR/passerelle.db` (a transaction's view, written as a new file);
//! - PostgreSQL: `pg_dump --format=custom` into `DIR/passerelle.pgdump`, inside a
//!   `REPEATABLE READ` transaction whose snapshot it shares (`--snapshot`): the list of files is
//!   read from the very same moment;
//! - the files of the documents of that moment, read from the file store (local folder or
//!   object store) into `DIR/files/<key>`. A file erased after that moment (an erasure ran in
//!   between) is missing: it is counted, and its document is not restored as readable.
//!
//! `DIR/manifest.json` says what the backup holds. A restore goes onto an empty database of the
//! same kind, then runs the migrations (a newer `passerelle` upgrades an older backup), then puts
//! the files back into the configured file store.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use app::db::{now_ms, Backend, Db};

use crate::config::Settings;

const SQLITE_FILE: &str = "passerelle.db";
const POSTGRES_FILE: &str = "passerelle.pgdump";
const MANIFEST: &str = "manifest.json";
const FILES: &str = "files";

/// What a backup holds (`manifest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// When the database's moment was taken (ms since the epoch).
    pub taken_at: i64,
    /// The last migration applied at that moment.
    pub schema_version: i64,
    /// Files copied.
    pub files: usize,
    /// Files named at that moment but erased before they could be copied.
    pub files_erased_meanwhile: usize,
}

/// Backs up the database and files of `settings` into `to`, which must not exist or be empty.
pub async fn backup(settings: &Settings, to: &Path) -> Result<Manifest, String> {
    let backend = Backend::of_url(&settings.database.url).ok_or("database.url must start with sqlite: or postgres://")?;
    if std::fs::read_dir(to).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!("{} is not empty: a backup goes into a new folder", to.display()));
    }
    std::fs::create_dir_all(to.join(FILES)).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let db = Db::connect(&settings.database.url, 2).await.map_err(|e| format!("cannot open the database (database.url): {e}"))?;
    let taken_at = now_ms();
    let (keys, schema_version) = match backend {
        Backend::Sqlite => snapshot_sqlite(&db, &to.join(SQLITE_FILE)).await?,
        Backend::Postgres => snapshot_postgres(&db, &settings.database.url, &to.join(POSTGRES_FILE)).await?,
    };
    db.close().await;

    let storage = settings.storage()?;
    let (mut files, mut erased) = (0, 0);
    for key in keys {
        match storage.get(&key).await.map_err(|e| format!("cannot read the file {key} from the file store: {e}"))? {
            Some(bytes) => {
                let target = inside(&to.join(FILES), &key)?;
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
                }
                std::fs::write(&target, bytes).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
                files += 1;
            }
            None => erased += 1,
        }
    }
    let manifest = Manifest { backend: backend.name().to_string(), taken_at, schema_version, files, files_erased_meanwhile: erased };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    std::fs::write(to.join(MANIFEST), text).map_err(|e| format!("cannot write the manifest: {e}"))?;
    Ok(manifest)
}

/// `VACUUM INTO` the file `into`; answers the documents' keys and the schema version read from
/// the copy (the moment it holds).
async fn snapshot_sqlite(db: &Db, into: &Path) -> Result<(Vec<String>, i64), String> {
    sqlx::query("VACUUM INTO $1")
        .bind(into.display().to_string())
        .execute(db.pool())
        .await
        .map_err(|e| format!("cannot copy the SQLite database: {e}"))?;
    let copy = Db::connect(&format!("sqlite://{}", into.display()), 1).await.map_err(|e| format!("cannot open the copy: {e}"))?;
    let read = moment(copy.pool()).await;
    copy.close().await;
    read
}

/// Runs `pg_dump` into `into` on the snapshot of a `REPEATABLE READ` transaction, in which the
/// documents' keys and the schema version are read too.
async fn snapshot_postgres(db: &Db, url: &str, into: &Path) -> Result<(Vec<String>, i64), String> {
    let failed = |what: &str, e: sqlx::Error| format!("cannot {what}: {e}");
    let mut tx = db.pool().begin().await.map_err(|e| failed("open a transaction", e))?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await.map_err(|e| failed("start the snapshot", e))?;
    let snapshot: String =
        sqlx::query_scalar("SELECT pg_export_snapshot()").fetch_one(&mut *tx).await.map_err(|e| failed("export the snapshot", e))?;
    let read = moment(&mut *tx).await?;
    let dumped = tokio::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--no-privileges", "--snapshot", &snapshot, "--file"])
        .arg(into)
        .arg(format!("--dbname={url}"))
        .output()
        .await
        .map_err(|e| format!("cannot run pg_dump (Debian package postgresql-client): {e}"))?;
    tx.rollback().await.map_err(|e| failed("end the snapshot", e))?;
    if !dumped.status.success() {
        return Err(format!("pg_dump failed: {}", String::from_utf8_lossy(&dumped.stderr).trim()));
    }
    Ok(read)
}

/// The documents' storage keys and the last migration, read through `executor`.
async fn moment<'c, E>(executor: E) -> Result<(Vec<String>, i64), String>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let failed = |e: sqlx::Error| format!("cannot read the documents and the schema version: {e}");
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT storage_key, (SELECT MAX(version) FROM _sqlx_migrations) FROM documents \
         UNION ALL SELECT '', (SELECT MAX(version) FROM _sqlx_migrations) ORDER BY 1",
    )
    .fetch_all(executor)
    .await
    .map_err(failed)?;
    let version = rows.first().map(|(_, version)| *version).unwrap_or(0);
    Ok((rows.into_iter().map(|(key, _)| key).filter(|key| !key.is_empty()).collect(), version))
}

/// `key` (a storage key such as `documents/<uuid>`) as a path under `root`, refusing anything
/// that would leave it.
fn inside(root: &Path, key: &str) -> Result<PathBuf, String> {
    let relative = Path::new(key);
    if key.is_empty() || relative.components().any(|part| !matches!(part, std::path::Component::Normal(_))) {
        return Err(format!("unexpected storage key {key:?}"));
    }
    Ok(root.join(relative))
}

/// Restores the backup in `from` onto the empty database and the file store of `settings`.
pub async fn restore(settings: &Settings, from: &Path) -> Result<Manifest, String> {
    let text = std::fs::read_to_string(from.join(MANIFEST)).map_err(|e| format!("{} is not a backup ({MANIFEST}: {e})", from.display()))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| format!("{MANIFEST} cannot be read: {e}"))?;
    let backend = Backend::of_url(&settings.database.url).ok_or("database.url must start with sqlite: or postgres://")?;
    if manifest.backend != backend.name() {
        return Err(format!("this backup is of a {} database; database.url is {}", manifest.backend, backend.name()));
    }
    match backend {
        Backend::Sqlite => {
            let target = PathBuf::from(app::db::sqlite_path(&settings.database.url));
            if target.metadata().is_ok_and(|file| file.len() > 0) {
                return Err(format!("{} already exists: a restore goes onto an empty database", target.display()));
            }
            if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            std::fs::copy(from.join(SQLITE_FILE), &target).map_err(|e| format!("cannot copy the database to {}: {e}", target.display()))?;
        }
        Backend::Postgres => {
            let db = Db::connect(&settings.database.url, 1).await.map_err(|e| format!("cannot open the database (database.url): {e}"))?;
            let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()")
                .fetch_one(db.pool())
                .await
                .map_err(|e| format!("cannot read the database: {e}"))?;
            db.close().await;
            if tables > 0 {
                return Err("the database (database.url) is not empty: a restore goes onto an empty database".into());
            }
            let restored = tokio::process::Command::new("pg_restore")
                .args(["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"])
                .arg(format!("--dbname={}", settings.database.url))
                .arg(from.join(POSTGRES_FILE))
                .output()
                .await
                .map_err(|e| format!("cannot run pg_restore (Debian package postgresql-client): {e}"))?;
            if !restored.status.success() {
                return Err(format!("pg_restore failed: {}", String::from_utf8_lossy(&restored.stderr).trim()));
            }
        }
    }
    let db = Db::connect(&settings.database.url, 2).await.map_err(|e| format!("cannot open the restored database: {e}"))?;
    db.migrate().await.map_err(|e| format!("cannot update the restored database's schema: {e}"))?;
    db.close().await;

    let storage = settings.storage()?;
    let root = from.join(FILES);
    let mut pending = vec![root.clone()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|e| format!("cannot read {}: {e}", folder.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| format!("cannot read {}: {e}", folder.display()))?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let key = path.strip_prefix(&root).map_err(|e| e.to_string())?.to_string_lossy().replace('\\', "/");
            let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            storage.put(&key, bytes).await.map_err(|e| format!("cannot store the file {key}: {e}"))?;
        }
    }
    Ok(manifest)
}
