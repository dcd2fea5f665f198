//! Accounts: login and logout, sessions, password hashing.

pub mod login;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod users;

use serde::{Deserialize, Serialize};

/// Who is logged in, as the pages see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub user_id: String,
    pub display_name: String,
    pub role: Role,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Beneficiary,
    Advisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Beneficiary => "beneficiary",
            Role::Advisor => "advisor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "beneficiary" => Some(Role::Beneficiary),
            "advisor" => Some(Role::Advisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}
