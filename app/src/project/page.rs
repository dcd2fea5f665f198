//! `/projet`: the form while the project is editable, the locked project with its recap
//! otherwise.

use leptos::ev;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::autosave::{Autosave, Conflict, Status};
use super::fields::{self, Draft, FieldDef, Kind, EXPECTED_ATTACHMENTS, SECTIONS};
use super::recap::{state_sentence, History, Recap};
use super::{my_project, ProjectState, ProjectView, RequestReopening, Saved};
use crate::components::feedback::Refused;
use crate::domain::date::paris_date_time;
use crate::error::AppError;
use crate::forms::{fields::field_id, flash_resource, Flash};

#[component]
pub fn ProjectPage() -> impl IntoView {
    let project = Resource::new(|| (), |_| my_project());
    let flash = flash_resource("project");
    let reopen_flash = flash_resource("project-reopen");
    view! {
        <Title text="Mon projet"/>
        <Suspense fallback=|| ()>
            {move || match (project.get(), flash.get(), reopen_flash.get()) {
                (Some(Ok(p)), Some(flash), Some(reopen)) => Some(if p.state.editable() {
                    view! { <Editor project=p flash/> }.into_any()
                } else {
                    view! { <Locked project=p flash=reopen/> }.into_any()
                }),
                (Some(Err(e)), _, _) => Some(view! { <h1>"Mon projet"</h1><Refused error=e/> }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}

/// The text a plain form post left (`draft[key]` values), when that post was refused.
fn flash_draft(flash: &Flash) -> Draft {
    fields::normalized(flash.values.iter().filter_map(|(k, v)| Some((k.strip_prefix("draft[")?.strip_suffix(']')?.to_string(), v.clone()))).collect())
}

#[component]
fn Editor(project: ProjectView, flash: Option<Flash>) -> impl IntoView {
    let answer: Option<Result<Saved, AppError>> = flash.as_ref().and_then(|f| f.answer());
    let (shown, conflict, notice) = match (&answer, &flash) {
        (Some(Err(AppError::Stale)), Some(f)) => {
            let mine = flash_draft(f);
            (mine.clone(), Some(Conflict { server_version: project.version, server: project.draft.clone(), mine }), None)
        }
        (Some(Err(e)), Some(f)) => (flash_draft(f), None, Some(e.to_string())),
        (Some(Ok(saved)), _) => (project.draft.clone(), None, Some(format!("Enregistré le {}.", paris_date_time(saved.saved_at)))),
        _ => (project.draft.clone(), None, None),
    };
    let autosave = Autosave::new(&project, &shown, conflict);
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            autosave.start();
        }
    });
    let draft = Memo::new(move |_| autosave.draft());
    let progress = move || fields::progress(&draft.get(), None);
    let navigate = use_navigate();
    let review = move |ev: ev::MouseEvent| {
        // Send what is typed first, so that the recap shows it.
        ev.prevent_default();
        autosave.save_now();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            wait_for_save(autosave).await;
            navigate("/projet/recapitulatif", Default::default());
        });
    };
    let reopened_reason = (project.state == ProjectState::Reopened).then(|| project.last_reason("rouvrir")).flatten();
    view! {
        <h1>"Mon projet de transition professionnelle"</h1>
        <p class="lead">{state_sentence(&project)}</p>
        {reopened_reason.map(|reason| view! {
            <div class="panel panel-warning">
                <h2>"Pourquoi votre projet a été rouvert"</h2>
                <blockquote class="reason">{reason}</blockquote>
            </div>
        })}
        <p>"Vos réponses sont enregistrées automatiquement pendant que vous écrivez, et conservées sur cet appareil même sans connexion. Les champs marqués d'un astérisque (*) sont obligatoires pour soumettre le projet."</p>
        {notice.map(|n| view! { <p class="alert" role="status">{n}</p> })}
        <div class="project-layout">
            <nav class="project-nav" aria-label="Sections du projet">
                <div class="progress">
                    <label for="progression">"Progression"</label>
                    <progress id="progression" max=move || progress().1 value=move || progress().0></progress>
                    <p class="meta">{move || { let (done, total) = progress(); format!("{done} réponses obligatoires sur {total}") }}</p>
                </div>
                <ol>
                    {SECTIONS.iter().map(|section| {
                        let counts = move || fields::progress(&draft.get(), Some(section));
                        view! {
                            <li>
                                <a href=format!("#section-{}", section.id)>{section.title}</a>
                                " "<span class="meta" class:complete=move || { let (d, t) = counts(); d == t }>
                                    {move || { let (d, t) = counts(); format!("{d}/{t}") }}
                                </span>
                            </li>
                        }
                    }).collect_view()}
                    <li><a href="#section-pieces">"Pièces jointes attendues"</a></li>
                </ol>
            </nav>
            <div class="project-main">
                <div class="save-status" data-status=move || status_name(&autosave.status.get())>
                    <p aria-hidden="true">{move || autosave.status.get().text(autosave.now.get())}</p>
                    <p class="visually-hidden" role="status" aria-live="polite">{move || autosave.status.get().announcement()}</p>
                </div>
                <ConflictPanel autosave/>
                <form
                    id="projet"
                    class="form project-form"
                    method="post"
                    action="/api/project/save"
                    novalidate=true
                    data-autosave=move || if autosave.started.get() { "on" } else { "off" }
                    on:submit=move |ev| { ev.prevent_default(); autosave.save_now(); }
                    on:focusout=move |_| autosave.save_now()
                >
                    <input type="hidden" name="version" value=project.version.to_string()/>
                    {SECTIONS.iter().map(|section| view! {
                        <fieldset class="project-section" id=format!("section-{}", section.id)>
                            <legend><h2>{section.title}</h2></legend>
                            <p class="hint">{section.intro}</p>
                            {section.fields.iter().map(|f| view! { <ProjectField field=f autosave/> }).collect_view()}
                        </fieldset>
                    }).collect_view()}
                    <section class="project-section" id="section-pieces" aria-labelledby="titre-pieces">
                        <h2 id="titre-pieces">"Pièces jointes attendues"</h2>
                        <p>"Préparez ces documents : votre conseiller vous les demandera avec votre projet."</p>
                        <ul>{EXPECTED_ATTACHMENTS.iter().map(|p| view! { <li>{*p}</li> }).collect_view()}</ul>
                    </section>
                    <div class="form-actions">
                        <button type="submit" class="button button-secondary">"Enregistrer maintenant"</button>
                        <a class="button" href="/projet/recapitulatif" on:click=review>"Vérifier et soumettre"</a>
                    </div>
                </form>
                <History events=project.events.clone()/>
            </div>
        </div>
    }
}

