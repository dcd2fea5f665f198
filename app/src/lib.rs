//! Passerelle's application: pages, components, server functions and shared domain types.
//!
//! Compiled twice: with `ssr` for the server (services, SQL, mail) and with `hydrate` for the
//! browser. Code that touches the database lives in `#[cfg(feature = "ssr")]` modules.
#![recursion_limit = "256"]

#[macro_use]
mod text_enum;

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
pub mod incidents;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
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
    #[cfg(feature = "ssr")]
    let stylesheet = state::stylesheet_href(&options);
    #[cfg(not(feature = "ssr"))]
    let stylesheet = String::new();
    view! {
        <!DOCTYPE html>
        <html lang="fr">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="data:,"/>
                <link rel="stylesheet" id="leptos" href=stylesheet/>
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
                {routes()}
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

/// Whether `pattern` (a route's path, `:name` for a parameter) matches `path`.
fn route_matches(pattern: &str, path: &str) -> bool {
    let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    let (mut expected, mut given) = (pattern.split('/'), path.split('/'));
    loop {
        match (expected.next(), given.next()) {
            (None, None) => return true,
            (Some(e), Some(g)) if e == g || (e.starts_with(':') && !g.is_empty()) => continue,
            _ => return false,
        }
    }
}

/// Every page, declared once: the home page, then the lazily loaded pages by chunk. Each chunk
/// (`cargo leptos build --split`) is a type implementing `LazyRoute`, whose view shows the page
/// of the path; this also writes the `<Routes>`. Each chunk adds a loader to the home page's
/// JavaScript, and code used by two chunks stays in the main file: a feature's pages go together.
macro_rules! pages {
    ($home:path; $($(#[$doc:meta])* $chunk:ident { $($path:tt => $page:path),* $(,)? })*) => {
        $(
            $(#[$doc])*
            pub struct $chunk;

            #[leptos_router::lazy_route]
            impl leptos_router::LazyRoute for $chunk {
                fn data() -> Self {
                    $chunk
                }

                fn view(this: Self) -> AnyView {
                    let _ = this;
                    // This runs once the page's chunk has loaded: only then is the page interactive.
                    #[cfg(feature = "hydrate")]
                    Effect::new(|_| mark_hydrated());
                    let path = leptos_router::hooks::use_location().pathname.get_untracked();
                    $(if route_matches($path, &path) {
                        return view! { <span hidden data-lazy-page=""></span><$page/> }.into_any();
                    })*
                    view! { <NotFoundPage/> }.into_any()
                }
            }
        )*

        /// The routes of every page; each renders in `Async` mode (see [`App`]).
        fn routes() -> impl IntoView {
            view! {
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") ssr=SsrMode::Async view=$home/>
                    $($(<Route path=path!($path) ssr=SsrMode::Async view={Lazy::<$chunk>::new()}/>)*)*
                </Routes>
            }
        }
    };
}

pages!(
    HomePage;
    LegalRoute {
        "/cgu" => pages::legal::TermsPage,
        "/confidentialite" => pages::legal::PrivacyPage,
        "/accessibilite" => pages::legal::AccessibilityPage,
        "/contact" => pages::legal::ContactPage,
    }
    AccountRoute {
        "/connexion" => account::login::LoginPage,
        "/inscription" => account::register_page::RegisterPage,
        "/inscription/envoye" => account::register_page::RegisteredPage,
        "/inscription/compte-existant" => account::register_page::ExistingAccountPage,
        "/activation/:token" => account::link_pages::ActivationPage,
        "/mot-de-passe-oublie" => account::link_pages::ForgotPasswordPage,
        "/mot-de-passe/nouveau/:token" => account::link_pages::NewPasswordPage,
        "/espace" => account::space::SpacePage,
    }
    /// The project, its recap and the advisors' project pages (they show the recap and history).
    ProjectRoute {
        "/projet" => project::page::ProjectPage,
        "/projet/recapitulatif" => project::recap::RecapPage,
        "/conseiller/projets" => project::advisor_pages::StaffProjectsPage,
        "/conseiller/projets/:id" => project::advisor_pages::StaffProjectPage,
    }
    /// The beneficiary's space and the staff pages share components (thread list, document
    /// table, upload with progress, form answers).
    SpaceRoute {
        "/conseiller" => dashboard::page::DashboardPage,
        "/conseiller/beneficiaires/:id" => dashboard::page::BeneficiaryPage,
        "/conseiller/doublons" => dashboard::page::DuplicatesPage,
        "/conseiller/doublons/fusion" => dashboard::page::MergePage,
        "/conseiller/journal" => dashboard::page::AuditPage,
        "/admin" => admin::page::AdminPage,
        "/messages" => messages::page::MessagesPage,
        "/messages/:id" => messages::page::ThreadPage,
        "/documents" => documents::page::DocumentsPage,
        "/profil" => profile::page::ProfilePage,
        "/profil/courriel/:token" => profile::page::ConfirmEmailPage,
        "/conseiller/messages" => messages::page::StaffMessagesPage,
        "/conseiller/messages/:id" => messages::page::StaffThreadPage,
        "/conseiller/documents/:id" => documents::page::StaffDocumentsPage,
    }
);

#[cfg(test)]
mod tests {
    use super::route_matches;

    #[test]
    fn a_route_pattern_matches_its_own_path_and_parameters_only() {
        assert!(route_matches("/inscription", "/inscription"));
        assert!(route_matches("/inscription", "/inscription/"));
        assert!(!route_matches("/inscription", "/inscription/envoye"));
        assert!(route_matches("/activation/:token", "/activation/abc"));
        assert!(!route_matches("/activation/:token", "/activation/"));
        assert!(!route_matches("/conseiller", "/conseiller/projets"));
    }
}
