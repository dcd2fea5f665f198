//! `/documents` (the beneficiary's documents and what staff asked for) and
//! `/conseiller/documents/:id` (a beneficiary's documents for staff: ask for one, post one).
//!
//! Uploads are plain multipart forms posted to the server function: they work without
//! JavaScript. With it, the form is sent with `XMLHttpRequest` so a progress bar shows the
//! upload, and the list refreshes in place.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::files::{human_size, MAX_FILE_BYTES};
use super::{my_documents, staff_documents, Category, DocumentItem, DocumentsView, RequestDocument, RequestItem};
use crate::components::feedback::{announce_then_reload, Notice, Refused};
use crate::domain::date::{paris_date, CalendarDate};
use crate::error::AppError;
use crate::forms::{flash_resource, Flash, Problems};

/// What is accepted, said before a file is chosen.
pub const LIMITS: &str = "Formats acceptés : PDF, JPEG ou PNG. Taille maximale : 10 Mo par fichier.";
/// The `accept` attribute of file inputs (a hint for the file picker; the server checks content).
pub const ACCEPT: &str = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png";

#[component]
pub fn DocumentsPage() -> impl IntoView {
    let view = Resource::new(|| (), |_| my_documents());
    let flash = flash_resource("documents-upload");
    let notice = RwSignal::new(None::<&'static str>);
    view! {
        <Title text="Mes documents"/>
        <h1>"Mes documents"</h1>
        <Suspense fallback=|| ()>
            {move || match (view.get(), flash.get()) {
                (Some(Ok(v)), Some(flash)) => Some(view! {
                    <Notice notice/>
                    <Documents view=v flash staff=false notice on_done=move || view.refetch()/>
                }.into_any()),
                (Some(Err(e)), _) => Some(view! { <Refused error=e/> }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}

#[component]
pub fn StaffDocumentsPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let view = Resource::new(id, staff_documents);
    let flash = flash_resource("documents-upload");
    let request_flash = flash_resource("documents-request");
    let notice = RwSignal::new(None::<&'static str>);
    view! {
        <Title text="Documents d'un bénéficiaire"/>
        <p><A href="/conseiller/messages">"Messages"</A>" · "<A href="/conseiller/projets">"Projets"</A></p>
        <Suspense fallback=|| ()>
            {move || match (view.get(), flash.get(), request_flash.get()) {
                (Some(Ok(v)), Some(flash), Some(request_flash)) => Some(view! {
                    <h1>{format!("Documents de {}", v.beneficiary_name)}</h1>
                    <Notice notice/>
                    <RequestForm beneficiary_id=v.beneficiary_id.clone() flash=request_flash notice on_done=move || view.refetch()/>
                    <Documents view=v flash staff=true notice on_done=move || view.refetch()/>
                }.into_any()),
                (Some(Err(e)), _, _) => Some(view! { <h1>"Documents"</h1><Refused error=e/> }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}

#[component]
fn Documents(
    view: DocumentsView,
    flash: Option<Flash>,
    staff: bool,
    notice: RwSignal<Option<&'static str>>,
    on_done: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let flashed: Option<Result<String, AppError>> = flash.as_ref().and_then(|f| f.answer());
    let open: Vec<RequestItem> = view.requests.iter().filter(|r| !r.received).cloned().collect();
    let received: Vec<RequestItem> = view.requests.iter().filter(|r| r.received).cloned().collect();
    let beneficiary_id = staff.then(|| view.beneficiary_id.clone());
    let space = format!(
        "{} : {} utilisés sur {}.",
        if staff { "Espace de documents de la personne" } else { "Votre espace de documents" },
        human_size(view.used_bytes),
        human_size(view.quota_bytes)
    );
    view! {
        <p class="lead">{LIMITS}</p>
        <p class="hint">{space}</p>
        {flashed.map(|answer| view! { <Outcome answer/> })}
        {(!open.is_empty()).then(|| view! {
            <section aria-labelledby="demandes">
                <h2 id="demandes">{if staff { "Documents demandés, en attente" } else { "Documents demandés par votre conseiller" }}</h2>
                <ul class="request-list">
                    {open.into_iter().map(|r| {
                        let answer_form = (!staff).then(|| view! {
                            <UploadForm beneficiary_id=None request=Some((r.id.clone(), r.category)) notice on_done/>
                        });
                        view! {
                            <li class="panel panel-warning request">
                                <h3>{r.category.label()}</h3>
                                {(!r.note.is_empty()).then(|| view! { <p>{r.note.clone()}</p> })}
                                <p class="meta">
                                    {format!("Demandé par {} le {}", r.requested_by_name, paris_date(r.created_at))}
                                    {r.due_date.as_deref().and_then(|d| CalendarDate::parse(d, "").ok()).map(|d| format!(" — à déposer avant le {}", d.french()))}
                                </p>
                                {answer_form}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })}
        <section aria-labelledby="deposer">
            <h2 id="deposer">{if staff { "Déposer un document pour cette personne" } else { "Déposer un document" }}</h2>
            <UploadForm beneficiary_id notice on_done request=None/>
        </section>
        <section aria-labelledby="liste">
            <h2 id="liste">"Documents déposés"</h2>
            <DocumentTable documents=view.documents/>
        </section>
        {(!received.is_empty()).then(|| view! {
            <section aria-labelledby="recues">
                <h2 id="recues">"Demandes satisfaites"</h2>
                <ul>{received.into_iter().map(|r| view! { <li>{format!("{} — reçu", r.category.label())}</li> }).collect_view()}</ul>
            </section>
        })}
    }
}

#[component]
pub fn DocumentTable(documents: Vec<DocumentItem>) -> impl IntoView {
    if documents.is_empty() {
        return view! { <p>"Aucun document pour l'instant."</p> }.into_any();
    }
    view! {
        <table class="table documents">
            <caption class="visually-hidden">"Documents, les plus récents d'abord"</caption>
            <thead><tr><th scope="col">"Fichier"</th><th scope="col">"Type"</th><th scope="col">"Taille"</th><th scope="col">"Déposé"</th></tr></thead>
            <tbody>
                {documents.into_iter().map(|d| view! {
                    <tr>
                        <td><a href=d.download() download="">{d.file_name.clone()}</a></td>
                        <td>{d.category.label()}</td>
                        <td>{human_size(d.size_bytes)}</td>
                        <td>{format!("le {} par {}{}", paris_date(d.created_at), d.uploaded_by_name, if d.from_staff { " (conseiller)" } else { "" })}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

const RECEIVED: &str = "Document bien reçu.";

/// The answer of an upload, from the plain form's flash or the script.
#[component]
fn Outcome(answer: Result<String, AppError>) -> impl IntoView {
    match answer {
        Ok(_) => view! { <p class="alert alert-success" role="status">{RECEIVED}</p> }.into_any(),
        Err(error) => view! { <Problems error lead="Le document n'a pas été enregistré :"/> }.into_any(),
    }
}

/// One document upload. `request` answers a request (its category is fixed); `beneficiary_id`
/// is set when staff post a document to someone.
#[component]
fn UploadForm(
    beneficiary_id: Option<String>,
    request: Option<(String, Category)>,
    notice: RwSignal<Option<&'static str>>,
    on_done: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let progress = RwSignal::new(None::<f64>);
    let answer = RwSignal::new(None::<Result<String, AppError>>);
    let ready = crate::forms::ready_marker();
    let suffix = request.as_ref().map(|(id, _)| id.clone()).unwrap_or_else(|| "nouveau".into());
    let file_id = format!("fichier-{suffix}");
    let category_id = format!("categorie-{suffix}");
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        answer.set(None);
        notice.set(None);
        submit_with_progress(ev, progress, move |result, form| match result {
            Ok(_) => {
                notice.try_set(Some(RECEIVED));
                form.reset();
                on_done();
            }
            Err(error) => {
                answer.try_set(Some(Err(error)));
            }
        });
    };
    view! {
        <form class="form upload-form" data-ready=ready method="post" action="/api/documents/upload" enctype="multipart/form-data" on:submit=on_submit>
            {beneficiary_id.map(|id| view! { <input type="hidden" name="beneficiary_id" value=id/> })}
            {match request {
                Some((id, category)) => view! {
                    <input type="hidden" name="request_id" value=id/>
                    <input type="hidden" name="category" value=category.as_str()/>
                }.into_any(),
                None => view! {
                    <div class="field">
                        <label for=category_id.clone()>"Type de document"<span class="required" aria-hidden="true">" *"</span></label>
                        <select id=category_id name="category" required aria-required="true">
                            <option value="">"Choisissez…"</option>
                            {Category::ALL.into_iter().map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
                        </select>
                    </div>
                }.into_any(),
            }}
            <div class="field">
                <label for=file_id.clone()>"Fichier"<span class="required" aria-hidden="true">" *"</span></label>
                <p class="hint" id=format!("{file_id}-aide")>{LIMITS}</p>
                <input type="file" id=file_id.clone() name="file" accept=ACCEPT required aria-required="true"
                    aria-describedby=format!("{file_id}-aide") data-max-bytes=MAX_FILE_BYTES.to_string()/>
            </div>
            <button type="submit" class="button">"Envoyer le document"</button>
            <UploadProgress progress label="Envoi du fichier"/>
            {move || answer.get().map(|answer| view! { <Outcome answer/> })}
        </form>
    }
}

/// With JavaScript, posts the submitted multipart form with `XMLHttpRequest` (the only browser
/// API that reports upload progress) instead of the browser, shows the progress in `progress`,
/// then calls `done` with the server function's answer and the form. Without, the browser posts
/// the form itself.
pub fn submit_with_progress(
    ev: leptos::ev::SubmitEvent,
    progress: RwSignal<Option<f64>>,
    done: impl Fn(Result<String, AppError>, leptos::web_sys::HtmlFormElement) + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.prevent_default();
        let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else { return };
        progress.set(Some(0.0));
        let sent = form.clone();
        send_with_progress(&form, progress, move |result| {
            progress.try_set(None);
            done(result, sent.clone());
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, progress, done);
}

#[cfg(feature = "hydrate")]
fn send_with_progress(form: &web_sys::HtmlFormElement, progress: RwSignal<Option<f64>>, done: impl Fn(Result<String, AppError>) + 'static) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    // "La connexion au service a échoué" only when no answer came back (status 0).
    let failed = || AppError::Transport("upload".into());
    let (Ok(data), Ok(xhr)) = (web_sys::FormData::new_with_form(form), web_sys::XmlHttpRequest::new()) else {
        done(Err(AppError::Internal(None)));
        return;
    };
    if xhr.open("POST", &form.action()).is_err() || xhr.set_request_header("Accept", "application/json").is_err() {
        done(Err(AppError::Internal(None)));
        return;
    }
    // Closures of the same shapes as the framework's own (an event handler; a one-shot callback):
    // the split build resolves those, while a closure of a new shape in a lazily loaded chunk
    // leaves an unresolved import that stops the whole page's WebAssembly.
    if let Ok(upload) = xhr.upload() {
        let on_progress = Closure::wrap(Box::new(move |e: web_sys::Event| {
            if let Ok(e) = e.dyn_into::<web_sys::ProgressEvent>() {
                if e.length_computable() && e.total() > 0.0 {
                    progress.try_set(Some(e.loaded() / e.total()));
                }
            }
        }) as Box<dyn FnMut(web_sys::Event)>);
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        on_progress.forget();
    }
    let request = xhr.clone();
    let on_end = Closure::once_into_js(move || {
        let status = request.status().unwrap_or(0);
        let body = request.response_text().ok().flatten().unwrap_or_default();
        let result = if (200..300).contains(&status) {
            Ok(serde_json::from_str::<String>(&body).unwrap_or_default())
        } else if status == 0 {
            Err(failed())
        } else {
            Err(serde_json::from_str::<AppError>(&body).unwrap_or(AppError::Internal(None)))
        };
        done(result);
    });
    xhr.set_onloadend(Some(on_end.unchecked_ref()));
    if xhr.send_with_opt_form_data(Some(&data)).is_err() {
        // onloadend still fires and reports the failure.
    }
}

/// The progress of an upload under way, announced politely.
#[component]
pub fn UploadProgress(progress: RwSignal<Option<f64>>, label: &'static str) -> impl IntoView {
    view! {
        <div aria-live="polite" class="upload-status">
            {move || progress.get().map(|p| {
                let percent = (p * 100.0).round() as i64;
                view! { <progress max="100" value=percent.to_string() aria-label=label></progress><span>{format!(" Envoi : {percent} %")}</span> }
            })}
        </div>
    }
}

const REQUESTED: &str = "Demande envoyée : la personne est prévenue par courriel.";

/// Staff ask for a document.
#[component]
fn RequestForm(
    beneficiary_id: String,
    flash: Option<Flash>,
    notice: RwSignal<Option<&'static str>>,
    on_done: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let action = ServerAction::<RequestDocument>::new();
    let flashed: Option<Result<String, AppError>> = flash.as_ref().and_then(|f| f.answer());
    let typed = move |name: &str| flash.as_ref().map(|f| f.value(name)).unwrap_or_default();
    let (category, note, due) = (typed("category"), typed("note"), typed("due_date"));
    let answer = Signal::derive(move || action.value().get().or_else(|| flashed.clone()));
    announce_then_reload(action.value(), notice, REQUESTED, on_done);
    view! {
        <section aria-labelledby="demander">
            <h2 id="demander">"Demander un document"</h2>
            {move || answer.get().map(|a| match a {
                // With JavaScript the page's notice says it (it outlives the list's reload).
                Ok(_) if action.value().get().is_some() => ().into_any(),
                Ok(_) => view! { <p class="alert alert-success" role="status">{REQUESTED}</p> }.into_any(),
                Err(error) => view! { <Problems error/> }.into_any(),
            })}
            <ActionForm action=action attr:class="form">
                <input type="hidden" name="beneficiary_id" value=beneficiary_id/>
                <div class="field">
                    <label for="demande-categorie">"Document demandé"<span class="required" aria-hidden="true">" *"</span></label>
                    <select id="demande-categorie" name="category" required aria-required="true">
                        <option value="">"Choisissez…"</option>
                        {Category::ALL.into_iter().map(|c| view! { <option value=c.as_str() selected=category == c.as_str()>{c.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="demande-note">"Précisions pour la personne"</label>
                    <textarea id="demande-note" name="note" rows="2" maxlength="1000">{note}</textarea>
                </div>
                <div class="field">
                    <label for="demande-echeance">"À déposer avant le (jj/mm/aaaa)"</label>
                    <input type="text" id="demande-echeance" name="due_date" inputmode="numeric" autocomplete="off" value=due/>
                </div>
                <button type="submit" class="button">"Demander ce document"</button>
            </ActionForm>
        </section>
    }
}
