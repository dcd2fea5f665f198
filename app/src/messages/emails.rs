//! "A message is waiting": never the message itself, which stays in the app.

use crate::account::emails::build;
use crate::mail::OutgoingEmail;

pub fn waiting(to: &str, link: &str, to_staff: bool) -> OutgoingEmail {
    let (what, footer) = if to_staff {
        (
            "Une personne que vous accompagnez vous a écrit sur Passerelle.",
            "Vous recevez ce courriel parce que vous êtes le conseiller référent de cette personne sur Passerelle.",
        )
    } else {
        ("Vous avez reçu un nouveau message dans votre espace Passerelle.", "Vous recevez ce courriel parce que vous avez un espace personnel sur Passerelle.")
    };
    build(to, "Un nouveau message vous attend", &[what.to_string(), "Pour le lire, connectez-vous à votre espace.".to_string()], Some(("Lire le message", link)), footer)
}
