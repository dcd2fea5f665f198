//! Administration in the database. Each change and its audit line are one transaction.

use super::{AdminView, LegalVersion, ServiceRow, StaffMember};
use crate::account::tokens::{self, Purpose};
use crate::account::{emails, users, Role, SessionUser};
use crate::dashboard::audit;
use crate::db::{new_id, now_ms, Db};
use crate::domain::Email;
use crate::error::AppError;
use crate::mail::outbox;
use crate::state::{AppConfig, AppState};

pub async fn overview(db: &Db, me: &SessionUser) -> Result<AdminView, AppError> {
    let memberships: Vec<(String, String)> =
        sqlx::query_as("SELECT ss.user_id, s.slug FROM staff_services ss JOIN services s ON s.id = ss.service_id ORDER BY s.slug")
            .fetch_all(db.pool())
            .await?;
    #[derive(sqlx::FromRow)]
    struct Staff {
        id: String,
        display_name: String,
        email: String,
        #[sqlx(try_from = "String")]
        role: Role,
        deactivated_at: Option<i64>,
        password_hash: String,
    }
    let staff: Vec<Staff> = sqlx::query_as(
        "SELECT id, display_name, email, role, deactivated_at, password_hash FROM users WHERE role IN ('advisor', 'admin') ORDER BY display_name, id",
    )
    .fetch_all(db.pool())
    .await?;
    let staff = staff
        .into_iter()
        .map(|r| StaffMember {
            services: memberships.iter().filter(|(user, _)| *user == r.id).map(|(_, slug)| slug.clone()).collect(),
            id: r.id,
            name: r.display_name,
            email: r.email,
            role: r.role,
            active: r.deactivated_at.is_none(),
            ready: r.password_hash != users::NO_PASSWORD,
        })
        .collect();
    #[derive(sqlx::FromRow)]
    struct Service {
        slug: String,
        name: String,
        active: i64,
        members: i64,
    }
    let services: Vec<Service> = sqlx::query_as(
        "SELECT s.slug, s.name, s.active, (SELECT COUNT(*) FROM staff_services ss WHERE ss.service_id = s.id) AS members \
         FROM services s ORDER BY s.name",
    )
    .fetch_all(db.pool())
    .await?;
    let services = services.into_iter().map(|r| ServiceRow { slug: r.slug, name: r.name, active: r.active == 1, members: r.members }).collect();
    let legal: Vec<LegalVersion> =
        sqlx::query_as("SELECT document, version, summary, published_at FROM legal_versions ORDER BY published_at DESC, id")
            .fetch_all(db.pool())
            .await?;
    Ok(AdminView { me: me.user_id.clone(), staff, services, legal })
}

/// Why a staff account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum NewStaffError {
    #[error("an account already uses this email address")]
    EmailTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Creates a staff account without a password, with its services, and queues the email with
/// the single-use link to choose it (`passerelle admin create` and the administration page).
/// Answers the link's token.
pub async fn new_staff(
    conn: &mut sqlx::AnyConnection,
    config: &AppConfig,
    email: &Email,
    name: &str,
    role: Role,
    service_ids: &[String],
) -> Result<(String, String), NewStaffError> {
    let user_id = match users::create(conn, email, name, role, users::NO_PASSWORD, false).await {
        Ok(id) => id,
        Err(users::CreateUserError::EmailTaken) => return Err(NewStaffError::EmailTaken),
        Err(users::CreateUserError::Database(e)) => return Err(e.into()),
    };
    for service_id in service_ids {
        sqlx::query("INSERT INTO staff_services (user_id, service_id) VALUES ($1, $2)").bind(&user_id).bind(service_id).execute(&mut *conn).await?;
    }
    let token = tokens::issue(conn, &user_id, Purpose::StaffSetup, config.activation_ttl).await?;
    let message = emails::staff_setup(&config.base_url, email.as_str(), name, &token, config.activation_ttl);
    outbox::enqueue(conn, &message).await?;
    Ok((user_id, token))
}

fn staff_role(role: &str) -> Result<Role, AppError> {
    match Role::parse(role) {
        Some(role @ (Role::Advisor | Role::Admin)) => Ok(role),
        _ => Err(AppError::invalid("role", "Choisissez conseiller ou administrateur.")),
    }
}

async fn service_id(conn: &mut sqlx::AnyConnection, slug: &str) -> Result<String, AppError> {
    sqlx::query_scalar("SELECT id FROM services WHERE slug = $1")
        .bind(slug)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::invalid("service", "Choisissez un service dans la liste."))
}

