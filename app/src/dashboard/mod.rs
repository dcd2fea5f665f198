//! The advisors' dashboard (`/conseiller`): their inbox, the beneficiary search, the 360° page of
//! a person, the support actions (each kept in the audit trail), the duplicates queue and the
//! merge, and the audit trail page. Every server function here is for advisors and
//! administrators only.

#[cfg(feature = "ssr")]
pub mod audit;
#[cfg(feature = "ssr")]
pub mod merge;
pub mod page;
#[cfg(feature = "ssr")]
pub mod scope;
#[cfg(feature = "ssr")]
pub mod search;
#[cfg(feature = "ssr")]
pub mod seed;
#[cfg(feature = "ssr")]
pub mod service;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::account::Role;
use crate::documents::DocumentsView;
use crate::error::AppError;
use crate::messages::ThreadSummary;
use crate::project::{ProjectState, ProjectView};

/// Rows of one page of search results.
pub const PAGE_SIZE: i64 = 20;
/// Longest reason of a support action.
pub const REASON_MAX: usize = 500;
/// The motives of an exceptional access to a person outside one's scope (`scope::open`).
pub const EXCEPTIONAL_REASONS: [(&str, &str); 3] =
    [("appel_entrant", "Appel entrant"), ("accueil_antenne", "Accueil en antenne"), ("autre", "Autre motif")];

/// A line of the beneficiary list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeneficiaryRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub birth_date: Option<String>,
    pub project_state: Option<ProjectState>,
    pub referent_name: Option<String>,
    pub activated: bool,
    pub closed: bool,
}

/// One page of results, and the key of the next page when there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    pub rows: Vec<BeneficiaryRow>,
    pub next: Option<String>,
}

/// A staff member, as lists and filters show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct StaffItem {
    pub id: String,
    pub name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub role: Role,
}

/// What `/conseiller` shows first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    pub me: StaffItem,
    /// Threads with this advisor as referent, with their services, and those of people with no
    /// referent yet: unread first.
    pub inbox: Vec<ThreadSummary>,
    pub advisors: Vec<StaffItem>,
    pub open_duplicates: i64,
}

/// An email sent to the person, with its delivery status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct EmailLine {
    pub to: String,
    pub subject: String,
    pub queued_at: i64,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub sent_at: Option<i64>,
}

impl EmailLine {
    pub fn status_label(&self) -> String {
        match self.status {
            DeliveryStatus::Sent => "Remis au serveur de messagerie".into(),
            DeliveryStatus::Failed => format!("Échec après {} essais", self.attempts),
            DeliveryStatus::Pending if self.attempts > 0 => format!("Nouvel essai prévu ({} essais)", self.attempts),
            DeliveryStatus::Pending | DeliveryStatus::Sending => "En cours d'envoi".into(),
        }
    }
}

text_enum! {
    /// Where an email of the outbox is (its `status` column).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum DeliveryStatus {
        /// Waiting for its first or next attempt.
        Pending = "pending",
        /// Claimed by a mail worker.
        Sending = "sending",
        /// Accepted by the mail server.
        Sent = "sent",
        /// Given up: refused for good, or too many attempts.
        Failed = "failed",
    }
}

/// A login attempt and its outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptLine {
    pub at: i64,
    pub outcome: AttemptOutcome,
    /// Where it came from, as staff read it ("203.0.113.9, Firefox sous Windows"), when
    /// recorded (attempts since 3 December 2026).
    pub origin: Option<String>,
}

impl AttemptLine {
    pub fn outcome_label(&self) -> &'static str {
        match self.outcome {
            AttemptOutcome::Success => "Connexion réussie",
            AttemptOutcome::BadPassword => "Mot de passe erroné",
            AttemptOutcome::Locked => "Refusée : compte bloqué",
            AttemptOutcome::NotActivated => "Refusée : compte non activé",
            AttemptOutcome::Merged => "Refusée : compte fusionné",
            AttemptOutcome::Deactivated => "Refusée : compte désactivé",
            AttemptOutcome::NewTerms => "Nouvelles conditions à accepter",
        }
    }
}

text_enum! {
    /// How a login attempt ended (the `outcome` column of `login_attempts`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum AttemptOutcome {
        Success = "success",
        BadPassword = "bad_password",
        Locked = "locked",
        NotActivated = "not_activated",
        Merged = "merged",
        Deactivated = "deactivated",
        /// The password was right; new terms must be accepted before the session opens.
        NewTerms = "new_terms",
    }
}

