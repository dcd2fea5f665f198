//! Email: messages are written to the outbox table in the caller's transaction; the server's
//! mail worker delivers them. Nothing here talks to a mail server.

pub mod outbox;

pub use outbox::{enqueue, OutgoingEmail};

/// Escapes text for HTML (email bodies, the development mailbox).
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
