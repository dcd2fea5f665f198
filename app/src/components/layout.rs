use leptos::prelude::*;
use leptos_router::components::A;

use crate::account::login::{current_user, Logout};

/// Header (skip link, product name, account links), main content and footer of every page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#contenu">"Aller au contenu"</a>
        <header class="site-header">
            <div class="wrap header-inner">
                <A href="/" attr:class="brand">
                    <span class="brand-name">"Passerelle"</span>
                    <span class="brand-tagline">"Votre projet de transition professionnelle"</span>
                </A>
                <nav aria-label="Votre compte">
                    <AccountLinks/>
                </nav>
            </div>
        </header>
        <main id="contenu" tabindex="-1" class="wrap">
            {children()}
        </main>
        <footer class="site-footer">
            <div class="wrap">
                <nav aria-label="Informations">
                    <ul class="footer-links">
                        <li><A href="/cgu">"Conditions générales d'utilisation"</A></li>
                        <li><A href="/confidentialite">"Confidentialité"</A></li>
                        <li><A href="/accessibilite">"Accessibilité : partiellement conforme"</A></li>
                        <li><A href="/contact">"Contact"</A></li>
                    </ul>
                </nav>
                <p class="footer-note">
                    "Passerelle — l'espace personnel du projet de transition professionnelle."
                </p>
            </div>
        </footer>
    }
}

#[component]
fn AccountLinks() -> impl IntoView {
    // Asked again at each navigation: logging in or out moves to another page, and the header
    // (with the session-expiry watch) must follow.
    let location = leptos_router::hooks::use_location();
    let user = Resource::new(move || location.pathname.get(), |_| current_user());
    let logout = ServerAction::<Logout>::new();
    view! {
        <Transition fallback=|| ()>
            {move || {
                user.get().map(|result| match result {
                    Ok(Some(header)) => view! {
                        <crate::account::session_watch::SessionWatch/>
                        <div class="account-links">
                            <A href=if header.user.role == crate::account::Role::Beneficiary { "/messages" } else { "/conseiller/messages" }>
                                "Messages"
                                {(header.unread_messages > 0).then(|| view! {
                                    " "<span class="badge">{header.unread_messages}<span class="visually-hidden">{if header.unread_messages > 1 { " non lus" } else { " non lu" }}</span></span>
                                })}
                            </A>
                            <span class="account-name">{header.user.display_name}</span>
                            <ActionForm action=logout attr:class="inline-form">
                                <button type="submit" class="link-button">"Se déconnecter"</button>
                            </ActionForm>
                        </div>
                    }
                    .into_any(),
                    _ => view! {
                        <div class="account-links">
                            <A href="/connexion">"Se connecter"</A>
                        </div>
                    }
                    .into_any(),
                })
            }}
        </Transition>
    }
}
