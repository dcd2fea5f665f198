//! `/messages` and `/messages/:id` for beneficiaries, `/conseiller/messages` and
//! `/conseiller/messages/:id` for staff. Sending is a plain multipart form (works without
//! JavaScript); with it, the unsent text is kept in this browser's localStorage (per account and
//! thread) until the server has the message, and files upload with a progress bar.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::{my_threads, staff_threads, thread, Inbox, ServiceItem, ThreadSummary, ThreadView};
use crate::components::feedback::Refused;
use crate::documents::page::{submit_with_progress, DocumentTable, UploadProgress, ACCEPT, LIMITS};
use crate::domain::date::paris_date_time;
use crate::error::AppError;
use crate::forms::{flash_resource, Flash, Problems};

#[component]
pub fn MessagesPage() -> impl IntoView {
    let inbox = Resource::new(|| (), |_| my_threads());
    let flash = flash_resource("messages-send");
    view! {
        <Title text="Mes messages"/>
        <h1>"Mes messages"</h1>
        <Suspense fallback=|| ()>
            {move || match (inbox.get(), flash.get()) {
                (Some(Ok(inbox)), Some(flash)) => Some(view! { <BeneficiaryInbox inbox flash/> }.into_any()),
                (Some(Err(e)), _) => Some(view! { <Refused error=e/> }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}

#[component]
fn BeneficiaryInbox(inbox: Inbox, flash: Option<Flash>) -> impl IntoView {
    let Inbox { viewer_id, threads, services } = inbox;
    view! {
        <ThreadList threads staff=false/>
        <section aria-labelledby="nouveau">
            <h2 id="nouveau">"Écrire un nouveau message"</h2>
            <Composer viewer_id thread_id=None services flash staff=false sent=RwSignal::new(false) on_sent=|_| ()/>
        </section>
    }
}

#[component]
pub fn StaffMessagesPage() -> impl IntoView {
    let threads = Resource::new(|| (), |_| staff_threads());
    view! {
        <Title text="Messages"/>
        <h1>"Messages"</h1>
        <p><A href="/conseiller">"Espace conseiller"</A></p>
        <Suspense fallback=|| ()>
            {move || threads.get().map(|result| match result {
                Ok(threads) => view! { <ThreadList threads staff=true/> }.into_any(),
                Err(e) => view! { <Refused error=e/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
pub fn ThreadList(threads: Vec<ThreadSummary>, staff: bool) -> impl IntoView {
    if threads.is_empty() {
        return view! { <p>"Aucun message pour l'instant."</p> }.into_any();
    }
    let base = if staff { "/conseiller/messages" } else { "/messages" };
    view! {
        <table class="table threads">
            <caption class="visually-hidden">"Conversations"</caption>
            <thead><tr>
                <th scope="col">"Objet"</th>
                <th scope="col">{if staff { "Bénéficiaire" } else { "Avec" }}</th>
                <th scope="col">"Dernier message"</th>
                <th scope="col">"Non lus"</th>
            </tr></thead>
            <tbody>
                {threads.into_iter().map(|t| view! {
                    <tr class:unread={t.unread > 0}>
                        <td><a href=format!("{base}/{}", t.id)>{t.subject.clone()}</a></td>
                        <td>{if staff { format!("{} — {}", t.beneficiary_name, t.with_label) } else { t.with_label.clone() }}</td>
                        <td>{paris_date_time(t.last_message_at)}</td>
                        <td>{if t.unread > 0 { view! { <strong class="tag">{format!("{} non lu{}", t.unread, if t.unread > 1 { "s" } else { "" })}</strong> }.into_any() } else { "—".into_any() }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn ThreadPage() -> impl IntoView {
    thread_page(false)
}

#[component]
pub fn StaffThreadPage() -> impl IntoView {
    thread_page(true)
}

fn thread_page(staff: bool) -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let view = Resource::new(id, thread);
    let flash = flash_resource("messages-send");
    let back = if staff { "/conseiller/messages" } else { "/messages" };
    // "Message envoyé." belongs to the page, not to its form: the thread reloads after a reply
    // and rebuilds the form. A new thread's page opens with `?envoye=1`.
    let sent = RwSignal::new(leptos_router::hooks::use_query_map().with_untracked(|q| q.get("envoye").is_some()));
    view! {
        <Title text="Conversation"/>
        <p><A href=back>"Toutes les conversations"</A></p>
        <Suspense fallback=|| ()>
            {move || match (view.get(), flash.get()) {
                (Some(Ok(t)), Some(flash)) => Some(view! { <Thread thread=t flash staff sent on_sent=move |_| view.refetch()/> }.into_any()),
                (Some(Err(e)), _) => Some(view! { <h1>"Conversation"</h1><Refused error=e/> }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}

#[component]
fn Thread(
    thread: ThreadView,
    flash: Option<Flash>,
    staff: bool,
    sent: RwSignal<bool>,
    on_sent: impl Fn(String) + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let ThreadView { viewer_id, id, beneficiary_id, beneficiary_name, with_label, subject, messages } = thread;
    view! {
        <h1>{subject}</h1>
        <p class="lead">{if staff { format!("{beneficiary_name} — {with_label}") } else { with_label }}</p>
        {staff.then(|| view! { <p><a href=format!("/conseiller/documents/{beneficiary_id}")>"Documents de cette personne"</a></p> })}
        <ol class="messages">
            {messages.into_iter().map(|m| view! {
                <li class="message" class:mine=m.mine>
                    <p class="meta">{format!("{}{} — {}", m.author_name, if m.from_staff { " (conseiller)" } else { "" }, paris_date_time(m.created_at))}</p>
                    <div class="message-body">{m.body.lines().map(|l| view! { <p>{l.to_string()}</p> }).collect_view()}</div>
                    {(!m.attachments.is_empty()).then(|| view! {
                        <div class="attachments"><h2 class="visually-hidden">"Pièces jointes"</h2><DocumentTable documents=m.attachments.clone()/></div>
                    })}
                </li>
            }).collect_view()}
        </ol>
        <section aria-labelledby="repondre">
            <h2 id="repondre">"Répondre"</h2>
            <Composer viewer_id thread_id=Some(id) services=vec![] flash staff sent on_sent/>
        </section>
    }
}

/// The form that sends a message: a new thread (`thread_id` none: to whom, subject) or a reply.
#[component]
fn Composer(
    viewer_id: String,
    thread_id: Option<String>,
    services: Vec<ServiceItem>,
    flash: Option<Flash>,
    staff: bool,
    sent: RwSignal<bool>,
    on_sent: impl Fn(String) + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let flashed: Option<Result<String, AppError>> = flash.as_ref().and_then(|f| f.answer());
    if matches!(flashed, Some(Ok(_))) {
        sent.set(true);
    }
    let typed = move |name: &str| flash.as_ref().map(|f| f.value(name)).unwrap_or_default();
    let (body, subject) = (typed("body"), typed("subject"));
    let answer = RwSignal::new(flashed.filter(|a| a.is_err()));
    let progress = RwSignal::new(None::<f64>);
    let body_ref = NodeRef::<leptos::html::Textarea>::new();
    let ready = crate::forms::ready_marker();
    let draft_key = format!("passerelle.message.{viewer_id}.{}", thread_id.clone().unwrap_or_else(|| "nouveau".into()));
    let is_new = thread_id.is_none();
    // The unsent text of this thread on this browser comes back once the page is interactive.
    #[cfg(feature = "hydrate")]
    {
        let key = draft_key.clone();
        Effect::new(move |_| {
            use gloo_storage::Storage;
            if let (Some(area), Ok(kept)) = (body_ref.get(), gloo_storage::LocalStorage::get::<String>(&key)) {
                if area.value().trim().is_empty() && !kept.is_empty() {
                    area.set_value(&kept);
                }
            }
        });
    }
    let keep_draft = {
        let key = draft_key.clone();
        move |ev: leptos::ev::Event| {
            #[cfg(feature = "hydrate")]
            {
                use gloo_storage::Storage;
                let _ = gloo_storage::LocalStorage::set(&key, event_target_value(&ev));
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (&key, ev);
        }
    };
    let navigate = leptos_router::hooks::use_navigate();
    let on_submit = {
        let key = draft_key.clone();
        move |ev: leptos::ev::SubmitEvent| {
            answer.set(None);
            sent.set(false);
            let (key, navigate) = (key.clone(), navigate.clone());
            submit_with_progress(ev, progress, move |result, form| match result {
                Ok(thread_id) => {
                    forget_draft(&key);
                    form.reset();
                    if is_new {
                        let path = format!("{}/{thread_id}?envoye=1", if staff { "/conseiller/messages" } else { "/messages" });
                        let navigate = navigate.clone();
                        set_timeout(move || navigate(&path, Default::default()), std::time::Duration::ZERO);
                    } else {
                        sent.try_set(true);
                        on_sent(thread_id);
                    }
                }
                Err(e) => {
                    answer.try_set(Some(Err(e)));
                }
            });
        }
    };
    let prefix = if is_new { "nouveau" } else { "reponse" };
    view! {
        <form class="form composer" data-ready=ready method="post" action="/api/messages/send" enctype="multipart/form-data" on:submit=on_submit>
            {move || sent.get().then(|| view! { <p class="alert alert-success" role="status">"Message envoyé."</p> })}
            {move || answer.get().and_then(|a| a.err()).map(|error| view! { <Problems error lead="Le message n'est pas parti :"/> })}
            {match thread_id {
                Some(id) => view! { <input type="hidden" name="thread_id" value=id/> }.into_any(),
                None => view! {
                    <div class="field">
                        <label for="destinataire">"À qui écrire"<span class="required" aria-hidden="true">" *"</span></label>
                        <select id="destinataire" name="to" required aria-required="true">
                            <option value="referent">"Mon conseiller référent"</option>
                            {services.into_iter().map(|s| view! { <option value=s.slug>{s.name}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="objet">"Objet"<span class="required" aria-hidden="true">" *"</span></label>
                        <input type="text" id="objet" name="subject" maxlength="150" required aria-required="true" value=subject/>
                    </div>
                }.into_any(),
            }}
            <div class="field">
                <label for=format!("{prefix}-message")>"Message"<span class="required" aria-hidden="true">" *"</span></label>
                <p class="hint" id=format!("{prefix}-message-aide")>"Tant qu'il n'est pas envoyé, votre texte est gardé sur cet appareil."</p>
                <textarea id=format!("{prefix}-message") name="body" rows="6" maxlength="10000" required aria-required="true"
                    aria-describedby=format!("{prefix}-message-aide") node_ref=body_ref on:input=keep_draft>{body}</textarea>
            </div>
            <div class="field">
                <label for=format!("{prefix}-fichiers")>"Pièces jointes (facultatif, 5 au plus)"</label>
                <p class="hint" id=format!("{prefix}-fichiers-aide")>{LIMITS}</p>
                <input type="file" id=format!("{prefix}-fichiers") name="file" multiple accept=ACCEPT aria-describedby=format!("{prefix}-fichiers-aide")/>
            </div>
            <button type="submit" class="button">"Envoyer"</button>
            <UploadProgress progress label="Envoi du message"/>
        </form>
    }
}

/// Drops this browser's copy of a message once the server has it.
fn forget_draft(key: &str) {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::Storage;
        gloo_storage::LocalStorage::delete(key);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = key;
}