/// A line of the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AuditLine {
    pub id: String,
    pub at: i64,
    pub actor_name: String,
    pub beneficiary_id: Option<String>,
    pub beneficiary_name: Option<String>,
    pub action: String,
    pub reason: String,
    pub detail: String,
}

/// An internal error someone met, found by the reference their page showed
/// (`crate::incidents`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentLine {
    /// As the person reads it: "7KQ2-M9PD".
    pub reference: String,
    pub at: i64,
    /// What was asked: the method and the route's pattern ("POST /api/messages/send").
    pub request: String,
    pub request_id: String,
    /// Whose session it was, as the reader may know it: a name, or why none is shown.
    pub who: String,
    /// The person's 360° page, when the reader reaches them.
    pub person_id: Option<String>,
}

/// The support actions, by the code forms send.
pub const ACTIONS: [(&str, &str); 11] = [
    ("renvoyer_activation", "Lien d'activation renvoyé"),
    ("envoyer_reinitialisation", "Lien de réinitialisation envoyé"),
    ("corriger_adresse", "Adresse électronique corrigée"),
    ("debloquer", "Compte débloqué"),
    ("fermer_sessions", "Sessions fermées"),
    ("attribuer_referent", "Conseiller référent attribué"),
    ("rouvrir", "Projet rouvert"),
    ("instruire", "Instruction du projet commencée"),
    ("accepter", "Décision : projet accepté"),
    ("refuser", "Décision : projet refusé"),
    ("fusionner", "Comptes fusionnés"),
];

/// The reads of a person's data the trail records (`audit::Read`), by code.
pub const READS: [(&str, &str); 6] = [
    ("lecture_fiche", "Consultation de la fiche 360°"),
    ("lecture_recherche_nir", "Recherche par NIR"),
    ("lecture_projet", "Consultation du projet"),
    ("lecture_echange", "Consultation d'un échange"),
    ("lecture_documents", "Consultation de la liste des documents"),
    ("lecture_document", "Téléchargement d'un document"),
];

/// The French label of an audited action.
pub fn action_label(code: &str) -> &str {
    match code {
        "demande_fusion_traitee" => "Demande de fusion traitée",
        "acces_exceptionnel" => "Accès exceptionnel à un dossier",
        "suppression_compte" => "Compte supprimé (données personnelles effacées)",
        "fusion_proposee" => "Fusion proposée (à approuver par un second membre du personnel)",
        "compte_personnel_cree" => "Compte du personnel créé",
        "compte_personnel_desactive" => "Compte du personnel désactivé",
        "compte_personnel_reactive" => "Compte du personnel réactivé",
        "role_modifie" => "Rôle modifié",
        "service_rejoint" => "Ajout à un service",
        "service_quitte" => "Retrait d'un service",
        "service_cree" => "Service créé",
        "service_modifie" => "Service modifié",
        "service_ferme" => "Service fermé",
        "texte_publie" => "Nouvelle version des CGU ou de la politique de confidentialité",
        _ => ACTIONS.iter().chain(READS.iter()).find(|(c, _)| *c == code).map(|(_, label)| *label).unwrap_or(code),
    }
}

/// Everything about one person, for the phone platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beneficiary360 {
    pub id: String,
    pub name: String,
    pub civility: Option<String>,
    pub first_name: Option<String>,
    pub birth_name: Option<String>,
    pub usage_name: Option<String>,
    pub birth_date: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub nir_masked: Option<String>,
    pub address: Option<String>,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub last_login_at: Option<i64>,
    pub locked_until: Option<i64>,
    /// Locked now (decided by the server's clock).
    pub locked: bool,
    pub failed_logins: i64,
    pub open_sessions: i64,
    pub closed_at: Option<i64>,
    /// The account this one was merged into: id and name.
    pub merged_into: Option<(String, String)>,
    pub referent: Option<StaffItem>,
    pub deletion_requested_at: Option<i64>,
    pub attempts: Vec<AttemptLine>,
    pub emails: Vec<EmailLine>,
    pub documents: DocumentsView,
    pub threads: Vec<ThreadSummary>,
    pub project: Option<ProjectView>,
    pub audit: Vec<AuditLine>,
    pub advisors: Vec<StaffItem>,
    /// The reason of the exceptional access this page is open under (outside the reader's
    /// scope), if any.
    pub exceptional: Option<String>,
    /// Internal errors the person met lately (their references), newest first.
    pub incidents: Vec<IncidentLine>,
}

