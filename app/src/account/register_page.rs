//! `/inscription` and the two pages that follow it: "check your email" and "an account already
//! exists for this NIR". Every form works without JavaScript (see `crate::forms`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::account::activation::{CorrectEmail, ResendActivation};
use crate::account::registration::{pending_registration, PendingAccount, Register, RegistrationOutcome, RequestMerge, ResetExistingAccount};
use crate::account::reset::RequestPasswordReset;
use crate::account::robot::{encode_solution, robot_challenge, robot_question, solve_range, Challenge, Solution, SOLVE_SLICE};
use crate::error::AppError;
use crate::forms::fields::{all_errors, error_for, field_id, ErrorSummary, Field, RevealToggle};
use crate::forms::{flash_resource, Flash};

fn label(field: &str) -> &'static str {
    match field {
        "civility" => "Civilité",
        "birth_name" => "Nom de naissance",
        "usage_name" => "Nom d'usage",
        "first_name" => "Prénom",
        "birth_date" => "Date de naissance",
        "email" => "Adresse électronique",
        "phone" => "Téléphone",
        "nir" => "Numéro de sécurité sociale",
        "password" => "Mot de passe",
        "password_confirm" => "Confirmation du mot de passe",
        "accept_cgu" => "Conditions générales",
        "accept_privacy" => "Politique de confidentialité",
        "robot" => "Vérification anti-robot",
        "contact_email" => "Adresse de contact",
        "message" => "Message",
        _ => "",
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let flash = flash_resource("register");
    let question = Resource::new(|| (), |_| async { robot_question().await.ok() });
    view! {
        <Title text="Créer votre compte"/>
        <h1>"Créer votre compte"</h1>
        <Suspense fallback=|| ()>
            {move || match (flash.get(), question.get()) {
                (Some(flash), Some(question)) => Some(view! { <RegisterForm flash question/> }),
                _ => None,
            }}
        </Suspense>
    }
}

