//! `GET /mes-donnees/export.zip`: everything Passerelle holds about the logged-in person, as a
//! JSON file, with their documents, in one ZIP. Built from the database at the time of the
//! request; nothing is cached or kept.

use std::io::Write;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};
use sqlx::{Column, Row};

use crate::account::session::CurrentSession;
use crate::state::AppState;

/// The rows of `sql` (one `$1` bound to the user's id) as JSON objects.
async fn rows(state: &AppState, sql: &str, id: &str) -> Result<Vec<Value>, sqlx::Error> {
    let rows = sqlx::query(sql).bind(id).fetch_all(state.db.pool()).await?;
    Ok(rows
        .iter()
        .map(|row| {
            let mut object = Map::new();
            for (i, column) in row.columns().iter().enumerate() {
                let value = row
                    .try_get::<Option<i64>, _>(i)
                    .map(|v| v.map(Value::from))
                    .or_else(|_| row.try_get::<Option<String>, _>(i).map(|v| v.map(Value::from)))
                    .ok()
                    .flatten()
                    .unwrap_or(Value::Null);
                object.insert(column.name().to_string(), value);
            }
            Value::Object(object)
        })
        .collect())
}

/// Everything held about `id`, and the documents' (file name in the ZIP, storage key).
pub async fn personal_data(state: &AppState, id: &str) -> Result<(Value, Vec<(String, String)>), sqlx::Error> {
    let mut profile = rows(
        state,
        "SELECT id, email, display_name, role, civility, birth_name, usage_name, first_name, birth_date, phone, \
         address_line, postal_code, city, current_job, employer, contract_type, seniority_years, highest_diploma, \
         nir_encrypted, created_at, activated_at, last_login_at FROM users WHERE id = $1",
        id,
    )
    .await?;
    // The NIR is given back in clear to its owner; its ciphertext means nothing to them.
    if let Some(Value::Object(user)) = profile.first_mut() {
        let nir = user
            .remove("nir_encrypted")
            .and_then(|v| v.as_str().map(str::to_string))
            .and_then(|stored| state.config.secrets.decrypt_nir(&stored))
            .map(|nir| nir.as_str().to_string());
        user.insert("nir".into(), nir.map(Value::from).unwrap_or(Value::Null));
    }
    let documents = rows(
        state,
        "SELECT id, category, file_name, content_type, size_bytes, message_id, request_id, created_at, storage_key FROM documents \
         WHERE beneficiary_id = $1 ORDER BY created_at",
        id,
    )
    .await?;
    let mut files = Vec::new();
    let mut listed = Vec::new();
    for mut document in documents {
        if let Value::Object(d) = &mut document {
            let key = d.remove("storage_key").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let name = format!(
                "documents/{}-{}",
                d.get("id").and_then(Value::as_str).unwrap_or_default(),
                d.get("file_name").and_then(Value::as_str).unwrap_or_default()
            );
            d.insert("fichier_dans_l_archive".into(), Value::from(name.clone()));
            files.push((name, key));
        }
        listed.push(document);
    }
    let data = json!({
        "export": {
            "produit": "Passerelle",
            "genere_le_ms": crate::db::now_ms(),
            "contenu": "Tout ce que Passerelle conserve sur vous. Les documents sont dans le dossier documents/ de cette archive."
        },
        "profil": profile.into_iter().next().unwrap_or(Value::Null),
        "consentements": rows(state, "SELECT document, version, accepted_at FROM consents WHERE user_id = $1 ORDER BY accepted_at", id).await?,
        "connexions": rows(state, "SELECT at, outcome, ip, user_agent FROM login_attempts WHERE user_id = $1 ORDER BY at", id).await?,
        "projet": rows(state, "SELECT id, state, version, draft, created_at, updated_at, submitted_at, reopen_requested_at FROM projects WHERE beneficiary_id = $1", id).await?,
        "historique_du_projet": rows(state, "SELECT e.kind, e.from_state, e.to_state, e.reason, e.created_at, u.display_name AS par \
            FROM project_events e JOIN projects p ON p.id = e.project_id JOIN users u ON u.id = e.actor_id WHERE p.beneficiary_id = $1 ORDER BY e.created_at", id).await?,
        "conversations": rows(state, "SELECT t.id, t.subject, s.name AS service, t.created_at FROM threads t LEFT JOIN services s ON s.id = t.service_id \
            WHERE t.beneficiary_id = $1 ORDER BY t.created_at", id).await?,
        "messages": rows(state, "SELECT m.id, m.thread_id, u.display_name AS auteur, m.body, m.created_at FROM messages m JOIN threads t ON t.id = m.thread_id \
            JOIN users u ON u.id = m.author_id WHERE t.beneficiary_id = $1 ORDER BY m.created_at", id).await?,
        "documents": listed,
        "documents_demandes": rows(state, "SELECT id, category, note, due_date, status, created_at, fulfilled_at FROM document_requests WHERE beneficiary_id = $1 ORDER BY created_at", id).await?,
        // By account, not by address: the emails sent to an earlier address of the person are
        // theirs; what was sent to their current address before it was theirs is not.
        "courriels_envoyes": rows(state, "SELECT o.to_address, o.subject, o.body_text, o.status, o.created_at, o.sent_at FROM outbox o \
            WHERE o.user_id = $1 ORDER BY o.created_at", id).await?,
        "demandes_de_suppression": rows(state, "SELECT created_at, status FROM deletion_requests WHERE user_id = $1 ORDER BY created_at", id).await?,
    });
    Ok((data, files))
}

