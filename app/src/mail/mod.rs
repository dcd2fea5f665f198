//! Email: messages are written to the outbox table in the caller's transaction; the server's
//! mail worker delivers them. Nothing here talks to a mail server.

pub mod outbox;

pub use outbox::{enqueue, OutgoingEmail};
