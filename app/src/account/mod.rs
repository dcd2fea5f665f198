//! Accounts: login and logout, sessions, password hashing.

pub mod activation;
#[cfg(feature = "ssr")]
pub mod emails;
pub mod link_pages;
pub mod login;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod rate_limit;
pub mod register_page;
pub mod registration;
pub mod reset;
pub mod robot;
#[cfg(feature = "ssr")]
pub mod secrets;
#[cfg(feature = "ssr")]
pub mod session;
pub mod session_watch;
pub mod space;
#[cfg(feature = "ssr")]
pub mod ticket;
#[cfg(feature = "ssr")]
pub mod tokens;
#[cfg(feature = "ssr")]
pub mod users;

use serde::{Deserialize, Serialize};

/// The address of the client of the current request (rate limits; never logged with data).
#[cfg(feature = "ssr")]
pub fn client_ip() -> Option<String> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip().to_string())
}

/// The logged-in user if their role is one of `roles`: `Unauthorized` when nobody is logged
/// in, `Forbidden` for another role. Every role-specific server function starts with it.
#[cfg(feature = "ssr")]
pub fn require_role(roles: &[Role]) -> Result<SessionUser, crate::error::AppError> {
    let user = session::current().ok_or(crate::error::AppError::Unauthorized)?.user;
    if roles.contains(&user.role) {
        Ok(user)
    } else {
        Err(crate::error::AppError::Forbidden)
    }
}

/// Why an emailed link cannot be used: each gets its own explanation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkProblem {
    /// Never issued (mistyped or truncated link).
    Unknown,
    Used,
    Expired,
    /// A newer link was sent since.
    Superseded,
}

impl LinkProblem {
    pub fn activation_message(self) -> &'static str {
        match self {
            LinkProblem::Unknown => "Ce lien d'activation n'est pas reconnu : il a peut-être été coupé en deux dans le courriel. Copiez-le en entier, ou demandez-en un nouveau.",
            LinkProblem::Used => "Ce lien d'activation a déjà servi : votre compte est activé, vous pouvez vous connecter.",
            LinkProblem::Expired => "Ce lien d'activation a expiré (il fonctionne 48 heures). Connectez-vous pour en recevoir un nouveau.",
            LinkProblem::Superseded => "Un lien plus récent vous a été envoyé depuis : utilisez le dernier courriel reçu.",
        }
    }

    pub fn email_change_message(self) -> &'static str {
        match self {
            LinkProblem::Unknown => "Ce lien n'est pas reconnu : copiez-le en entier depuis le courriel.",
            LinkProblem::Used => "Ce lien a déjà servi : votre nouvelle adresse est enregistrée.",
            LinkProblem::Expired => "Ce lien a expiré (il fonctionne 24 heures). Refaites la demande depuis votre profil.",
            LinkProblem::Superseded => "Un lien plus récent vous a été envoyé : utilisez le dernier courriel reçu.",
        }
    }

    pub fn reset_message(self) -> &'static str {
        match self {
            LinkProblem::Unknown => "Ce lien n'est pas reconnu : il a peut-être été coupé en deux dans le courriel. Copiez-le en entier, ou demandez un nouveau lien ci-dessous.",
            LinkProblem::Used => "Ce lien a déjà servi : chaque lien ne fonctionne qu'une fois. Si vous n'avez pas changé votre mot de passe vous-même, demandez un nouveau lien ci-dessous.",
            LinkProblem::Expired => "Ce lien a expiré : il ne fonctionne qu'une heure. Demandez un nouveau lien ci-dessous.",
            LinkProblem::Superseded => "Ce lien a été remplacé par un lien plus récent : utilisez le dernier courriel reçu, ou demandez un nouveau lien ci-dessous.",
        }
    }
}

/// Who is logged in, as the pages see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub user_id: String,
    pub display_name: String,
    pub role: Role,
}

text_enum! {
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum Role {
        Beneficiary = "beneficiary",
        Advisor = "advisor",
        Admin = "admin",
    }
}