/// One account of a suspected duplicate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct DuplicateAccount {
    pub id: String,
    pub name: String,
    pub email: String,
    pub birth_date: Option<String>,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

/// A merge request filed at registration: someone registered again with the NIR of an
/// existing account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRequestItem {
    pub id: String,
    pub existing: DuplicateAccount,
    pub contact_email: String,
    /// What the person typed (names, birth date, address), in words.
    pub submitted: String,
    pub created_at: i64,
}

/// A merge proposed by one staff member, waiting for a second one's approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeProposalItem {
    pub kept: DuplicateAccount,
    pub closed: DuplicateAccount,
    pub proposed_by: String,
    pub reason: String,
    pub proposed_at: i64,
}

/// Whether a merge needs a second staff member (four eyes), and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Approval {
    /// Same identity key, and no two different NIRs: one staff member merges.
    NotNeeded,
    /// Different people on paper: the merge is proposed, and waits for a second staff member.
    ToPropose,
    /// The caller proposed it: someone else must approve.
    ProposedByMe { at: i64 },
    /// Proposed by someone else: the caller's confirmation carries it out.
    ToApprove { by: String, reason: String, at: i64 },
}

/// The queue: merges waiting for approval, open merge requests, then groups of accounts with the
/// same name and birth date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicatesQueue {
    pub proposals: Vec<MergeProposalItem>,
    pub requests: Vec<MergeRequestItem>,
    pub suspected: Vec<Vec<DuplicateAccount>>,
}

/// What a merge will move, shown before it is confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergePlan {
    pub kept: DuplicateAccount,
    pub closed: DuplicateAccount,
    /// What moves to the kept account, in words, with counts.
    pub moves: Vec<(String, i64)>,
    /// Things to know before merging.
    pub warnings: Vec<String>,
    pub approval: Approval,
}

#[server(endpoint = "staff/dashboard")]
pub async fn dashboard() -> Result<DashboardView, AppError> {
    crate::server::serve(crate::server::STAFF, |state, me| async move { service::dashboard(&state.db, &me).await }).await
}

/// Beneficiaries whose name (accents and case ignored), email or NIR matches `q`, filtered by
/// project state (`etat`) and referent (`referent`: an id, `aucun` or empty), after the row
/// `after` names (keyset pagination).
#[server(endpoint = "staff/beneficiaries")]
pub async fn search_beneficiaries(
    #[server(default)] q: String,
    #[server(default)] etat: String,
    #[server(default)] referent: String,
    #[server(default)] after: String,
) -> Result<SearchPage, AppError> {
    crate::server::serve(crate::server::STAFF, |state, me| async move { search::search(&state, &me, &q, &etat, &referent, &after).await }).await
}

#[server(endpoint = "staff/beneficiary")]
pub async fn beneficiary(id: String) -> Result<Beneficiary360, AppError> {
    crate::server::serve(crate::server::STAFF, |state, me| async move { service::view(&state, &me, &id).await }).await
}

/// The internal error whose reference (as read out on the phone: "7KQ2-M9PD", "7kq2m9pd") is
/// `reference`; `None` when there is none.
#[server(endpoint = "staff/incident")]
pub async fn incident(#[server(default)] reference: String) -> Result<Option<IncidentLine>, AppError> {
    crate::server::serve(crate::server::STAFF, |state, me| async move { crate::incidents::find(&state.db, &me, &reference).await }).await
}

/// Runs a support action (`action`: a code of [`ACTIONS`]) on a beneficiary, with its reason,
/// and keeps it in the audit trail. `value` is the new address or the referent's id. Answers
/// what was done, in French.
#[server(endpoint = "staff/support")]
pub async fn support_action(
    id: String,
    action: String,
    #[server(default)] reason: String,
    #[server(default)] value: String,
) -> Result<String, AppError> {
    let back = format!("/conseiller/beneficiaires/{}", crate::forms::path_segment(&id));
    crate::server::serve_form(
        crate::server::STAFF,
        "support",
        vec![("reason", reason.clone()), ("value", value.clone())],
        Some(&back),
        |state, me| async move { service::support(&state, &me, &id, &action, &reason, &value).await },
    )
    .await
}

