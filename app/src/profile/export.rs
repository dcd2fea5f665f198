//! `GET /mes-donnees/export.zip`: everything Passerelle holds about the logged-in person, as a
//! JSON file, with their documents, in one ZIP. Built from the database at the time of the
//! request; nothing is cached or kept.

use std::io::Write;

use axum::body::Body;
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

pub async fn export(State(state): State<AppState>, session: Option<Extension<CurrentSession>>) -> Response {
    let Some(Extension(session)) = session else {
        return (StatusCode::UNAUTHORIZED, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Connectez-vous pour télécharger vos données.")
            .into_response();
    };
    match build(&state, &session.user.user_id).await {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
            headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"passerelle-mes-donnees.zip\""));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot build a personal-data export");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "L'export n'a pas pu être préparé. Réessayez dans quelques minutes.",
            )
                .into_response()
        }
    }
}

async fn build(state: &AppState, user_id: &str) -> Result<Vec<u8>, String> {
    let (data, files) = personal_data(state, user_id).await.map_err(|e| e.to_string())?;
    let mut contents = Vec::new();
    for (name, key) in files {
        let bytes = state.storage.get(&key).await.map_err(|e| e.to_string())?.unwrap_or_default();
        contents.push((name, bytes));
    }
    let json = serde_json::to_vec_pretty(&data).map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        zip.start_file("mes-donnees.json", options).map_err(|e| e.to_string())?;
        zip.write_all(&json).map_err(|e| e.to_string())?;
        for (name, bytes) in contents {
            zip.start_file(name, options).map_err(|e| e.to_string())?;
            zip.write_all(&bytes).map_err(|e| e.to_string())?;
        }
        zip.finish().map(|cursor| cursor.into_inner()).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}
