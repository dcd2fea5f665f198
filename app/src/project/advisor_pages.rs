//! Advisors' pages: the list of projects and one project, with review, reopening and decision.
//! Advisors read the beneficiary's text; nothing here can change it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::recap::{History, Recap};
use super::{staff_project, staff_projects, ProjectView, StaffTransition, Transition};
use crate::components::feedback::{announce_then_reload, Notice, Refused};
use crate::domain::date::{paris_date, paris_date_time};
use crate::error::AppError;
use crate::forms::{flash_resource, Flash};

#[component]
pub fn StaffProjectsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| staff_projects());
    view! {
        <Title text="Projets"/>
        <h1>"Projets de transition professionnelle"</h1>
        <p><A href="/conseiller">"Espace conseiller"</A></p>
        <Suspense fallback=|| ()>
            {move || list.get().map(|result| match result {
                Ok(projects) if projects.is_empty() => view! { <p>"Aucun projet pour l'instant."</p> }.into_any(),
                Ok(projects) => view! {
                    <table class="table">
                        <caption class="visually-hidden">"Projets, à traiter en premier"</caption>
                        <thead><tr><th scope="col">"Bénéficiaire"</th><th scope="col">"État"</th><th scope="col">"Soumis le"</th><th scope="col">"Dernière modification"</th></tr></thead>
                        <tbody>
                            {projects.into_iter().map(|p| view! {
                                <tr>
                                    <td><a href=format!("/conseiller/projets/{}", p.id)>{p.owner_name}</a></td>
                                    <td>
                                        {p.state.label()}
                                        {p.reopen_requested_at.map(|_| view! { <strong class="tag">" Réouverture demandée"</strong> })}
                                    </td>
                                    <td>{p.submitted_at.map(paris_date).unwrap_or_else(|| "—".into())}</td>
                                    <td>{paris_date_time(p.updated_at)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(e) => view! { <Refused error=e/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
pub fn StaffProjectPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let project = Resource::new(id, staff_project);
    let flash = flash_resource("project-staff");
    let notice = RwSignal::new(None::<&'static str>);
    view! {
        <Title text="Projet"/>
        <p><A href="/conseiller/projets">"Tous les projets"</A></p>
        <Suspense fallback=|| ()>
            {move || match (project.get(), flash.get()) {
                (Some(Ok(p)), Some(flash)) => Some(view! { <StaffProject project=p flash notice on_done=move || project.refetch()/> }.into_any()),
                (Some(Err(e)), _) => Some(view! { <h1>"Projet"</h1><Refused error=e/> }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}

/// What a successful decision says, on the page and without JavaScript.
const DONE: &str = "C'est fait : la personne est prévenue par courriel.";

#[component]
fn StaffProject(
    project: ProjectView,
    flash: Option<Flash>,
    notice: RwSignal<Option<&'static str>>,
    on_done: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let action = ServerAction::<StaffTransition>::new();
    let from_flash: Option<Result<(), AppError>> = flash.as_ref().and_then(|f| f.answer());
    let typed = flash.as_ref().map(|f| f.value("reason")).unwrap_or_default();
    // The confirmation belongs to the page: reloading the project replaces this component.
    if let Some(Ok(())) = &from_flash {
        notice.set(Some(DONE));
    }
    let answer = Signal::derive(move || action.value().get().or_else(|| from_flash.clone()));
    announce_then_reload(action.value(), notice, DONE, on_done);
    let id = project.id.clone();
    let state = project.state;
    let can = move |t: Transition| state.after(t).is_some();
    let form = move |transition: Transition, label: &'static str, reason_label: Option<&'static str>| {
        let id = id.clone();
        let typed = typed.clone();
        view! {
            <ActionForm action=action attr:class="form staff-action">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="action" value=transition.as_str()/>
                {reason_label.map(|l| {
                    let field = format!("raison-{}", transition.as_str());
                    view! {
                        <div class="field">
                            <label for=field.clone()>{l}<span class="required" aria-hidden="true">" *"</span></label>
                            <textarea id=field name="reason" rows="3" maxlength="2000" aria-required="true">{typed.clone()}</textarea>
                        </div>
                    }
                })}
                <button type="submit" class="button">{label}</button>
            </ActionForm>
        }
    };
    let reopen_request = project.reopen_requested_at.map(|at| (at, project.last_reason("reouverture_demandee")));
    view! {
        <h1>{format!("Projet de {}", project.owner_name)}</h1>
        <p><a href=format!("/conseiller/documents/{}", project.owner_id)>"Documents de cette personne"</a></p>
        <p class="lead">{format!("État : {}", project.state.label())}
            {project.submitted_at.map(|at| format!(" — soumis le {}", paris_date_time(at)))}</p>
        {reopen_request.map(|(at, message)| view! {
            <div class="panel panel-warning">
                <h2>{format!("Réouverture demandée le {}", paris_date_time(at))}</h2>
                {message.map(|m| view! { <blockquote class="reason">{m}</blockquote> })}
            </div>
        })}
        <Notice notice/>
        {move || answer.get().and_then(Result::err).map(|e| {
            let message = e.field("reason").map(str::to_string).unwrap_or_else(|| e.to_string());
            view! { <p class="alert alert-error" role="alert">{message}</p> }
        })}
        <section class="staff-actions" aria-labelledby="actions">
            <h2 id="actions">"Actions"</h2>
            {(!Transition::ALL.iter().any(|t| *t != Transition::Submit && can(*t)))
                .then(|| view! { <p>"Aucune action possible dans cet état."</p> })}
            {can(Transition::StartReview).then(|| form(Transition::StartReview, "Commencer l'instruction", None))}
            {can(Transition::Reopen).then(|| form(Transition::Reopen, "Rouvrir le projet", Some("Raison de la réouverture (montrée à la personne)")))}
            {can(Transition::Accept).then(|| form(Transition::Accept, "Accepter le projet", Some("Motif de l'acceptation")))}
            {can(Transition::Refuse).then(|| form(Transition::Refuse, "Refuser le projet", Some("Motif du refus")))}
        </section>
        <Recap draft=project.draft.clone()/>
        <History events=project.events.clone()/>
    }
}
