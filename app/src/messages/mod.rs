//! Messages: threads between a beneficiary and their referent advisor or a service (Accueil,
//! Instruction des dossiers, Paiement), with attachments (same rules as documents), unread
//! counts, and an email telling the other side a message is waiting (never its content).

#[cfg(feature = "ssr")]
pub mod emails;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::account::Role;
use crate::documents::DocumentItem;
use crate::error::AppError;

/// Longest message.
pub const BODY_MAX: usize = 10_000;
/// Longest subject.
pub const SUBJECT_MAX: usize = 150;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ServiceItem {
    pub slug: String,
    pub name: String,
}

/// A thread in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ThreadSummary {
    pub id: String,
    pub beneficiary_name: String,
    /// "Votre conseiller référent" or the service's name.
    pub with_label: String,
    pub subject: String,
    pub last_message_at: i64,
    pub unread: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageItem {
    pub id: String,
    pub author_name: String,
    pub from_staff: bool,
    pub mine: bool,
    pub body: String,
    pub created_at: i64,
    pub attachments: Vec<DocumentItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadView {
    /// Who is reading (the key of their unsent reply on this browser).
    pub viewer_id: String,
    pub id: String,
    pub beneficiary_id: String,
    pub beneficiary_name: String,
    pub with_label: String,
    pub subject: String,
    /// Oldest first.
    pub messages: Vec<MessageItem>,
}

/// The beneficiary's threads, and the services they can write to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    pub viewer_id: String,
    pub threads: Vec<ThreadSummary>,
    pub services: Vec<ServiceItem>,
}

pub const REFERENT_LABEL: &str = "Votre conseiller référent";

#[server(endpoint = "messages/threads")]
pub async fn my_threads() -> Result<Inbox, AppError> {
    crate::server::serve(crate::server::BENEFICIARY, |state, user| async move { service::inbox(&state.db, &user).await }).await
}

/// Threads for staff, unread first.
#[server(endpoint = "staff/messages/threads")]
pub async fn staff_threads() -> Result<Vec<ThreadSummary>, AppError> {
    crate::server::serve(crate::server::STAFF, |state, staff| async move { service::staff_inbox(&state.db, &staff).await }).await
}

/// One thread, for its beneficiary or staff; reading it marks it read for the caller.
#[server(endpoint = "messages/thread")]
pub async fn thread(id: String) -> Result<ThreadView, AppError> {
    crate::server::serve(crate::server::SIGNED_IN, |state, user| async move { service::read(&state.db, &user, &id).await }).await
}

/// Sends a message (multipart: `body`, files under `file`, and either `thread_id` or, to start
/// a thread, `to` = `referent` or a service's slug, and `subject`). Staff only answer threads.
/// Answers the thread's id.
#[server(endpoint = "messages/send", input = leptos::server_fn::codec::MultipartFormData)]
pub async fn send_message(data: leptos::server_fn::codec::MultipartData) -> Result<String, AppError> {
    let mut back = None;
    let mut kept = Vec::new();
    let (back_to, typed) = (&mut back, &mut kept);
    let result = crate::server::admitted(crate::server::SIGNED_IN, |state, user| async move {
        let received = crate::documents::files::receive(data, crate::documents::files::MAX_FILES_PER_MESSAGE).await?;
        let base = if user.role == Role::Beneficiary { "/messages" } else { "/conseiller/messages" };
        let thread = received.field("thread_id");
        *typed = vec![("body", received.field("body")), ("subject", received.field("subject")), ("to", received.field("to"))];
        *back_to = Some(if thread.is_empty() { base.to_string() } else { format!("{base}/{}", crate::forms::path_segment(&thread)) });
        let id = service::send(&state, &user, received).await?;
        *back_to = Some(format!("{base}/{id}"));
        Ok(id)
    })
    .await;
    crate::forms::respond("messages-send", kept, back.as_deref().or(Some("/messages")), result).await
}
