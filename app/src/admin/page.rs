//! `/admin`: staff accounts, services, legal texts.

use leptos::prelude::*;
use leptos_meta::Title;

use super::*;
use crate::components::feedback::Refused;
use crate::dashboard::page::StaffNav;
use crate::domain::date::paris_date_time;
use crate::forms::fields::{error_for, Field};
use crate::forms::{flash_resource, Flash, Problems};

/// One form's answer (with JavaScript, its action's; without, the flash it left) and what was
/// typed, so that a refused form comes back filled in with each problem beside its field.
#[derive(Clone, Copy)]
struct Answer {
    value: Signal<Option<Result<String, AppError>>>,
    flash: Signal<Option<Flash>>,
}

impl Answer {
    fn new<A>(action: ServerAction<A>, flash: Resource<Option<Flash>>) -> Self
    where
        A: leptos::server_fn::ServerFn<Output = String, Error = AppError> + Clone + Send + Sync + 'static,
    {
        let flash = Signal::derive(move || flash.get().flatten());
        Answer { value: Signal::derive(move || action.value().get().or_else(|| flash.get().and_then(|f| f.answer::<String>()))), flash }
    }
    fn error(self, field: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || error_for(&self.value.get(), field))
    }
    fn typed(self, field: &'static str) -> Signal<String> {
        Signal::derive(move || self.flash.get().map(|f| f.value(field)).unwrap_or_default())
    }
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let view_data = Resource::new(|| (), |_| overview());
    let create = ServerAction::<CreateStaff>::new();
    let update = ServerAction::<UpdateStaff>::new();
    let service = ServerAction::<SaveService>::new();
    let publish = ServerAction::<PublishLegal>::new();
    // Without JavaScript each form posts itself and comes back here with its answer.
    let answers = [
        Answer::new(update, flash_resource("admin")),
        Answer::new(create, flash_resource("admin-staff")),
        Answer::new(service, flash_resource("admin-service")),
        Answer::new(publish, flash_resource("admin-legal")),
    ];
    let answer = move || answers.iter().find_map(|a| a.value.get());
    Effect::new(move |_| {
        let done = [create.version().get(), update.version().get(), service.version().get(), publish.version().get()];
        if done.iter().any(|v| *v > 0) {
            view_data.refetch();
        }
    });
    view! {
        <Title text="Administration"/>
        <h1>"Administration"</h1>
        <StaffNav/>
        <div aria-live="polite">
            <Suspense fallback=|| ()>
                {move || answer().map(|r| match r {
                    Ok(done) => view! { <p class="alert alert-success" role="status">{done}</p> }.into_any(),
                    Err(e) => view! { <Problems error=e/> }.into_any(),
                })}
            </Suspense>
        </div>
        <Suspense fallback=|| ()>
            {move || view_data.get().map(|result| match result {
                Ok(data) => view! { <Admin data create update service publish answers/> }.into_any(),
                Err(e) => view! { <Refused error=e/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Admin(
    data: AdminView,
    create: ServerAction<CreateStaff>,
    update: ServerAction<UpdateStaff>,
    service: ServerAction<SaveService>,
    publish: ServerAction<PublishLegal>,
    answers: [Answer; 4],
) -> impl IntoView {
    let AdminView { me, staff, services, legal } = data;
    let [_, staff_answer, service_answer, legal_answer] = answers;
    let (chosen_role, chosen_service, chosen_document) = (staff_answer.typed("role"), staff_answer.typed("service"), legal_answer.typed("document"));
    let service_options = services.iter().filter(|s| s.active).map(|s| (s.slug.clone(), s.name.clone())).collect::<Vec<_>>();
    let options = service_options.clone();
    let change = move |id: String, change: &'static str, value: String, label: String| {
        view! {
            <ActionForm action=update attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="change" value=change/>
                <input type="hidden" name="value" value=value/>
                <button type="submit" class="link-button">{label}</button>
            </ActionForm>
        }
    };
    view! {
        <section aria-labelledby="personnel">
            <h2 id="personnel">"Comptes du personnel"</h2>
            <table class="table">
                <caption class="visually-hidden">"Conseillers et administrateurs"</caption>
                <thead><tr><th scope="col">"Nom"</th><th scope="col">"Rôle"</th><th scope="col">"Services"</th><th scope="col">"État"</th><th scope="col">"Actions"</th></tr></thead>
                <tbody>
                    {staff.into_iter().map(|m| {
                        let is_me = m.id == me;
                        let other_role = if m.role == Role::Admin { ("advisor", "Rendre conseiller") } else { ("admin", "Rendre administrateur") };
                        let joinable = options.iter().filter(|(slug, _)| !m.services.contains(slug)).cloned().collect::<Vec<_>>();
                        view! {
                            <tr>
                                <td>{m.name.clone()}<br/><span class="hint">{m.email.clone()}</span></td>
                                <td>{if m.role == Role::Admin { "Administrateur" } else { "Conseiller" }}</td>
                                <td>
                                    {m.services.iter().map(|slug| view! {
                                        <span>{slug.clone()} " "</span>
                                        {change(m.id.clone(), "leave", slug.clone(), format!("(retirer de {slug})"))}
                                    }).collect_view()}
                                    {joinable.into_iter().map(|(slug, name)| change(m.id.clone(), "join", slug, format!("Ajouter à {name}"))).collect_view()}
                                </td>
                                <td>{match (m.active, m.ready) {
                                    (false, _) => "Désactivé",
                                    (true, false) => "Mot de passe pas encore choisi",
                                    (true, true) => "Actif",
                                }}</td>
                                <td>
                                    {(!is_me).then(|| view! {
                                        {change(m.id.clone(), "role", other_role.0.to_string(), other_role.1.to_string())}
                                        {if m.active {
                                            change(m.id.clone(), "active", "0".into(), "Désactiver".into())
                                        } else {
                                            change(m.id.clone(), "active", "1".into(), "Réactiver".into())
                                        }}
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Créer un compte"</h3>
            <ActionForm action=create attr:class="form">
                <Field id="staff-name" name="name" prefix="" label="Nom affiché" required=true value=staff_answer.typed("name") error=staff_answer.error("name")/>
                <Field id="staff-email" name="email" prefix="" label="Adresse électronique" input_type="email" required=true
                    value=staff_answer.typed("email") error=staff_answer.error("email")/>
                <div class="field">
                    <label for="staff-role">"Rôle"</label>
                    <select id="staff-role" name="role">
                        <option value="advisor">"Conseiller"</option>
                        <option value="admin" selected=move || chosen_role.get() == "admin">"Administrateur"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="staff-service">"Service"</label>
                    <select id="staff-service" name="service">
                        <option value="">"Aucun"</option>
                        {service_options.into_iter().map(|(slug, name)| {
                            let chosen = slug.clone();
                            view! { <option value=slug selected=move || chosen_service.get() == chosen>{name}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="button">"Créer le compte"</button>
            </ActionForm>
        </section>
        <section aria-labelledby="services">
            <h2 id="services">"Services"</h2>
            <ul>
                {services.into_iter().map(|s| view! {
                    <li>
                        {format!("{} ({}) — {} membre(s){}", s.name, s.slug, s.members, if s.active { "" } else { " — fermé" })}
                        <ActionForm action=service attr:class="inline-form">
                            <input type="hidden" name="slug" value=s.slug.clone()/>
                            <input type="hidden" name="name" value=s.name.clone()/>
                            <input type="hidden" name="active" value=if s.active { "0" } else { "1" }/>
                            <button type="submit" class="link-button">{if s.active { "Fermer" } else { "Rouvrir" }}</button>
                        </ActionForm>
                    </li>
                }).collect_view()}
            </ul>
            <h3>"Créer ou renommer un service"</h3>
            <ActionForm action=service attr:class="form">
                <Field id="service-slug" name="slug" prefix="" label="Identifiant (minuscules, sans accent)" required=true
                    value=service_answer.typed("slug") error=service_answer.error("slug")/>
                <Field id="service-name" name="name" prefix="" label="Nom montré aux bénéficiaires" required=true
                    value=service_answer.typed("name") error=service_answer.error("name")/>
                <button type="submit" class="button">"Enregistrer le service"</button>
            </ActionForm>
        </section>
        <section aria-labelledby="textes">
            <h2 id="textes">"CGU et politique de confidentialité"</h2>
            <ul>
                {legal.into_iter().map(|v| view! {
                    <li>{format!("{}, version {} — {} — {}", v.title(), v.version, if v.published_at == 0 { "d'origine".to_string() } else { paris_date_time(v.published_at) }, v.summary)}</li>
                }).collect_view()}
            </ul>
            <h3>"Publier une nouvelle version"</h3>
            <ActionForm action=publish attr:class="form">
                <div class="field" class:field-error=move || legal_answer.error("document").get().is_some()>
                    <label for="legal-document">"Texte"<span class="required" aria-hidden="true">" *"</span></label>
                    {move || legal_answer.error("document").get().map(|m| view! { <p class="error-message" id="legal-document-erreur">{m}</p> })}
                    <select id="legal-document" name="document" required>
                        <option value="cgu">"Conditions générales d'utilisation"</option>
                        <option value="privacy" selected=move || chosen_document.get() == "privacy">"Politique de confidentialité"</option>
                    </select>
                </div>
                <Field id="legal-version" name="version" prefix="" label="Numéro de version" required=true
                    value=legal_answer.typed("version") error=legal_answer.error("version")/>
                <div class="field" class:field-error=move || legal_answer.error("summary").get().is_some()>
                    <label for="legal-summary">"Ce qui change (montré aux bénéficiaires)"<span class="required" aria-hidden="true">" *"</span></label>
                    {move || legal_answer.error("summary").get().map(|m| view! { <p class="error-message" id="legal-summary-erreur">{m}</p> })}
                    <textarea id="legal-summary" name="summary" rows="3" maxlength="1000" required aria-required="true"
                        aria-invalid=move || legal_answer.error("summary").get().map(|_| "true")
                        aria-describedby=move || legal_answer.error("summary").get().map(|_| "legal-summary-erreur")>
                        {legal_answer.typed("summary").get_untracked()}
                    </textarea>
                </div>
                <button type="submit" class="button">"Publier"</button>
            </ActionForm>
        </section>
    }
}
