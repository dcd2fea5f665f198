//! Emails about a project. They say what happened and invite the person to log in; the text of
//! the project and the advisors' reasons stay in the app.

use crate::account::emails::build;
use crate::mail::OutgoingEmail;

const FOOTER: &str = "Vous recevez ce courriel parce que vous avez un projet de transition professionnelle sur Passerelle.";

pub fn to_beneficiary(base_url: &str, to: &str, kind: &str) -> OutgoingEmail {
    let (subject, what) = match kind {
        "instruire" => ("Votre projet est en cours d'instruction", "Votre conseiller a commencé l'instruction de votre projet de transition professionnelle."),
        "rouvrir" => ("Votre projet est rouvert", "Votre conseiller a rouvert votre projet de transition professionnelle : vous pouvez de nouveau le modifier, puis le soumettre. La raison de la réouverture est indiquée sur la page du projet."),
        _ => ("Une décision a été prise sur votre projet", "Une décision a été enregistrée sur votre projet de transition professionnelle. Elle est expliquée sur la page du projet."),
    };
    build(to, subject, &[what.to_string()], Some(("Voir mon projet", &format!("{base_url}/projet"))), FOOTER)
}

pub fn to_referent(base_url: &str, to: &str, beneficiary: &str, kind: &str, project_id: &str) -> OutgoingEmail {
    let (subject, what) = match kind {
        "soumettre" => ("Un projet vous a été soumis", format!("{beneficiary} a soumis son projet de transition professionnelle.")),
        _ => ("Une réouverture de projet est demandée", format!("{beneficiary} demande la réouverture de son projet de transition professionnelle.")),
    };
    build(
        to,
        subject,
        &[what],
        Some(("Ouvrir le projet", &format!("{base_url}/conseiller/projets/{project_id}"))),
        "Vous recevez ce courriel parce que vous êtes le conseiller référent de cette personne sur Passerelle.",
    )
}
