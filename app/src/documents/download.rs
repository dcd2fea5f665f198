//! `GET /fichiers/:id`: a stored file, for its owner and staff only, always as an attachment
//! with a safe name and `nosniff`. Anyone else gets the same 404 as for a file that does not
//! exist, so ids reveal nothing.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::files::attachment_disposition;
use crate::account::session::CurrentSession;
use crate::dashboard::{audit, scope};
use crate::error::AppError;
use crate::state::AppState;

pub async fn download(State(state): State<AppState>, Path(id): Path<String>, session: Option<Extension<CurrentSession>>) -> Response {
    let Some(Extension(session)) = session else {
        return plain(StatusCode::UNAUTHORIZED, "Connectez-vous pour télécharger ce document.");
    };
    let user = session.user;
    let file = match super::service::stored_file(&state.db, &id).await {
        Ok(Some(file)) => file,
        Ok(None) => return not_found(),
        Err(_) => return unavailable(),
    };
    // Staff outside their scope without an exceptional access get the same answer as for a
    // file that does not exist.
    let reach = match scope::reach_in(&state.db, &user, Some(&session.token_hash), &file.beneficiary_id, file.service_id.as_deref()).await {
        Ok(reach) => reach,
        Err(AppError::NotFound | AppError::Forbidden) => return not_found(),
        Err(_) => return unavailable(),
    };
    if audit::read(&state.db, &user, Some(&file.beneficiary_id), audit::Read::Download, reach.reason(), &file.file_name).await.is_err() {
        return unavailable();
    }
    let bytes = match state.storage.get(&file.storage_key).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            tracing::error!(document = %id, "a document row has no file in the store");
            return not_found();
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read a document from the store");
            return unavailable();
        }
    };
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(&file.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")));
    if let Ok(value) = HeaderValue::from_str(&attachment_disposition(&file.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

fn plain(status: StatusCode, message: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message).into_response()
}

fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "Ce document n'existe pas ou vous n'y avez pas accès.")
}

fn unavailable() -> Response {
    plain(StatusCode::SERVICE_UNAVAILABLE, "Le service est momentanément indisponible. Réessayez dans quelques minutes.")
}
