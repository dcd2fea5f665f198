//! Passerelle's application: pages, components, server functions and shared domain types.
//!
//! Compiled twice: with `ssr` for the server (services, SQL, mail) and with `hydrate` for the
//! browser. Code that touches the database lives in `#[cfg(feature = "ssr")]` modules.
#![recursion_limit = "256"]

pub mod account;
pub mod admin;
pub mod components;
pub mod dashboard;
pub mod documents;
pub mod domain;
pub mod error;
pub mod forms;
pub mod messages;
pub mod pages;
pub mod profile;
pub mod project;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy, SsrMode,
};

use crate::components::layout::Layout;
use crate::pages::{error::ErrorPage, home::HomePage, not_found::NotFoundPage};

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
                    <Route path=path!("/cgu") ssr=SsrMode::Async view={Lazy::<LegalRoute>::new()}/>
                    <Route path=path!("/confidentialite") ssr=SsrMode::Async view={Lazy::<LegalRoute>::new()}/>
                    <Route path=path!("/accessibilite") ssr=SsrMode::Async view={Lazy::<LegalRoute>::new()}/>
                    <Route path=path!("/contact") ssr=SsrMode::Async view={Lazy::<LegalRoute>::new()}/>
                    <Route path=path!("/connexion") ssr=SsrMode::Async view={Lazy::<AccountRoute>::new()}/>
                    <Route path=path!("/inscription") ssr=SsrMode::Async view={Lazy::<AccountRoute>::new()}/>
                    <Route path=path!("/inscription/envoye") ssr=SsrMode::Async view={Lazy::<AccountRoute>::new()}/>
                    <Route path=path!("/inscription/compte-existant") ssr=SsrMode::Async view={Lazy::<AccountRoute>::new()}/>
                    <Route path=path!("/activation/:token") ssr=SsrMode::Async view={Lazy::<AccountRoute>::new()}/>
                    <Route path=path!("/mot-de-passe-oublie") ssr=SsrMode::Async view={Lazy::<AccountRoute>::new()}/>
                    <Route path=path!("/mot-de-passe/nouveau/:token") ssr=SsrMode::Async view={Lazy::<AccountRoute>::new()}/>
                    <Route path=path!("/espace") ssr=SsrMode::Async view={Lazy::<AccountRoute>::new()}/>
                    <Route path=path!("/conseiller") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/conseiller/beneficiaires/:id") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/conseiller/doublons") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/conseiller/doublons/fusion") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/conseiller/journal") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/admin") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/projet") ssr=SsrMode::Async view={Lazy::<ProjectRoute>::new()}/>
                    <Route path=path!("/projet/recapitulatif") ssr=SsrMode::Async view={Lazy::<ProjectRoute>::new()}/>
                    <Route path=path!("/conseiller/projets") ssr=SsrMode::Async view={Lazy::<ProjectRoute>::new()}/>
                    <Route path=path!("/conseiller/projets/:id") ssr=SsrMode::Async view={Lazy::<ProjectRoute>::new()}/>
                    <Route path=path!("/messages") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/messages/:id") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/documents") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/profil") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/profil/courriel/:token") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/conseiller/messages") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/conseiller/messages/:id") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                    <Route path=path!("/conseiller/documents/:id") ssr=SsrMode::Async view={Lazy::<SpaceRoute>::new()}/>
                </Routes>
                </ErrorBoundary>
            </Layout>
        </Router>
    }
}

/// Sets `data-hydrated="true"` on `<html>`: the page is interactive (tests and curious people
/// wait for it). The entry point sets it after hydration unless the page is a lazy one
/// (`[data-lazy-page]`), which sets it itself once its chunk has loaded: leaving a page while its
/// chunk loads makes leptos's loader panic on the aborted download.
#[cfg(feature = "hydrate")]
pub fn mark_hydrated() {
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}

/// Pages that share one lazily loaded chunk, chosen by the path's start (the first that matches,
/// the last one otherwise). Each lazy route adds a loader to the home page's JavaScript: a
/// feature's pages go together.
macro_rules! lazy_pages {
    ($route:ident, [$(($prefix:literal, $page:path)),* $(,)?], $last:path) => {
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                // This runs once the page's chunk has loaded: only then is the page interactive.
                #[cfg(feature = "hydrate")]
                Effect::new(|_| mark_hydrated());
                $(if leptos_router::hooks::use_location().pathname.get_untracked().starts_with($prefix) {
                    return view! { <span hidden data-lazy-page=""></span><$page/> }.into_any();
                })*
                view! { <span hidden data-lazy-page=""></span><$last/> }.into_any()
            }
        }
    };
}

// Each page's code is in a chunk fetched when it is first shown (`cargo leptos build --split`).
// Each lazy route adds a loader to the home page, and code used by two chunks stays in the main
// file: pages that share components share a chunk.
lazy_pages!(
    LegalRoute,
    [("/cgu", pages::legal::TermsPage), ("/confidentialite", pages::legal::PrivacyPage), ("/accessibilite", pages::legal::AccessibilityPage),],
    pages::legal::ContactPage
);
lazy_pages!(
    AccountRoute,
    [
        ("/connexion", account::login::LoginPage),
        ("/inscription/envoye", account::register_page::RegisteredPage),
        ("/inscription/compte-existant", account::register_page::ExistingAccountPage),
        ("/inscription", account::register_page::RegisterPage),
        ("/activation/", account::link_pages::ActivationPage),
        ("/mot-de-passe-oublie", account::link_pages::ForgotPasswordPage),
        ("/mot-de-passe/nouveau/", account::link_pages::NewPasswordPage),
    ],
    account::space::SpacePage
);
// The project, its recap and the advisors' project pages (they show the recap and history).
lazy_pages!(
    ProjectRoute,
    [
        ("/projet/recapitulatif", project::recap::RecapPage),
        ("/conseiller/projets/", project::advisor_pages::StaffProjectPage),
        ("/conseiller/projets", project::advisor_pages::StaffProjectsPage),
    ],
    project::page::ProjectPage
);
// The beneficiary's space and the staff pages share components (thread list, document table,
// upload with progress, form answers).
lazy_pages!(
    SpaceRoute,
    [
        ("/conseiller/messages/", messages::page::StaffThreadPage),
        ("/conseiller/messages", messages::page::StaffMessagesPage),
        ("/conseiller/documents/", documents::page::StaffDocumentsPage),
        ("/conseiller/beneficiaires/", dashboard::page::BeneficiaryPage),
        ("/conseiller/doublons/fusion", dashboard::page::MergePage),
        ("/conseiller/doublons", dashboard::page::DuplicatesPage),
        ("/conseiller/journal", dashboard::page::AuditPage),
        ("/conseiller", dashboard::page::DashboardPage),
        ("/admin", admin::page::AdminPage),
        ("/messages/", messages::page::ThreadPage),
        ("/messages", messages::page::MessagesPage),
        ("/profil/courriel/", profile::page::ConfirmEmailPage),
        ("/profil", profile::page::ProfilePage),
    ],
    documents::page::DocumentsPage
);
