//! Error references (issue 17, point 2). Every internal error gets a short reference that the
//! person's page shows ("Référence : 7KQ2-M9PD") and that the server's log line of its cause
//! carries; the request's layer ([`Recorder`]) keeps it in the `incidents` table with the route,
//! the time, the request id and the account, so that the phone platform finds what happened
//! from the reference read out on the phone (dashboard, and the person's 360° page).

use std::sync::{Arc, Mutex};

use crate::db::{now_ms, Db};

/// The letters of a reference: no 0/O, 1/I/L nor U/V, which are misread on the phone.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTWXYZ";

/// A new reference: 8 characters of [`ALPHABET`] (about 5·10¹¹ of them).
pub fn new_reference() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..8).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// A reference as it is read out or typed ("7kq2 m9pd", "7KQ2-M9PD"), in its stored form, or
/// `None` when it cannot be one.
pub fn normalize(typed: &str) -> Option<String> {
    let reference: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    (reference.len() == 8 && reference.bytes().all(|b| ALPHABET.contains(&b))).then_some(reference)
}

/// One request's incidents: where they are written, and what to write with them.
#[derive(Clone)]
pub struct Recorder(Arc<RecorderInner>);

struct RecorderInner {
    db: Db,
    method: String,
    route: String,
    request_id: String,
    user_id: Option<String>,
    /// The writes under way; the request's answer waits for them.
    writes: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// How long an answer waits for its incidents to be written.
const WRITE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

tokio::task_local! {
    /// The recorder of the request this task serves (handlers that run outside Leptos).
    static RECORDER: Recorder;
}

impl Recorder {
    pub fn new(db: Db, method: &str, route: &str, request_id: &str, user_id: Option<String>) -> Recorder {
        Recorder(Arc::new(RecorderInner {
            db,
            method: method.to_string(),
            route: route.to_string(),
            request_id: request_id.to_string(),
            user_id,
            writes: Mutex::new(Vec::new()),
        }))
    }

    /// Runs `work` (the request's handling) with this recorder, then waits until its incidents
    /// are written: when the answer reaches the person, staff can already find its reference.
    /// At most [`WRITE_WAIT`]: when the database itself is down, the answer leaves anyway (the
    /// write goes on, and the log line of the cause has the reference).
    pub async fn around<T>(self, work: impl std::future::Future<Output = T>) -> T {
        let answer = RECORDER.scope(self.clone(), work).await;
        let writes = std::mem::take(&mut *self.0.writes.lock().unwrap_or_else(|e| e.into_inner()));
        let written = async {
            for write in writes {
                let _ = write.await;
            }
        };
        if tokio::time::timeout(WRITE_WAIT, written).await.is_err() {
            tracing::warn!(request_id = %self.0.request_id, "the answer left before its incidents were written");
        }
        answer
    }

    fn record(&self, reference: &str) {
        let inner = self.0.clone();
        let reference = reference.to_string();
        let write = tokio::spawn(async move {
            let written = sqlx::query("INSERT INTO incidents (reference, at, method, route, request_id, user_id) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&reference)
                .bind(now_ms())
                .bind(&inner.method)
                .bind(&inner.route)
                .bind(&inner.request_id)
                .bind(&inner.user_id)
                .execute(inner.db.pool())
                .await;
            if let Err(e) = written {
                // The log line of the cause carries the reference: it is still found there.
                tracing::error!(error = %e, reference = %reference, "cannot keep the incident");
            }
        });
        self.0.writes.lock().unwrap_or_else(|e| e.into_inner()).push(write);
    }
}

/// Gives an internal error its reference, kept with the current request (if any); the caller
/// logs its cause with it.
pub fn record() -> String {
    let reference = new_reference();
    let recorder = RECORDER
        .try_with(Recorder::clone)
        .ok()
        .or_else(|| leptos::prelude::use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<Recorder>().cloned()));
    if let Some(recorder) = recorder {
        recorder.record(&reference);
    }
    reference
}

/// How long the 360° page lists a person's incidents.
const RECENT_MS: i64 = 30 * 86_400_000;

#[derive(sqlx::FromRow)]
struct Row {
    reference: String,
    at: i64,
    method: String,
    route: String,
    request_id: String,
    user_id: Option<String>,
    display_name: Option<String>,
    role: Option<String>,
    referent_id: Option<String>,
}

impl Row {
    fn line(self, sees_everyone: bool, me: &crate::account::SessionUser) -> crate::dashboard::IncidentLine {
        let (who, person_id) = match (self.user_id, self.display_name, self.role.as_deref()) {
            (None, _, _) => ("Personne n'était connecté".to_string(), None),
            (Some(id), Some(name), Some("beneficiary")) => {
                if sees_everyone || self.referent_id.as_deref().is_none_or(|referent| referent == me.user_id) {
                    (name, Some(id))
                } else {
                    ("Une personne suivie par un autre conseiller".to_string(), None)
                }
            }
            (Some(_), Some(name), Some(_)) => (format!("{name} (équipe)"), None),
            (Some(_), _, _) => ("Un compte qui n'existe plus".to_string(), None),
        };
        crate::dashboard::IncidentLine {
            reference: crate::error::reference_shown(&self.reference),
            at: self.at,
            request: format!("{} {}", self.method, self.route),
            request_id: self.request_id,
            who,
            person_id,
        }
    }
}

const SELECT: &str = "SELECT i.reference, i.at, i.method, i.route, i.request_id, i.user_id, u.display_name, u.role, u.referent_id \
                      FROM incidents i LEFT JOIN users u ON u.id = i.user_id";

/// The incident of this reference, for a staff member: the person's name and page only when
/// they reach the person (their search would find them).
pub async fn find(db: &Db, me: &crate::account::SessionUser, typed: &str) -> Result<Option<crate::dashboard::IncidentLine>, crate::error::AppError> {
    let Some(reference) = normalize(typed) else {
        return Err(crate::error::AppError::invalid("reference", "Une référence compte 8 caractères, lettres et chiffres, par exemple 7KQ2-M9PD."));
    };
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE i.reference = $1")).bind(&reference).fetch_optional(db.pool()).await?;
    let sees_everyone = crate::dashboard::scope::sees_everyone(db, me).await?;
    Ok(row.map(|row| row.line(sees_everyone, me)))
}

/// The person's incidents of the last 30 days, newest first (for their 360° page, which its
/// reader already reaches).
pub async fn recent_for(
    db: &Db,
    me: &crate::account::SessionUser,
    person: &str,
) -> Result<Vec<crate::dashboard::IncidentLine>, crate::error::AppError> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} WHERE i.user_id = $1 AND i.at > $2 ORDER BY i.at DESC LIMIT 20"))
        .bind(person)
        .bind(now_ms() - RECENT_MS)
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(|row| row.line(true, me)).collect())
}
