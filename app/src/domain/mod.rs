//! Parsed domain types: built once from raw input, valid from then on. They compile for the
//! browser and the server, so both show the same French messages; the server is authoritative.

pub mod amount;
pub mod birth_date;
pub mod codes;
pub mod date;
pub mod email;
pub mod nir;
pub mod password;
pub mod phone;
pub mod siret;
pub mod text;

pub use birth_date::BirthDate;
pub use email::Email;
pub use nir::Nir;
pub use phone::Phone;
pub use siret::Siret;
