//! The recap of every answer (review before submission, printable version, advisors' view) and
//! the history of a project.

use leptos::prelude::*;
use leptos_meta::Title;

use super::autosave::{storage_key, Autosave};
use super::fields::{self, Draft, EXPECTED_ATTACHMENTS, SECTIONS};
use super::{my_project, ProjectEvent, ProjectState, ProjectView, SubmitProject};
use crate::components::feedback::Refused;
use crate::domain::date::{paris_date, paris_date_time};
use crate::error::AppError;
use crate::forms::{fields::field_id, flash_resource, Flash};

/// Every answer, section by section, as submitted (or as it stands).
#[component]
pub fn Recap(draft: Draft) -> impl IntoView {
    let sections = SECTIONS
        .iter()
        .map(|section| {
            let rows = section
                .fields
                .iter()
                .map(|field| {
                    let value = draft.get(field.key).cloned().unwrap_or_default();
                    let empty = value.trim().is_empty();
                    let shown = if empty { "Non renseigné".to_string() } else { fields::display(field, &value) };
                    view! {
                        <dt>{field.label}</dt>
                        <dd class:recap-empty=empty>{shown}</dd>
                    }
                })
                .collect_view();
            view! {
                <section class="recap-section" aria-labelledby=format!("recap-{}", section.id)>
                    <h2 id=format!("recap-{}", section.id)>{section.title}</h2>
                    <dl class="recap">{rows}</dl>
                </section>
            }
        })
        .collect_view();
    view! {
        {sections}
        <section class="recap-section" aria-labelledby="recap-pieces">
            <h2 id="recap-pieces">"Pièces jointes attendues"</h2>
            <ul>{EXPECTED_ATTACHMENTS.iter().map(|p| view! { <li>{*p}</li> }).collect_view()}</ul>
        </section>
    }
}

/// Who did what, when and why, oldest first.
#[component]
pub fn History(events: Vec<ProjectEvent>) -> impl IntoView {
    (!events.is_empty()).then(|| {
        view! {
            <section class="history" aria-labelledby="historique">
                <h2 id="historique">"Historique"</h2>
                <ol>
                    {events.into_iter().map(|e| {
                        let when = paris_date_time(e.at);
                        let what = e.describe();
                        view! {
                            <li>
                                <span class="meta">{format!("Le {when}")}</span>" — "{what}
                                {e.reason.map(|r| view! { <blockquote class="reason">{r}</blockquote> })}
                            </li>
                        }
                    }).collect_view()}
                </ol>
            </section>
        }
    })
}

/// Where the project stands, in one sentence.
pub fn state_sentence(project: &ProjectView) -> String {
    let submitted = project.submitted_at.map(paris_date).unwrap_or_default();
    match project.state {
        ProjectState::Draft => "Votre projet est un brouillon : vous pouvez le modifier à tout moment.".into(),
        ProjectState::Reopened => "Votre projet a été rouvert par votre conseiller : vous pouvez le modifier, puis le soumettre de nouveau.".into(),
        ProjectState::Submitted => format!("Vous avez soumis votre projet le {submitted}. Il est verrouillé pendant son examen : vous ne pouvez plus le modifier."),
        ProjectState::UnderReview => format!("Votre projet, soumis le {submitted}, est en cours d'instruction par votre conseiller. Il est verrouillé : vous ne pouvez plus le modifier."),
        ProjectState::Accepted => "Votre projet a été accepté.".into(),
        ProjectState::Refused => "Votre projet a été refusé.".into(),
    }
}

