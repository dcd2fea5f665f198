//! Accounts: login and logout, sessions, password hashing.

pub mod activation;
#[cfg(feature = "ssr")]
pub mod client;
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

/// The network of the client of the current request, as rate limits count it: an IPv4 address,
/// or the /64 of an IPv6 one (one household or phone holds a whole /64). Never logged with data.
#[cfg(feature = "ssr")]
pub fn client_network() -> Option<String> {
    client_ip().map(network_of)
}

/// The client's address of the current request, behind the proxies we trust
/// ([`client::client_address`]).
#[cfg(feature = "ssr")]
pub fn client_ip() -> Option<std::net::IpAddr> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    match parts.extensions.get::<client::ClientAddr>() {
        Some(client) => Some(client.0),
        None => parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip().to_canonical()),
    }
}

/// The browser's `User-Agent` of the current request, cut to 200 characters (login history).
#[cfg(feature = "ssr")]
pub fn user_agent() -> Option<String> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    let agent = parts.headers.get(http::header::USER_AGENT)?.to_str().ok()?;
    Some(agent.chars().take(200).collect())
}

/// An address's network as rate limits count it (see [`client_network`]).
#[cfg(feature = "ssr")]
pub fn network_of(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{}/64", std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
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

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::network_of;

    #[test]
    fn limits_count_an_ipv4_address_alone_and_an_ipv6_address_by_its_64() {
        assert_eq!(network_of("192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(network_of("2001:db8:1:2:aaaa::1".parse().unwrap()), "2001:db8:1:2::/64");
        assert_eq!(network_of("2001:db8:1:2:ffff::9".parse().unwrap()), "2001:db8:1:2::/64");
        assert_eq!(network_of("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
    }
}
