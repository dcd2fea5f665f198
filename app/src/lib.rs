//! Passerelle's application: pages, components, server functions and shared domain types.
//!
//! Compiled twice: with `ssr` for the server (services, SQL, mail) and with `hydrate` for the
//! browser. Code that touches the database lives in `#[cfg(feature = "ssr")]` modules.
#![recursion_limit = "256"]

pub mod account;
pub mod components;
pub mod domain;
pub mod error;
pub mod forms;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::components::layout::Layout;
use crate::pages::{
    error::ErrorPage,
    home::HomePage,
    legal::{AccessibilityPage, ContactPage, PrivacyPage, TermsPage},
    not_found::NotFoundPage,
};

/// The HTML document around every page. On the server it also sets the Content-Security-Policy
/// with this response's nonce, so the hydration script is the only inline script allowed.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    state::set_page_security_headers();
    view! {
        <!DOCTYPE html>
        <html lang="fr">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="data:,"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Every route renders in `Async` mode: the whole page, header included, arrives as plain HTML
/// with no inline script needed to complete it, so it works with JavaScript off.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/passerelle.css"/>
        <Title formatter=|text: String| {
            if text.is_empty() { "Passerelle".to_string() } else { format!("{text} — Passerelle") }
        }/>
        <Router>
            <Layout>
                <ErrorBoundary fallback=|errors| {
                    let message = errors
                        .get()
                        .into_iter()
                        .next()
                        .map(|(_, e)| e.to_string())
                        .unwrap_or_default();
                    view! { <ErrorPage message/> }
                }>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") ssr=SsrMode::Async view=HomePage/>
                    <Route path=path!("/cgu") ssr=SsrMode::Async view=TermsPage/>
                    <Route path=path!("/confidentialite") ssr=SsrMode::Async view=PrivacyPage/>
                    <Route path=path!("/accessibilite") ssr=SsrMode::Async view=AccessibilityPage/>
                    <Route path=path!("/contact") ssr=SsrMode::Async view=ContactPage/>
                    <Route path=path!("/connexion") ssr=SsrMode::Async view=account::login::LoginPage/>
                    <Route path=path!("/inscription") ssr=SsrMode::Async view=account::register_page::RegisterPage/>
                    <Route path=path!("/inscription/envoye") ssr=SsrMode::Async view=account::register_page::RegisteredPage/>
                    <Route path=path!("/inscription/compte-existant") ssr=SsrMode::Async view=account::register_page::ExistingAccountPage/>
                    <Route path=path!("/activation/:token") ssr=SsrMode::Async view=account::link_pages::ActivationPage/>
                    <Route path=path!("/mot-de-passe-oublie") ssr=SsrMode::Async view=account::link_pages::ForgotPasswordPage/>
                    <Route path=path!("/mot-de-passe/nouveau/:token") ssr=SsrMode::Async view=account::link_pages::NewPasswordPage/>
                    <Route path=path!("/espace") ssr=SsrMode::Async view=account::space::SpacePage/>
                    <Route path=path!("/conseiller") ssr=SsrMode::Async view=account::space::StaffPage/>
                </Routes>
                </ErrorBoundary>
            </Layout>
        </Router>
    }
}
