use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Shown for any address that matches no page; answers with HTTP 404.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page introuvable"/>
        <h1>"Cette page n'existe pas"</h1>
        <p>
            "L'adresse que vous avez suivie est peut-être incomplète ou ancienne. "
            "Vérifiez-la, ou repartez de la page d'accueil."
        </p>
        <p><A href="/">"Revenir à l'accueil"</A></p>
    }
}