/// Opens an exceptional access to a person outside the caller's scope, for the rest of the
/// session, with its motive (a code of [`EXCEPTIONAL_REASONS`]) and details (required for
/// `autre`). Administrators and the `accueil` service only; others get "not found".
#[server(endpoint = "staff/exceptional-access")]
pub async fn exceptional_access(id: String, #[server(default)] motif: String, #[server(default)] precision: String) -> Result<(), AppError> {
    let back = format!("/conseiller/beneficiaires/{}", crate::forms::path_segment(&id));
    crate::server::serve_form(
        crate::server::STAFF,
        "exceptional-access",
        vec![("motif", motif.clone()), ("precision", precision.clone())],
        Some(&back),
        |state, me| async move { scope::open(&state, &me, &id, &motif, &precision).await },
    )
    .await
}

#[server(endpoint = "staff/duplicates")]
pub async fn duplicates() -> Result<DuplicatesQueue, AppError> {
    crate::server::serve(crate::server::STAFF, |state, _| async move { merge::queue(&state).await }).await
}

#[server(endpoint = "staff/merge/preview")]
pub async fn merge_preview(kept: String, closed: String) -> Result<MergePlan, AppError> {
    crate::server::serve(crate::server::STAFF, |state, me| async move { merge::preview(&state.db, &me, &kept, &closed).await }).await
}

/// Merges `closed` into `kept` in one transaction (`request`: the merge request this answers,
/// if any).
#[server(endpoint = "staff/merge")]
pub async fn merge_accounts(
    kept: String,
    closed: String,
    #[server(default)] reason: String,
    #[server(default)] request: String,
) -> Result<String, AppError> {
    let back = format!("/conseiller/doublons/fusion?garder={}&fermer={}", crate::forms::path_segment(&kept), crate::forms::path_segment(&closed));
    crate::server::serve_form(crate::server::STAFF, "merge", vec![("reason", reason.clone())], Some(&back), |state, me| async move {
        merge::merge(&state, &me, &kept, &closed, &reason, &request).await
    })
    .await
}

/// Closes a merge request without merging (the person's existing account was enough), with
/// the reason.
#[server(endpoint = "staff/merge-request/close")]
pub async fn close_merge_request(id: String, #[server(default)] reason: String) -> Result<(), AppError> {
    crate::server::serve_form(
        crate::server::STAFF,
        "merge-request",
        vec![("reason", reason.clone())],
        Some("/conseiller/doublons"),
        |state, me| async move { merge::close_request(&state, &me, &id, &reason).await },
    )
    .await
}

/// The audit trail, newest first, filtered by actor (id), beneficiary (id) and action (code),
/// before the line `before` names.
#[server(endpoint = "staff/audit")]
pub async fn audit_trail(
    #[server(default)] actor: String,
    #[server(default)] beneficiary: String,
    #[server(default)] action: String,
    #[server(default)] before: String,
) -> Result<(Vec<AuditLine>, Option<String>), AppError> {
    crate::server::serve(crate::server::STAFF, |state, _| async move { audit::list(&state.db, &actor, &beneficiary, &action, &before).await }).await
}

/// Where a login attempt came from, as staff read it: "203.0.113.9, Firefox sous Windows".
#[cfg(feature = "ssr")]
pub fn origin_label(ip: Option<&str>, user_agent: Option<&str>) -> Option<String> {
    match (ip, user_agent.map(browser_label)) {
        (Some(ip), Some(browser)) => Some(format!("{ip}, {browser}")),
        (Some(ip), None) => Some(ip.to_string()),
        (None, Some(browser)) => Some(browser),
        (None, None) => None,
    }
}

/// A `User-Agent` as a person reads it: the browser and the system, "navigateur inconnu" else.
#[cfg(feature = "ssr")]
pub fn browser_label(agent: &str) -> String {
    let browser = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
        .iter()
        .find(|(marker, _)| agent.contains(marker))
        .map(|(_, name)| *name);
    let system = [("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux")]
        .iter()
        .find(|(marker, _)| agent.contains(marker))
        .map(|(_, name)| *name);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} sous {system}"),
        (Some(browser), None) => browser.to_string(),
        (None, Some(system)) => format!("navigateur inconnu sous {system}"),
        (None, None) => "navigateur inconnu".to_string(),
    }
}

#[cfg(all(test, feature = "ssr"))]
mod browser_tests {
    use super::browser_label;

    #[test]
    fn common_browsers_are_named_with_their_system() {
        let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        let safari =
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
        let chrome = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
        assert_eq!(browser_label(firefox), "Firefox sous Windows");
        assert_eq!(browser_label(safari), "Safari sous iPhone");
        assert_eq!(browser_label(chrome), "Chrome sous Android");
        assert_eq!(browser_label("curl/8.5"), "navigateur inconnu");
    }
}
