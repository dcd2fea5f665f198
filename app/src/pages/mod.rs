//! Pages that belong to no feature: home, legal texts, 404, error.

pub mod error;
pub mod home;
pub mod legal;
#[cfg(feature = "ssr")]
pub mod legal_texts;
pub mod not_found;