pub async fn create_staff_member(state: &AppState, me: &SessionUser, email: &str, name: &str, role: &str, service: &str) -> Result<String, AppError> {
    let mut errors = Vec::new();
    let email = match Email::parse(email) {
        Ok(email) => Some(email),
        Err(message) => {
            errors.push(("email".to_string(), message.to_string()));
            None
        }
    };
    let name = crate::forms::text_into(&mut errors, "name", name, true, "Indiquez le nom affiché de la personne.", 100);
    let role = staff_role(role);
    if let Err(AppError::Validation(e)) = &role {
        errors.extend(e.iter().cloned());
    }
    let (Some(email), Ok(role), true) = (email, role, errors.is_empty()) else { return Err(AppError::Validation(errors)) };
    let mut tx = state.db.begin_write().await?;
    let services = if service.is_empty() { Vec::new() } else { vec![service_id(&mut tx, service).await?] };
    let (user_id, _) = match new_staff(&mut tx, &state.config, &email, &name, role, &services).await {
        Ok(created) => created,
        Err(NewStaffError::EmailTaken) => return Err(AppError::invalid("email", "Cette adresse est déjà celle d'un compte.")),
        Err(NewStaffError::Database(e)) => return Err(AppError::from(e)),
    };
    let detail = format!("{name} ({}), {}", email.as_str(), role_label(role));
    audit::record(&mut tx, &me.user_id, None, "compte_personnel_cree", "", &detail).await?;
    tx.commit().await?;
    tracing::info!(actor = %me.user_id, staff = %user_id, "staff account created");
    Ok(format!("Compte créé : {name} reçoit à {} un lien pour choisir son mot de passe.", email.as_str()))
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "administrateur",
        _ => "conseiller",
    }
}

pub async fn update_staff(state: &AppState, me: &SessionUser, id: &str, change: &str, value: &str) -> Result<String, AppError> {
    let mut tx = state.db.begin_write().await?;
    let name: String = sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1 AND role IN ('advisor', 'admin')")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    if id == me.user_id && matches!(change, "role" | "active") {
        return Err(AppError::Conflict("Vous ne pouvez pas changer votre propre rôle ni désactiver votre propre compte.".into()));
    }
    let (action, detail, done) = match (change, value) {
        ("role", role) => {
            let role = staff_role(role)?;
            sqlx::query("UPDATE users SET role = $1 WHERE id = $2").bind(role.as_str()).bind(id).execute(&mut *tx).await?;
            ("role_modifie", format!("{name} : {}", role_label(role)), format!("{name} est maintenant {}.", role_label(role)))
        }
        ("active", "0") => {
            sqlx::query("UPDATE users SET deactivated_at = $1 WHERE id = $2 AND deactivated_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
            ("compte_personnel_desactive", name.clone(), format!("Le compte de {name} est désactivé et ses sessions sont fermées."))
        }
        ("active", "1") => {
            sqlx::query("UPDATE users SET deactivated_at = NULL WHERE id = $1").bind(id).execute(&mut *tx).await?;
            ("compte_personnel_reactive", name.clone(), format!("Le compte de {name} est réactivé."))
        }
        ("join", slug) => {
            let service = service_id(&mut tx, slug).await?;
            sqlx::query("DELETE FROM staff_services WHERE user_id = $1 AND service_id = $2").bind(id).bind(&service).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO staff_services (user_id, service_id) VALUES ($1, $2)").bind(id).bind(&service).execute(&mut *tx).await?;
            ("service_rejoint", format!("{name} : {slug}"), format!("{name} fait maintenant partie du service {slug}."))
        }
        ("leave", slug) => {
            let service = service_id(&mut tx, slug).await?;
            sqlx::query("DELETE FROM staff_services WHERE user_id = $1 AND service_id = $2").bind(id).bind(&service).execute(&mut *tx).await?;
            ("service_quitte", format!("{name} : {slug}"), format!("{name} ne fait plus partie du service {slug}."))
        }
        _ => return Err(AppError::BadRequest),
    };
    audit::record(&mut tx, &me.user_id, None, action, "", &detail).await?;
    tx.commit().await?;
    Ok(done)
}

