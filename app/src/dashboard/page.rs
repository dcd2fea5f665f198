//! The dashboard's pages: `/conseiller` (inbox and search), `/conseiller/beneficiaires/:id`
//! (the 360° page and the support actions), `/conseiller/doublons` and
//! `/conseiller/doublons/fusion` (queue and merge), `/conseiller/journal` (audit trail).
//! The search and the audit filters are plain GET forms: their results have an address.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::*;
use crate::components::feedback::Refused;
use crate::documents::page::DocumentTable;
use crate::domain::date::{paris_date, paris_date_time};
use crate::forms::{flash_resource, Problems};
use crate::messages::page::ThreadList;
use crate::project::ProjectState;

fn query(name: &'static str) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let q = use_query_map();
    move || q.read().get(name).unwrap_or_default()
}

fn person_link(id: &str) -> String {
    format!("/conseiller/beneficiaires/{id}")
}

fn when(at: Option<i64>) -> String {
    at.map(paris_date_time).unwrap_or_else(|| "—".into())
}

#[component]
pub fn StaffNav() -> impl IntoView {
    view! {
        <nav aria-label="Espace conseiller" class="staff-nav">
            <A href="/conseiller">"Tableau de bord"</A>
            <A href="/conseiller/messages">"Messages"</A>
            <A href="/conseiller/projets">"Projets"</A>
            <A href="/conseiller/doublons">"Doublons"</A>
            <A href="/conseiller/journal">"Journal"</A>
            <A href="/admin">"Administration"</A>
        </nav>
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let board = Resource::new(|| (), |_| dashboard());
    let (q, etat, referent, after) = (query("q"), query("etat"), query("referent"), query("apres"));
    let results = Resource::new(move || (q(), etat(), referent(), after()), |(q, e, r, a)| search_beneficiaries(q, e, r, a));
    view! {
        <Title text="Espace conseiller"/>
        <h1>"Espace conseiller"</h1>
        <StaffNav/>
        <Suspense fallback=|| ()>
            {move || board.get().map(|result| match result {
                Ok(board) => view! { <Board board q=q() etat=etat() referent=referent()/> }.into_any(),
                Err(e) => view! { <Refused error=e/> }.into_any(),
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || results.get().map(|result| match result {
                Ok(page) => view! { <Results page q=q() etat=etat() referent=referent()/> }.into_any(),
                Err(e) => view! { <Problems error=e/> }.into_any(),
            })}
        </Suspense>
        <IncidentLookup/>
        <DeletionRequests/>
    }
}

/// "Retrouver une erreur": the reference a person reads out on the phone (a plain GET form).
#[component]
fn IncidentLookup() -> impl IntoView {
    let reference = query("reference");
    let found = Resource::new(reference, |typed| async move {
        if typed.trim().is_empty() {
            Ok(None)
        } else {
            incident(typed).await
        }
    });
    view! {
        <section aria-labelledby="incident">
            <h2 id="incident">"Retrouver une erreur par sa référence"</h2>
            <form method="get" action="/conseiller" class="form search-form">
                <div class="field">
                    <label for="reference">"Référence donnée par la personne (par exemple 7KQ2-M9PD)"</label>
                    <input id="reference" name="reference" type="text" value=reference autocomplete="off" spellcheck="false" maxlength="20"/>
                </div>
                <button type="submit" class="button">"Retrouver"</button>
            </form>
            <Suspense fallback=|| ()>
                {move || found.get().map(|result| match result {
                    Ok(Some(line)) => view! { <IncidentTable lines=vec![line]/> }.into_any(),
                    Ok(None) if reference().trim().is_empty() => ().into_any(),
                    Ok(None) => view! { <p role="status">"Aucune erreur n'a cette référence. Vérifiez-la avec la personne : elle compte 8 caractères."</p> }.into_any(),
                    Err(e) => view! { <Problems error=e/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// Internal errors met, with what was asked and whose session it was.
#[component]
fn IncidentTable(lines: Vec<IncidentLine>) -> impl IntoView {
    view! {
        <table class="table incidents">
            <caption class="visually-hidden">"Erreurs rencontrées, les plus récentes d'abord"</caption>
            <thead><tr><th scope="col">"Référence"</th><th scope="col">"Date"</th><th scope="col">"Demande"</th><th scope="col">"Compte"</th></tr></thead>
            <tbody>{lines.into_iter().map(|line| view! {
                <tr>
                    <td>{line.reference}</td>
                    <td>{paris_date_time(line.at)}</td>
                    <td><code>{line.request}</code>" "<small>{format!("(requête {})", line.request_id)}</small></td>
                    <td>{match line.person_id {
                        Some(id) => view! { <a href=person_link(&id)>{line.who}</a> }.into_any(),
                        None => line.who.into_any(),
                    }}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
}

#[component]
fn Board(board: DashboardView, q: String, etat: String, referent: String) -> impl IntoView {
    let DashboardView { me, inbox, advisors, open_duplicates } = board;
    let unread: i64 = inbox.iter().map(|t| t.unread).sum();
    view! {
        <p class="lead">{format!("Connecté en tant que {}", me.name)}</p>
        {(open_duplicates > 0).then(|| view! {
            <p class="alert alert-warning"><A href="/conseiller/doublons">{format!("{open_duplicates} demande(s) de fusion à traiter")}</A></p>
        })}
        <section aria-labelledby="boite">
            <h2 id="boite">{format!("Mes conversations ({unread} non lu{})", if unread > 1 { "s" } else { "" })}</h2>
            <ThreadList threads=inbox staff=true/>
        </section>
        <section aria-labelledby="recherche">
            <h2 id="recherche">"Rechercher une personne"</h2>
            <form method="get" action="/conseiller" class="form search-form" role="search">
                <div class="field">
                    <label for="q">"Nom, adresse électronique ou NIR"</label>
                    <input id="q" name="q" type="search" value=q autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="etat">"État du projet"</label>
                    <select id="etat" name="etat">
                        <option value="" selected=etat.is_empty()>"Tous"</option>
                        <option value="aucun" selected=etat == "aucun">"Pas de projet"</option>
                        {ProjectState::ALL.iter().map(|s| view! {
                            <option value=s.as_str() selected=etat == s.as_str()>{s.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="referent">"Conseiller référent"</label>
                    <select id="referent" name="referent">
                        <option value="" selected=referent.is_empty()>"Tous"</option>
                        <option value="aucun" selected=referent == "aucun">"Aucun"</option>
                        {advisors.into_iter().map(|a| {
                            let selected = referent == a.id;
                            view! { <option value=a.id selected=selected>{a.name}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="button">"Rechercher"</button>
            </form>
        </section>
    }
}

#[component]
fn Results(page: SearchPage, q: String, etat: String, referent: String) -> impl IntoView {
    if page.rows.is_empty() {
        return view! { <p role="status">"Aucune personne ne correspond à cette recherche."</p> }.into_any();
    }
    let next = page.next.map(|after| {
        format!("/conseiller?q={}&etat={}&referent={}&apres={}", query_value(&q), query_value(&etat), query_value(&referent), query_value(&after))
    });
    view! {
        <table class="table" id="resultats">
            <caption>"Personnes trouvées"</caption>
            <thead><tr>
                <th scope="col">"Nom"</th><th scope="col">"Adresse électronique"</th><th scope="col">"Naissance"</th>
                <th scope="col">"Projet"</th><th scope="col">"Référent"</th><th scope="col">"Compte"</th>
            </tr></thead>
            <tbody>
                {page.rows.into_iter().map(|r| view! {
                    <tr>
                        <td><a href=person_link(&r.id)>{r.name}</a></td>
                        <td>{r.email}</td>
                        <td>{r.birth_date.unwrap_or_default()}</td>
                        <td>{r.project_state.map(|s| s.label()).unwrap_or("—")}</td>
                        <td>{r.referent_name.unwrap_or_else(|| "—".into())}</td>
                        <td>{if r.closed { "Fusionné" } else if r.activated { "Activé" } else { "Non activé" }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {next.map(|href| view! { <p><a href=href rel="next">"Personnes suivantes"</a></p> })}
    }
    .into_any()
}

/// Percent-encodes a query-string value (letters, digits and `-_.~` are kept).
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Open account-deletion requests, for advisors to handle.
#[component]
fn DeletionRequests() -> impl IntoView {
    let requests = Resource::new(|| (), |_| crate::profile::deletion_requests());
    view! {
        <Suspense fallback=|| ()>
            {move || requests.get().and_then(|r| r.ok()).filter(|r| !r.is_empty()).map(|r| view! {
                <section aria-labelledby="suppressions" class="panel panel-warning">
                    <h2 id="suppressions">"Demandes de suppression de compte"</h2>
                    <ul>{r.into_iter().map(|d| view! {
                        <li>{format!("{} — demandée le {}", d.name, paris_date_time(d.requested_at))}</li>
                    }).collect_view()}</ul>
                </section>
            })}
        </Suspense>
    }
}

#[component]
pub fn BeneficiaryPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let person = Resource::new(id, beneficiary);
    let action = ServerAction::<SupportAction>::new();
    // Without JavaScript the form posts itself and comes back here with its answer.
    let flash = flash_resource("support");
    let answer = move || action.value().get().or_else(|| flash.get().flatten().and_then(|f| f.answer::<String>()));
    let open = ServerAction::<ExceptionalAccess>::new();
    let erase = ServerAction::<crate::profile::EraseAccount>::new();
    let erase_flash = flash_resource("erase");
    // Read with the page (not inside the person's answer) so that the server waits for it.
    let open_flash = flash_resource("exceptional-access");
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            person.refetch();
        }
        if let Some(Ok(())) = open.value().get() {
            person.refetch();
        }
        if let Some(Ok(_)) = erase.value().get() {
            person.refetch();
        }
    });
    view! {
        <Title text="Fiche bénéficiaire"/>
        <StaffNav/>
        <div aria-live="polite">
            <Suspense fallback=|| ()>
                {move || answer().map(|answer| match answer {
                    Ok(done) => view! { <p class="alert alert-success" role="status">{done}</p> }.into_any(),
                    Err(e) => view! { <Problems error=e/> }.into_any(),
                })}
                {move || erase.value().get().or_else(|| erase_flash.get().flatten().and_then(|f| f.answer::<String>())).map(|answer| match answer {
                    Ok(done) => view! { <p class="alert alert-success" role="status">{done}</p> }.into_any(),
                    Err(e) => view! { <Problems error=e/> }.into_any(),
                })}
                {move || {
                    let opened = open.value().get().or_else(|| open_flash.get().flatten().and_then(|f| f.answer::<()>()));
                    matches!(opened, Some(Ok(()))).then(|| view! {
                        <p class="alert alert-success" role="status">"Accès exceptionnel ouvert pour cette personne, jusqu'à la fin de votre session."</p>
                    })
                }}
            </Suspense>
        </div>
        <Suspense fallback=|| ()>
            {move || person.get().map(|result| match result {
                Ok(p) => view! { <Person p action erase/> }.into_any(),
                // Handed over to another referent just now: out of scope, and told so above.
                Err(AppError::NotFound) if matches!(answer(), Some(Ok(_))) => {
                    view! { <p><A href="/conseiller">"Retour au tableau de bord"</A></p> }.into_any()
                }
                // Staff who may open an exceptional access are asked why first.
                Err(AppError::Forbidden) => view! { <h1>"Fiche bénéficiaire"</h1><AccessReason id=id() open flash=open_flash/> }.into_any(),
                Err(e) => view! { <h1>"Fiche bénéficiaire"</h1><Refused error=e/> }.into_any(),
            })}
        </Suspense>
    }
}

/// The reason an administrator or the phone platform gives before opening a person outside
/// their scope: kept in the trail, and shown to the person.
#[component]
fn AccessReason(id: String, open: ServerAction<ExceptionalAccess>, flash: Resource<Option<crate::forms::Flash>>) -> impl IntoView {
    let kept = move |name: &str| flash.get().flatten().map(|f| f.value(name)).unwrap_or_default();
    let answer = move || open.value().get().or_else(|| flash.get().flatten().and_then(|f| f.answer::<()>()));
    view! {
        <p class="alert alert-warning">
            "Cette personne ne fait pas partie de vos dossiers. Pour ouvrir sa fiche, indiquez le motif de cet accès exceptionnel : "
            "il est gardé dans le journal et la personne le verra dans son espace."
        </p>
        <Suspense fallback=|| ()>
            {move || answer().and_then(Result::err).map(|e| view! { <Problems error=e/> })}
            <ActionForm action=open attr:class="form">
                <input type="hidden" name="id" value=id.clone()/>
                <fieldset class="field">
                    <legend>"Motif de l'accès"<span class="required" aria-hidden="true">" *"</span></legend>
                    <div class="radios">
                        {EXCEPTIONAL_REASONS.iter().enumerate().map(|(i, (code, label))| {
                            let input_id = format!("motif-{code}");
                            view! {
                                <div class="radio">
                                    <input type="radio" id=input_id.clone() name="motif" value=*code checked=kept("motif") == *code required=i == 0/>
                                    <label for=input_id>{*label}</label>
                                </div>
                            }
                        }).collect_view()}
                    </div>
                </fieldset>
                <div class="field">
                    <label for="precision">"Précision (obligatoire pour « Autre motif »)"</label>
                    <input id="precision" name="precision" type="text" maxlength="500" value=kept("precision")/>
                </div>
                <button type="submit" class="button">"Ouvrir la fiche"</button>
            </ActionForm>
        </Suspense>
    }
}

#[component]
fn Person(p: Beneficiary360, action: ServerAction<SupportAction>, erase: ServerAction<crate::profile::EraseAccount>) -> impl IntoView {
    let locked = p.locked;
    let id = p.id.clone();
    let closed = p.closed_at.is_some();
    let row = |label: &'static str, value: String| view! { <tr><th scope="row">{label}</th><td>{value}</td></tr> };
    let status = if closed {
        "Fermé (fusionné)".to_string()
    } else if p.activated_at.is_none() {
        "Non activé : le lien d'activation n'a pas été utilisé".to_string()
    } else if locked {
        format!("Bloqué jusqu'au {} ({} échecs)", when(p.locked_until), p.failed_logins)
    } else {
        format!("Activé le {}", when(p.activated_at))
    };
    let activated = p.activated_at.is_some();
    let support_form = move |code: &'static str, button: &'static str, value: Option<AnyView>| {
        let id = id.clone();
        view! {
            <ActionForm action=action attr:class="form staff-action" attr:data-action=code>
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="action" value=code/>
                {value}
                <div class="field">
                    <label for=format!("raison-{code}")>"Raison (gardée dans le journal)"<span class="required" aria-hidden="true">" *"</span></label>
                    <input id=format!("raison-{code}") name="reason" type="text" maxlength="500" aria-required="true"/>
                </div>
                <button type="submit" class="button">{button}</button>
            </ActionForm>
        }
    };
    let advisors = p.advisors.clone();
    let referent_id = p.referent.as_ref().map(|r| r.id.clone()).unwrap_or_default();
    let referent_choice = view! {
        <div class="field">
            <label for="referent-choisi">"Conseiller"</label>
            <select id="referent-choisi" name="value">
                {advisors.into_iter().map(|a| {
                    let selected = a.id == referent_id;
                    view! { <option value=a.id selected=selected>{a.name}</option> }
                }).collect_view()}
            </select>
        </div>
    }
    .into_any();
    let email_field = view! {
        <div class="field">
            <label for="nouvelle-adresse">"Adresse électronique exacte"</label>
            <input id="nouvelle-adresse" name="value" type="email" autocomplete="off" spellcheck="false"/>
        </div>
    }
    .into_any();
    view! {
        <h1>{p.name.clone()}</h1>
        {p.exceptional.clone().map(|reason| view! {
            <p class="alert alert-warning">{format!("Accès exceptionnel : {reason}. Chaque consultation est gardée dans le journal.")}</p>
        })}
        {p.merged_into.clone().map(|(kept, name)| view! {
            <p class="alert alert-warning">"Ce compte a été fusionné dans celui de " <a href=person_link(&kept)>{name}</a> "."</p>
        })}
        {p.deletion_requested_at.map(|at| (at, p.id.clone())).map(|(at, person_id)| view! {
            <section aria-labelledby="suppression" class="alert alert-warning">
                <h2 id="suppression">{format!("Suppression du compte demandée le {}", paris_date_time(at))}</h2>
                <p>"Supprimer efface l'identité, les coordonnées, le NIR, les messages écrits par la personne, ses documents et le texte de son projet ; la décision, les dates et le journal restent. La personne est prévenue par courriel."</p>
                <ActionForm action=erase attr:class="form staff-action">
                    <input type="hidden" name="id" value=person_id/>
                    <div class="field">
                        <label for="raison-suppression">"Raison (gardée dans le journal)"<span class="required" aria-hidden="true">" *"</span></label>
                        <input id="raison-suppression" name="reason" type="text" maxlength="500" aria-required="true"/>
                    </div>
                    <button type="submit" class="button">"Supprimer définitivement les données"</button>
                </ActionForm>
            </section>
        })}
        <section aria-labelledby="identite">
            <h2 id="identite">"Identité et compte"</h2>
            <table class="table facts">
                <tbody>
                    {row("Adresse électronique", p.email.clone())}
                    {row("État du compte", status)}
                    {row("Dernière connexion", when(p.last_login_at))}
                    {row("Sessions ouvertes", p.open_sessions.to_string())}
                    {row("Inscription", paris_date_time(p.created_at))}
                    {row("Nom de naissance", p.birth_name.clone().unwrap_or_default())}
                    {row("Nom d'usage", p.usage_name.clone().unwrap_or_default())}
                    {row("Prénom", p.first_name.clone().unwrap_or_default())}
                    {row("Date de naissance", p.birth_date.clone().unwrap_or_default())}
                    {row("NIR", p.nir_masked.clone().unwrap_or_default())}
                    {row("Téléphone", p.phone.clone().unwrap_or_default())}
                    {row("Adresse", p.address.clone().unwrap_or_default())}
                    {row("Conseiller référent", p.referent.as_ref().map(|r| r.name.clone()).unwrap_or_else(|| "Aucun".into()))}
                </tbody>
            </table>
        </section>
        {(!closed).then(|| view! {
            <section aria-labelledby="actions" class="staff-actions">
                <h2 id="actions">"Actions d'assistance"</h2>
                {(!activated).then(|| support_form("renvoyer_activation", "Renvoyer le lien d'activation", None))}
                {activated.then(|| support_form("envoyer_reinitialisation", "Envoyer un lien de réinitialisation", None))}
                {support_form("corriger_adresse", "Corriger l'adresse électronique", Some(email_field))}
                {locked.then(|| support_form("debloquer", "Débloquer le compte", None))}
                {support_form("fermer_sessions", "Fermer toutes les sessions", None)}
                {support_form("attribuer_referent", "Attribuer le conseiller référent", Some(referent_choice))}
            </section>
        })}
        <section aria-labelledby="courriels">
            <h2 id="courriels">"Courriels envoyés"</h2>
            {if p.emails.is_empty() {
                view! { <p>"Aucun courriel."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <caption class="visually-hidden">"Courriels envoyés, les plus récents d'abord"</caption>
                        <thead><tr><th scope="col">"Date"</th><th scope="col">"Adresse"</th><th scope="col">"Objet"</th><th scope="col">"Remise"</th></tr></thead>
                        <tbody>{p.emails.iter().map(|e| view! {
                            <tr><td>{paris_date_time(e.queued_at)}</td><td>{e.to.clone()}</td><td>{e.subject.clone()}</td><td>{e.status_label()}</td></tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="tentatives">
            <h2 id="tentatives">"Dernières tentatives de connexion"</h2>
            {if p.attempts.is_empty() {
                view! { <p>"Aucune tentative."</p> }.into_any()
            } else {
                view! { <ul>{p.attempts.iter().map(|a| {
                    let origin = a.origin.as_ref().map(|o| format!(" — depuis {o}")).unwrap_or_default();
                    view! { <li>{format!("{} — {}{origin}", paris_date_time(a.at), a.outcome_label())}</li> }
                }).collect_view()}</ul> }.into_any()
            }}
        </section>
        <section aria-labelledby="projet">
            <h2 id="projet">"Projet"</h2>
            {match p.project.clone() {
                Some(project) => view! {
                    <p>{format!("État : {}", project.state.label())} " — " <a href=format!("/conseiller/projets/{}", project.id)>"Ouvrir le projet (instruction, réouverture, décision)"</a></p>
                    <ul>{project.events.iter().map(|e| view! { <li>{format!("{} — {}", paris_date_time(e.at), e.describe())}</li> }).collect_view()}</ul>
                }.into_any(),
                None => view! { <p>"Pas encore de projet."</p> }.into_any(),
            }}
        </section>
        <section aria-labelledby="conversations">
            <h2 id="conversations">"Messages"</h2>
            <ThreadList threads=p.threads.clone() staff=true/>
        </section>
        <section aria-labelledby="pieces">
            <h2 id="pieces">"Documents"</h2>
            <DocumentTable documents=p.documents.documents.clone()/>
            <p>{format!("{} demande(s) de document. ", p.documents.requests.len())}
                <a href=format!("/conseiller/documents/{}", p.id)>"Demander ou déposer un document"</a></p>
        </section>
        <section aria-labelledby="incidents-recents">
            <h2 id="incidents-recents">"Incidents récents"</h2>
            {if p.incidents.is_empty() {
                view! { <p>"Aucune erreur rencontrée ces 30 derniers jours."</p> }.into_any()
            } else {
                view! { <IncidentTable lines=p.incidents.clone()/> }.into_any()
            }}
        </section>
        <section aria-labelledby="journal">
            <h2 id="journal">"Journal des actions"</h2>
            <AuditTable lines=p.audit.clone()/>
            <p><a href=format!("/conseiller/journal?personne={}", p.id)>"Tout le journal de cette personne"</a></p>
        </section>
    }
}

#[component]
fn AuditTable(lines: Vec<AuditLine>) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p>"Aucune action pour l'instant."</p> }.into_any();
    }
    view! {
        <table class="table audit">
            <caption class="visually-hidden">"Actions, les plus récentes d'abord"</caption>
            <thead><tr><th scope="col">"Date"</th><th scope="col">"Par"</th><th scope="col">"Personne"</th><th scope="col">"Action"</th><th scope="col">"Raison"</th><th scope="col">"Détail"</th></tr></thead>
            <tbody>{lines.into_iter().map(|l| view! {
                <tr>
                    <td>{paris_date_time(l.at)}</td>
                    <td>{l.actor_name}</td>
                    <td>{match (l.beneficiary_id, l.beneficiary_name) {
                        (Some(id), Some(name)) => view! { <a href=person_link(&id)>{name}</a> }.into_any(),
                        _ => "—".into_any(),
                    }}</td>
                    <td>{action_label(&l.action).to_string()}</td>
                    <td>{l.reason}</td>
                    <td>{l.detail}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let (actor, person, act, before) = (query("par"), query("personne"), query("action"), query("avant"));
    let lines = Resource::new(move || (actor(), person(), act(), before()), |(a, p, x, b)| audit_trail(a, p, x, b));
    let board = Resource::new(|| (), |_| dashboard());
    view! {
        <Title text="Journal des actions"/>
        <h1>"Journal des actions"</h1>
        <StaffNav/>
        <Suspense fallback=|| ()>
            {move || board.get().and_then(|b| b.ok()).map(|b| view! {
                <form method="get" action="/conseiller/journal" class="form search-form">
                    <div class="field">
                        <label for="par">"Par"</label>
                        <select id="par" name="par">
                            <option value="">"Tout le monde"</option>
                            {b.advisors.into_iter().map(|a| { let s = actor() == a.id; view! { <option value=a.id selected=s>{a.name}</option> } }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="action">"Action"</label>
                        <select id="action" name="action">
                            <option value="">"Toutes les actions"</option>
                            {ACTIONS.iter().map(|(code, label)| view! { <option value=*code selected=act() == *code>{*label}</option> }).collect_view()}
                            <option value="consultations" selected=act() == "consultations">"Consultations de données (toutes)"</option>
                            {READS.iter().map(|(code, label)| view! { <option value=*code selected=act() == *code>{*label}</option> }).collect_view()}
                        </select>
                    </div>
                    <input type="hidden" name="personne" value=person()/>
                    <button type="submit" class="button">"Filtrer"</button>
                </form>
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || lines.get().map(|result| match result {
                Ok((lines, next)) => view! {
                    <AuditTable lines/>
                    {next.map(|n| view! { <p><a href=format!("/conseiller/journal?par={}&personne={}&action={}&avant={}", actor(), person(), act(), query_value(&n)) rel="next">"Actions plus anciennes"</a></p> })}
                }.into_any(),
                Err(e) => view! { <Refused error=e/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
pub fn DuplicatesPage() -> impl IntoView {
    let queue = Resource::new(|| (), |_| duplicates());
    let close = ServerAction::<CloseMergeRequest>::new();
    let flash = flash_resource("merge-request");
    let answer = move || close.value().get().or_else(|| flash.get().flatten().and_then(|f| f.answer::<()>()));
    Effect::new(move |_| {
        if let Some(Ok(())) = close.value().get() {
            queue.refetch();
        }
    });
    view! {
        <Title text="Doublons"/>
        <h1>"Doublons et demandes de fusion"</h1>
        <StaffNav/>
        <p class="hint">"Un NIR ou une adresse déjà utilisés sont refusés à l'inscription : la personne dépose alors une demande, listée ici. Les comptes de même nom et même date de naissance sont signalés ensuite."</p>
        <Suspense fallback=|| ()>
            {move || answer().map(|r| match r {
                Ok(()) => view! { <p class="alert alert-success" role="status">"La demande est marquée comme traitée."</p> }.into_any(),
                Err(e) => view! { <Problems error=e/> }.into_any(),
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || queue.get().map(|result| match result {
                Ok(q) => view! { <Queue q close/> }.into_any(),
                Err(e) => view! { <Refused error=e/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Queue(q: DuplicatesQueue, close: ServerAction<CloseMergeRequest>) -> impl IntoView {
    view! {
        <section aria-labelledby="propositions">
            <h2 id="propositions">"Fusions à approuver"</h2>
            {q.proposals.is_empty().then(|| view! { <p>"Aucune fusion en attente."</p> })}
            {q.proposals.into_iter().map(|p| view! {
                <article class="panel">
                    <p>{format!("Proposée par {} le {} : {} ({}) dans {} ({}). Raison : {}", p.proposed_by, paris_date_time(p.proposed_at), p.closed.name, p.closed.email, p.kept.name, p.kept.email, p.reason)}</p>
                    <p><a href=format!("/conseiller/doublons/fusion?garder={}&fermer={}", p.kept.id, p.closed.id)>{format!("Examiner la fusion de {} dans {}", p.closed.email, p.kept.email)}</a></p>
                </article>
            }).collect_view()}
        </section>
        <section aria-labelledby="demandes">
            <h2 id="demandes">"Demandes de fusion"</h2>
            {q.requests.is_empty().then(|| view! { <p>"Aucune demande ouverte."</p> })}
            {q.requests.into_iter().map(|r| view! {
                <article class="panel">
                    <h3>{format!("Demande du {}", paris_date_time(r.created_at))}</h3>
                    <p>"Compte existant : " <a href=person_link(&r.existing.id)>{r.existing.name.clone()}</a> {format!(" ({})", r.existing.email)}</p>
                    <p>{format!("Adresse de contact donnée : {}", r.contact_email)}</p>
                    {(!r.submitted.is_empty()).then(|| view! { <blockquote class="reason">{r.submitted.clone()}</blockquote> })}
                    <ActionForm action=close attr:class="form staff-action">
                        <input type="hidden" name="id" value=r.id.clone()/>
                        <div class="field">
                            <label for=format!("raison-{}", r.id)>"Comment la demande a été traitée"<span class="required" aria-hidden="true">" *"</span></label>
                            <input id=format!("raison-{}", r.id) name="reason" type="text" maxlength="500" aria-required="true"/>
                        </div>
                        <button type="submit" class="button">"Marquer comme traitée"</button>
                    </ActionForm>
                </article>
            }).collect_view()}
        </section>
        <section aria-labelledby="suspects">
            <h2 id="suspects">"Comptes probablement en double"</h2>
            {q.suspected.is_empty().then(|| view! { <p>"Aucun."</p> })}
            {q.suspected.into_iter().map(|group| {
                let first = group[0].id.clone();
                view! {
                    <article class="panel duplicate-group">
                        <ul>{group.iter().map(|a| view! {
                            <li>
                                <a href=person_link(&a.id)>{a.name.clone()}</a>
                                {format!(" — {} — né(e) le {} — inscrit le {} — dernière connexion : {}", a.email, a.birth_date.clone().unwrap_or_default(), paris_date(a.created_at), when(a.last_login_at))}
                            </li>
                        }).collect_view()}</ul>
                        <ul>{group.iter().skip(1).map(|a| view! {
                            <li><a href=format!("/conseiller/doublons/fusion?garder={first}&fermer={}", a.id)>{format!("Préparer la fusion de {} dans le premier compte", a.email)}</a></li>
                        }).collect_view()}</ul>
                    </article>
                }
            }).collect_view()}
        </section>
    }
}

#[component]
pub fn MergePage() -> impl IntoView {
    let (kept, closed) = (query("garder"), query("fermer"));
    let preview = Resource::new(move || (kept(), closed()), |(k, c)| merge_preview(k, c));
    let merge = ServerAction::<MergeAccounts>::new();
    let flash = flash_resource("merge");
    let answer = move || merge.value().get().or_else(|| flash.get().flatten().and_then(|f| f.answer::<String>()));
    let merged = move || matches!(answer(), Some(Ok(_)));
    view! {
        <Title text="Fusion de comptes"/>
        <h1>"Fusion de deux comptes"</h1>
        <StaffNav/>
        <Suspense fallback=|| ()>
            {move || answer().map(|r| match r {
                Ok(done) => view! {
                    <p class="alert alert-success" role="status">{done} " " <a href=person_link(&kept())>"Voir le compte conservé"</a></p>
                }.into_any(),
                Err(e) => view! { <Problems error=e/> }.into_any(),
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || preview.get().map(|result| match result {
                _ if merged() => ().into_any(),
                Ok(p) => view! {
                    <p>"Compte conservé : " <strong>{format!("{} ({})", p.kept.name, p.kept.email)}</strong></p>
                    <p>"Compte fermé : " <strong>{format!("{} ({})", p.closed.name, p.closed.email)}</strong></p>
                    <h2>"Ce qui rejoint le compte conservé"</h2>
                    <ul class="merge-moves">{p.moves.iter().map(|(what, n)| view! { <li>{format!("{what} : {n}")}</li> }).collect_view()}</ul>
                    <ul class="merge-warnings">{p.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
                    {match &p.approval {
                        Approval::NotNeeded => None,
                        Approval::ToPropose => Some(view! { <p class="alert alert-warning">
                            "Ces deux comptes ne portent pas la même identité (noms, date de naissance ou NIR différents). "
                            "Vous proposez la fusion ; un second membre du personnel l'approuvera depuis la file des doublons."
                        </p> }.into_any()),
                        Approval::ProposedByMe { at } => Some(view! { <p class="alert alert-warning">
                            {format!("Vous avez proposé cette fusion le {} : elle attend l'approbation d'un autre membre du personnel.", paris_date_time(*at))}
                        </p> }.into_any()),
                        Approval::ToApprove { by, reason, at } => Some(view! { <p class="alert alert-warning">
                            {format!("Fusion proposée par {by} le {} (raison : {reason}). Ces deux comptes ne portent pas la même identité : vérifiez, puis approuvez.", paris_date_time(*at))}
                        </p> }.into_any()),
                    }}
                    {(!matches!(p.approval, Approval::ProposedByMe { .. })).then(|| view! {
                    <ActionForm action=merge attr:class="form staff-action">
                        <input type="hidden" name="kept" value=p.kept.id.clone()/>
                        <input type="hidden" name="closed" value=p.closed.id.clone()/>
                        <div class="field">
                            <label for="raison-fusion">"Raison (gardée dans le journal)"<span class="required" aria-hidden="true">" *"</span></label>
                            <input id="raison-fusion" name="reason" type="text" maxlength="500" aria-required="true"/>
                        </div>
                        <button type="submit" class="button">{match p.approval {
                            Approval::ToPropose => "Proposer la fusion",
                            Approval::ToApprove { .. } => "Approuver et fusionner",
                            _ => "Fusionner les deux comptes",
                        }}</button>
                    </ActionForm>
                    })}
                }.into_any(),
                Err(e) => view! { <Problems error=e/> }.into_any(),
            })}
        </Suspense>
    }
}
