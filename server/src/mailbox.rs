//! `/dev/mailbox`: in development mode, every email the application queued, readable in the
//! browser with its links clickable. The routes are not mounted outside development mode.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use app::dashboard::DeliveryStatus;
use app::mail::escape_html as escape;
use app::mail::outbox;
use app::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/dev/mailbox", get(list)).route("/dev/mailbox/{id}", get(show)).route("/dev/mailbox/{id}/html", get(show_html))
}

/// Escapes text and turns each http(s) address in it into a link.
fn linkify(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                out.push(' ');
            }
            if word.starts_with("http://") || word.starts_with("https://") {
                let url = escape(word);
                out.push_str(&format!("<a href=\"{url}\">{url}</a>"));
            } else {
                out.push_str(&escape(word));
            }
        }
    }
    out
}

fn page(state: &AppState, title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} — Boîte de développement — Passerelle</title>\
         <link rel=\"stylesheet\" href=\"{}\"><link rel=\"icon\" href=\"data:,\"></head>\
         <body><main id=\"contenu\" class=\"wrap\">{body}</main></body></html>",
        escape(title),
        app::state::stylesheet_href(&state.leptos_options)
    ))
}

fn status_label(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Pending => "en attente",
        DeliveryStatus::Sending => "en cours d'envoi",
        DeliveryStatus::Sent => "envoyé",
        DeliveryStatus::Failed => "échec définitif",
    }
}

fn unavailable(e: sqlx::Error) -> Response {
    tracing::error!(error = %e, "dev mailbox: cannot read the outbox");
    (StatusCode::SERVICE_UNAVAILABLE, "La base de données ne répond pas.").into_response()
}

async fn list(State(state): State<AppState>) -> Response {
    let emails = match outbox::recent(&state.db, 200).await {
        Ok(emails) => emails,
        Err(e) => return unavailable(e),
    };
    let mut body = String::from(
        "<h1>Boîte de développement</h1><p>Les courriels que Passerelle a mis en file \
         d'envoi, du plus récent au plus ancien. Cette page n'existe qu'en mode développement.</p>",
    );
    if emails.is_empty() {
        body.push_str("<p>Aucun courriel pour l'instant.</p>");
    } else {
        body.push_str(
            "<table class=\"table\"><thead><tr><th scope=\"col\">Destinataire</th>\
            <th scope=\"col\">Objet</th><th scope=\"col\">État</th></tr></thead><tbody>",
        );
        for email in &emails {
            body.push_str(&format!(
                "<tr><td>{}</td><td><a href=\"/dev/mailbox/{}\">{}</a></td><td>{}</td></tr>",
                escape(&email.to),
                escape(&email.id),
                escape(&email.subject),
                status_label(email.status)
            ));
        }
        body.push_str("</tbody></table>");
    }
    page(&state, "Courriels", &body).into_response()
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let email = match outbox::find(&state.db, &id).await {
        Ok(Some(email)) => email,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                page(&state, "Introuvable", "<h1>Ce courriel n'existe pas</h1><p><a href=\"/dev/mailbox\">Tous les courriels</a></p>"),
            )
                .into_response()
        }
        Err(e) => return unavailable(e),
    };
    let error = email.last_error.as_deref().map(|e| format!("<p>Dernière erreur : {}</p>", escape(e))).unwrap_or_default();
    let body = format!(
        "<p><a href=\"/dev/mailbox\">Tous les courriels</a></p><h1>{subject}</h1>\
         <dl><dt>À</dt><dd>{to}</dd><dt>État</dt><dd>{status} ({attempts} tentative(s))</dd></dl>{error}\
         <h2>Version texte</h2><pre class=\"email-text\">{text}</pre>\
         <p><a href=\"/dev/mailbox/{id}/html\">Voir la version HTML</a></p>",
        subject = escape(&email.subject),
        to = escape(&email.to),
        status = status_label(email.status),
        attempts = email.attempts,
        text = linkify(&email.text),
        id = escape(&email.id),
    );
    page(&state, &email.subject, &body).into_response()
}

/// The HTML version exactly as sent, in a sandbox: no script runs, nothing is loaded.
async fn show_html(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match outbox::find(&state.db, &id).await {
        Ok(Some(email)) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
            ],
            email.html,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => unavailable(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_the_text_become_clickable_and_the_rest_is_escaped() {
        let html = linkify("Bonjour <b>\nOuvrez https://p.example/activer?t=a&b=c maintenant");
        assert!(html.contains("Bonjour &lt;b&gt;"));
        assert!(html.contains("<a href=\"https://p.example/activer?t=a&amp;b=c\">"));
    }
}
