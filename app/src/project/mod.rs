//! The "projet de transition professionnelle": one per beneficiary, written in sections,
//! saved as a draft as it is typed, then submitted, reviewed and decided by advisors.
//!
//! Every server function derives what it touches from the session: a beneficiary's functions
//! take no project id (there is only theirs), and staff functions check the role.

pub mod advisor_pages;
pub mod autosave;
#[cfg(feature = "ssr")]
pub mod emails;
pub mod fields;
pub mod page;
pub mod recap;
#[cfg(feature = "ssr")]
pub mod service;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::account::Role;
use crate::error::AppError;
pub use fields::Draft;

text_enum! {
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum ProjectState {
        Draft = "brouillon",
        Submitted = "soumis",
        UnderReview = "en_instruction",
        Reopened = "rouvert",
        Accepted = "accepte",
        Refused = "refuse",
    }
}

text_enum! {
    /// What can happen to a project. `Submit` is the beneficiary's; the others are staff's.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum Transition {
        Submit = "soumettre",
        StartReview = "instruire",
        Reopen = "rouvrir",
        Accept = "accepter",
        Refuse = "refuser",
    }
}

impl ProjectState {
    pub fn label(self) -> &'static str {
        match self {
            ProjectState::Draft => "Brouillon",
            ProjectState::Submitted => "Soumis",
            ProjectState::UnderReview => "En instruction",
            ProjectState::Reopened => "Rouvert",
            ProjectState::Accepted => "Accepté",
            ProjectState::Refused => "Refusé",
        }
    }

    /// The beneficiary can change the text only in these states.
    pub fn editable(self) -> bool {
        matches!(self, ProjectState::Draft | ProjectState::Reopened)
    }

    /// The state after `transition`, or `None` when it is not allowed from this state.
    pub fn after(self, transition: Transition) -> Option<ProjectState> {
        use ProjectState::*;
        match (self, transition) {
            (Draft | Reopened, Transition::Submit) => Some(Submitted),
            (Submitted, Transition::StartReview) => Some(UnderReview),
            (Submitted | UnderReview, Transition::Reopen) => Some(Reopened),
            (UnderReview, Transition::Accept) => Some(Accepted),
            (UnderReview, Transition::Refuse) => Some(Refused),
            _ => None,
        }
    }
}

impl Transition {
    /// Staff must say why they reopen or decide.
    pub fn needs_reason(self) -> bool {
        matches!(self, Transition::Reopen | Transition::Accept | Transition::Refuse)
    }
}

/// One line of a project's history: who did what, when, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ProjectEvent {
    pub at: i64,
    pub actor_name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub actor_role: Role,
    /// A transition (`soumettre`, `instruire`…) or `reouverture_demandee`.
    pub kind: String,
    pub reason: Option<String>,
}

impl ProjectEvent {
    pub fn describe(&self) -> String {
        let who = match self.actor_role {
            Role::Beneficiary => format!("{} (bénéficiaire)", self.actor_name),
            _ => format!("{} (conseiller)", self.actor_name),
        };
        let what = match self.kind.as_str() {
            "soumettre" => "Projet soumis",
            "instruire" => "Instruction commencée",
            "rouvrir" => "Projet rouvert",
            "accepter" => "Décision : accepté",
            "refuser" => "Décision : refusé",
            "reouverture_demandee" => "Réouverture demandée",
            _ => "Événement",
        };
        format!("{what} par {who}")
    }
}

/// A project as its pages see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub id: String,
    pub owner_id: String,
    pub owner_name: String,
    pub state: ProjectState,
    /// Increases with every saved change of the text; a save names the version it started from.
    pub version: i64,
    pub draft: Draft,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
    pub reopen_requested_at: Option<i64>,
    /// Oldest first.
    pub events: Vec<ProjectEvent>,
}

impl ProjectView {
    /// The reason given with the last event of this kind.
    pub fn last_reason(&self, kind: &str) -> Option<String> {
        self.events.iter().rev().find(|e| e.kind == kind).and_then(|e| e.reason.clone())
    }
}

/// A line of the advisors' list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ProjectSummary {
    pub id: String,
    pub owner_name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub state: ProjectState,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
    pub reopen_requested_at: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub version: i64,
    pub saved_at: i64,
}

/// The logged-in beneficiary's project (created empty on first visit).
#[server(endpoint = "project/get")]
pub async fn my_project() -> Result<ProjectView, AppError> {
    crate::server::serve(crate::server::BENEFICIARY, |state, user| async move { service::mine(&state.db, &user).await }).await
}

