//! `/admin`: staff accounts, services, legal texts.

use leptos::prelude::*;
use leptos_meta::Title;

use super::*;
use crate::account::space::Refused;
use crate::dashboard::page::StaffNav;
use crate::domain::date::paris_date_time;
use crate::forms::{flash_resource, Problems};

#[component]
pub fn AdminPage() -> impl IntoView {
    let view_data = Resource::new(|| (), |_| overview());
    let create = ServerAction::<CreateStaff>::new();
    let update = ServerAction::<UpdateStaff>::new();
    let service = ServerAction::<SaveService>::new();
    let publish = ServerAction::<PublishLegal>::new();
    // Without JavaScript each form posts itself and comes back here with its answer.
    let flash = flash_resource("admin");
    let answer = move || {
        [create.value().get(), update.value().get(), service.value().get(), publish.value().get()]
            .into_iter()
            .flatten()
            .next()
            .or_else(|| flash.get().flatten().and_then(|f| f.answer::<String>()))
    };
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
                Ok(data) => view! { <Admin data create update service publish/> }.into_any(),
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
) -> impl IntoView {
    let AdminView { me, staff, services, legal } = data;
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
                <div class="field"><label for="staff-name">"Nom affiché"</label><input id="staff-name" name="name" type="text" maxlength="100" required/></div>
                <div class="field"><label for="staff-email">"Adresse électronique"</label><input id="staff-email" name="email" type="email" required/></div>
                <div class="field">
                    <label for="staff-role">"Rôle"</label>
                    <select id="staff-role" name="role"><option value="advisor">"Conseiller"</option><option value="admin">"Administrateur"</option></select>
                </div>
                <div class="field">
                    <label for="staff-service">"Service"</label>
                    <select id="staff-service" name="service">
                        <option value="">"Aucun"</option>
                        {service_options.into_iter().map(|(slug, name)| view! { <option value=slug>{name}</option> }).collect_view()}
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
                <div class="field"><label for="service-slug">"Identifiant (minuscules, sans accent)"</label><input id="service-slug" name="slug" type="text" maxlength="40" required/></div>
                <div class="field"><label for="service-name">"Nom montré aux bénéficiaires"</label><input id="service-name" name="name" type="text" maxlength="80" required/></div>
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
                <div class="field">
                    <label for="legal-document">"Texte"</label>
                    <select id="legal-document" name="document"><option value="cgu">"Conditions générales d'utilisation"</option><option value="privacy">"Politique de confidentialité"</option></select>
                </div>
                <div class="field"><label for="legal-version">"Numéro de version"</label><input id="legal-version" name="version" type="text" maxlength="20" required/></div>
                <div class="field"><label for="legal-summary">"Ce qui change (montré aux bénéficiaires)"</label><textarea id="legal-summary" name="summary" rows="3" maxlength="1000" required></textarea></div>
                <button type="submit" class="button">"Publier"</button>
            </ActionForm>
        </section>
    }
}
