//! Emails about documents: they say something is waiting and invite the person to log in.

use super::Category;
use crate::account::emails::build;
use crate::domain::date::CalendarDate;
use crate::mail::OutgoingEmail;

const FOOTER: &str = "Vous recevez ce courriel parce que vous avez un espace personnel sur Passerelle.";

pub fn requested(base_url: &str, to: &str, category: Category, due_iso: Option<&str>) -> OutgoingEmail {
    let mut what = format!("Votre conseiller vous demande un document : {}.", category.label());
    if let Some(due) = due_iso.and_then(|d| CalendarDate::parse(d, "").ok()) {
        what.push_str(&format!(" Merci de le déposer avant le {}.", due.french()));
    }
    build(to, "Un document vous est demandé", &[what], Some(("Déposer le document", &format!("{base_url}/documents"))), FOOTER)
}

pub fn posted(base_url: &str, to: &str) -> OutgoingEmail {
    build(
        to,
        "Un document a été déposé dans votre espace",
        &["Votre conseiller a déposé un document dans votre espace Passerelle.".to_string()],
        Some(("Voir mes documents", &format!("{base_url}/documents"))),
        FOOTER,
    )
}
