//! `passerelle seed-demo --beneficiaries N`: fake but realistic beneficiaries (French names,
//! valid NIRs, birth dates matching them, projects in every state, some referents) for demos
//! and the search benchmark. Rows are written in batches of multi-row inserts.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::search::Names;
use crate::account::secrets::Secrets;
use crate::db::{new_id, now_ms, Db};
use crate::domain::Nir;

const FIRST_NAMES: [(&str, u8); 40] = [
    ("Hélène", 2),
    ("Chloé", 2),
    ("Léa", 2),
    ("Zoé", 2),
    ("Anaïs", 2),
    ("Françoise", 2),
    ("Agnès", 2),
    ("Noémie", 2),
    ("Camille", 2),
    ("Manon", 2),
    ("Inès", 2),
    ("Élodie", 2),
    ("Céline", 2),
    ("Maëlle", 2),
    ("Sophie", 2),
    ("Nathalie", 2),
    ("Isabelle", 2),
    ("Aurélie", 2),
    ("Mélanie", 2),
    ("Solène", 2),
    ("Jérôme", 1),
    ("François", 1),
    ("Stéphane", 1),
    ("Frédéric", 1),
    ("Noël", 1),
    ("Loïc", 1),
    ("Gaël", 1),
    ("Jean-Luc", 1),
    ("Benoît", 1),
    ("Cédric", 1),
    ("Thierry", 1),
    ("Nicolas", 1),
    ("Julien", 1),
    ("Mathieu", 1),
    ("Hervé", 1),
    ("Rémi", 1),
    ("Aurélien", 1),
    ("Grégoire", 1),
    ("Sébastien", 1),
    ("Théo", 1),
];

const LAST_NAMES: [&str; 40] = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefebvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Le Goff",
    "Gauthier",
    "Chevalier",
    "Brunet",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Hénault",
];

const STATES: [&str; 6] = ["brouillon", "soumis", "en_instruction", "rouvert", "accepte", "refuse"];

/// A valid NIR for this person, unique for each `serial` below 998,001.
fn nir(sex: u8, year: i32, month: u32, department: u32, serial: u32) -> Nir {
    let commune = serial / 999 % 999 + 1;
    let order = serial % 999 + 1;
    let body = format!("{sex}{:02}{month:02}{department:02}{commune:03}{order:03}", year % 100);
    let number: u64 = body.parse().unwrap_or(0);
    let key = 97 - number % 97;
    Nir::parse(&format!("{body}{key:02}")).unwrap_or_else(|_| unreachable!("a NIR built with its key is valid: {body}"))
}

