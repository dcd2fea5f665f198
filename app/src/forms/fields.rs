//! Accessible form fields: a label (with `*` when required), an optional hint, the input, and
//! the error beside it (`aria-invalid`, `aria-describedby`); and the error summary at the top,
//! which takes focus when it appears.

use leptos::html;
use leptos::prelude::*;

use crate::error::{AppError, FieldError};

/// The id of a field's input, which the error summary links to.
pub fn field_id(name: &str) -> String {
    format!("champ-{}", name.replace('_', "-"))
}

/// The `name` attribute: `form[birth_name]` for a server function taking a `form` struct.
fn input_name(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}[{name}]")
    }
}

/// The message for `field` in a server answer, if it is a validation error naming it.
pub fn error_for<T>(answer: &Option<Result<T, AppError>>, field: &str) -> Option<String> {
    match answer {
        Some(Err(e)) => e.field(field).map(str::to_string),
        _ => None,
    }
}

/// Every message of a server answer, in page order: field errors, or the one message of
/// another error.
pub fn all_errors<T>(answer: &Option<Result<T, AppError>>) -> Vec<FieldError> {
    match answer {
        Some(Err(AppError::Validation(fields))) => fields.clone(),
        Some(Err(other)) => vec![("form".into(), other.to_string())],
        _ => Vec::new(),
    }
}

#[component]
pub fn Field(
    name: &'static str,
    /// The input's id when `field_id(name)` would not be unique on the page.
    #[prop(optional)]
    id: Option<&'static str>,
    #[prop(into)] label: String,
    #[prop(optional)] required: bool,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(default = "form")] prefix: &'static str,
    #[prop(into)] value: Signal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    /// Shows the typed text, for password fields.
    #[prop(optional, into)]
    reveal: Option<Signal<bool>>,
    /// Empties the field each time this changes (passwords, after a refused submission).
    #[prop(optional, into)]
    clear_on: Option<Signal<usize>>,
) -> impl IntoView {
    let input = NodeRef::<html::Input>::new();
    if let Some(clear_on) = clear_on {
        Effect::new(move |previous: Option<usize>| {
            let now = clear_on.get();
            if previous.is_some_and(|p| p != now) {
                if let Some(element) = input.get() {
                    element.set_value("");
                }
            }
            now
        });
    }
    let id = id.map(str::to_string).unwrap_or_else(|| field_id(name));
    let hint_id = format!("{id}-aide");
    let error_id = format!("{id}-erreur");
    let has_hint = hint.is_some();
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let kind = move || match reveal {
        Some(shown) if shown.get() => "text",
        _ => input_type,
    };
    view! {
        <div class="field" class:field-error=move || error.get().is_some()>
            <label for=id.clone()>
                {label}
                {required.then(|| view! { <span class="required" aria-hidden="true">" *"</span> })}
            </label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            {move || error.get().map(|message| view! {
                <p class="error-message" id=error_id.clone()>
                    <span class="visually-hidden">"Erreur : "</span>{message}
                </p>
            })}
            <input
                node_ref=input
                id=id.clone()
                name=input_name(prefix, name)
                type=kind
                value=move || value.get()
                autocomplete=autocomplete
                inputmode=inputmode
                required=required
                aria-required=required.then_some("true")
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described_by
            />
        </div>
    }
}

/// The list of what to fix, at the top of the form. It takes focus when it appears (and has
/// `autofocus` for pages rendered without JavaScript), and each entry links to its field.
#[component]
pub fn ErrorSummary(#[prop(into)] errors: Signal<Vec<FieldError>>, labels: fn(&str) -> &'static str) -> impl IntoView {
    let summary = NodeRef::<html::Div>::new();
    Effect::new(move |_| {
        if !errors.get().is_empty() {
            if let Some(element) = summary.get() {
                let _ = element.focus();
            }
        }
    });
    move || {
        let list = errors.get();
        (!list.is_empty()).then(|| {
            let title =
                if list.len() == 1 { "Une information est à corriger".to_string() } else { format!("{} informations sont à corriger", list.len()) };
            view! {
                <div class="error-summary" role="alert" tabindex="-1" autofocus=true node_ref=summary aria-labelledby="resume-erreurs">
                    <h2 id="resume-erreurs">{title}</h2>
                    <ul>
                        {list.into_iter().map(|(field, message)| {
                            let label = labels(&field);
                            let text = if label.is_empty() { message } else { format!("{label} : {message}") };
                            if field == "form" {
                                view! { <li>{text}</li> }.into_any()
                            } else {
                                view! { <li><a href=format!("#{}", field_id(&field))>{text}</a></li> }.into_any()
                            }
                        }).collect_view()}
                    </ul>
                </div>
            }
        })
    }
}

/// "Afficher le mot de passe": a real checkbox, shown once the page is interactive. Its place
/// is kept from the start (invisible until then), so nothing below it moves when it appears:
/// a click aimed at the button under it never lands on it.
#[component]
pub fn RevealToggle(shown: RwSignal<bool>, id: &'static str) -> impl IntoView {
    let interactive = RwSignal::new(false);
    Effect::new(move |_| interactive.set(true));
    view! {
        <div class="checkbox reveal" class:reveal-pending=move || !interactive.get() aria-hidden=move || (!interactive.get()).then_some("true")>
            <input
                type="checkbox"
                id=id
                disabled=move || !interactive.get()
                on:change=move |ev| shown.set(event_target_checked(&ev))
            />
            <label for=id>"Afficher le mot de passe"</label>
        </div>
    }
}
