//! What a page says about an answer: a refusal, or the last success of a form on the page.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::error::AppError;

/// A refused page or action: a link to log in when the session is missing, else the reason.
#[component]
pub fn Refused(error: AppError) -> impl IntoView {
    match error {
        AppError::Unauthorized => view! {
            <p class="alert alert-error" role="alert">"Connectez-vous pour accéder à cette page."</p>
            <p><A href="/connexion">"Se connecter"</A></p>
        }
        .into_any(),
        other => view! { <p class="alert alert-error" role="alert">{other.to_string()}</p> }.into_any(),
    }
}

/// The last success of a form on the page. It belongs to the page, not to the form: the list
/// reloads after a success and rebuilds its forms, and the confirmation must stay on screen.
#[component]
pub fn Notice(notice: RwSignal<Option<&'static str>>) -> impl IntoView {
    move || notice.get().map(|text| view! { <p class="alert alert-success" role="status">{text}</p> })
}

/// Once a form's action has succeeded, says `text` in the page's notice, then reloads what the
/// page shows (`on_done`, once the action has finished); a refusal takes the notice away.
pub fn announce_then_reload<T: 'static>(
    answer: impl Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    notice: RwSignal<Option<&'static str>>,
    text: &'static str,
    on_done: impl Fn() + Send + Sync + Copy + 'static,
) {
    Effect::new(move |_| match answer.get() {
        Some(Ok(_)) => {
            notice.set(Some(text));
            set_timeout(on_done, std::time::Duration::ZERO);
        }
        Some(Err(_)) => notice.set(None),
        None => {}
    });
}
