//! The beneficiary's profile (address, situation, diploma, with a completion indicator), the
//! change of email address (password, then a link to the new address; the old one is told),
//! the personal-data export and the account-deletion request.

#[cfg(feature = "ssr")]
pub mod erasure;
#[cfg(feature = "ssr")]
pub mod export;
pub mod page;
#[cfg(feature = "ssr")]
pub mod retention;
#[cfg(feature = "ssr")]
pub mod service;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub use crate::project::fields::CONTRACTS;

/// Highest diploma, by level.
pub const DIPLOMAS: &[(&str, &str)] = &[
    ("aucun", "Aucun diplôme"),
    ("cap_bep", "CAP, BEP (niveau 3)"),
    ("bac", "Baccalauréat (niveau 4)"),
    ("bac2", "Bac + 2 : BTS, DUT, DEUST (niveau 5)"),
    ("licence", "Bac + 3 : licence, BUT (niveau 6)"),
    ("master", "Bac + 5 : master, ingénieur (niveau 7)"),
    ("doctorat", "Doctorat (niveau 8)"),
];

/// The fields of the profile form, in order: (name, label, autocomplete).
pub const FIELDS: &[(&str, &str, &str)] = &[
    ("address_line", "Adresse (numéro et voie)", "street-address"),
    ("postal_code", "Code postal", "postal-code"),
    ("city", "Commune", "address-level2"),
    ("phone", "Téléphone", "tel"),
    ("current_job", "Emploi actuel", "organization-title"),
    ("employer", "Employeur", "organization"),
    ("contract_type", "Type de contrat", "off"),
    ("seniority_years", "Ancienneté chez cet employeur (en années)", "off"),
    ("highest_diploma", "Diplôme le plus élevé", "off"),
];

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    pub display_name: String,
    pub email: String,
    /// Field name → value, for every entry of [`FIELDS`].
    pub values: Vec<(String, String)>,
    /// The new address waiting for its confirmation link to be used.
    pub pending_email: Option<String>,
    /// When a deletion request was filed and is still open.
    pub deletion_requested_at: Option<i64>,
}

impl ProfileView {
    pub fn value(&self, name: &str) -> String {
        self.values.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// Percentage of the profile fields filled in.
    pub fn completion(&self) -> u32 {
        let filled = FIELDS.iter().filter(|(name, _, _)| !self.value(name).trim().is_empty()).count();
        (filled * 100 / FIELDS.len()) as u32
    }
}

#[server(endpoint = "profile/get")]
pub async fn my_profile() -> Result<ProfileView, AppError> {
    crate::server::serve(crate::server::BENEFICIARY, |state, user| async move { service::get(&state.db, &user.user_id).await }).await
}

/// Saves the profile; every field is optional, each is checked. One argument per form field.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "profile/save")]
pub async fn save_profile(
    #[server(default)] address_line: String,
    #[server(default)] postal_code: String,
    #[server(default)] city: String,
    #[server(default)] phone: String,
    #[server(default)] current_job: String,
    #[server(default)] employer: String,
    #[server(default)] contract_type: String,
    #[server(default)] seniority_years: String,
    #[server(default)] highest_diploma: String,
) -> Result<u32, AppError> {
    let values: Vec<(&str, String)> = vec![
        ("address_line", address_line),
        ("postal_code", postal_code),
        ("city", city),
        ("phone", phone),
        ("current_job", current_job),
        ("employer", employer),
        ("contract_type", contract_type),
        ("seniority_years", seniority_years),
        ("highest_diploma", highest_diploma),
    ];
    crate::server::serve_form(crate::server::BENEFICIARY, "profile", values.clone(), Some("/profil"), |state, user| async move {
        service::save(&state.db, &user.user_id, &values).await
    })
    .await
}

/// Starts a change of email address: checks the password and sends a link to the new address.
#[server(endpoint = "profile/change-email")]
pub async fn change_email(#[server(default)] new_email: String, #[server(default)] password: String) -> Result<String, AppError> {
    crate::server::serve_form(
        crate::server::BENEFICIARY,
        "profile-email",
        vec![("new_email", new_email.clone())],
        Some("/profil"),
        |state, user| async move { service::start_email_change(&state, &user.user_id, &new_email, password).await },
    )
    .await
}

/// Whether the link sent to a new address can be used (the page asks for a click before using
/// it: opening a link, as a mail scanner does, changes nothing).
#[server(endpoint = "profile/email-link")]
pub async fn email_link_status(token: String) -> Result<Option<crate::account::LinkProblem>, AppError> {
    // Anyone: the emailed link works in any browser, logged in or not.
    crate::server::serve_anyone(|state| async move {
        Ok(crate::account::tokens::check(&state.db, &token, crate::account::tokens::Purpose::EmailChange).await?.err())
    })
    .await
}

/// Uses the link sent to the new address (its page's button): the account now uses it, and the
/// old one is told.
#[server(endpoint = "profile/confirm-email")]
pub async fn confirm_email(token: String) -> Result<String, AppError> {
    // Anyone: the emailed link works in any browser, logged in or not.
    crate::server::serve_form_anyone("confirm-email", vec![], None, |state| async move { service::confirm_email_change(&state, &token).await }).await
}

/// "Supprimer mon compte": files a request that an advisor handles.
#[server(endpoint = "profile/request-deletion")]
pub async fn request_deletion() -> Result<i64, AppError> {
    crate::server::serve_form(crate::server::BENEFICIARY, "profile-deletion", vec![], Some("/profil"), |state, user| async move {
        service::request_deletion(&state.db, &user.user_id).await
    })
    .await
}

/// An open account-deletion request, as advisors see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionRequest {
    pub user_id: String,
    pub name: String,
    pub requested_at: i64,
}

/// Processes a person's deletion request: their personal data is erased (see `erasure`), with
/// the staff member's reason.
#[server(endpoint = "staff/erase")]
pub async fn erase_account(id: String, #[server(default)] reason: String) -> Result<String, AppError> {
    let back = format!("/conseiller/beneficiaires/{}", crate::forms::path_segment(&id));
    crate::server::serve_form(crate::server::STAFF, "erase", vec![("reason", reason.clone())], Some(&back), |state, me| async move {
        erasure::erase(&state, &me, &id, &reason).await
    })
    .await
}

/// Open deletion requests, oldest first (staff only).
#[server(endpoint = "staff/deletion-requests")]
pub async fn deletion_requests() -> Result<Vec<DeletionRequest>, AppError> {
    crate::server::serve(crate::server::STAFF, |state, _| async move {
        let rows = service::open_deletion_requests(&state.db).await?;
        Ok(rows.into_iter().map(|(user_id, name, requested_at)| DeletionRequest { user_id, name, requested_at }).collect())
    })
    .await
}
