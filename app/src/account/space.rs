//! Where people land after login: `/espace` for beneficiaries, `/conseiller` for staff. Each
//! server function checks the role of whoever calls it.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::SessionUser;
use crate::components::feedback::Refused;
use crate::error::AppError;

/// The logged-in beneficiary (staff are refused).
#[server(endpoint = "space/me")]
pub async fn my_space() -> Result<SessionUser, AppError> {
    crate::server::serve(crate::server::BENEFICIARY, |_, me| async move { Ok(me) }).await
}

/// The logged-in advisor or administrator (beneficiaries are refused).
#[server(endpoint = "staff/me")]
pub async fn staff_home() -> Result<SessionUser, AppError> {
    crate::server::serve(crate::server::STAFF, |_, me| async move { Ok(me) }).await
}

#[component]
pub fn SpacePage() -> impl IntoView {
    let me = Resource::new(|| (), |_| my_space());
    view! {
        <Title text="Mon espace"/>
        <Suspense fallback=|| ()>
            {move || me.get().map(|result| match result {
                Ok(user) => view! {
                    <h1>{format!("Bonjour {}", user.display_name)}</h1>
                    <p class="lead">"Bienvenue dans votre espace Passerelle."</p>
                    <ul class="space-links">
                        <li>
                            <a href="/projet">"Mon projet de transition professionnelle"</a>
                            <p class="hint">"Écrivez-le à votre rythme : chaque saisie est conservée, même sans connexion."</p>
                        </li>
                        <li>
                            <a href="/messages">"Mes messages"</a>
                            <p class="hint">"Écrivez à votre conseiller référent ou à un service, avec des pièces jointes."</p>
                        </li>
                        <li>
                            <a href="/documents">"Mes documents"</a>
                            <p class="hint">"Déposez vos justificatifs et répondez aux documents demandés."</p>
                        </li>
                        <li>
                            <a href="/profil">"Mon profil et mes données"</a>
                            <p class="hint">"Adresse, situation, adresse électronique ; téléchargez ou supprimez vos données."</p>
                        </li>
                    </ul>
                }.into_any(),
                Err(e) => view! { <h1>"Mon espace"</h1><Refused error=e/> }.into_any(),
            })}
        </Suspense>
    }
}