pub async fn save_service(state: &AppState, me: &SessionUser, slug: &str, name: &str, active: &str) -> Result<String, AppError> {
    let mut errors = Vec::new();
    let slug = slug.trim().to_lowercase();
    if slug.is_empty() || slug.len() > 40 || !slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        errors.push((
            "slug".to_string(),
            "L'identifiant s'écrit en minuscules sans accent, chiffres et tirets (40 caractères au plus), par exemple « formation ».".to_string(),
        ));
    }
    let name = crate::forms::text_into(&mut errors, "name", name, true, "Indiquez le nom du service, tel que les bénéficiaires le verront.", 80);
    let active = match active {
        "" | "1" => 1i64,
        "0" => 0,
        _ => return Err(AppError::BadRequest),
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut tx = state.db.begin_write().await?;
    let updated = sqlx::query("UPDATE services SET name = $1, active = $2 WHERE slug = $3")
        .bind(&name)
        .bind(active)
        .bind(&slug)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let (action, done) = if updated == 0 {
        sqlx::query("INSERT INTO services (id, slug, name, active, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(format!("service-{slug}"))
            .bind(&slug)
            .bind(&name)
            .bind(active)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        ("service_cree", format!("Le service « {name} » est créé."))
    } else if active == 0 {
        ("service_ferme", format!("Le service « {name} » n'est plus proposé aux bénéficiaires."))
    } else {
        ("service_modifie", format!("Le service « {name} » est enregistré."))
    };
    audit::record(&mut tx, &me.user_id, None, action, "", &format!("{slug} : {name}")).await?;
    tx.commit().await?;
    Ok(done)
}

/// The version of each legal text in force (the newest published).
pub async fn current_versions(conn: &mut sqlx::AnyConnection) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut current = Vec::new();
    for document in ["cgu", "privacy"] {
        let version: String =
            sqlx::query_scalar("SELECT version FROM legal_versions WHERE document = $1 ORDER BY published_at DESC, id DESC LIMIT 1")
                .bind(document)
                .fetch_one(&mut *conn)
                .await?;
        current.push((document.to_string(), version));
    }
    Ok(current)
}

/// The legal texts in force that `user_id` has not accepted yet.
pub async fn to_accept(conn: &mut sqlx::AnyConnection, user_id: &str) -> Result<Vec<LegalVersion>, sqlx::Error> {
    let mut missing = Vec::new();
    for (document, version) in current_versions(conn).await? {
        let accepted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consents WHERE user_id = $1 AND document = $2 AND version = $3")
            .bind(user_id)
            .bind(&document)
            .bind(&version)
            .fetch_one(&mut *conn)
            .await?;
        if accepted == 0 {
            let summary: String = sqlx::query_scalar("SELECT summary FROM legal_versions WHERE document = $1 AND version = $2")
                .bind(&document)
                .bind(&version)
                .fetch_one(&mut *conn)
                .await?;
            missing.push(LegalVersion { document, version, summary, published_at: 0 });
        }
    }
    Ok(missing)
}

/// Records the acceptance of the texts in force (registration and the login after a new version).
pub async fn accept_current(conn: &mut sqlx::AnyConnection, user_id: &str) -> Result<(), sqlx::Error> {
    let now = now_ms();
    for version in to_accept(conn, user_id).await? {
        sqlx::query("INSERT INTO consents (id, user_id, document, version, accepted_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(new_id())
            .bind(user_id)
            .bind(&version.document)
            .bind(&version.version)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn publish(state: &AppState, me: &SessionUser, document: &str, version: &str, summary: &str) -> Result<String, AppError> {
    let mut errors = Vec::new();
    if !matches!(document, "cgu" | "privacy") {
        errors.push(("document".to_string(), "Choisissez le texte à publier : CGU ou politique de confidentialité.".to_string()));
    }
    let version = crate::forms::text_into(&mut errors, "version", version, true, "Indiquez le numéro de la nouvelle version, par exemple 2.", 20);
    let summary =
        crate::forms::text_into(&mut errors, "summary", summary, true, "Résumez ce qui change : les bénéficiaires le liront avant d'accepter.", 1000);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut tx = state.db.begin_write().await?;
    let inserted =
        sqlx::query("INSERT INTO legal_versions (id, document, version, summary, published_at, published_by) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(new_id())
            .bind(document)
            .bind(&version)
            .bind(&summary)
            .bind(now_ms())
            .bind(&me.user_id)
            .execute(&mut *tx)
            .await;
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(AppError::invalid("version", "Cette version a déjà été publiée : indiquez un autre numéro."))
        }
        Err(e) => return Err(AppError::from(e)),
    }
    let title = super::document_title(document);
    audit::record(&mut tx, &me.user_id, None, "texte_publie", "", &format!("{title}, version {version}")).await?;
    tx.commit().await?;
    Ok(format!("{title}, version {version} publiée : chaque bénéficiaire l'acceptera à sa prochaine connexion."))
}