/// Creates `count` beneficiaries (demo password `password_hash` for all), spread over the
/// existing advisors as referents. Answers how many were created.
pub async fn seed(db: &Db, secrets: &Secrets, count: u32, password_hash: &str, rng_seed: u64) -> Result<u32, sqlx::Error> {
    let mut rng = StdRng::seed_from_u64(rng_seed);
    let advisors: Vec<String> =
        sqlx::query_scalar("SELECT id FROM users WHERE role IN ('advisor', 'admin') ORDER BY id").fetch_all(db.pool()).await?;
    let start: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(db.pool()).await?;
    let now = now_ms();
    const BATCH: u32 = 200;
    let mut created = 0;
    while created < count {
        let size = BATCH.min(count - created);
        let mut users = Vec::new();
        let mut terms = Vec::new();
        let mut projects = Vec::new();
        for i in 0..size {
            let serial = (start as u32 + created + i) % 998_001;
            let (first, sex) = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
            let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
            let (year, month, day) = (rng.gen_range(1962..2004), rng.gen_range(1..=12u32), rng.gen_range(1..=28u32));
            // Department 20 (Corsica) is written 2A or 2B: left out.
            let department = match rng.gen_range(1..=95u32) {
                20 => 21,
                d => d,
            };
            let nir = nir(sex, year, month, department, serial);
            let id = new_id();
            let display = format!("{first} {last}");
            let folded = |s: &str| crate::domain::text::words(s).join("-");
            let email = format!("{}.{}.{}@exemple.fr", folded(first), folded(last), start as u32 + created + i);
            let birth_date = format!("{year:04}-{month:02}-{day:02}");
            let names =
                Names { first_name: first, birth_name: last, usage_name: None, display_name: &display, birth_date: Some(&birth_date), email: &email };
            for term in names.terms() {
                terms.push((term, id.clone(), names.search_name()));
            }
            let referent = (rng.gen_bool(0.6) && !advisors.is_empty()).then(|| advisors[rng.gen_range(0..advisors.len())].clone());
            let activated = rng.gen_bool(0.9).then_some(now);
            if rng.gen_bool(0.8) {
                projects.push((new_id(), id.clone(), STATES[rng.gen_range(0..STATES.len())]));
            }
            let (search_name, identity_key) = (names.search_name(), names.identity_key().unwrap_or_default());
            users.push(vec![
                id,
                email.clone(),
                email,
                display.clone(),
                first.to_string(),
                last.to_string(),
                birth_date.clone(),
                format!("06{:08}", rng.gen_range(0..100_000_000u32)),
                secrets.encrypt_nir(&nir),
                secrets.nir_hash(&nir),
                search_name,
                identity_key,
                referent.unwrap_or_default(),
                activated.map(|a| a.to_string()).unwrap_or_default(),
                if sex == 1 { "M." } else { "Mme" }.to_string(),
            ]);
        }
        let mut tx = db.begin_write().await?;
        let mut sql = String::from(
            "INSERT INTO users (id, email, email_normalized, password_hash, role, display_name, created_at, first_name, birth_name, \
             birth_date, phone, nir_encrypted, nir_hash, search_name, identity_key, referent_id, activated_at, civility) VALUES ",
        );
        // The password hash is bound once, after every row's values.
        let hash = users.len() * 15 + 1;
        for row in 0..users.len() {
            let b = row * 15;
            if row > 0 {
                sql.push(',');
            }
            sql += &format!(
                "(${}, ${}, ${}, ${hash}, 'beneficiary', ${}, {now}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, NULLIF(${}, ''), NULLIF(${}, ''), \
                 CAST(NULLIF(${}, '') AS BIGINT), ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9,
                b + 10,
                b + 11,
                b + 12,
                b + 13,
                b + 14,
                b + 15
            );
        }
        let mut query = sqlx::query(&sql);
        for user in &users {
            for (k, value) in user.iter().enumerate() {
                query = query.bind(if k == 2 { value.to_lowercase() } else { value.clone() });
            }
        }
        query.bind(password_hash).execute(&mut *tx).await?;
        for chunk in terms.chunks(500) {
            let mut sql = String::from("INSERT INTO search_terms (term, user_id, search_name) VALUES ");
            for row in 0..chunk.len() {
                if row > 0 {
                    sql.push(',');
                }
                sql += &format!("(${}, ${}, ${})", row * 3 + 1, row * 3 + 2, row * 3 + 3);
            }
            let mut query = sqlx::query(&sql);
            for (term, id, search_name) in chunk {
                query = query.bind(term).bind(id).bind(search_name);
            }
            query.execute(&mut *tx).await?;
        }
        if !projects.is_empty() {
            let mut sql =
                String::from("INSERT INTO projects (id, beneficiary_id, state, version, draft, created_at, updated_at, submitted_at) VALUES ");
            for row in 0..projects.len() {
                if row > 0 {
                    sql.push(',');
                }
                sql += &format!("(${}, ${}, ${}, 1, '{{}}', {now}, {now}, NULL)", row * 3 + 1, row * 3 + 2, row * 3 + 3);
            }
            let mut query = sqlx::query(&sql);
            for (id, owner, state) in &projects {
                query = query.bind(id).bind(owner).bind(*state);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        created += size;
    }
    // Fresh statistics, so the planner knows the tables are no longer small.
    sqlx::query("ANALYZE").execute(db.pool()).await?;
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_nirs_are_valid_and_distinct() {
        let a = nir(2, 1985, 3, 69, 0);
        let b = nir(2, 1985, 3, 69, 1);
        assert_ne!(a.as_str(), b.as_str());
        assert!(Nir::parse(a.as_str()).is_ok());
    }
}
