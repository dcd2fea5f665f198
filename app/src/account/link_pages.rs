//! Pages reached from emailed links, and the forgotten-password page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::account::activation::{activation_link_status, Activate};
use crate::account::reset::{reset_link_status, RequestPasswordReset, ResetPassword, ResetRequested};
use crate::error::AppError;
use crate::forms::fields::{all_errors, error_for, ErrorSummary, Field, RevealToggle};
use crate::forms::{flash_resource, Flash};

fn token_from_path() -> Signal<String> {
    let params = use_params_map();
    Signal::derive(move || params.with(|p| p.get("token").unwrap_or_default()))
}

/// `/activation/:token`: says whether the link can be used, then activates on a click (a
/// button, not the visit itself: mail scanners that open links must not use them up).
#[component]
pub fn ActivationPage() -> impl IntoView {
    let token = token_from_path();
    let status = Resource::new(move || token.get(), activation_link_status);
    let flash = flash_resource("activate");
    let activate = ServerAction::<Activate>::new();
    view! {
        <Title text="Activation du compte"/>
        <h1>"Activation de votre compte"</h1>
        <Suspense fallback=|| ()>
            {move || match (status.get(), flash.get()) {
                (Some(Ok(problem)), Some(flash)) => {
                    let flash_error = flash.and_then(|f| f.answer::<()>()).and_then(|a| a.err());
                    Some(view! {
                        {move || activate.value().get().and_then(|r| r.err()).or_else(|| flash_error.clone()).map(|e| view! {
                            <p class="alert alert-error" role="alert">{e.to_string()}</p>
                        })}
                        {match problem {
                            None => view! {
                                <p>"Votre lien est valable. Cliquez sur le bouton pour activer votre compte."</p>
                                <ActionForm action=activate attr:class="inline-form">
                                    <input type="hidden" name="token" value=token.get_untracked()/>
                                    <button type="submit" class="button">"Activer mon compte"</button>
                                </ActionForm>
                            }.into_any(),
                            Some(problem) => view! {
                                <p class="alert alert-error" role="alert">{problem.activation_message()}</p>
                                <p><A href="/connexion">"Aller à la page de connexion"</A></p>
                            }.into_any(),
                        }}
                    }.into_any())
                }
                (Some(Err(e)), _) => Some(view! { <p role="alert">{e.to_string()}</p> }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}

/// `/mot-de-passe-oublie`: the same answer for every address.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let flash = flash_resource("forgot");
    view! {
        <Title text="Mot de passe oublié"/>
        <h1>"Mot de passe oublié"</h1>
        <Suspense fallback=|| ()>
            {move || flash.get().map(|flash| view! { <ForgotForm flash/> })}
        </Suspense>
    }
}

#[component]
fn ForgotForm(flash: Option<Flash>) -> impl IntoView {
    let request = ServerAction::<RequestPasswordReset>::new();
    let from_flash: Option<Result<ResetRequested, AppError>> = flash.as_ref().and_then(|f| f.answer());
    let typed = flash.as_ref().map(|f| f.value("email")).unwrap_or_default();
    let answer = Signal::derive(move || request.value().get().or_else(|| from_flash.clone()));
    view! {
        {move || match answer.get() {
            Some(Ok(sent)) => Some(view! {
                <div class="alert alert-success" role="status" tabindex="-1" autofocus=true>
                    <p>
                        "Si un compte existe avec cette adresse, un lien pour choisir un nouveau mot de passe vient d'y être envoyé. "
                        "Il fonctionne " {sent.valid_minutes} " minutes et une seule fois ; chaque nouvelle demande remplace les liens précédents."
                    </p>
                    <p>"Rien reçu dans quelques minutes ? Regardez dans les courriers indésirables (spam), puis vérifiez l'adresse."</p>
                </div>
            }),
            _ => None,
        }}
        <p>"Indiquez l'adresse de votre compte : nous y enverrons un lien pour choisir un nouveau mot de passe."</p>
        <ActionForm action=request attr:class="form" attr:novalidate=true>
            <ErrorSummary errors=Signal::derive(move || all_errors(&answer.get())) labels=|_| ""/>
            <Field name="email" prefix="" label="Adresse électronique" required=true input_type="email" autocomplete="email"
                value=Signal::derive(move || typed.clone()) error=Signal::derive(move || error_for(&answer.get(), "email"))/>
            <button type="submit" class="button">"Recevoir un lien"</button>
        </ActionForm>
        <p><A href="/connexion">"Retour à la connexion"</A></p>
    }
}

/// `/mot-de-passe/nouveau/:token`: choose a new password (reset, or a staff member's first one).
#[component]
pub fn NewPasswordPage() -> impl IntoView {
    let token = token_from_path();
    let status = Resource::new(move || token.get(), reset_link_status);
    let flash = flash_resource("new-password");
    view! {
        <Title text="Nouveau mot de passe"/>
        <h1>"Choisir un nouveau mot de passe"</h1>
        <Suspense fallback=|| ()>
            {move || match (status.get(), flash.get()) {
                (Some(Ok(None)), Some(flash)) => Some(view! { <NewPasswordForm token=token.get_untracked() flash/> }.into_any()),
                (Some(Ok(Some(problem))), _) => Some(view! {
                    <p class="alert alert-error" role="alert">{problem.reset_message()}</p>
                    <ForgotForm flash=None/>
                }.into_any()),
                (Some(Err(e)), _) => Some(view! { <p role="alert">{e.to_string()}</p> }.into_any()),
                _ => None,
            }}
        </Suspense>
    }
}

#[component]
fn NewPasswordForm(token: String, flash: Option<Flash>) -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let from_flash: Option<Result<(), AppError>> = flash.as_ref().and_then(|f| f.answer());
    let answer = Signal::derive(move || reset.value().get().or_else(|| from_flash.clone()));
    let shown = RwSignal::new(false);
    view! {
        <ActionForm action=reset attr:class="form" attr:novalidate=true>
            <ErrorSummary errors=Signal::derive(move || all_errors(&answer.get())) labels=|f| match f {
                "password" => "Nouveau mot de passe",
                "password_confirm" => "Confirmation",
                _ => "",
            }/>
            <input type="hidden" name="token" value=token/>
            <Field name="password" prefix="" label="Nouveau mot de passe" required=true input_type="password" autocomplete="new-password" reveal=shown
                hint="Au moins 12 caractères, sans autre règle : une phrase de quelques mots est idéale."
                value=Signal::derive(String::new) error=Signal::derive(move || error_for(&answer.get(), "password"))/>
            <Field name="password_confirm" prefix="" label="Confirmation du nouveau mot de passe" required=true input_type="password" autocomplete="new-password" reveal=shown
                value=Signal::derive(String::new) error=Signal::derive(move || error_for(&answer.get(), "password_confirm"))/>
            <RevealToggle shown id="afficher-nouveau"/>
            <p class="hint">"Toutes vos sessions ouvertes seront fermées ; vous vous connecterez ensuite avec ce mot de passe."</p>
            <button type="submit" class="button">"Enregistrer le mot de passe"</button>
        </ActionForm>
    }
}