#[component]
fn RegisterForm(flash: Option<Flash>, question: Option<crate::account::robot::Question>) -> impl IntoView {
    let register = ServerAction::<Register>::new();
    let from_flash: Option<Result<RegistrationOutcome, AppError>> = flash.as_ref().and_then(|f| f.answer());
    let answer = Signal::derive(move || register.value().get().or_else(|| from_flash.clone()));
    // After a plain form post the NIR comes back empty (it is never kept): the hint says so.
    let nir_hint = if flash.as_ref().is_some_and(|f| !f.values.is_empty()) {
        "Il n'est pas conservé pour votre sécurité : saisissez-le de nouveau. 15 caractères, inscrits sur votre carte Vitale ; les espaces sont acceptés."
    } else {
        "15 caractères, inscrits sur votre carte Vitale ; les espaces sont acceptés."
    };
    let initial = move |name: &'static str| {
        let v = flash.as_ref().map(|f| f.value(name)).unwrap_or_default();
        Signal::derive(move || v.clone())
    };
    let error = move |name: &'static str| Signal::derive(move || error_for(&answer.get(), name));
    let errors = Signal::derive(move || all_errors(&answer.get()));
    let email_taken = move || match answer.get() {
        Some(Ok(RegistrationOutcome::EmailTaken { email })) => Some(email),
        _ => None,
    };
    let civility = initial("civility").get_untracked();
    let cgu_checked = !initial("accept_cgu").get_untracked().is_empty();
    let privacy_checked = !initial("accept_privacy").get_untracked().is_empty();
    let show_password = RwSignal::new(false);
    let pending = register.pending();

    view! {
        {move || email_taken().map(|email| view! { <EmailTakenPanel email/> })}
        <p class="lead">
            "Quelques minutes suffisent. Vous recevrez ensuite un lien par courriel pour activer votre compte."
        </p>
        <ActionForm action=register attr:class="form" attr:novalidate=true attr:id="inscription">
            <ErrorSummary errors labels=label/>
            <p class="legend">"Les champs marqués d'un astérisque " <span aria-hidden="true">"*"</span> " sont obligatoires."</p>

            <fieldset class="field" aria-describedby=move || error("civility").get().map(|_| "champ-civility-erreur")>
                <legend>"Civilité" <span class="required" aria-hidden="true">" *"</span></legend>
                {move || error("civility").get().map(|m| view! { <p class="error-message" id="champ-civility-erreur">{m}</p> })}
                <div class="radios" id=field_id("civility") tabindex="-1">
                    <div class="radio">
                        <input type="radio" id="civilite-madame" name="form[civility]" value="Madame" checked=civility == "Madame" required=true/>
                        <label for="civilite-madame">"Madame"</label>
                    </div>
                    <div class="radio">
                        <input type="radio" id="civilite-monsieur" name="form[civility]" value="Monsieur" checked=civility == "Monsieur"/>
                        <label for="civilite-monsieur">"Monsieur"</label>
                    </div>
                </div>
            </fieldset>

            <Field name="birth_name" label="Nom de naissance" required=true autocomplete="family-name" value=initial("birth_name") error=error("birth_name")/>
            <Field name="usage_name" label="Nom d'usage (facultatif)" hint="Par exemple le nom d'époux ou d'épouse, s'il est différent." value=initial("usage_name") error=error("usage_name")/>
            <Field name="first_name" label="Prénom" required=true autocomplete="given-name" value=initial("first_name") error=error("first_name")/>
            <Field name="birth_date" label="Date de naissance" required=true hint="Au format JJ/MM/AAAA, par exemple 14/07/1985." autocomplete="bday" inputmode="numeric" value=initial("birth_date") error=error("birth_date")/>
            <Field name="email" label="Adresse électronique" required=true input_type="email" autocomplete="email" hint="Le lien d'activation y sera envoyé. Une adresse ne sert qu'à un seul compte." value=initial("email") error=error("email")/>
            <Field name="phone" label="Téléphone" required=true input_type="tel" autocomplete="tel" hint="Par exemple 06 12 34 56 78." value=initial("phone") error=error("phone")/>
            <Field name="nir" label="Numéro de sécurité sociale" required=true autocomplete="off" hint=nir_hint value=initial("nir") error=error("nir")/>
            <Field name="password" label="Mot de passe" required=true input_type="password" autocomplete="new-password" reveal=show_password hint="Au moins 12 caractères, sans autre règle : une phrase de quelques mots est idéale. Les mots de passe trop courants sont refusés." value=Signal::derive(String::new) error=error("password") clear_on=register.version()/>
            <Field name="password_confirm" label="Confirmation du mot de passe" required=true input_type="password" autocomplete="new-password" reveal=show_password value=Signal::derive(String::new) error=error("password_confirm") clear_on=register.version()/>
            <RevealToggle shown=show_password id="afficher-mot-de-passe"/>

            <div class="field checkbox" class:field-error=move || error("accept_cgu").get().is_some()>
                {move || error("accept_cgu").get().map(|m| view! { <p class="error-message" id="champ-accept-cgu-erreur">{m}</p> })}
                <input type="checkbox" id=field_id("accept_cgu") name="form[accept_cgu]" value="on" checked=cgu_checked required=true
                    aria-invalid=move || error("accept_cgu").get().map(|_| "true")
                    aria-describedby=move || error("accept_cgu").get().map(|_| "champ-accept-cgu-erreur")/>
                <label for=field_id("accept_cgu")>
                    "J'accepte les " <a href="/cgu" target="_blank">"conditions générales d'utilisation (version 1, nouvel onglet)"</a>
                    <span class="required" aria-hidden="true">" *"</span>
                </label>
            </div>
            <div class="field checkbox" class:field-error=move || error("accept_privacy").get().is_some()>
                {move || error("accept_privacy").get().map(|m| view! { <p class="error-message" id="champ-accept-privacy-erreur">{m}</p> })}
                <input type="checkbox" id=field_id("accept_privacy") name="form[accept_privacy]" value="on" checked=privacy_checked required=true
                    aria-invalid=move || error("accept_privacy").get().map(|_| "true")
                    aria-describedby=move || error("accept_privacy").get().map(|_| "champ-accept-privacy-erreur")/>
                <label for=field_id("accept_privacy")>
                    "J'ai lu la " <a href="/confidentialite" target="_blank">"politique de confidentialité (version 1, nouvel onglet)"</a> " et je l'accepte"
                    <span class="required" aria-hidden="true">" *"</span>
                </label>
            </div>

            <RobotCheck question error=error("robot") reset=Signal::derive(move || register.version().get())/>

            <div class="honeypot" aria-hidden="true">
                <label for="champ-website">"Ne remplissez pas ce champ"</label>
                <input id="champ-website" name="form[website]" type="text" tabindex="-1" autocomplete="off"/>
            </div>

            <button type="submit" class="button" disabled=move || pending.get()>
                {move || if pending.get() { "Création en cours…" } else { "Créer mon compte" }}
            </button>
        </ActionForm>
        <p>"Vous avez déjà un compte ? " <A href="/connexion">"Connectez-vous"</A>"."</p>
    }
}

