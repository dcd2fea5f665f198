//! "A message is waiting": never the message itself, which stays in the app.

use crate::account::emails::build;
use crate::mail::OutgoingEmail;

/// Who the email is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Beneficiary,
    /// The beneficiary's referent advisor.
    Referent,
    /// A member of the service the beneficiary wrote to.
    Service,
}

pub fn waiting(to: &str, link: &str, audience: Audience) -> OutgoingEmail {
    let (what, footer) = match audience {
        Audience::Referent => (
            "Une personne que vous accompagnez vous a écrit sur Passerelle.",
            "Vous recevez ce courriel parce que vous êtes le conseiller référent de cette personne sur Passerelle.",
        ),
        Audience::Service => (
            "Une personne a écrit à votre service sur Passerelle.",
            "Vous recevez ce courriel parce que vous êtes membre de ce service sur Passerelle.",
        ),
        Audience::Beneficiary => (
            "Vous avez reçu un nouveau message dans votre espace Passerelle.",
            "Vous recevez ce courriel parce que vous avez un espace personnel sur Passerelle.",
        ),
    };
    build(
        to,
        "Un nouveau message vous attend",
        &[what.to_string(), "Pour le lire, connectez-vous à votre espace.".to_string()],
        Some(("Lire le message", link)),
        footer,
    )
}
