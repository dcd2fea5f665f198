//! Parsed domain types: built once from raw input, valid from then on. They compile for the
//! browser and the server, so both show the same French messages; the server is authoritative.

pub mod email;

pub use email::Email;