/// Searches the proof of work one slice at a time, each in its own turn of the event loop, so
/// the page keeps answering (typing, screen readers) for the second or so it takes on a phone;
/// `done` gets the solution, or `None` if there is none.
fn solve_by_slices(challenge: Challenge, from: u64, done: Box<dyn FnOnce(Option<Solution>)>) {
    match solve_range(&challenge, from, from + SOLVE_SLICE) {
        Some(found) => done(Some(found)),
        None if from + SOLVE_SLICE > challenge.maxnumber => done(None),
        None => set_timeout(move || solve_by_slices(challenge, from + SOLVE_SLICE, done), std::time::Duration::ZERO),
    }
}

/// "Je ne suis pas un robot". Rendered on the server as a text question (works without
/// JavaScript); once the page is interactive, replaced by a checkbox that solves a proof of
/// work. `reset` changes after each submission: a challenge is good for one try.
#[component]
fn RobotCheck(question: Option<crate::account::robot::Question>, error: Signal<Option<String>>, reset: Signal<usize>) -> impl IntoView {
    let interactive = RwSignal::new(false);
    Effect::new(move |_| interactive.set(true));
    let solution = RwSignal::new(String::new());
    let state = RwSignal::new("idle");
    Effect::new(move |_| {
        reset.track();
        solution.set(String::new());
        state.set("idle");
    });
    let on_tick = move |ev: leptos::ev::Event| {
        if !event_target_checked(&ev) {
            solution.set(String::new());
            state.set("idle");
            return;
        }
        state.set("working");
        leptos::task::spawn_local(async move {
            let Ok(challenge) = robot_challenge().await else {
                state.set("failed");
                return;
            };
            solve_by_slices(
                challenge,
                0,
                Box::new(move |found| match found {
                    // Unticked meanwhile: the search is dropped.
                    _ if state.get_untracked() != "working" => {}
                    Some(found) => {
                        solution.set(encode_solution(&found));
                        state.set("done");
                    }
                    None => state.set("failed"),
                }),
            );
        });
    };
    let error_block = move || error.get().map(|m| view! { <p class="error-message" id="champ-robot-erreur">{m}</p> });
    view! {
        <fieldset class="field robot" id=field_id("robot") tabindex="-1" class:field-error=move || error.get().is_some()>
            <legend>"Vérification anti-robot" <span class="required" aria-hidden="true">" *"</span></legend>
            {error_block}
            {move || if interactive.get() {
                view! {
                    <div class="checkbox">
                        <input type="checkbox" id="robot-case" on:change=on_tick prop:checked=move || state.get() != "idle"
                            aria-describedby="robot-etat"/>
                        <label for="robot-case">"Je ne suis pas un robot"</label>
                    </div>
                    <input type="hidden" name="form[robot_solution]" prop:value=move || solution.get()/>
                    <p id="robot-etat" class="hint" role="status">
                        {move || match state.get() {
                            "working" => "Vérification en cours…",
                            "done" => "Vérification réussie.",
                            "failed" => "La vérification n'a pas abouti : décochez puis cochez la case à nouveau.",
                            _ => "Cochez la case : votre navigateur fait une courte vérification, sans service extérieur.",
                        }}
                    </p>
                }.into_any()
            } else {
                match question.clone() {
                    Some(q) => view! {
                        <label for="champ-robot-answer">{q.text}</label>
                        <input type="hidden" name="form[robot_token]" value=q.token/>
                        <input type="text" id="champ-robot-answer" name="form[robot_answer]" inputmode="numeric" autocomplete="off"
                            class="short" aria-invalid=move || error.get().map(|_| "true")
                            aria-describedby=move || error.get().map(|_| "champ-robot-erreur")/>
                    }.into_any(),
                    None => view! { <p>"La vérification est momentanément indisponible : rechargez la page."</p> }.into_any(),
                }
            }}
        </fieldset>
    }
}

