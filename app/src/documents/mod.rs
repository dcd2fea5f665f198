//! Documents: files a beneficiary and staff exchange. Uploads are checked by content (PDF,
//! JPEG, PNG, 10 Mo at most) and stored whole or not at all; downloads are for the owner and
//! staff only, always as attachments. Staff can ask for a document ("pièce demandée").

#[cfg(feature = "ssr")]
pub mod download;
#[cfg(feature = "ssr")]
pub mod emails;
pub mod files;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod storage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::account::Role;
use crate::error::AppError;

text_enum! {
    /// What a document is, as the beneficiary files it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum Category {
        Identity = "piece_identite",
        TrainingQuote = "devis_formation",
        Payslips = "bulletins_salaire",
        LeaveAuthorisation = "autorisation_absence",
        Cv = "cv",
        Other = "autre",
    }
}

impl Category {
    pub fn label(self) -> &'static str {
        match self {
            Category::Identity => "Pièce d'identité",
            Category::TrainingQuote => "Devis de formation",
            Category::Payslips => "Bulletins de salaire",
            Category::LeaveAuthorisation => "Autorisation d'absence",
            Category::Cv => "CV",
            Category::Other => "Autre",
        }
    }
}

/// A stored file, as lists show it. `download` is its address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentItem {
    pub id: String,
    pub category: Category,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_by_name: String,
    /// Posted by staff for the beneficiary.
    pub from_staff: bool,
    pub created_at: i64,
}

impl DocumentItem {
    pub fn download(&self) -> String {
        download_path(&self.id)
    }
}

pub fn download_path(id: &str) -> String {
    format!("/fichiers/{id}")
}

/// A document staff asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestItem {
    pub id: String,
    pub category: Category,
    pub note: String,
    /// YYYY-MM-DD
    pub due_date: Option<String>,
    pub received: bool,
    pub requested_by_name: String,
    pub created_at: i64,
}

/// Everything a documents page shows for one beneficiary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentsView {
    pub beneficiary_id: String,
    pub beneficiary_name: String,
    /// Newest first; message attachments are not listed here (they are in their message).
    pub documents: Vec<DocumentItem>,
    /// Open requests first, then the received ones.
    pub requests: Vec<RequestItem>,
    /// What the person's documents and attachments take, and may take at most (bytes).
    pub used_bytes: i64,
    pub quota_bytes: i64,
}

/// The logged-in beneficiary's documents and the documents asked of them.
#[server(endpoint = "documents/list")]
pub async fn my_documents() -> Result<DocumentsView, AppError> {
    crate::server::serve(crate::server::BENEFICIARY, |state, user| async move { service::view(&state, &user.user_id).await }).await
}

/// A beneficiary's documents, for staff.
#[server(endpoint = "staff/documents")]
pub async fn staff_documents(beneficiary_id: String) -> Result<DocumentsView, AppError> {
    crate::server::serve(crate::server::STAFF, |state, staff| async move {
        crate::dashboard::scope::read(&state.db, &staff, &beneficiary_id, None, crate::dashboard::audit::Read::Documents, "").await?;
        let documents = service::view(&state, &beneficiary_id).await?;
        Ok(documents)
    })
    .await
}

/// Uploads one document (multipart: `category`, `file`, and `request_id` when it answers a
/// request). A beneficiary files it in their own file; staff post it to `beneficiary_id`.
#[server(endpoint = "documents/upload", input = leptos::server_fn::codec::MultipartFormData)]
pub async fn upload_document(data: leptos::server_fn::codec::MultipartData) -> Result<String, AppError> {
    let mut back = "/documents".to_string();
    let back_to = &mut back;
    let result = crate::server::admitted(crate::server::SIGNED_IN, |state, user| async move {
        let received = files::receive(data, 1).await?;
        let beneficiary_id = if user.role == Role::Beneficiary {
            user.user_id.clone()
        } else {
            let id = received.field("beneficiary_id");
            *back_to = format!("/conseiller/documents/{}", crate::forms::path_segment(&id));
            id
        };
        service::upload(&state, &user, &beneficiary_id, received).await
    })
    .await;
    crate::forms::respond("documents-upload", vec![], Some(&back), result).await
}

/// Asks a beneficiary for a document, with what it should be and by when; they are told by email.
#[server(endpoint = "staff/documents/request")]
pub async fn request_document(
    beneficiary_id: String,
    #[server(default)] category: String,
    #[server(default)] note: String,
    #[server(default)] due_date: String,
) -> Result<String, AppError> {
    let back = format!("/conseiller/documents/{}", crate::forms::path_segment(&beneficiary_id));
    let values = vec![("category", category.clone()), ("note", note.clone()), ("due_date", due_date.clone())];
    crate::server::serve_form(crate::server::STAFF, "documents-request", values, Some(&back), |state, staff| async move {
        service::request(&state, &staff, &beneficiary_id, &category, &note, &due_date).await
    })
    .await
}
