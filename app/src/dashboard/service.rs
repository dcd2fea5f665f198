//! The dashboard's reads (inbox, 360° page) and the support actions. Each action runs in one
//! transaction with its line of the audit trail: an action is never done without its trace,
//! nor traced without being done.

use super::{audit, AttemptLine, Beneficiary360, DashboardView, EmailLine, StaffItem};
use crate::account::tokens::{self, Purpose};
use crate::account::{emails, Role, SessionUser};
use crate::db::{now_ms, Db};
use crate::domain::{Email, Nir};
use crate::error::AppError;
use crate::mail::outbox;
use crate::project::Transition;
use crate::state::AppState;

/// Active advisors and administrators, by name.
pub async fn advisors(db: &Db) -> Result<Vec<StaffItem>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, display_name AS name, role FROM users WHERE role IN ('advisor', 'admin') AND deactivated_at IS NULL ORDER BY display_name, id",
    )
    .fetch_all(db.pool())
    .await?)
}

pub async fn dashboard(db: &Db, me: &SessionUser) -> Result<DashboardView, AppError> {
    let inbox = crate::messages::service::staff_inbox(db, me).await?;
    let open_duplicates: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM merge_requests WHERE status = 'open'").fetch_one(db.pool()).await?;
    Ok(DashboardView {
        me: StaffItem { id: me.user_id.clone(), name: me.display_name.clone(), role: me.role },
        inbox: inbox.into_iter().take(30).collect(),
        advisors: advisors(db).await?,
        open_duplicates,
    })
}