/// "This address already has an account": what it means and what to do.
#[component]
fn EmailTakenPanel(email: String) -> impl IntoView {
    let reset = ServerAction::<RequestPasswordReset>::new();
    view! {
        <div class="panel panel-warning" role="alert" tabindex="-1" autofocus=true>
            <h2>"Un compte existe déjà avec cette adresse"</h2>
            <p>
                "L'adresse " <strong>{email.clone()}</strong> " est déjà celle d'un compte Passerelle. "
                "Si c'est le vôtre, vous pouvez recevoir un lien pour choisir un nouveau mot de passe."
            </p>
            <p>
                "Une adresse ne peut servir qu'à un seul compte : si vous la partagez avec un proche "
                "(conjoint, parent…), créez votre compte avec une autre adresse, personnelle."
            </p>
            {move || { let email = email.clone(); match reset.value().get() {
                Some(Ok(r)) => view! {
                    <p class="alert alert-success" role="status">
                        "C'est envoyé. Le lien fonctionne " {r.valid_minutes} " minutes ; pensez à regarder dans les courriers indésirables."
                    </p>
                }.into_any(),
                _ => view! {
                    <ActionForm action=reset attr:class="inline-form">
                        <input type="hidden" name="email" value=email.clone()/>
                        <button type="submit" class="button button-secondary">"Mot de passe oublié ? Recevoir un lien à cette adresse"</button>
                    </ActionForm>
                }.into_any(),
            }}}
        </div>
    }
}

fn ticket_from_query() -> Signal<String> {
    let query = use_query_map();
    Signal::derive(move || query.with(|q| q.get("t").unwrap_or_default()))
}

