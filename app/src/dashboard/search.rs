//! Beneficiary search: by name (each word a prefix of a folded name word, so "helene" finds
//! "Hélène"), by email (the start of the address, case ignored, found through its words) or by NIR (exact, through its
//! keyed hash). Results are sorted by folded name, then id, and paged by keyset: a page starts
//! after the last row of the previous one, so page 500 costs what page 1 costs.

use super::{BeneficiaryRow, SearchPage, PAGE_SIZE};
use crate::account::SessionUser;
use crate::db::{Binds, Db};
use crate::domain::text::{fold, prefix_end, words};
use crate::domain::Nir;
use crate::error::AppError;
use crate::project::ProjectState;
use crate::state::AppState;

/// The names a person is found by, folded.
pub struct Names<'a> {
    pub first_name: &'a str,
    pub birth_name: &'a str,
    pub usage_name: Option<&'a str>,
    pub display_name: &'a str,
    pub birth_date: Option<&'a str>,
    /// The address's words are searchable too ("h.lefevre@" finds h.lefevre@exemple.fr).
    pub email: &'a str,
}

impl Names<'_> {
    /// "name first-name": the sort key.
    pub fn search_name(&self) -> String {
        let last = self.usage_name.filter(|u| !u.trim().is_empty()).unwrap_or(self.birth_name);
        let key = fold(&format!("{last} {}", self.first_name));
        if key.is_empty() {
            fold(self.display_name)
        } else {
            key
        }
    }

    /// Same folded first name, birth name and birth date: probably the same person.
    pub fn identity_key(&self) -> Option<String> {
        let birth_date = self.birth_date.filter(|d| !d.is_empty())?;
        let (first, birth) = (fold(self.first_name), fold(self.birth_name));
        (!first.is_empty() && !birth.is_empty()).then(|| format!("{first}|{birth}|{birth_date}"))
    }

    pub fn terms(&self) -> Vec<String> {
        let mut terms: Vec<String> =
            [self.first_name, self.birth_name, self.usage_name.unwrap_or(""), self.display_name, self.email].iter().flat_map(|n| words(n)).collect();
        terms.sort();
        terms.dedup();
        terms
    }
}