/// How long an export's claim holds at most (a server stopped mid-export leaves it behind).
const CLAIM_MS: i64 = 30 * 60 * 1000;
/// The archive leaves in pieces of this size: memory holds one document at most, not the export.
const PIECE: usize = 64 * 1024;

pub async fn export(State(state): State<AppState>, session: Option<Extension<CurrentSession>>) -> Response {
    let text = |status: StatusCode, message: &'static str| (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message).into_response();
    let Some(Extension(session)) = session else {
        return text(StatusCode::UNAUTHORIZED, "Connectez-vous pour télécharger vos données.");
    };
    let user_id = session.user.user_id.clone();
    let unavailable = |e: sqlx::Error| {
        tracing::error!(error = %e, "cannot prepare a personal-data export");
        text(StatusCode::SERVICE_UNAVAILABLE, "L'export n'a pas pu être préparé. Réessayez dans quelques minutes.")
    };
    match claim(&state, &user_id).await {
        Ok(true) => {}
        Ok(false) => {
            let mut busy = text(
                StatusCode::TOO_MANY_REQUESTS,
                "Un export de vos données est déjà en cours de téléchargement. Attendez qu'il soit terminé pour en demander un autre.",
            );
            busy.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            return busy;
        }
        Err(e) => return unavailable(e),
    }
    let (data, files) = match personal_data(&state, &user_id).await {
        Ok(found) => found,
        Err(e) => {
            release(&state, &user_id).await;
            return unavailable(e);
        }
    };
    // The archive is written as it is sent: a task writes it piece by piece into a short
    // channel, so a slow download holds the writer back instead of filling the memory.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(2);
    tokio::spawn(async move {
        match write_archive(&state, &data, files, &sender).await {
            // The claim ends before the archive's last piece leaves: once the person has the
            // whole file, they may ask for another.
            Ok(last) => {
                release(&state, &user_id).await;
                let _ = last.send(&sender).await;
            }
            // Cut short: the download stops unfinished (the browser says it failed), never a
            // truncated archive that looks whole.
            Err(e) => {
                tracing::warn!(error = %e, "a personal-data export stopped before its end");
                let _ = sender.send(Err(std::io::Error::other("export interrupted"))).await;
                release(&state, &user_id).await;
            }
        }
    });
    let mut response = Response::new(crate::state::channel_body(receiver));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"passerelle-mes-donnees.zip\""));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

/// Claims the person's export slot: false when another export of theirs is running (on any
/// server; one statement, so two requests at once cannot both claim it).
async fn claim(state: &AppState, user_id: &str) -> Result<bool, sqlx::Error> {
    let now = crate::db::now_ms();
    let claimed = sqlx::query(
        "INSERT INTO exports_running (user_id, until) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET until = excluded.until WHERE exports_running.until < $3",
    )
    .bind(user_id)
    .bind(now + CLAIM_MS)
    .bind(now)
    .execute(state.db.pool())
    .await?;
    Ok(claimed.rows_affected() == 1)
}

async fn release(state: &AppState, user_id: &str) {
    if let Err(e) = sqlx::query("DELETE FROM exports_running WHERE user_id = $1").bind(user_id).execute(state.db.pool()).await {
        tracing::warn!(error = %e, "cannot release an export's claim; it lapses by itself");
    }
}

/// What the ZIP writer has written and not yet sent.
#[derive(Clone, Default)]
struct Written(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for Written {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Written {
    /// Sends what was written; an error when the download was abandoned.
    async fn send(&self, sender: &tokio::sync::mpsc::Sender<Result<axum::body::Bytes, std::io::Error>>) -> Result<(), String> {
        let piece = std::mem::take(&mut *self.0.lock().map_err(|_| "poisoned".to_string())?);
        if piece.is_empty() {
            return Ok(());
        }
        sender.send(Ok(piece.into())).await.map_err(|_| "the download was abandoned".to_string())
    }
}

/// Writes the archive (the JSON, then each document read from the storage one at a time) to
/// `sender` in pieces of at most [`PIECE`] bytes; answers its last piece, not yet sent.
async fn write_archive(
    state: &AppState,
    data: &Value,
    files: Vec<(String, String)>,
    sender: &tokio::sync::mpsc::Sender<Result<axum::body::Bytes, std::io::Error>>,
) -> Result<Written, String> {
    let written = Written::default();
    let mut zip = zip::ZipWriter::new_stream(written.clone());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let json = serde_json::to_vec_pretty(data).map_err(|e| e.to_string())?;
    let mut next = Some(("mes-donnees.json".to_string(), json));
    let mut files = files.into_iter();
    while let Some((name, bytes)) = next.take() {
        zip.start_file(name, options).map_err(|e| e.to_string())?;
        for piece in bytes.chunks(PIECE) {
            zip.write_all(piece).map_err(|e| e.to_string())?;
            written.send(sender).await?;
        }
        drop(bytes);
        if let Some((name, key)) = files.next() {
            next = Some((name, state.storage.get(&key).await.map_err(|e| e.to_string())?.unwrap_or_default()));
        }
    }
    zip.finish().map_err(|e| e.to_string())?;
    Ok(written)
}