/// `/inscription/envoye?t=…`: the activation link went to this (masked) address; resend it or
/// correct the address.
#[component]
pub fn RegisteredPage() -> impl IntoView {
    let ticket = ticket_from_query();
    let account = Resource::new(move || ticket.get(), pending_registration);
    let resend_flash = flash_resource("resend");
    let correct_flash = flash_resource("correct");
    view! {
        <Title text="Activez votre compte"/>
        <Suspense fallback=|| ()>
            {move || match (account.get(), resend_flash.get(), correct_flash.get()) {
                (Some(Ok(account)), Some(resend), Some(correct)) => Some(view! {
                    <RegisteredContent ticket=ticket.get_untracked() account resend correct/>
                }.into_any()),
                (Some(Err(e)), _, _) => Some(view! {
                    <h1>"Cette page n'est plus valable"</h1>
                    <p role="alert">{e.to_string()}</p>
                    <p><A href="/connexion">"Aller à la page de connexion"</A></p>
                }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}

#[component]
fn RegisteredContent(ticket: String, account: PendingAccount, resend: Option<Flash>, correct: Option<Flash>) -> impl IntoView {
    let resend_action = ServerAction::<ResendActivation>::new();
    let correct_action = ServerAction::<CorrectEmail>::new();
    let resend_flash = resend.as_ref().and_then(|f| f.answer());
    let correct_flash = correct.as_ref().and_then(|f| f.answer());
    let correct_typed = correct.as_ref().map(|f| f.value("email")).unwrap_or_default();
    let resend_answer = Signal::derive(move || resend_action.value().get().or_else(|| resend_flash.clone()));
    let correct_answer = Signal::derive(move || correct_action.value().get().or_else(|| correct_flash.clone()));
    let masked = {
        let initial = account.masked_email.clone();
        Signal::derive(move || match (correct_answer.get(), resend_answer.get()) {
            (Some(Ok(sent)), _) => sent.masked_email,
            (_, Some(Ok(sent))) => sent.masked_email,
            _ => initial.clone(),
        })
    };
    if account.activated {
        return view! {
            <h1>"Votre compte est déjà activé"</h1>
            <p><A href="/connexion">"Connectez-vous"</A>" avec votre adresse et votre mot de passe."</p>
        }
        .into_any();
    }
    let correct_open = correct.is_some();
    let (ticket_resend, ticket_correct) = (ticket.clone(), ticket);
    let correct_errors = Signal::derive(move || all_errors(&correct_answer.get()));
    view! {
        <h1>"Plus qu'une étape : activez votre compte"</h1>
        <p class="lead">
            "Un lien d'activation vient d'être envoyé à " <strong>{move || masked.get()}</strong> "."
        </p>
        <p>
            "Ouvrez ce courriel et cliquez sur le lien : il fonctionne 48 heures. S'il n'arrive pas "
            "dans les minutes qui viennent, regardez dans les courriers indésirables (spam)."
        </p>
        <div class="panel">
            <h2>"Vous n'avez rien reçu ?"</h2>
            {move || match resend_answer.get() {
                Some(Ok(_)) => Some(view! { <p class="alert alert-success" role="status">"Un nouveau lien vient d'être envoyé. Il remplace le précédent."</p> }.into_any()),
                Some(Err(e)) => Some(view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any()),
                None => None,
            }}
            <ActionForm action=resend_action attr:class="inline-form">
                <input type="hidden" name="ticket" value=ticket_resend/>
                <button type="submit" class="button">"Renvoyer le lien"</button>
            </ActionForm>
            <p class="hint">"Trois envois au plus par heure."</p>
        </div>
        <details class="panel" open=correct_open>
            <summary>"Ce n'est pas la bonne adresse ? Corriger"</summary>
            <p>"Indiquez la bonne adresse et, pour confirmer que c'est bien vous, le mot de passe choisi à l'inscription."</p>
            {move || matches!(correct_answer.get(), Some(Ok(_))).then(|| view! {
                <p class="alert alert-success" role="status">"Adresse corrigée : le lien d'activation a été envoyé à la nouvelle adresse."</p>
            })}
            <ActionForm action=correct_action attr:class="form" attr:novalidate=true>
                <ErrorSummary errors=correct_errors labels=label/>
                <input type="hidden" name="ticket" value=ticket_correct/>
                <Field name="email" prefix="" label="Bonne adresse électronique" required=true input_type="email" autocomplete="email"
                    value=Signal::derive(move || correct_typed.clone()) error=Signal::derive(move || error_for(&correct_answer.get(), "email"))/>
                <Field name="password" prefix="" label="Mot de passe choisi à l'inscription" required=true input_type="password" autocomplete="current-password"
                    value=Signal::derive(String::new) error=Signal::derive(move || error_for(&correct_answer.get(), "password"))/>
                <button type="submit" class="button">"Corriger et renvoyer le lien"</button>
            </ActionForm>
        </details>
    }
    .into_any()
}

/// `/inscription/compte-existant?t=…`: this NIR already has an account.
#[component]
pub fn ExistingAccountPage() -> impl IntoView {
    let ticket = ticket_from_query();
    let account = Resource::new(move || ticket.get(), pending_registration);
    let flash = flash_resource("existing");
    view! {
        <Title text="Un compte existe déjà"/>
        <h1>"Un compte existe déjà pour ce numéro de sécurité sociale"</h1>
        <Suspense fallback=|| ()>
            {move || match (account.get(), flash.get()) {
                (Some(Ok(account)), Some(flash)) => Some(view! {
                    <ExistingAccountChoices ticket=ticket.get_untracked() masked_email=account.masked_email flash/>
                }.into_any()),
                (Some(Err(e)), _) => Some(view! { <p role="alert">{e.to_string()}</p> }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}

#[component]
fn ExistingAccountChoices(ticket: String, masked_email: String, flash: Option<Flash>) -> impl IntoView {
    let reset = ServerAction::<ResetExistingAccount>::new();
    let merge = ServerAction::<RequestMerge>::new();
    let flash_answer: Option<Result<String, AppError>> = flash.as_ref().and_then(|f| f.answer());
    let typed_contact = flash.as_ref().map(|f| f.value("contact_email")).unwrap_or_default();
    let typed_message = flash.as_ref().map(|f| f.value("message")).unwrap_or_default();
    let done = Signal::derive(move || reset.value().get().or_else(|| merge.value().get()).or_else(|| flash_answer.clone()));
    let merge_errors = Signal::derive(move || all_errors(&merge.value().get()));
    let (ticket_reset, ticket_merge) = (ticket.clone(), ticket);
    view! {
        <p class="lead">
            "Il ne peut y avoir qu'un compte par personne. Le compte existant est rattaché à l'adresse "
            <strong>{masked_email.clone()}</strong> "."
        </p>
        {move || match done.get() {
            Some(Ok(message)) => Some(view! { <p class="alert alert-success" role="status" tabindex="-1" autofocus=true>{message}</p> }.into_any()),
            Some(Err(AppError::Validation(_))) | None => None,
            Some(Err(e)) => Some(view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any()),
        }}
        <div class="panel">
            <h2>"C'est votre compte et vous avez accès à cette adresse"</h2>
            <p>"Recevez un lien pour choisir un nouveau mot de passe, puis connectez-vous."</p>
            <ActionForm action=reset attr:class="inline-form">
                <input type="hidden" name="ticket" value=ticket_reset/>
                <button type="submit" class="button">{format!("Envoyer un lien à {masked_email}")}</button>
            </ActionForm>
        </div>
        <div class="panel">
            <h2>"Cette adresse n'est plus la vôtre, ou ce compte n'est pas le vôtre"</h2>
            <p>
                "Demandez aux conseillers de vérifier votre identité et de rattacher votre compte à "
                "votre nouvelle adresse. Ils vous répondent par courriel, sans appel nécessaire."
            </p>
            <ActionForm action=merge attr:class="form" attr:novalidate=true>
                <ErrorSummary errors=merge_errors labels=label/>
                <input type="hidden" name="ticket" value=ticket_merge/>
                <Field name="contact_email" prefix="" label="Adresse où vous répondre" required=true input_type="email" autocomplete="email"
                    value=Signal::derive(move || typed_contact.clone()) error=Signal::derive(move || error_for(&merge.value().get(), "contact_email"))/>
                <div class="field">
                    <label for="champ-message">"Précisions (facultatif)"</label>
                    <textarea id="champ-message" name="message" rows="4">{typed_message}</textarea>
                </div>
                <button type="submit" class="button">"Envoyer la demande aux conseillers"</button>
            </ActionForm>
        </div>
    }
}
