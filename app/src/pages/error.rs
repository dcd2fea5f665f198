use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Shown when a page could not be built. It never shows technical details: those are in the
/// server's log.
#[component]
pub fn ErrorPage(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <Title text="Un problème est survenu"/>
        <h1>"Un problème est survenu"</h1>
        <p role="alert">{message}</p>
        <p>
            "Ce que vous avez saisi n'est pas perdu. Réessayez dans quelques minutes ; "
            "si le problème continue, "
            <A href="/contact">"écrivez-nous"</A>
            "."
        </p>
        <p><A href="/">"Revenir à l'accueil"</A></p>
    }
}