/// Waits (at most 10 s) until no save is running, so the next page reads the latest text.
async fn wait_for_save(autosave: Autosave) {
    for _ in 0..100 {
        if !matches!(autosave.status.get_untracked(), Status::Saving) {
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            let promise = js_sys::Promise::new(&mut |resolve, _| {
                let _ = web_sys::window().map(|w| w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 100));
            });
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        }
    }
}

/// A stable name for each status, for styles and tests.
fn status_name(status: &Status) -> &'static str {
    match status {
        Status::Idle => "idle",
        Status::Dirty => "dirty",
        Status::Saving => "saving",
        Status::Saved(_) => "saved",
        Status::Offline => "offline",
        Status::Retry { .. } => "retry",
        Status::SessionExpired => "session-expired",
        Status::Refused(_) => "refused",
        Status::Conflict => "conflict",
    }
}

#[component]
fn ProjectField(field: &'static FieldDef, autosave: Autosave) -> impl IntoView {
    let value = autosave.signal(field.key);
    let initial = value.get_untracked();
    // Errors show once a field is left (or straight away for an answer already there).
    let touched = RwSignal::new(!initial.trim().is_empty());
    let error = Memo::new(move |_| if touched.get() { fields::check(field, &value.get()).err() } else { None });
    let id = field_id(field.key);
    let name = format!("draft[{}]", field.key);
    let hint_id = format!("{id}-aide");
    let error_id = format!("{id}-erreur");
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let mut ids = Vec::new();
            if field.hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let on_input = move |ev: ev::Event| {
        value.set(event_target_value(&ev));
        autosave.edited();
    };
    let on_blur = move |_: ev::FocusEvent| {
        // Also sent when navigation removes the focused control: the field may be gone.
        let _ = touched.try_set(true);
    };
    let required = field.required;
    let invalid = move || error.get().is_some().then_some("true");
    let max = fields::max_len(field.kind);
    let control = match field.kind {
        Kind::LongText => view! {
            <textarea
                id=id.clone() name=name rows="8" maxlength=max.to_string()
                aria-required=required.then_some("true") aria-invalid=invalid aria-describedby=described_by
                on:input=on_input on:blur=on_blur
            >{initial.clone()}</textarea>
        }
        .into_any(),
        Kind::Choice(options) => view! {
            <select
                id=id.clone() name=name
                aria-required=required.then_some("true") aria-invalid=invalid aria-describedby=described_by
                on:change=on_input on:blur=on_blur
            >
                <option value="" selected=initial.is_empty()>"Choisissez…"</option>
                {options.iter().map(|(v, l)| view! { <option value=*v selected=initial == *v>{*l}</option> }).collect_view()}
            </select>
        }
        .into_any(),
        kind => {
            let (inputmode, width) = match kind {
                Kind::Siret | Kind::ActivityNumber | Kind::Hours => (Some("numeric"), "input-short"),
                Kind::Euros => (Some("decimal"), "input-short"),
                Kind::Date | Kind::Rome | Kind::Certification => (None, "input-short"),
                _ => (None, ""),
            };
            let placeholder = (kind == Kind::Date).then_some("JJ/MM/AAAA");
            view! {
                <input
                    type="text" id=id.clone() name=name class=width value=initial.clone() maxlength=max.to_string()
                    inputmode=inputmode placeholder=placeholder autocomplete="off"
                    aria-required=required.then_some("true") aria-invalid=invalid aria-describedby=described_by
                    on:input=on_input on:blur=on_blur
                />
            }
            .into_any()
        }
    };
    view! {
        <div class="field" class:field-error=move || error.get().is_some()>
            <label for=id.clone()>
                {field.label}
                {required.then(|| view! { <span class="required" aria-hidden="true">" *"</span> })}
            </label>
            {field.hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            {move || error.get().map(|message| view! {
                <p class="error-message" id=error_id.clone()><span class="visually-hidden">"Erreur : "</span>{message}</p>
            })}
            {control}
        </div>
    }
}

/// Both texts of each answer that differs, and the choice between them.
#[component]
fn ConflictPanel(autosave: Autosave) -> impl IntoView {
    move || {
        autosave.conflict.get().map(|conflict| {
            let differing: Vec<&'static FieldDef> = fields::all_fields()
                .filter(|f| conflict.mine.get(f.key) != conflict.server.get(f.key))
                .collect();
            view! {
                <div class="panel panel-warning conflict" role="alert" aria-labelledby="conflit-titre">
                    <h2 id="conflit-titre">"Votre projet a été modifié ailleurs"</h2>
                    <p>"Une autre fenêtre ou un autre appareil a enregistré une autre version de votre projet. Rien n'a été écrasé : comparez les deux textes et choisissez celui à garder. Vous pouvez copier un passage de l'un avant de choisir l'autre."</p>
                    {differing.into_iter().map(|f| {
                        let mine = conflict.mine.get(f.key).cloned().unwrap_or_default();
                        let server = conflict.server.get(f.key).cloned().unwrap_or_default();
                        view! {
                            <div class="conflict-field">
                                <h3>{f.label}</h3>
                                <div class="conflict-versions">
                                    <div><h4>"Sur cet appareil"</h4><p class="conflict-mine">{if mine.is_empty() { "(vide)".to_string() } else { mine }}</p></div>
                                    <div><h4>"Version enregistrée"</h4><p class="conflict-server">{if server.is_empty() { "(vide)".to_string() } else { server }}</p></div>
                                </div>
                            </div>
                        }
                    }).collect_view()}
                    <p class="form-actions">
                        <button type="submit" form="projet" class="button" on:click=move |ev| { ev.prevent_default(); autosave.keep_mine(); }>
                            "Garder la version de cet appareil"
                        </button>
                        " "
                        <a class="button button-secondary" href="/projet" on:click=move |ev| { ev.prevent_default(); autosave.keep_server(); }>
                            "Reprendre la version enregistrée"
                        </a>
                    </p>
                </div>
            }
        })
    }
}

#[component]
fn Locked(project: ProjectView, flash: Option<Flash>) -> impl IntoView {
    let request = ServerAction::<RequestReopening>::new();
    let from_flash: Option<Result<(), AppError>> = flash.as_ref().and_then(|f| f.answer());
    let typed = flash.as_ref().map(|f| f.value("message")).unwrap_or_default();
    let answer = Signal::derive(move || request.value().get().or_else(|| from_flash.clone()));
    let can_ask = matches!(project.state, ProjectState::Submitted | ProjectState::UnderReview);
    let already = project.reopen_requested_at;
    let decision = matches!(project.state, ProjectState::Accepted | ProjectState::Refused)
        .then(|| project.last_reason(if project.state == ProjectState::Accepted { "accepter" } else { "refuser" }))
        .flatten();
    view! {
        <h1>"Mon projet de transition professionnelle"</h1>
        <div class="panel panel-locked" role="status">
            <p><strong>{format!("État : {}", project.state.label())}</strong></p>
            <p>{state_sentence(&project)}</p>
            {decision.map(|reason| view! { <p>"Motif indiqué par votre conseiller :"</p><blockquote class="reason">{reason}</blockquote> })}
            <p><a href="/projet/recapitulatif">"Voir et imprimer le récapitulatif"</a></p>
        </div>
        {can_ask.then(|| view! {
            <section class="panel" aria-labelledby="reouverture">
                <h2 id="reouverture">"Besoin de corriger votre projet ?"</h2>
                {move || match (answer.get(), already) {
                    (Some(Ok(())), _) => view! { <p class="alert alert-success" role="status">"Votre demande a été transmise à votre conseiller. Vous serez prévenu par courriel quand le projet sera rouvert."</p> }.into_any(),
                    (_, Some(at)) => view! { <p>{format!("Vous avez demandé la réouverture le {}. Votre conseiller va vous répondre.", paris_date_time(at))}</p> }.into_any(),
                    (other, None) => {
                        let error = other.and_then(|a| a.err()).map(|e| e.field("message").map(str::to_string).unwrap_or_else(|| e.to_string()));
                        let typed = typed.clone();
                        view! {
                            <p>"Votre conseiller peut rouvrir le projet pour que vous le modifiiez. Dites-lui ce que vous souhaitez changer."</p>
                            {error.map(|e| view! { <p class="alert alert-error" role="alert">{e}</p> })}
                            <ActionForm action=request attr:class="form">
                                <div class="field">
                                    <label for="champ-message">"Ce que vous souhaitez corriger (facultatif)"</label>
                                    <textarea id="champ-message" name="message" rows="4" maxlength="2000">{typed}</textarea>
                                </div>
                                <button type="submit" class="button">"Demander la réouverture"</button>
                            </ActionForm>
                        }.into_any()
                    }
                }}
            </section>
        })}
        <Recap draft=project.draft.clone()/>
        <History events=project.events.clone()/>
    }
}
