//! Backups (issue 17, point 4), on both databases: `backup` takes one consistent moment while
//! the server keeps writing, `restore` puts it back onto an empty database and file store, and
//! at rest the restored copy holds every table and file as they were.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use app::account::Role;
use app::db::Db;
use passerelle_server::backup::{backup, restore};
use passerelle_server::config::Settings;
use serde::de::IgnoredAny;

use crate::helpers::{both_backends, every_row, pdf, spawn_app, test_settings, wait_until, Backend, TestDatabase};

/// Settings naming this database and this file folder (what `passerelle` reads).
fn settings_of(url: &str, files: &Path) -> Settings {
    let mut settings = test_settings(url, 0);
    settings.storage.files_dir = files.display().to_string();
    settings
}

/// Every file under `root` (but half-written ones), by key, with its bytes.
fn files_under(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for path in entries.map(|entry| entry.unwrap().path()) {
            let key = path.strip_prefix(root).unwrap().to_string_lossy().to_string();
            if key.starts_with(".partial") {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                found.insert(key, std::fs::read(&path).unwrap());
            }
        }
    }
    found
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

async fn a_backup_taken_during_writes_restores_one_moment_and_at_rest_every_table_and_file(backend: Backend) {
    // Arrange: Camille keeps saving her project, writing and sending documents while the backup runs.
    let app = Arc::new(spawn_app(backend).await);
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", Role::Beneficiary).await;
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (app, camille, stop, writes) = (app.clone(), camille.clone(), stop.clone(), writes.clone());
        tokio::spawn(async move {
            let mut version = 0usize;
            while !stop.load(Ordering::SeqCst) {
                let text = format!("Version {version}");
                let fields = [("version", version.to_string()), ("draft[motivation]", text)];
                let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                assert_eq!(app.call_as::<IgnoredAny>(&camille, "project/save", &borrowed).await.0, 200);
                version += 1;
                let (status, _) = app
                    .upload_as::<IgnoredAny>(
                        &camille,
                        "documents/upload",
                        &[("category", "devis_formation")],
                        &[("file", "devis.pdf", pdf(1000 + version))],
                    )
                    .await;
                assert_eq!(status, 200);
                writes.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let live = settings_of(&app.database.url, &app.files_dir);
    wait_until(Duration::from_secs(30), "Camille has written a few times", || {
        let done = writes.load(Ordering::SeqCst) >= 3;
        async move { done }
    })
    .await;
    let before = count(&app.db, "SELECT COUNT(*) FROM documents").await;
    let folder = tempfile::tempdir().unwrap();

    // Act: back up while she writes; she goes on a little after it.
    let taken = backup(&live, &folder.path().join("during")).await.expect("the backup is taken while serving");
    let writes_at_the_end = writes.load(Ordering::SeqCst);
    wait_until(Duration::from_secs(30), "Camille writes again after the backup", || {
        let done = writes.load(Ordering::SeqCst) >= writes_at_the_end + 2;
        async move { done }
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    let target = TestDatabase::new(backend).await;
    let target_files = folder.path().join("restored-files");
    restore(&settings_of(&target.url, &target_files), &folder.path().join("during")).await.expect("the backup restores");
    let restored = Db::connect(&target.url, 2).await.unwrap();

    // Assert: one moment — between the writes before and after — whose every document has its file.
    let documents = count(&restored, "SELECT COUNT(*) FROM documents").await;
    let after = count(&app.db, "SELECT COUNT(*) FROM documents").await;
    assert!(before <= documents && documents < after, "the backup holds a moment of the writes: {before} ≤ {documents} < {after}");
    assert_eq!((taken.files as i64, taken.files_erased_meanwhile), (documents, 0));
    let keys: Vec<String> = sqlx::query_scalar("SELECT storage_key FROM documents").fetch_all(restored.pool()).await.unwrap();
    let copied = files_under(&target_files);
    let originals = files_under(&app.files_dir);
    for key in &keys {
        assert_eq!(copied.get(key), originals.get(key), "the file of {key} is restored as it was");
    }
    assert_eq!(copied.len(), keys.len(), "no file of a later moment");
    let version: i64 = sqlx::query_scalar("SELECT version FROM projects").fetch_one(restored.pool()).await.unwrap();
    let text: String = sqlx::query_scalar("SELECT draft FROM projects").fetch_one(restored.pool()).await.unwrap();
    assert!(text.contains(&format!("Version {}", version - 1)), "the project's text is the one of its version: {version} {text}");
    restored.close().await;

    // At rest: every table and every file, as they are.
    let at_rest = backup(&live, &folder.path().join("at-rest")).await.unwrap();
    let again = TestDatabase::new(backend).await;
    let again_files = folder.path().join("again-files");
    restore(&settings_of(&again.url, &again_files), &folder.path().join("at-rest")).await.unwrap();
    let copy = Db::connect(&again.url, 2).await.unwrap();
    let every_table = |table: &str| {
        Some(if table == "_sqlx_migrations" { "SELECT version, description FROM _sqlx_migrations".into() } else { format!("SELECT * FROM {table}") })
    };
    assert_eq!(every_row(&copy, backend, every_table).await, every_row(&app.db, backend, every_table).await);
    assert_eq!(files_under(&again_files), files_under(&app.files_dir));
    assert_eq!(at_rest.files as i64, after);

    // A backup never writes into a used folder, a restore never onto a database in use.
    let refused = backup(&live, &folder.path().join("at-rest")).await.unwrap_err();
    assert!(refused.contains("not empty"), "{refused}");
    let refused = restore(&settings_of(&again.url, &again_files), &folder.path().join("at-rest")).await.unwrap_err();
    assert!(refused.contains("empty database"), "{refused}");
    let rows_still = count(&copy, "SELECT COUNT(*) FROM documents").await;
    assert_eq!(rows_still, after, "the refused restore changed nothing");
    copy.close().await;
    target.drop_database().await;
    again.drop_database().await;
    Arc::into_inner(app).expect("the writer is done").stop().await;
}
both_backends!(a_backup_taken_during_writes_restores_one_moment_and_at_rest_every_table_and_file);
