//! The account emails, in French, as text and HTML: product name, why the person receives it,
//! the link and how long it works.

use std::time::Duration;

use crate::mail::{escape_html as escape, OutgoingEmail};

fn lifetime(ttl: Duration) -> String {
    let minutes = ttl.as_secs() / 60;
    if minutes.is_multiple_of(60) {
        let hours = minutes / 60;
        if hours == 1 {
            "1 heure".into()
        } else {
            format!("{hours} heures")
        }
    } else {
        format!("{minutes} minutes")
    }
}

pub(crate) fn build(to: &str, subject: &str, paragraphs: &[String], link: Option<(&str, &str)>, footer: &str) -> OutgoingEmail {
    let mut text = String::new();
    let mut html = String::from("<div style=\"font-family:system-ui,Arial,sans-serif;font-size:16px;line-height:1.5;max-width:36em\">");
    for (i, p) in paragraphs.iter().enumerate() {
        text.push_str(p);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(p)));
        if i == 0 {
            if let Some((label, url)) = link {
                text.push_str(&format!("{label} :\n{url}\n\n"));
                html.push_str(&format!(
                    "<p><a href=\"{u}\" style=\"display:inline-block;padding:12px 20px;background:#1d4ed8;color:#fff;text-decoration:none;border-radius:4px\">{l}</a></p>\
                     <p style=\"font-size:14px\">Si le bouton ne fonctionne pas, copiez cette adresse dans votre navigateur :<br>{u}</p>",
                    u = escape(url),
                    l = escape(label)
                ));
            }
        }
    }
    text.push_str(&format!("--\nPasserelle — l'espace personnel du projet de transition professionnelle\n{footer}\n"));
    html.push_str(&format!(
        "<p style=\"color:#4b5563;font-size:14px\">Passerelle — l'espace personnel du projet de transition professionnelle<br>{}</p></div>",
        escape(footer)
    ));
    OutgoingEmail { to: to.into(), subject: subject.into(), text, html }
}

/// The address is not verified yet: nothing typed at registration (a name) is echoed into it, so
/// a stranger's registration cannot carry their text into someone's mailbox.
pub fn activation(base_url: &str, to: &str, token: &str, ttl: Duration) -> OutgoingEmail {
    build(
        to,
        "Activez votre compte Passerelle",
        &[
            "Bonjour, vous venez de créer votre compte Passerelle. Pour l'activer, ouvrez le lien ci-dessous.".into(),
            format!("Ce lien fonctionne pendant {} et une seule fois. S'il a expiré, la page de connexion permet d'en recevoir un nouveau.", lifetime(ttl)),
        ],
        Some(("Activer mon compte", &format!("{base_url}/activation/{token}"))),
        "Vous recevez ce courriel parce que cette adresse a été indiquée lors d'une inscription. Si ce n'est pas vous, ignorez-le : aucun compte ne sera activé.",
    )
}

pub fn reset(base_url: &str, to: &str, token: &str, ttl: Duration) -> OutgoingEmail {
    build(
        to,
        "Réinitialisation de votre mot de passe Passerelle",
        &[
            "Bonjour, une demande de nouveau mot de passe a été faite pour votre compte Passerelle. Pour choisir votre nouveau mot de passe, ouvrez le lien ci-dessous.".into(),
            format!("Ce lien fonctionne pendant {} et une seule fois ; il remplace les liens envoyés avant lui.", lifetime(ttl)),
        ],
        Some(("Choisir un nouveau mot de passe", &format!("{base_url}/mot-de-passe/nouveau/{token}"))),
        "Vous recevez ce courriel parce qu'une réinitialisation a été demandée pour cette adresse. Si ce n'est pas vous, ignorez-le : votre mot de passe reste inchangé.",
    )
}

pub fn password_changed(base_url: &str, to: &str) -> OutgoingEmail {
    build(
        to,
        "Votre mot de passe Passerelle a été modifié",
        &[
            "Bonjour, le mot de passe de votre compte Passerelle vient d'être modifié. Toutes les sessions ouvertes ont été fermées.".into(),
            format!("Si vous n'êtes pas à l'origine de ce changement, demandez immédiatement un nouveau mot de passe sur {base_url}/mot-de-passe-oublie puis écrivez à votre conseiller."),
        ],
        None,
        "Vous recevez ce courriel pour votre sécurité, à chaque changement de mot de passe.",
    )
}

pub fn staff_setup(base_url: &str, to: &str, name: &str, token: &str, ttl: Duration) -> OutgoingEmail {
    build(
        to,
        "Votre compte Passerelle (équipe)",
        &[
            format!("Bonjour {name}, un compte de l'équipe Passerelle vient d'être créé pour vous. Choisissez votre mot de passe en ouvrant le lien ci-dessous."),
            format!("Ce lien fonctionne pendant {} et une seule fois.", lifetime(ttl)),
        ],
        Some(("Choisir mon mot de passe", &format!("{base_url}/mot-de-passe/nouveau/{token}"))),
        "Vous recevez ce courriel parce qu'un administrateur a créé ce compte.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_activation_email_says_why_how_long_and_carries_the_link() {
        let email = activation("https://p.example", "a@exemple.fr", "TOKEN", Duration::from_secs(48 * 3600));
        assert!(email.text.contains("https://p.example/activation/TOKEN"));
        assert!(email.text.contains("48 heures"));
        assert!(email.text.contains("Passerelle"));
    }

    #[test]
    fn names_are_escaped_in_html() {
        let email = staff_setup("https://p.example", "a@exemple.fr", "Zoé <b>", "TOKEN", Duration::from_secs(3600));
        assert!(email.html.contains("Zoé &lt;b&gt;"));
    }

    #[test]
    fn lifetimes_read_naturally() {
        assert_eq!(lifetime(Duration::from_secs(3600)), "1 heure");
        assert_eq!(lifetime(Duration::from_secs(30 * 60)), "30 minutes");
    }
}
