//! `/profil`: the profile form with its completion, the email change, "Télécharger mes données"
//! and "Supprimer mon compte"; `/profil/courriel/:token`: the new address's confirmation link.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{email_link_status, my_profile, ChangeEmail, ConfirmEmail, ProfileView, RequestDeletion, SaveProfile, CONTRACTS, DIPLOMAS, FIELDS};
use crate::components::feedback::Refused;
use crate::domain::date::paris_date_time;
use crate::error::AppError;
use crate::forms::{flash_resource, Flash, Problems};

/// Where the personal-data export is downloaded.
pub const EXPORT_PATH: &str = "/mes-donnees/export.zip";

#[component]
pub fn ProfilePage() -> impl IntoView {
    let profile = Resource::new(|| (), |_| my_profile());
    let flashes = (flash_resource("profile"), flash_resource("profile-email"), flash_resource("profile-deletion"));
    view! {
        <Title text="Mon profil"/>
        <h1>"Mon profil et mes données"</h1>
        <Suspense fallback=|| ()>
            {move || match (profile.get(), flashes.0.get(), flashes.1.get(), flashes.2.get()) {
                (Some(Ok(p)), Some(f), Some(e), Some(d)) => Some(view! { <Profile profile=p flash=f email_flash=e deletion_flash=d/> }.into_any()),
                (Some(Err(e)), _, _, _) => Some(view! { <Refused error=e/> }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}

#[component]
fn Profile(profile: ProfileView, flash: Option<Flash>, email_flash: Option<Flash>, deletion_flash: Option<Flash>) -> impl IntoView {
    let save = ServerAction::<SaveProfile>::new();
    let change = ServerAction::<ChangeEmail>::new();
    let delete = ServerAction::<RequestDeletion>::new();
    let saved_from_flash: Option<Result<u32, AppError>> = flash.as_ref().and_then(|f| f.answer());
    let saved = Signal::derive(move || save.value().get().or_else(|| saved_from_flash.clone()));
    let email_from_flash: Option<Result<String, AppError>> = email_flash.as_ref().and_then(|f| f.answer());
    let changed = Signal::derive(move || change.value().get().or_else(|| email_from_flash.clone()));
    let deletion_from_flash: Option<Result<i64, AppError>> = deletion_flash.as_ref().and_then(|f| f.answer());
    let deleted = Signal::derive(move || delete.value().get().or_else(|| deletion_from_flash.clone()));
    let completion = profile.completion();
    let pending = profile.pending_email.clone();
    let deletion_at = profile.deletion_requested_at;
    let current_email = profile.email.clone();
    let value = move |name: &str| match flash.as_ref() {
        Some(f) if f.values.iter().any(|(k, _)| k == name) => f.value(name),
        _ => profile.value(name),
    };
    let typed_email = email_flash.as_ref().map(|f| f.value("new_email")).unwrap_or_default();
    view! {
        <section aria-labelledby="completude" class="panel">
            <h2 id="completude">"Profil complété à " {completion} " %"</h2>
            <progress max="100" value=completion.to_string() aria-labelledby="completude"></progress>
        </section>
        <section aria-labelledby="coordonnees">
            <h2 id="coordonnees">"Ma situation et mes coordonnées"</h2>
            {move || saved.get().map(|answer| match answer {
                Ok(percent) => view! { <p class="alert alert-success" role="status">{format!("Profil enregistré : complété à {percent} %.")}</p> }.into_any(),
                Err(e) => view! { <Problems error=e/> }.into_any(),
            })}
            <ActionForm action=save attr:class="form">
                {FIELDS.iter().map(|(name, label, autocomplete)| {
                    let id = format!("profil-{name}");
                    let current = value(name);
                    let control = match *name {
                        "contract_type" | "highest_diploma" => {
                            let options = if *name == "contract_type" { CONTRACTS } else { DIPLOMAS };
                            view! {
                                <select id=id.clone() name=*name>
                                    <option value="">"Non renseigné"</option>
                                    {options.iter().map(|(k, l)| view! { <option value=*k selected=current == *k>{*l}</option> }).collect_view()}
                                </select>
                            }.into_any()
                        }
                        "seniority_years" => view! { <input type="text" id=id.clone() name=*name inputmode="numeric" value=current/> }.into_any(),
                        "phone" => view! { <input id=id.clone() name=*name type="tel" autocomplete=*autocomplete value=current/> }.into_any(),
                        _ => view! { <input type="text" id=id.clone() name=*name autocomplete=*autocomplete value=current/> }.into_any(),
                    };
                    view! { <div class="field"><label for=id>{*label}</label>{control}</div> }
                }).collect_view()}
                <button type="submit" class="button">"Enregistrer mon profil"</button>
            </ActionForm>
        </section>
        <section aria-labelledby="courriel">
            <h2 id="courriel">"Mon adresse électronique"</h2>
            <p>"Adresse actuelle : " <strong>{current_email}</strong></p>
            {pending.map(|p| view! { <p class="alert" role="status">{format!("En attente de confirmation : {p}. Le lien a été envoyé à cette adresse.")}</p> })}
            {move || changed.get().map(|answer| match answer {
                Ok(to) => view! { <p class="alert alert-success" role="status">{format!("Un lien de confirmation a été envoyé à {to}. Votre adresse change quand vous l'utilisez.")}</p> }.into_any(),
                Err(e) => view! { <Problems error=e/> }.into_any(),
            })}
            <ActionForm action=change attr:class="form">
                <div class="field">
                    <label for="nouvelle-adresse">"Nouvelle adresse électronique"</label>
                    <input id="nouvelle-adresse" name="new_email" type="email" autocomplete="email" required value=typed_email/>
                </div>
                <div class="field">
                    <label for="mot-de-passe-actuel">"Mot de passe actuel"</label>
                    <input id="mot-de-passe-actuel" name="password" type="password" autocomplete="current-password" required/>
                </div>
                <button type="submit" class="button">"Changer d'adresse"</button>
            </ActionForm>
        </section>
        <section aria-labelledby="donnees">
            <h2 id="donnees">"Mes données personnelles"</h2>
            <p>"Le fichier contient tout ce que Passerelle conserve sur vous (profil, consentements, projet et historique, messages, liste des documents, courriels envoyés) et vos documents."</p>
            <p><a class="button button-secondary" href=EXPORT_PATH download="">"Télécharger mes données (ZIP)"</a></p>
            <h3>"Supprimer mon compte"</h3>
            {move || match (deleted.get(), deletion_at) {
                (Some(Ok(at)), _) | (None, Some(at)) => view! {
                    <p class="alert" role="status">{format!("Demande de suppression envoyée le {}. Un conseiller la traite et vous répond par courriel.", paris_date_time(at))}</p>
                }.into_any(),
                (Some(Err(e)), _) => view! { <Problems error=e/> }.into_any(),
                (None, None) => view! {
                    <p>"La suppression est faite par un conseiller, qui vérifie d'abord qu'aucun dossier en cours ne l'empêche."</p>
                    <ActionForm action=delete attr:class="form">
                        <button type="submit" class="button button-secondary">"Demander la suppression de mon compte"</button>
                    </ActionForm>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let status = Resource::new(token, email_link_status);
    let flash = flash_resource("confirm-email");
    let confirm = ServerAction::<ConfirmEmail>::new();
    view! {
        <Title text="Nouvelle adresse électronique"/>
        <h1>"Nouvelle adresse électronique"</h1>
        <Suspense fallback=|| ()>
            {move || match (status.get(), flash.get()) {
                (Some(Ok(problem)), Some(flash)) => {
                    let from_flash = flash.and_then(|f| f.answer::<String>());
                    Some(view! {
                        {move || match confirm.value().get().or_else(|| from_flash.clone()) {
                            Some(Ok(email)) => view! {
                                <p class="alert alert-success" role="status">{format!("C'est fait : votre compte utilise désormais {email}. Votre ancienne adresse a été prévenue.")}</p>
                                <p><a href="/profil">"Retour à mon profil"</a></p>
                            }.into_any(),
                            answer => view! {
                                {answer.and_then(|a| a.err()).map(|e| view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> })}
                                {match problem {
                                    None => view! {
                                        <p>"Votre lien est valable. Confirmez pour que votre compte utilise cette nouvelle adresse."</p>
                                        <ActionForm action=confirm attr:class="inline-form">
                                            <input type="hidden" name="token" value=token()/>
                                            <button type="submit" class="button">"Confirmer ma nouvelle adresse"</button>
                                        </ActionForm>
                                    }.into_any(),
                                    Some(problem) => view! {
                                        <p class="alert alert-error" role="alert">{problem.email_change_message()}</p>
                                        <p><a href="/profil">"Mon profil"</a></p>
                                    }.into_any(),
                                }}
                            }.into_any(),
                        }}
                    }.into_any())
                }
                (Some(Err(e)), _) => Some(view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}
