//! Pages that belong to no feature: home, legal texts, 404, error.

pub mod error;
pub mod home;
pub mod legal;
pub mod not_found;