/// `/projet/recapitulatif`: the review page before submission, and the printable recap after.
#[component]
pub fn RecapPage() -> impl IntoView {
    let project = Resource::new(|| (), |_| my_project());
    let flash = flash_resource("project-submit");
    view! {
        <Title text="Récapitulatif de mon projet"/>
        <Suspense fallback=|| ()>
            {move || match (project.get(), flash.get()) {
                (Some(Ok(p)), Some(flash)) => Some(view! { <RecapBody project=p flash/> }.into_any()),
                (Some(Err(e)), _) => Some(view! { <h1>"Récapitulatif de mon projet"</h1><Refused error=e/> }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}

#[component]
fn RecapBody(project: ProjectView, flash: Option<Flash>) -> impl IntoView {
    let submit = ServerAction::<SubmitProject>::new();
    let from_flash: Option<Result<(), AppError>> = flash.as_ref().and_then(|f| f.answer());
    let answer = Signal::derive(move || submit.value().get().or_else(|| from_flash.clone()));
    let editable = project.state.editable();
    let problems = fields::problems(&project.draft);
    let version = project.version;
    // Text typed on this device that the server does not hold yet (read after hydration).
    let unsynced = RwSignal::new(false);
    if editable {
        let key = storage_key(&project.owner_id, &project.id);
        let server = project.draft.clone();
        Effect::new(move |_| {
            unsynced.set(Autosave::local_copy(&key).is_some_and(|c| c.draft != server));
        });
    }
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = submit.value().get() {
            // Once the action has finished with this page: leaving it now would dispose the
            // action while it still updates its state.
            let navigate = navigate.clone();
            set_timeout(move || navigate("/projet", Default::default()), std::time::Duration::ZERO);
        }
    });
    let print = move |_| {
        #[cfg(feature = "hydrate")]
        let _ = window().print();
    };
    let title = if editable { "Vérifier et soumettre mon projet" } else { "Récapitulatif de mon projet" };
    let count = problems.len();
    view! {
        <h1>{title}</h1>
        <p class="lead">{state_sentence(&project)}</p>
        {(!editable).then(|| view! {
            <p class="no-print">
                <button type="button" class="button" on:click=print>"Imprimer ce récapitulatif"</button>
                " "<a href="/projet">"Retour au projet"</a>
            </p>
            <p class="print-only">{format!("Projet de {} — imprimé depuis Passerelle", project.owner_name)}</p>
        })}
        {editable.then(|| {
            let problems = problems.clone();
            view! {
                <div class="no-print">
                    {move || answer.get().and_then(|a| a.err()).map(|e| match e {
                        AppError::Validation(_) => view! { <p class="alert alert-error" role="alert">"Des réponses manquent ou sont à corriger : voir la liste ci-dessous."</p> }.into_any(),
                        other => view! { <p class="alert alert-error" role="alert">{other.to_string()}</p> }.into_any(),
                    })}
                    {move || unsynced.get().then(|| view! {
                        <p class="alert alert-error" role="alert">
                            "Des modifications faites sur cet appareil ne sont pas encore enregistrées. "
                            <a href="/projet">"Retournez au projet"</a>" pour les enregistrer avant de le soumettre."
                        </p>
                    })}
                    {if problems.is_empty() {
                        view! {
                            <div class="panel">
                                <h2>"Votre projet est complet"</h2>
                                <p>"Relisez vos réponses ci-dessous. Une fois soumis, votre projet est transmis à votre conseiller et ne peut plus être modifié, sauf s'il le rouvre à votre demande."</p>
                                <ActionForm action=submit attr:class="inline-form">
                                    <input type="hidden" name="version" value=version.to_string()/>
                                    <button type="submit" class="button" disabled=move || unsynced.get() || submit.pending().get()>"Soumettre mon projet"</button>
                                </ActionForm>
                                " "<a href="/projet">"Modifier encore"</a>
                            </div>
                        }.into_any()
                    } else {
                        view! {
                            <div class="error-summary" aria-labelledby="a-completer">
                                <h2 id="a-completer">{if count == 1 { "Une réponse manque ou est à corriger avant de soumettre".to_string() } else { format!("{count} réponses manquent ou sont à corriger avant de soumettre") }}</h2>
                                <ul>
                                    {problems.into_iter().map(|(key, message)| view! {
                                        <li><a href=format!("/projet#{}", field_id(&key))>{message}</a></li>
                                    }).collect_view()}
                                </ul>
                            </div>
                        }.into_any()
                    }}
                </div>
            }
        })}
        <Recap draft=project.draft.clone()/>
        <History events=project.events.clone()/>
    }
}
