//! The one error type of server functions. Internal causes are logged on the server and never
//! sent to the browser: the browser only ever sees a French sentence it can show as is.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// A field name and the French message shown beside it.
pub type FieldError = (String, String);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The input was refused; each entry names a field and says what to fix, in French.
    #[error("Certaines informations sont à corriger.")]
    Validation(Vec<FieldError>),
    #[error("Votre session a expiré ou vous n'êtes pas connecté. Connectez-vous pour continuer.")]
    Unauthorized,
    #[error("Vous n'avez pas accès à cette page ou à cette action.")]
    Forbidden,
    #[error("Ce que vous cherchez n'existe pas ou n'existe plus.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A project save made from an older version than the one stored (another window or device
    /// saved meanwhile): the page shows both and lets the person choose. Answered with 409.
    #[error("Votre projet a été modifié depuis une autre fenêtre ou un autre appareil. Comparez les deux versions et choisissez celle à garder : rien n'a été écrasé.")]
    Stale,
    /// Something failed on our side; the cause is in the server's log, not here. The reference
    /// (made on the server, see `crate::incidents`) is on the log line of the cause and in the
    /// `incidents` table: the person reads it out to the phone platform.
    #[error("Le service rencontre un problème passager. Réessayez dans quelques minutes ; vos saisies sont conservées.{}", reference_sentence(.0))]
    Internal(Option<String>),
    /// The request took longer than `server.request_timeout_ms` and was abandoned. Answered
    /// with 503.
    #[error("Le service met trop de temps à répondre. Réessayez dans quelques minutes ; vos saisies sont conservées.")]
    Unavailable,
    /// The request itself was malformed (missing or wrong arguments): a page out of date, or a
    /// hand-made call. Answered with 400.
    #[error("Cette demande est incomplète ou mal formée. Rechargez la page puis réessayez.")]
    BadRequest,
    /// The request never reached our code or its answer could not be read (network, encoding).
    #[error("La connexion au service a échoué. Vérifiez votre connexion internet puis réessayez.")]
    Transport(String),
}

/// " Référence : 7KQ2-M9PD, donnez-la si vous nous contactez." for an error that has one.
fn reference_sentence(reference: &Option<String>) -> String {
    match reference {
        Some(reference) => format!(" Référence : {}, donnez-la si vous nous contactez.", reference_shown(reference)),
        None => String::new(),
    }
}

/// An error reference as a person reads it: two groups of four ("7KQ2-M9PD").
pub fn reference_shown(reference: &str) -> String {
    match (reference.get(..4), reference.get(4..)) {
        (Some(first), Some(rest)) if !rest.is_empty() => format!("{first}-{rest}"),
        _ => reference.to_string(),
    }
}

impl AppError {
    /// A refusal naming one field and what to fix there, in French.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![(field.into(), message.into())])
    }

    /// Logs an internal failure with its cause chain and its new reference, kept with the
    /// request (`crate::incidents`), and returns the opaque error the browser sees.
    #[cfg(feature = "ssr")]
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        let reference = crate::incidents::record();
        tracing::error!(%cause, %reference, "{context}");
        AppError::Internal(Some(reference))
    }

    /// The HTTP status a server function answers with for this error.
    #[cfg(feature = "ssr")]
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) | AppError::Stale => StatusCode::CONFLICT,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message for one field, if this is a validation error that names it.
    pub fn field(&self, name: &str) -> Option<&str> {
        match self {
            AppError::Validation(fields) => fields.iter().find(|(f, _)| f == name).map(|(_, m)| m.as_str()),
            _ => None,
        }
    }
}

/// A database failure is internal: `?` on any sqlx call logs it, with the file and line of the
/// `?` that met it, and the browser gets the opaque [`AppError::Internal`].
#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    #[track_caller]
    fn from(cause: sqlx::Error) -> Self {
        let at = std::panic::Location::caller();
        let reference = crate::incidents::record();
        tracing::error!(%cause, %reference, at = %format_args!("{}:{}", at.file(), at.line()), "database");
        AppError::Internal(Some(reference))
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::UnsupportedRequestMethod(_) => AppError::BadRequest,
            // On the server, failing to read the request (too large, not the expected encoding)
            // is the caller's mistake too.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(_) => AppError::BadRequest,
            // In the browser, a form that could not be turned into a request never left it: not a
            // network problem (our forms accept every field left out, so this is a page out of date).
            #[cfg(not(feature = "ssr"))]
            ServerFnErrorErr::Serialization(_) => AppError::BadRequest,
            // No answer came back at all: offline, connection reset, server unreachable.
            ServerFnErrorErr::Request(cause) => AppError::Transport(cause),
            // An answer came, but not one of ours (a proxy's error page, a cut response).
            _ => AppError::Internal(None),
        }
    }

    /// Encodes the error; on the server it also gives the answer the error's HTTP status
    /// ([`AppError::status`]), including the errors server_fn makes before our code runs (a
    /// call whose arguments cannot be read is a 400, not server_fn's 500). A plain form post
    /// keeps its redirect back to the page (`forms::respond`, or the Referer).
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        if !crate::forms::plain_form_post() {
            if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(self.status());
            }
        }
        use leptos::server_fn::Encodes;
        JsonEncoding::encode(self).unwrap_or_else(|_| JsonEncoding::encode(&AppError::Internal(None)).unwrap_or_default())
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::AppError;

    fn query_that_fails() -> Result<(), sqlx::Error> {
        Err(sqlx::Error::RowNotFound)
    }

    #[test]
    fn a_database_error_met_by_a_question_mark_is_internal_and_logged_with_the_file_and_line_of_that_question_mark() {
        // Arrange: the log goes to a file of its own (`&File` is a writer, so `Arc<File>` is one).
        let path = std::env::temp_dir().join(format!("passerelle-error-log-{}.txt", std::process::id()));
        let file = std::sync::Arc::new(std::fs::File::create(&path).unwrap());
        let subscriber = tracing_subscriber::fmt().with_writer(file).with_ansi(false).finish();
        let caller = || -> Result<(), AppError> {
            query_that_fails()?;
            Ok(())
        };
        let line_of_the_question_mark = line!() - 3;

        // Act
        let result = tracing::subscriber::with_default(subscriber, caller);

        // Assert
        let Err(AppError::Internal(Some(reference))) = result else { panic!("the browser sees the opaque error only: {result:?}") };
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(text.contains(&format!("src/error.rs:{line_of_the_question_mark}")), "the log names where: {text}");
        assert!(text.contains("no rows returned"), "the log keeps the cause: {text}");
        assert!(text.contains(&format!("reference={reference}")), "the log line of the cause carries the reference the page shows: {text}");
    }
}
