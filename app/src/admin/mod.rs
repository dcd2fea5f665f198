//! Administration (`/admin`, administrators only): staff accounts (create, role, services,
//! deactivate), services, and publishing a new version of the CGU or the privacy policy, which
//! beneficiaries accept at their next login. Every change is kept in the audit trail.

pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::account::Role;
use crate::error::AppError;

/// A staff account as the administration lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// Slugs of the services they belong to.
    pub services: Vec<String>,
    pub active: bool,
    /// Their password is chosen (the set-up link was used).
    pub ready: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub slug: String,
    pub name: String,
    pub active: bool,
    pub members: i64,
}

/// A published version of a legal text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct LegalVersion {
    /// `cgu` or `privacy`.
    pub document: String,
    pub version: String,
    pub summary: String,
    pub published_at: i64,
}

impl LegalVersion {
    pub fn title(&self) -> &'static str {
        document_title(&self.document)
    }
}

pub fn document_title(document: &str) -> &'static str {
    match document {
        "cgu" => "Conditions générales d'utilisation",
        _ => "Politique de confidentialité",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminView {
    pub me: String,
    pub staff: Vec<StaffMember>,
    pub services: Vec<ServiceRow>,
    /// Newest first.
    pub legal: Vec<LegalVersion>,
}

#[server(endpoint = "admin/overview")]
pub async fn overview() -> Result<AdminView, AppError> {
    use crate::server::{serve, ADMIN};
    serve(ADMIN, |state, me| async move { service::overview(&state.db, &me).await }).await
}

/// Creates a staff account (`role`: `advisor` or `admin`; `service`: a slug or empty) and emails
/// the single-use link where the person chooses their password.
#[server(endpoint = "admin/staff/create")]
pub async fn create_staff(
    #[server(default)] email: String,
    #[server(default)] name: String,
    #[server(default)] role: String,
    #[server(default)] service: String,
) -> Result<String, AppError> {
    use crate::server::{serve_form, ADMIN};
    let kept = vec![("email", email.clone()), ("name", name.clone()), ("role", role.clone()), ("service", service.clone())];
    serve_form(ADMIN, "admin-staff", kept, Some("/admin"), |state, me| async move {
        service::create_staff_member(&state, &me, &email, &name, &role, &service).await
    })
    .await
}

/// Changes a staff member: `change` is `role` (value `advisor` or `admin`), `active` (value `1`
/// or `0`), `join` or `leave` (value: a service's slug).
#[server(endpoint = "admin/staff/update")]
pub async fn update_staff(id: String, change: String, #[server(default)] value: String) -> Result<String, AppError> {
    use crate::server::{serve_form, ADMIN};
    serve_form(ADMIN, "admin", Vec::new(), Some("/admin"), |state, me| async move { service::update_staff(&state, &me, &id, &change, &value).await })
        .await
}

/// Creates a service, or renames, closes or reopens one (`active`: `1` or `0`).
#[server(endpoint = "admin/services/save")]
pub async fn save_service(
    #[server(default)] slug: String,
    #[server(default)] name: String,
    #[server(default)] active: String,
) -> Result<String, AppError> {
    use crate::server::{serve_form, ADMIN};
    let kept = vec![("slug", slug.clone()), ("name", name.clone())];
    serve_form(
        ADMIN,
        "admin-service",
        kept,
        Some("/admin"),
        |state, me| async move { service::save_service(&state, &me, &slug, &name, &active).await },
    )
    .await
}

/// Publishes a new version of the CGU (`cgu`) or the privacy policy (`privacy`): every
/// beneficiary accepts it at their next login.
#[server(endpoint = "admin/legal/publish")]
pub async fn publish_legal(
    #[server(default)] document: String,
    #[server(default)] version: String,
    #[server(default)] summary: String,
) -> Result<String, AppError> {
    use crate::server::{serve_form, ADMIN};
    let kept = vec![("document", document.clone()), ("version", version.clone()), ("summary", summary.clone())];
    serve_form(
        ADMIN,
        "admin-legal",
        kept,
        Some("/admin"),
        |state, me| async move { service::publish(&state, &me, &document, &version, &summary).await },
    )
    .await
}