/// Writes a person's sort key, identity key and search words (on the caller's transaction).
pub async fn index(conn: &mut sqlx::AnyConnection, user_id: &str, names: &Names<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET search_name = $1, identity_key = $2 WHERE id = $3")
        .bind(names.search_name())
        .bind(names.identity_key())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM search_terms WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    let search_name = names.search_name();
    for term in names.terms() {
        sqlx::query("INSERT INTO search_terms (term, user_id, search_name) VALUES ($1, $2, $3)")
            .bind(term)
            .bind(user_id)
            .bind(&search_name)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Reads a person's names and indexes them.
pub async fn reindex(conn: &mut sqlx::AnyConnection, user_id: &str) -> Result<(), sqlx::Error> {
    let (first, birth, usage, display, birth_date, email): (Option<String>, Option<String>, Option<String>, String, Option<String>, String) =
        sqlx::query_as("SELECT first_name, birth_name, usage_name, display_name, birth_date, email FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?;
    let names = Names {
        first_name: first.as_deref().unwrap_or(""),
        birth_name: birth.as_deref().unwrap_or(""),
        usage_name: usage.as_deref(),
        display_name: &display,
        birth_date: birth_date.as_deref(),
        email: &email,
    };
    index(conn, user_id, &names).await
}

/// Indexes the beneficiaries that are not yet (registered before the search existed): run at
/// start.
pub async fn index_missing(db: &Db) -> Result<u64, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM users WHERE role = 'beneficiary' AND search_name IS NULL").fetch_all(db.pool()).await?;
    for chunk in ids.chunks(500) {
        let mut tx = db.begin_write().await?;
        for id in chunk {
            reindex(&mut tx, id).await?;
        }
        tx.commit().await?;
    }
    Ok(ids.len() as u64)
}

/// What the query asks for.
enum Query {
    All,
    Words(Vec<String>),
    Email(String),
    NirHash(String),
}

fn understand(state: &AppState, q: &str) -> Query {
    let q = q.trim();
    if q.is_empty() {
        return Query::All;
    }
    let compact: String = q.chars().filter(|c| !c.is_whitespace() && *c != '.').collect();
    // A NIR read over the phone: 15 characters, or its 13 first digits without the key.
    let with_key = match compact.parse::<u64>() {
        Ok(number) if compact.len() == 13 => format!("{compact}{:02}", 97 - number % 97),
        _ => compact,
    };
    if let Ok(nir) = Nir::parse(&with_key) {
        return Query::NirHash(state.config.secrets.nir_hash(&nir));
    }
    if q.contains('@') {
        return Query::Email(q.to_lowercase());
    }
    Query::Words(words(q).into_iter().take(4).collect())
}

/// `column` in the range of words starting with `word`.
fn prefix_range(binds: &mut Binds, column: &str, word: &str) -> String {
    let from = binds.add(word);
    match prefix_end(word) {
        Some(end) => format!("{column} >= {from} AND {column} < {}", binds.add(end)),
        None => format!("{column} >= {from}"),
    }
}

/// A line of the list as the database holds it.
#[derive(sqlx::FromRow)]
struct Found {
    id: String,
    display_name: String,
    email: String,
    birth_date: Option<String>,
    activated_at: Option<i64>,
    closed_at: Option<i64>,
    search_name: Option<String>,
    state: Option<String>,
    referent_name: Option<String>,
}

/// The columns of a [`Found`].
const ROW_COLUMNS: &str = "u.id, u.display_name, u.email, u.birth_date, u.activated_at, u.closed_at, u.search_name, p.state, \
     r.display_name AS referent_name FROM users u LEFT JOIN projects p ON p.beneficiary_id = u.id LEFT JOIN users r ON r.id = u.referent_id";

pub async fn search(state: &AppState, me: &SessionUser, q: &str, project_state: &str, referent: &str, after: &str) -> Result<SearchPage, AppError> {
    if q.chars().count() > 200 || referent.len() > 64 || after.len() > 400 {
        return Err(AppError::BadRequest);
    }
    let wanted_state = match project_state {
        "" => None,
        "aucun" => Some("aucun"),
        other => Some(ProjectState::parse(other).ok_or(AppError::BadRequest)?.as_str()),
    };
    let (after_name, after_id) = match after.split_once('|') {
        Some((name, id)) => (name.to_string(), id.to_string()),
        None if after.is_empty() => (String::new(), String::new()),
        None => return Err(AppError::BadRequest),
    };
    // Advisors find the people they are in charge of; administrators and the phone platform
    // find everyone (`scope`).
    let scoped = !super::scope::sees_everyone(&state.db, me).await?;
    if scoped && !matches!(referent, "" | "aucun") && referent != me.user_id {
        return Ok(SearchPage { rows: Vec::new(), next: None });
    }
    let sqlite = state.db.backend() == crate::db::Backend::Sqlite;
    // The filters, written against `u` (users) and `p` (projects) with their own placeholders.
    let filters = |binds: &mut Binds| {
        let mut sql = if scoped { super::scope::condition(me, binds) } else { String::new() };
        match wanted_state {
            None => {}
            Some("aucun") => sql += " AND p.id IS NULL",
            // On SQLite the state's index must not drive: with the scope's OR, the planner
            // would read every project in that state and sort them (39 ms on 100,000 people)
            // instead of walking people in name order (1 ms); `+` keeps it off the index.
            Some(s) => sql += &format!(" AND {}p.state = {}", if sqlite { "+" } else { "" }, binds.add(s)),
        }
        match referent {
            "" => {}
            "aucun" => sql += " AND u.referent_id IS NULL",
            id => sql += &format!(" AND u.referent_id = {}", binds.add(id)),
        }
        sql
    };
    let filtered = scoped || wanted_state.is_some() || !referent.is_empty();
    let limit = PAGE_SIZE + 1;
    let db = &state.db;
    let (query, email_like) = match understand(state, q) {
        // An address is searched by its words, and the rows checked against its start.
        Query::Email(prefix) => {
            let escaped: String = prefix
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            (Query::Words(words(&prefix)), Some(format!("{escaped}%")))
        }
        other => (other, None),
    };
    let filtered = filtered || email_like.is_some();
    let filters = |binds: &mut Binds| {
        let mut sql = filters(binds);
        if let Some(pattern) = &email_like {
            sql += &format!(" AND u.email_normalized LIKE {} ESCAPE '\\'", binds.add(pattern.as_str()));
        }
        sql
    };
    let rows = match query {
        Query::Words(words) if words.is_empty() => return Ok(SearchPage { rows: Vec::new(), next: None }),
        Query::Words(mut words) => {
            // The longest word drives (the fewest matches); the others narrow it.
            words.sort_by_key(|w| std::cmp::Reverse(w.len()));
            // The page's ids come from the words' index, in name order (each term row carries its
            // person's sort key), by batches checked against the filters; then their rows. One
            // statement would let the planner walk every person in name order looking for
            // matches, or join every match before sorting.
            let batch = if filtered { 200 } else { limit };
            let mut ids: Vec<String> = Vec::new();
            let mut cursor = (after_name, after_id);
            loop {
                let mut binds = Binds::default();
                let mut sql = format!("SELECT t.user_id, t.search_name FROM search_terms t WHERE {}", prefix_range(&mut binds, "t.term", &words[0]));
                for word in &words[1..] {
                    let range = prefix_range(&mut binds, "o.term", word);
                    sql += &format!(" AND EXISTS (SELECT 1 FROM search_terms o WHERE o.user_id = t.user_id AND {range})");
                }
                if !cursor.1.is_empty() {
                    let (n, i) = (binds.add(cursor.0.as_str()), binds.add(cursor.1.as_str()));
                    sql += &format!(" AND (t.search_name > {n} OR (t.search_name = {n} AND t.user_id > {i}))");
                }
                // Grouped in the order of the sort: one pass instead of two (SQLite).
                sql += &format!(" GROUP BY t.search_name, t.user_id ORDER BY t.search_name, t.user_id LIMIT {batch}");
                let mut query = sqlx::query_as::<_, (String, String)>(&sql);
                for value in &binds.0 {
                    query = query.bind(value);
                }
                let candidates = query.fetch_all(db.pool()).await?;
                let exhausted = (candidates.len() as i64) < batch;
                let Some(last) = candidates.last().cloned() else { break };
                if filtered {
                    let mut binds = Binds::default();
                    let list = candidates.iter().map(|(id, _)| binds.add(id.as_str())).collect::<Vec<_>>().join(", ");
                    let sql = format!(
                        "SELECT u.id FROM users u LEFT JOIN projects p ON p.beneficiary_id = u.id WHERE u.id IN ({list}){} \
                         ORDER BY u.search_name, u.id",
                        filters(&mut binds)
                    );
                    let mut query = sqlx::query_scalar::<_, String>(&sql);
                    for value in &binds.0 {
                        query = query.bind(value);
                    }
                    ids.extend(query.fetch_all(db.pool()).await?);
                } else {
                    ids.extend(candidates.into_iter().map(|(id, _)| id));
                }
                if ids.len() as i64 >= limit || exhausted {
                    break;
                }
                cursor = (last.1, last.0);
            }
            ids.truncate(limit as usize);
            if ids.is_empty() {
                return Ok(SearchPage { rows: Vec::new(), next: None });
            }
            let mut binds = Binds::default();
            let list = ids.iter().map(|id| binds.add(id.as_str())).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT {ROW_COLUMNS} WHERE u.id IN ({list}) ORDER BY u.search_name, u.id");
            let mut query = sqlx::query_as::<_, Found>(&sql);
            for value in &binds.0 {
                query = query.bind(value);
            }
            query.fetch_all(db.pool()).await?
        }
        other => {
            let by_nir = matches!(other, Query::NirHash(_));
            let mut binds = Binds::default();
            let mut sql = format!("SELECT {ROW_COLUMNS} WHERE u.role = 'beneficiary'");
            if let Query::NirHash(hash) = other {
                sql += &format!(" AND u.nir_hash = {}", binds.add(hash));
            }
            sql += &filters(&mut binds);
            if !after_id.is_empty() {
                let (n, i) = (binds.add(after_name), binds.add(after_id));
                sql += &format!(" AND (u.search_name > {n} OR (u.search_name = {n} AND u.id > {i}))");
            }
            sql += &format!(" ORDER BY u.search_name, u.id LIMIT {limit}");
            let mut query = sqlx::query_as::<_, Found>(&sql);
            for value in &binds.0 {
                query = query.bind(value);
            }
            let found = query.fetch_all(db.pool()).await?;
            if by_nir {
                // Who searched a NIR, and whom it found (never the NIR itself).
                use super::audit::{read, Read};
                match found.is_empty() {
                    true => read(db, me, None, Read::NirSearch, "", "aucun résultat").await?,
                    false => {
                        for person in &found {
                            read(db, me, Some(&person.id), Read::NirSearch, "", "").await?;
                        }
                    }
                }
            }
            found
        }
    };
    let mut page = Vec::with_capacity(rows.len());
    let mut keys = Vec::with_capacity(rows.len());
    for r in rows {
        keys.push(r.search_name.unwrap_or_default());
        page.push(BeneficiaryRow {
            id: r.id,
            name: r.display_name,
            email: r.email,
            birth_date: r.birth_date,
            project_state: r.state.as_deref().and_then(ProjectState::parse),
            referent_name: r.referent_name,
            activated: r.activated_at.is_some(),
            closed: r.closed_at.is_some(),
        });
    }
    let next = if page.len() as i64 > PAGE_SIZE {
        page.truncate(PAGE_SIZE as usize);
        let last = page.last().map(|r| r.id.clone()).unwrap_or_default();
        Some(format!("{}|{last}", keys[PAGE_SIZE as usize - 1]))
    } else {
        None
    };
    Ok(SearchPage { rows: page, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_a_sort_key_an_identity_key_and_words() {
        let names = Names {
            first_name: "Hélène",
            birth_name: "Le Goff",
            usage_name: Some("Martin-Durand"),
            display_name: "Hélène Martin-Durand",
            birth_date: Some("1985-03-02"),
            email: "h.martin@exemple.fr",
        };
        assert_eq!(names.search_name(), "martin durand helene");
        assert_eq!(names.identity_key().as_deref(), Some("helene|le goff|1985-03-02"));
        assert_eq!(names.terms(), vec!["durand", "exemple", "fr", "goff", "h", "helene", "le", "martin"]);
    }
}