/// The person's page. `NotFound` for an unknown id and for any account that is not a
/// beneficiary's.
pub async fn view(state: &AppState, me: &SessionUser, id: &str) -> Result<Beneficiary360, AppError> {
    let db = &state.db;
    #[derive(sqlx::FromRow)]
    struct Person {
        display_name: String,
        civility: Option<String>,
        first_name: Option<String>,
        birth_name: Option<String>,
        usage_name: Option<String>,
        birth_date: Option<String>,
        email: String,
        phone: Option<String>,
        nir_encrypted: Option<String>,
        address_line: Option<String>,
        postal_code: Option<String>,
        city: Option<String>,
        created_at: i64,
        activated_at: Option<i64>,
        last_login_at: Option<i64>,
        locked_until: Option<i64>,
        failed_logins: i64,
        closed_at: Option<i64>,
        merged_into: Option<String>,
        merged_name: Option<String>,
        referent_id: Option<String>,
        referent_name: Option<String>,
        referent_role: Option<String>,
    }
    let reach = super::scope::read(db, me, id, None, super::audit::Read::Person, "").await?;
    let row: Person = sqlx::query_as(
        "SELECT u.*, r.display_name AS referent_name, r.role AS referent_role, m.display_name AS merged_name \
         FROM users u LEFT JOIN users r ON r.id = u.referent_id LEFT JOIN users m ON m.id = u.merged_into \
         WHERE u.id = $1 AND u.role = 'beneficiary'",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let nir_masked = row.nir_encrypted.as_deref().and_then(|stored| state.config.secrets.decrypt_nir(stored)).map(|nir: Nir| nir.masked());
    let address = [row.address_line, row.postal_code, row.city].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let referent = match (row.referent_id, row.referent_name, row.referent_role) {
        (Some(id), Some(name), role) => Some(StaffItem { id, name, role: role.as_deref().and_then(Role::parse).unwrap_or(Role::Advisor) }),
        _ => None,
    };
    let merged_into = match (row.merged_into, row.merged_name) {
        (Some(id), Some(name)) => Some((id, name)),
        _ => None,
    };
    let open_sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1").bind(id).fetch_one(db.pool()).await?;
    let attempts: Vec<(i64, String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT at, outcome, ip, user_agent FROM login_attempts WHERE user_id = $1 ORDER BY at DESC LIMIT 20")
            .bind(id)
            .fetch_all(db.pool())
            .await?;
    let attempts: Vec<AttemptLine> = attempts
        .into_iter()
        .filter_map(|(at, outcome, ip, agent)| {
            let outcome = super::AttemptOutcome::try_from(outcome).ok()?;
            Some(AttemptLine { at, outcome, origin: super::origin_label(ip.as_deref(), agent.as_deref()) })
        })
        .collect();
    let emails: Vec<EmailLine> = sqlx::query_as(
        "SELECT to_address AS \"to\", subject, created_at AS queued_at, status, attempts, sent_at FROM outbox \
         WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT 50",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    let deletion_requested_at: Option<i64> =
        sqlx::query_scalar("SELECT created_at FROM deletion_requests WHERE user_id = $1 AND status = 'ouverte' ORDER BY created_at DESC LIMIT 1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
    let project_id: Option<String> =
        sqlx::query_scalar("SELECT id FROM projects WHERE beneficiary_id = $1").bind(id).fetch_optional(db.pool()).await?;
    let project = match project_id {
        Some(project_id) => Some(crate::project::service::view(db, &project_id).await?),
        None => None,
    };
    let person = SessionUser { user_id: id.to_string(), display_name: String::new(), role: Role::Beneficiary };
    let mut threads = crate::messages::service::inbox(db, &person).await?.threads;
    // Unread counts are the staff member's, not the person's.
    for thread in &mut threads {
        thread.unread = 0;
    }
    Ok(Beneficiary360 {
        id: id.to_string(),
        name: row.display_name,
        civility: row.civility,
        first_name: row.first_name,
        birth_name: row.birth_name,
        usage_name: row.usage_name,
        birth_date: row.birth_date,
        email: row.email,
        phone: row.phone,
        nir_masked,
        address: (!address.is_empty()).then_some(address),
        created_at: row.created_at,
        activated_at: row.activated_at,
        last_login_at: row.last_login_at,
        locked_until: row.locked_until,
        locked: row.locked_until.is_some_and(|until| until > now_ms()),
        failed_logins: row.failed_logins,
        open_sessions,
        closed_at: row.closed_at,
        merged_into,
        referent,
        deletion_requested_at,
        attempts,
        emails,
        documents: crate::documents::service::view(state, id).await?,
        threads,
        project,
        audit: audit::about(db, id).await?,
        // The staff member first: assigning oneself is the usual case.
        advisors: {
            let mut list = advisors(db).await?;
            list.sort_by_key(|a| a.id != me.user_id);
            list
        },
        exceptional: match reach {
            super::scope::Reach::Exceptional(reason) => Some(reason),
            super::scope::Reach::InCharge => None,
        },
        incidents: crate::incidents::recent_for(db, me, id).await?,
    })
}

/// The account an action is about, read in the action's transaction.
#[derive(sqlx::FromRow)]
struct Target {
    email: String,
    activated_at: Option<i64>,
    closed_at: Option<i64>,
}

async fn target(conn: &mut sqlx::AnyConnection, id: &str) -> Result<Target, AppError> {
    sqlx::query_as("SELECT email, activated_at, closed_at FROM users WHERE id = $1 AND role = 'beneficiary'")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)
}

fn conflict(message: &str) -> AppError {
    AppError::Conflict(message.into())
}

/// Runs one support action and answers what was done, in French.
pub async fn support(state: &AppState, me: &SessionUser, id: &str, action: &str, reason: &str, value: &str) -> Result<String, AppError> {
    if !super::ACTIONS.iter().any(|(code, _)| *code == action) || action == "fusionner" || value.chars().count() > 320 {
        return Err(AppError::BadRequest);
    }
    super::scope::reach(&state.db, me, id, None).await?;
    // Project decisions go through the project's own state machine, which keeps its history
    // and the audit line in its transaction.
    if let Some(transition) = Transition::parse(action).filter(|t| *t != Transition::Submit) {
        let project_id: String = sqlx::query_scalar("SELECT id FROM projects WHERE beneficiary_id = $1")
            .bind(id)
            .fetch_optional(state.db.pool())
            .await?
            .ok_or_else(|| conflict("Cette personne n'a pas encore commencé de projet."))?;
        audit::reason(reason)?;
        crate::project::service::staff_transition(state, me, &project_id, transition, reason).await?;
        return Ok(format!("C'est fait : {}.", super::action_label(action).to_lowercase()));
    }
    let reason = audit::reason(reason)?;
    let config = &state.config;
    let mut tx = state.db.begin_write().await?;
    let person = target(&mut tx, id).await?;
    if person.closed_at.is_some() {
        return Err(conflict("Ce compte est fermé (fusionné dans un autre) : agissez sur le compte conservé."));
    }
    let (detail, done) = match action {
        "renvoyer_activation" => {
            if person.activated_at.is_some() {
                return Err(conflict("Ce compte est déjà activé : envoyez plutôt un lien de réinitialisation du mot de passe."));
            }
            let token = tokens::issue(&mut tx, id, Purpose::Activation, config.activation_ttl).await?;
            let email = emails::activation(&config.base_url, &person.email, &token, config.activation_ttl);
            outbox::enqueue(&mut tx, &email).await?;
            (format!("envoyé à {}", person.email), format!("Un nouveau lien d'activation a été envoyé à {}.", person.email))
        }
        "envoyer_reinitialisation" => {
            if person.activated_at.is_none() {
                return Err(conflict("Ce compte n'est pas encore activé : renvoyez plutôt le lien d'activation."));
            }
            let token = tokens::issue(&mut tx, id, Purpose::Reset, config.reset_ttl).await?;
            outbox::enqueue(&mut tx, &emails::reset(&config.base_url, &person.email, &token, config.reset_ttl)).await?;
            (format!("envoyé à {}", person.email), format!("Un lien de réinitialisation du mot de passe a été envoyé à {}.", person.email))
        }
        "corriger_adresse" if person.activated_at.is_some() => {
            // An activated account may hold a whole file: the new address must confirm, and the
            // current one is told, so a call from someone else cannot take the account over.
            let new_email = Email::parse(value).map_err(|m| AppError::invalid("value", m))?;
            crate::profile::service::propose_email_change(&mut tx, &config.base_url, id, &new_email).await.map_err(|e| match e {
                AppError::Validation(fields) => AppError::Validation(fields.into_iter().map(|(_, m)| ("value".to_string(), m)).collect()),
                other => other,
            })?;
            outbox::enqueue(&mut tx, &crate::profile::service::staff_change_notice(&person.email, &new_email)).await?;
            (
                format!("{} → {} (en attente de confirmation)", person.email, new_email.as_str()),
                format!(
                    "Un lien de confirmation a été envoyé à {new}. L'adresse changera quand la personne l'aura utilisé ; \
                     d'ici là, tout reste envoyé à {old}, qui a été prévenue.",
                    new = new_email.as_str(),
                    old = person.email
                ),
            )
        }
        "corriger_adresse" => {
            let new_email = Email::parse(value).map_err(|m| AppError::invalid("value", m))?;
            if new_email.normalized() == person.email.to_lowercase() {
                return Err(AppError::invalid("value", "C'est déjà l'adresse de ce compte."));
            }
            let updated = sqlx::query("UPDATE users SET email = $1, email_normalized = $2 WHERE id = $3")
                .bind(new_email.as_str())
                .bind(new_email.normalized())
                .bind(id)
                .execute(&mut *tx)
                .await;
            match updated {
                Ok(_) => {}
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(AppError::invalid(
                        "value",
                        "Cette adresse est déjà celle d'un autre compte : cherchez-le, il s'agit peut-être d'un doublon à fusionner.",
                    ))
                }
                Err(e) => return Err(AppError::from(e)),
            }
            super::search::reindex(&mut tx, id).await?;
            // Not activated yet (the phone platform's case: a typo at registration): the address
            // changes at once, and the earlier links, sent to the wrong address, give way to a
            // new one sent to the right one.
            let token = tokens::issue(&mut tx, id, Purpose::Activation, config.activation_ttl).await?;
            let email = emails::activation(&config.base_url, new_email.as_str(), &token, config.activation_ttl);
            outbox::enqueue(&mut tx, &email).await?;
            (
                format!("{} → {} ; lien d'activation envoyé", person.email, new_email.as_str()),
                format!("L'adresse est maintenant {} et un nouveau lien d'activation y a été envoyé.", new_email.as_str()),
            )
        }
        "debloquer" => {
            crate::account::login::service::clear_failures(&mut tx, id).await?;
            (String::new(), "Le compte est débloqué : la personne peut se connecter dès maintenant.".to_string())
        }
        "fermer_sessions" => {
            let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            (format!("{ended} session(s)"), format!("{ended} session(s) fermée(s) : la personne devra se reconnecter partout."))
        }
        "attribuer_referent" => {
            let advisor: Option<String> =
                sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1 AND role IN ('advisor', 'admin') AND deactivated_at IS NULL")
                    .bind(value)
                    .fetch_optional(&mut *tx)
                    .await?;
            let advisor = advisor.ok_or_else(|| AppError::invalid("value", "Choisissez un conseiller dans la liste."))?;
            sqlx::query("UPDATE users SET referent_id = $1 WHERE id = $2").bind(value).bind(id).execute(&mut *tx).await?;
            let handed_over = value != me.user_id && !super::scope::sees_everyone(&state.db, me).await?;
            let done = match handed_over {
                true => format!("{advisor} est maintenant le conseiller référent. Cette personne ne fait plus partie de vos dossiers."),
                false => format!("{advisor} est maintenant le conseiller référent."),
            };
            (advisor, done)
        }
        _ => return Err(AppError::BadRequest),
    };
    audit::record(&mut tx, &me.user_id, Some(id), action, &reason, &detail).await?;
    tx.commit().await?;
    tracing::info!(actor = %me.user_id, beneficiary = %id, action, "support action");
    Ok(done)
}
