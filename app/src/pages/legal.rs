//! The texts every public service owes its users, linked from the footer of every page. Their
//! words come from the server (`legal_texts.rs`), so they add nothing to the WebAssembly; the
//! CGU and the privacy policy say which version is in force (administrators publish new ones).

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalText {
    pub title: String,
    pub heading: String,
    /// "Version 2 — en vigueur depuis le …", and what changed, for the CGU and privacy policy.
    pub version: Option<String>,
    pub changes: Option<String>,
    pub html: String,
}

#[server(endpoint = "pages/legal")]
pub async fn legal_page(page: String) -> Result<LegalText, AppError> {
    crate::server::serve_anyone(|state| async move {
        let text = super::legal_texts::find(&page).ok_or(AppError::NotFound)?;
        let (version, changes) = match text.document {
            Some(document) => {
                let row: (String, String, i64) = sqlx::query_as(
                    "SELECT version, summary, published_at FROM legal_versions WHERE document = $1 ORDER BY published_at DESC, id DESC LIMIT 1",
                )
                .bind(document)
                .fetch_one(state.db.pool())
                .await?;
                let since = if row.2 == 0 { "27/11/2026".to_string() } else { crate::domain::date::paris_date(row.2) };
                (Some(format!("Version {} — en vigueur depuis le {since}", row.0)), (row.2 != 0).then_some(row.1))
            }
            None => (None, None),
        };
        Ok(LegalText { title: text.title.into(), heading: text.heading.into(), version, changes, html: text.html.into() })
    })
    .await
}

#[component]
fn Legal(page: &'static str) -> impl IntoView {
    let text = Resource::new(move || page, |page| legal_page(page.to_string()));
    view! {
        <Suspense fallback=|| ()>
            {move || text.get().map(|result| match result {
                Ok(t) => view! {
                    <Title text=t.title/>
                    <h1>{t.heading}</h1>
                    {t.version.map(|v| view! { <p class="meta">{v}</p> })}
                    {t.changes.map(|c| view! { <p class="panel">"Ce qui a changé : " {c}</p> })}
                    <div class="legal" inner_html=t.html></div>
                }.into_any(),
                Err(e) => view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
pub fn TermsPage() -> impl IntoView {
    view! { <Legal page="cgu"/> }
}

#[component]
pub fn PrivacyPage() -> impl IntoView {
    view! { <Legal page="confidentialite"/> }
}

#[component]
pub fn AccessibilityPage() -> impl IntoView {
    view! { <Legal page="accessibilite"/> }
}

#[component]
pub fn ContactPage() -> impl IntoView {
    view! { <Legal page="contact"/> }
}