/// Saves the text of the caller's project, if it is still at `version` and editable.
#[server(endpoint = "project/save")]
pub async fn save_project(version: i64, #[server(default)] draft: Draft) -> Result<Saved, AppError> {
    let values: Vec<(String, String)> = draft.iter().map(|(k, v)| (format!("draft[{k}]"), v.clone())).collect();
    crate::server::serve_form(
        crate::server::BENEFICIARY,
        "project",
        values.iter().map(|(k, v)| (k.as_str(), v.clone())).collect(),
        Some("/projet"),
        |state, user| async move { service::save(&state.db, &user, version, draft).await },
    )
    .await
}

/// Submits the caller's project as it was at `version` (what they reviewed).
#[server(endpoint = "project/submit")]
pub async fn submit_project(version: i64) -> Result<(), AppError> {
    crate::server::serve_form(crate::server::BENEFICIARY, "project-submit", vec![], None, |state, user| async move {
        let result = service::submit(&state, &user, version).await;
        // Without JavaScript the browser is sent to the locked project; with it, the page goes
        // there itself once it has the answer (a redirect would remove the page under its form).
        if result.is_ok() && crate::forms::plain_form_post() {
            leptos_axum::redirect("/projet");
        }
        result
    })
    .await
}

/// Asks the referent advisor to reopen the caller's submitted project.
#[server(endpoint = "project/request-reopening")]
pub async fn request_reopening(#[server(default)] message: String) -> Result<(), AppError> {
    crate::server::serve_form(
        crate::server::BENEFICIARY,
        "project-reopen",
        vec![("message", message.clone())],
        Some("/projet"),
        |state, user| async move { service::request_reopening(&state, &user, &message).await },
    )
    .await
}

/// Projects for advisors: submitted and under review first.
#[server(endpoint = "staff/projects")]
pub async fn staff_projects() -> Result<Vec<ProjectSummary>, AppError> {
    crate::server::serve(crate::server::STAFF, |state, staff| async move { service::list(&state.db, &staff).await }).await
}

#[server(endpoint = "staff/project")]
pub async fn staff_project(id: String) -> Result<ProjectView, AppError> {
    crate::server::serve(crate::server::STAFF, |state, staff| async move {
        let project = service::view(&state.db, &id).await?;
        crate::dashboard::scope::read(&state.db, &staff, &project.owner_id, None, crate::dashboard::audit::Read::Project, "").await?;
        Ok(project)
    })
    .await
}

/// Starts the review, reopens, accepts or refuses a project (`action`: `instruire`,
/// `rouvrir`, `accepter`, `refuser`), with the reason when one is needed.
#[server(endpoint = "staff/project/transition")]
pub async fn staff_transition(id: String, action: String, #[server(default)] reason: String) -> Result<(), AppError> {
    let back = format!("/conseiller/projets/{}", crate::forms::path_segment(&id));
    crate::server::serve_form(crate::server::STAFF, "project-staff", vec![("reason", reason.clone())], Some(&back), |state, staff| async move {
        let transition = Transition::parse(&action).filter(|t| *t != Transition::Submit).ok_or(AppError::BadRequest)?;
        service::staff_transition(&state, &staff, &id, transition, &reason).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transition_from_every_state_is_decided() {
        use ProjectState::*;
        use Transition::*;
        let allowed = [
            (Draft, Submit, Submitted),
            (Reopened, Submit, Submitted),
            (Submitted, StartReview, UnderReview),
            (Submitted, Reopen, Reopened),
            (UnderReview, Reopen, Reopened),
            (UnderReview, Accept, Accepted),
            (UnderReview, Refuse, Refused),
        ];
        for state in ProjectState::ALL {
            for transition in Transition::ALL {
                let expected = allowed.iter().find(|(s, t, _)| *s == state && *t == transition).map(|(_, _, to)| *to);
                assert_eq!(state.after(transition), expected, "{state:?} --{transition:?}-->");
            }
        }
    }

    #[test]
    fn only_draft_and_reopened_projects_are_editable() {
        let editable: Vec<_> = ProjectState::ALL.into_iter().filter(|s| s.editable()).collect();
        assert_eq!(editable, [ProjectState::Draft, ProjectState::Reopened]);
    }

    #[test]
    fn states_and_transitions_round_trip_their_names() {
        for s in ProjectState::ALL {
            assert_eq!(ProjectState::parse(s.as_str()), Some(s));
        }
        for t in Transition::ALL {
            assert_eq!(Transition::parse(t.as_str()), Some(t));
        }
    }
}
