//! The form sweep: every form a person can reach, submitted with what a browser may leave out.
//!
//! The forms are not listed here: each role's pages are crawled (anonymous, beneficiary,
//! advisor, administrator, and the pages a link or a ticket opens) and every `<form>` posting to
//! a server function is read from the HTML the server sends. A form added later is swept without
//! anyone remembering to add a case. For each form, each field marked required is left out in
//! turn, then all fields at once, and the form is posted twice: as the page's script does and as
//! a browser without JavaScript does (`Accept: text/html`, Referer). Each time:
//! - the answer names the missing field (422 `Validation`; without JavaScript, the page the
//!   browser is sent back to shows its message in an alert), never "mal formée" or "connexion";
//! - what was typed comes back on that page (passwords and NIRs excepted);
//! - nothing was written (every table compared, but the ones each request touches).
//! A form whose fields are all optional is posted with all of them left out and its hidden ids
//! made unknown: the server must read it (no 400) and write nothing. Saving a project draft is
//! the one form where absence is not an error: it must be saved, never refused.
//!
//! Then every form is filled in validly and submitted, what ends a session or uses up a link
//! last: without JavaScript the page the browser lands on says it worked (`role="status"`) or is
//! the next step; in a second scene, sent as the script sends it, the answer is a success.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use app::account::registration::{RegistrationOutcome, RequestMerge};
use app::account::reset::RequestPasswordReset;
use app::account::Role;
use app::admin::PublishLegal;
use app::documents::RequestDocument;
use app::project::SubmitProject;

use crate::helpers::{both_backends, client, complete_project, nir_with_key, pdf, person, spawn_app, Backend, TestApp, GOOD_PASSWORD};

// ---- Reading forms out of HTML -----------------------------------------------------------------

#[derive(Debug, Clone)]
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

impl Tag {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    fn has(&self, key: &str) -> bool {
        self.attrs.iter().any(|(k, _)| k == key)
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#x27;", "'").replace("&#39;", "'").replace("&amp;", "&")
}

/// Every tag of `html` in order (closing tags named `/name`); scripts and comments skipped.
fn tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(found) = html[i..].find('<') {
        let start = i + found;
        if html[start..].starts_with("<!--") {
            i = html[start..].find("-->").map_or(html.len(), |e| start + e + 3);
            continue;
        }
        let mut j = start + 1;
        let closing = bytes.get(j) == Some(&b'/');
        if closing {
            j += 1;
        }
        let name_start = j;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-') {
            j += 1;
        }
        if j == name_start {
            i = start + 1;
            continue;
        }
        let name = html[name_start..j].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while j < bytes.len() && (bytes[j].is_ascii_whitespace() || bytes[j] == b'/') {
                j += 1;
            }
            if j >= bytes.len() || bytes[j] == b'>' {
                break;
            }
            let key_start = j;
            while j < bytes.len() && !bytes[j].is_ascii_whitespace() && !matches!(bytes[j], b'=' | b'>' | b'/') {
                j += 1;
            }
            let key = html[key_start..j].to_ascii_lowercase();
            let mut value = String::new();
            if bytes.get(j) == Some(&b'=') {
                j += 1;
                if let Some(&quote) = bytes.get(j).filter(|q| **q == b'"' || **q == b'\'') {
                    let close = html[j + 1..].find(quote as char).map_or(html.len(), |e| j + 1 + e);
                    value = unescape(&html[j + 1..close]);
                    j = close + 1;
                } else {
                    let value_start = j;
                    while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>' {
                        j += 1;
                    }
                    value = unescape(&html[value_start..j]);
                }
            }
            attrs.push((key, value));
        }
        let end = (j + 1).min(html.len());
        let name = if closing { format!("/{name}") } else { name };
        let is_script = name == "script" || name == "style";
        out.push(Tag { name, attrs });
        i = end;
        if is_script {
            i = html[end..].find("</").map_or(html.len(), |e| end + e);
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Text { input_type: String },
    Checkbox { value: String },
    Radio { values: Vec<String> },
    Select { values: Vec<String> },
    Textarea,
    File,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: Kind,
    required: bool,
}

/// A page a form is read from: fetched by one of the clients, or shown after a plain login post
/// (the "new terms" form appears only there).
#[derive(Debug, Clone, PartialEq)]
enum Source {
    Get { who: usize, path: String },
    AfterLogin { email: String },
}

#[derive(Debug, Clone)]
struct Form {
    source: Source,
    /// The page's path, for the Referer of plain posts.
    page: String,
    endpoint: String,
    multipart: bool,
    /// Hidden inputs, honeypots (sent empty, as a person leaves them) and the submit button.
    fixed: Vec<(String, String)>,
    fields: Vec<Field>,
}

impl Form {
    /// What tells this form from another: its server function, the action a hidden field or
    /// its button names (a word, such as `unlock`; not an id, a token or a version), its fields.
    fn key(&self) -> String {
        let mut names: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        names.sort();
        let actions: Vec<String> = self
            .fixed
            .iter()
            .filter(|(_, v)| !v.is_empty() && v.len() <= 30 && v.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '-'))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{}{} [{}]", self.endpoint, actions.iter().map(|a| format!(" {a}")).collect::<String>(), names.join(", "))
    }
}

/// Every form of `html` that posts to a server function.
fn forms_of(html: &str, source: &Source, page: &str) -> Vec<Form> {
    let all = tags(html);
    let mut forms = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let tag = &all[i];
        i += 1;
        let action = tag.attr("action").unwrap_or_default();
        if tag.name != "form" || !action.starts_with("/api/") || tag.attr("method").map(str::to_ascii_lowercase).as_deref() == Some("get") {
            continue;
        }
        let mut form = Form {
            source: source.clone(),
            page: page.to_string(),
            endpoint: action.trim_start_matches("/api/").to_string(),
            multipart: tag.attr("enctype") == Some("multipart/form-data"),
            fixed: Vec::new(),
            fields: Vec::new(),
        };
        let mut button_seen = false;
        while i < all.len() && all[i].name != "/form" {
            let t = &all[i];
            i += 1;
            let Some(name) = t.attr("name").filter(|n| !n.is_empty()).map(str::to_string) else { continue };
            // Disabled fields are never sent; the robot question is answered by the proof of
            // work that `Sweep::post` adds, as the page's script does.
            if t.has("disabled") || name.contains("robot_answer") {
                continue;
            }
            let required = t.has("required") || t.attr("aria-required") == Some("true");
            match t.name.as_str() {
                "input" => {
                    let input_type = t.attr("type").unwrap_or("text").to_ascii_lowercase();
                    let value = t.attr("value").unwrap_or_default().to_string();
                    match input_type.as_str() {
                        "hidden" => form.fixed.push((name, value)),
                        "submit" | "button" | "reset" | "image" => {}
                        // A trap for robots, out of the way of people: they leave it empty.
                        _ if t.attr("tabindex") == Some("-1") => form.fixed.push((name, String::new())),
                        "checkbox" => form.fields.push(Field {
                            name,
                            kind: Kind::Checkbox { value: if value.is_empty() { "on".into() } else { value } },
                            required,
                        }),
                        "radio" => match form.fields.iter_mut().find(|f| f.name == name) {
                            Some(Field { kind: Kind::Radio { values }, required: r, .. }) => {
                                values.push(value);
                                *r |= required;
                            }
                            _ => form.fields.push(Field { name, kind: Kind::Radio { values: vec![value] }, required }),
                        },
                        "file" => form.fields.push(Field { name, kind: Kind::File, required }),
                        _ => form.fields.push(Field { name, kind: Kind::Text { input_type }, required }),
                    }
                }
                "select" => {
                    let mut values = Vec::new();
                    while i < all.len() && all[i].name != "/select" {
                        if all[i].name == "option" {
                            let value = all[i].attr("value").unwrap_or_default();
                            if !value.is_empty() {
                                values.push(value.to_string());
                            }
                        }
                        i += 1;
                    }
                    form.fields.push(Field { name, kind: Kind::Select { values }, required });
                }
                "textarea" => form.fields.push(Field { name, kind: Kind::Textarea, required }),
                "button" => {
                    if !button_seen {
                        form.fixed.push((name, t.attr("value").unwrap_or_default().to_string()));
                        button_seen = true;
                    }
                }
                _ => {}
            }
        }
        forms.push(form);
    }
    forms
}

/// The paths `html` links to on this site (no files, downloads or development pages).
fn links_of(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .filter(|t| t.name == "a")
        .filter_map(|t| t.attr("href").map(str::to_string))
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .map(|href| href.split('#').next().unwrap_or_default().to_string())
        .filter(|path| {
            !["/api/", "/fichiers/", "/mes-donnees", "/dev/", "/pkg/"].iter().any(|p| path.starts_with(p))
                && !path.rsplit('/').next().unwrap_or_default().contains('.')
        })
        .collect()
}

// ---- What the database holds -----------------------------------------------------------------

/// Tables every request may touch (sessions seen, flashes, counters of attempts).
const VOLATILE: [&str; 7] = ["sessions", "form_flashes", "login_attempts", "rate_events", "used_challenges", "_sqlx_migrations", "robot_challenges"];

/// Every row of every table but the volatile ones, as text.
async fn snapshot(app: &TestApp, backend: Backend) -> BTreeMap<String, Vec<String>> {
    crate::helpers::every_row(&app.db, backend, |table| match table {
        _ if VOLATILE.contains(&table) => None,
        // A page that shows a person's data to staff records the read in the audit trail, by
        // design (the redirect back after a refused post shows one): only actions count here.
        "audit_log" => Some("SELECT * FROM audit_log WHERE substr(action, 1, 8) <> 'lecture_'".to_string()),
        _ => Some(format!("SELECT * FROM {table}")),
    })
    .await
}

fn changes(before: &BTreeMap<String, Vec<String>>, after: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    before
        .iter()
        .filter(|(table, rows)| after.get(*table) != Some(rows))
        .map(|(table, rows)| format!("{table}: {} rows before, {} after", rows.len(), after.get(table).map_or(0, Vec::len)))
        .collect()
}

// ---- The sweep ---------------------------------------------------------------------------------

struct Sweep {
    app: TestApp,
    backend: Backend,
    /// Anonymous, Hélène (beneficiary, draft project), advisor, administrator, Béa (beneficiary,
    /// submitted project).
    clients: Vec<reqwest::Client>,
    fresh: std::cell::Cell<u32>,
}

impl Sweep {
    async fn page(&self, source: &Source) -> (String, String) {
        match source {
            Source::Get { who, path } => {
                let response = self.clients[*who].get(self.app.url(path)).send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
                // A link to a page this role may not open (the menu of another role) has no form.
                if !response.status().is_success() {
                    return (path.clone(), String::new());
                }
                (path.clone(), response.text().await.unwrap())
            }
            Source::AfterLogin { email } => {
                let c = &self.clients[0];
                let response = c
                    .post(self.app.url("/api/session/login"))
                    .header("accept", "text/html")
                    .header("referer", self.app.url("/connexion"))
                    .form(&[("email", email.as_str()), ("password", GOOD_PASSWORD)])
                    .send()
                    .await
                    .unwrap();
                let html = c.get(self.absolute(&response)).send().await.unwrap().text().await.unwrap();
                ("/connexion".into(), html)
            }
        }
    }

    /// Where a redirect sends the browser.
    fn absolute(&self, response: &reqwest::Response) -> String {
        let location = response.headers()["location"].to_str().unwrap();
        if location.starts_with("http") {
            location.to_string()
        } else {
            self.app.url(location)
        }
    }

    /// A valid value for a field of `form`: what only the scene knows (an account's address to
    /// log in with), else [`Sweep::sample`].
    fn valid(&self, form: &Form, field: &Field) -> String {
        match (form.endpoint.as_str(), field.name.as_str()) {
            // Staff accept no terms: the new CGU version the sweep publishes does not stop them.
            ("session/login", "email") => "ada@exemple.fr".into(),
            _ => self.sample(field),
        }
    }

    /// A valid value for a field, as a person would type or pick it.
    fn sample(&self, field: &Field) -> String {
        let n = self.fresh.get() + 1;
        self.fresh.set(n);
        let bare = field.name.trim_end_matches(']').rsplit('[').next().unwrap_or(&field.name);
        match (&field.kind, bare) {
            (Kind::Checkbox { value }, _) => value.clone(),
            (Kind::Radio { values }, _) | (Kind::Select { values }, _) => values.first().cloned().unwrap_or_default(),
            (Kind::File, _) => "cv.pdf".into(),
            (_, "nir") => nir_with_key(&format!("18507750{:05}", 56000 + n)),
            (_, "birth_date") => "1985-07-14".into(),
            (_, "due_date") => "2030-01-15".into(),
            (_, "first_name") => "Hélène".into(),
            (_, "birth_name" | "usage_name") => "Lefèvre".into(),
            (_, "phone") => "06 12 34 56 78".into(),
            (_, "postal_code") => "75011".into(),
            (_, "seniority_years") => "5".into(),
            (_, "version") => format!("{}", 10 + n),
            (_, "slug") => format!("service-{n}"),
            (_, "name") => "Sam Conseil".into(),
            (Kind::Text { input_type }, _) if input_type == "email" => format!("balayage{n}@exemple.fr"),
            (_, b) if b.contains("email") => format!("balayage{n}@exemple.fr"),
            (Kind::Text { input_type }, _) if input_type == "password" => GOOD_PASSWORD.into(),
            (Kind::Text { input_type }, _) if input_type == "date" => "2030-01-15".into(),
            (Kind::Text { input_type }, _) if input_type == "tel" => "06 12 34 56 78".into(),
            (Kind::Text { input_type }, _) if input_type == "number" => "3".into(),
            _ => "Texte saisi pour le balayage".into(),
        }
    }

    /// Posts `form` with `values` (fields left out are absent), as the page's script does when
    /// `plain` is false, else as a browser without JavaScript; returns the status and the JSON
    /// answer, or the page the browser is sent back to.
    async fn post(&self, form: &Form, fixed: &[(String, String)], values: &[(String, String)], plain: bool) -> (u16, String) {
        let c = match &form.source {
            Source::Get { who, .. } => &self.clients[*who],
            Source::AfterLogin { .. } => &self.clients[0],
        };
        let mut request = c.post(self.app.url(&format!("/api/{}", form.endpoint)));
        if plain {
            request = request.header("accept", "text/html,application/xhtml+xml").header("referer", self.app.url(&form.page));
        }
        let mut all: Vec<(String, String)> = fixed.to_vec();
        if form.endpoint == "account/register" {
            all.retain(|(k, _)| !k.contains("robot"));
            all.push(("form[robot_solution]".into(), self.app.robot_solution().await));
        }
        if form.multipart {
            let mut multipart = reqwest::multipart::Form::new();
            for (name, value) in all.iter().chain(values) {
                let is_file = form.fields.iter().any(|f| &f.name == name && f.kind == Kind::File);
                multipart = if is_file {
                    multipart
                        .part(name.clone(), reqwest::multipart::Part::bytes(pdf(3000)).file_name(value.clone()).mime_str("application/pdf").unwrap())
                } else {
                    multipart.text(name.clone(), value.clone())
                };
            }
            request = request.multipart(multipart);
        } else {
            all.extend(values.iter().cloned());
            request = request.form(&all);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        if !plain {
            return (status, response.text().await.unwrap());
        }
        assert!((300..400).contains(&status), "{}: a plain post is answered by a redirect, got {status}", form.key());
        let landing = self.absolute(&response);
        let page = c.get(&landing).send().await.unwrap().text().await.unwrap();
        let landing = landing.trim_start_matches(&self.app.base).split('?').next().unwrap_or_default().to_string();
        let page = if landing == form.page.split('?').next().unwrap_or_default() { page } else { format!("<!-- landed on {landing} -->{page}") };
        (status, page.replace("<!>", ""))
    }

    /// The hidden values of `form` as its page holds them now (ids, versions, tickets change).
    async fn current_fixed(&self, form: &Form) -> Vec<(String, String)> {
        self.still_offered(form).await.unwrap_or_else(|| panic!("{} is no longer on {}", form.key(), form.page))
    }

    /// The hidden values of `form` if its page still offers it.
    async fn still_offered(&self, form: &Form) -> Option<Vec<(String, String)>> {
        let (page, html) = self.page(&form.source).await;
        forms_of(&html, &form.source, &page).into_iter().find(|f| f.key() == form.key()).map(|f| f.fixed)
    }
}

/// Every page each client reaches from its starting pages, and the forms on them.
async fn crawl(sweep: &Sweep, starts: Vec<Source>) -> Vec<Form> {
    let mut forms: BTreeMap<String, Form> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<Source> = starts.into();
    while let Some(source) = queue.pop_front() {
        let key = format!("{source:?}");
        if !seen.insert(key) || seen.len() > 250 {
            continue;
        }
        let (page, html) = sweep.page(&source).await;
        for form in forms_of(&html, &source, &page) {
            forms.entry(form.key()).or_insert(form);
        }
        if let Source::Get { who, .. } = source {
            for path in links_of(&html) {
                queue.push_back(Source::Get { who, path });
            }
        }
    }
    forms.into_values().collect()
}

fn json_error(body: &str) -> Option<app::error::AppError> {
    serde_json::from_str(body).ok()
}

/// The scene both sweeps run in, and every form its crawl found.
async fn scene(backend: Backend) -> (Sweep, Vec<Form>) {
    // A beneficiary with a thread, a document and a request for another; a second,
    // similar account (a suspected duplicate) and a merge request; a registration waiting for
    // activation; a reset link; staff; a new version of the CGU not yet accepted.
    let app = spawn_app(backend).await;
    let (helene, helene_client) = person(&app, "helene@exemple.fr", "2850775056042", "Hélène", "Lefèvre", "1985-07-14").await;
    // The similar account asked for its deletion: its page offers the erasure.
    let (_, similar) = person(&app, "h.lefevre@exemple.fr", "2850775056043", "Helene", "LEFEVRE", "1985-07-14").await;
    assert_eq!(app.call_fn(&similar, app::profile::RequestDeletion {}).await.0, 200);
    let (alex_id, advisor) = app.logged_in("alex@exemple.fr", "Alex Conseil", Role::Advisor).await;
    let (_, admin) = app.logged_in("ada@exemple.fr", "Ada Admin", Role::Admin).await;
    let (sent, _) =
        app.upload_as::<String>(&helene_client, "messages/send", &[("to", "referent"), ("subject", "Mon dossier"), ("body", "Bonjour")], &[]).await;
    let (uploaded, _) = app.upload_as::<String>(&helene_client, "documents/upload", &[("category", "cv")], &[("file", "cv.pdf", pdf(2000))]).await;
    let request = RequestDocument { beneficiary_id: helene.clone(), category: "piece_identite".into(), note: String::new(), due_date: String::new() };
    let (asked, _) = app.call_fn(&advisor, request).await;
    let pending = app.register("paul@exemple.fr", &nir_with_key("1850775056042")).await;
    let RegistrationOutcome::Registered { ticket, .. } = &pending else { panic!("Paul is registered: {pending:?}") };
    // Jules's activation link: Paul's own is replaced when the sweep resends or corrects his.
    app.register("jules@exemple.fr", &nir_with_key("1850775056043")).await;
    let activation = app.last_link_to("jules@exemple.fr", "/activation").await;
    let duplicate = app.register("helene.autre@exemple.fr", &nir_with_key("2850775056042")).await;
    let RegistrationOutcome::NirTaken { ticket: existing_ticket, .. } = &duplicate else { panic!("Hélène's NIR is taken: {duplicate:?}") };
    let merge = RequestMerge { ticket: existing_ticket.clone(), contact_email: "helene.autre@exemple.fr".into(), message: "C'est bien moi".into() };
    let (merge_asked, _) = app.call_fn(&app.client, merge).await;
    assert_eq!(app.call_fn(&app.client, RequestPasswordReset { email: "helene@exemple.fr".into() }).await.0, 200);
    let reset = app.last_link_to("helene@exemple.fr", "/mot-de-passe/nouveau").await;
    // Béa's project is submitted: the reopening request and the advisor's decisions are forms.
    // Her referent is Alex: the administrator is asked the reason of an exceptional access.
    let (bea, bea_client) = person(&app, "bea@exemple.fr", "2900175056042", "Béa", "Durand", "1990-01-01").await;
    sqlx::query("UPDATE users SET referent_id = $1 WHERE id = $2").bind(&alex_id).bind(&bea).execute(app.db.pool()).await.unwrap();
    let mut project = vec![("version".to_string(), "0".to_string())];
    project.extend(complete_project());
    let saved = bea_client.post(app.url("/api/project/save")).form(&project).send().await.unwrap().status();
    let (submitted, _) = app.call_fn(&bea_client, SubmitProject { version: 1 }).await;
    assert_eq!([saved, submitted], [200, 200], "Béa's project is submitted");
    let publish = PublishLegal { document: "cgu".into(), version: "2".into(), summary: "Un article sur les cookies".into() };
    let (published, _) = app.call_fn(&admin, publish).await;
    assert_eq!([sent, uploaded, asked, merge_asked, published], [200, 200, 200, 200, 200], "the scene is set");

    let sweep = Sweep { app, backend, clients: vec![client(), helene_client, advisor, admin, bea_client], fresh: std::cell::Cell::new(0) };
    let get = |who: usize, path: &str| Source::Get { who, path: path.to_string() };
    let forms = crawl(
        &sweep,
        vec![
            get(0, "/"),
            get(0, "/inscription"),
            get(0, "/connexion"),
            get(0, "/mot-de-passe-oublie"),
            get(0, &format!("/inscription/envoye?t={ticket}")),
            get(0, &format!("/activation/{activation}")),
            get(0, &format!("/inscription/compte-existant?t={existing_ticket}")),
            get(0, &format!("/mot-de-passe/nouveau/{reset}")),
            Source::AfterLogin { email: "bea@exemple.fr".into() },
            get(1, "/espace"),
            get(2, "/conseiller"),
            get(3, "/admin"),
            get(4, "/espace"),
        ],
    )
    .await;
    let endpoints: BTreeSet<&str> = forms.iter().map(|f| f.endpoint.as_str()).collect();
    for expected in [
        "account/register",
        "session/login",
        "account/forgot-password",
        "account/reset-password",
        "account/resend-activation",
        "account/correct-email",
        "account/merge-request",
        "session/accept-terms",
        "profile/save",
        "profile/change-email",
        "messages/send",
        "documents/upload",
        "staff/documents/request",
        "project/save",
        "project/request-reopening",
        "staff/support",
        "staff/project/transition",
        "staff/merge",
        "staff/merge-request/close",
        "staff/exceptional-access",
        "staff/erase",
        "admin/staff/create",
        "admin/services/save",
        "admin/legal/publish",
    ] {
        assert!(endpoints.contains(expected), "the crawl found no form posting to {expected}; found {endpoints:?}");
    }
    (sweep, forms)
}

async fn every_form_names_what_was_left_out_keeps_what_was_typed_and_writes_nothing(backend: Backend) {
    // Arrange
    let (sweep, forms) = scene(backend).await;

    // Act and assert, form by form.
    let mut swept = Vec::new();
    for form in &forms {
        let required: Vec<&Field> = form.fields.iter().filter(|f| f.required).collect();
        if form.fields.is_empty() {
            swept.push(format!("{}: no field to leave out", form.key()));
            continue;
        }
        let mut cases: Vec<Vec<&Field>> = required.iter().map(|f| vec![*f]).collect();
        if form.fields.len() > 1 {
            cases.push(form.fields.iter().collect());
        }
        if required.is_empty() {
            check_all_optional(&sweep, form).await;
            swept.push(format!("{}: all optional, read without them", form.key()));
            continue;
        }
        for left_out in cases {
            check_left_out(&sweep, form, &left_out).await;
        }
        swept.push(format!("{}: {} required, each left out and all at once", form.key(), required.len()));
    }
    // Then a valid submission of each, as a browser without JavaScript sends it, in an order
    // where what ends a session or an account comes last.
    for form in in_submission_order(&forms) {
        swept.push(check_confirmed(&sweep, form).await);
    }
    println!("swept {} forms:\n{}", forms.len(), swept.join("\n"));
    sweep.app.stop().await;
}
both_backends!(every_form_names_what_was_left_out_keeps_what_was_typed_and_writes_nothing);

/// The same forms, filled in and sent as the page's script sends them (a scene of their own: a
/// submission uses up links and tickets the plain submissions of the first sweep need). The
/// pages show the answer of a script's call and of a plain post through the same signal
/// (`action.value()`, else the flash the plain post left), so a success here is the
/// confirmation the first sweep saw on the page.
async fn every_form_filled_in_and_sent_by_the_script_is_answered_with_success(backend: Backend) {
    // Arrange
    let (sweep, forms) = scene(backend).await;
    let mut swept = Vec::new();

    // Act and assert
    for form in in_submission_order(&forms) {
        swept.push(check_succeeds_with_script(&sweep, form).await);
    }
    println!("sent {} forms as the script does:\n{}", forms.len(), swept.join("\n"));
    sweep.app.stop().await;
}
both_backends!(every_form_filled_in_and_sent_by_the_script_is_answered_with_success);

async fn check_left_out(sweep: &Sweep, form: &Form, left_out: &[&Field]) {
    let what = format!("{} without {}", form.key(), left_out.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", "));
    let values: Vec<(String, String)> =
        form.fields.iter().filter(|f| !left_out.iter().any(|l| l.name == f.name)).map(|f| (f.name.clone(), sweep.sample(f))).collect();
    let draft = form.endpoint == "project/save";

    let fixed = sweep.current_fixed(form).await;
    let before = snapshot(&sweep.app, sweep.backend).await;
    let (status, body) = sweep.post(form, &fixed, &values, false).await;
    let after_script = snapshot(&sweep.app, sweep.backend).await;
    // A fresh form may write (a new terms ticket is a row): the plain post is judged after it.
    let fixed = sweep.current_fixed(form).await;
    let before_plain = snapshot(&sweep.app, sweep.backend).await;
    let (_, page) = sweep.post(form, &fixed, &values, true).await;
    let after_plain = snapshot(&sweep.app, sweep.backend).await;

    if draft {
        // A draft keeps whatever is there: absence is saved, never refused.
        assert_eq!(status, 200, "{what}: a draft is saved, got {status} {body}");
        assert!(!page.contains("mal formée") && !page.contains("connexion au service"), "{what}: {page}");
        return;
    }
    let error = json_error(&body);
    assert_eq!(status, 422, "{what}: a field error, got {status} {body}");
    let Some(error @ app::error::AppError::Validation(_)) = error else { panic!("{what}: a Validation error, got {body}") };
    for field in left_out.iter().filter(|f| f.required) {
        let key = field.name.trim_end_matches(']').rsplit('[').next().unwrap_or(&field.name).to_string();
        let message = error.field(&key).or_else(|| error.field(&field.name));
        let Some(message) = message else { panic!("{what}: {} is named, got {error:?}", field.name) };
        let shown = page.contains(message) || page.contains(&message.replace('\'', "&#x27;"));
        assert!(shown, "{what}: without JavaScript the page says {message:?}");
    }
    assert!(page.contains("role=\"alert\""), "{what}: without JavaScript the problem is announced");
    assert!(!page.contains("mal formée") && !page.contains("connexion au service"), "{what}: never malformed nor a connection failure");
    for (name, value) in &values {
        let field = form.fields.iter().find(|f| &f.name == name).unwrap();
        let typed = matches!(&field.kind, Kind::Textarea) || matches!(&field.kind, Kind::Text { input_type } if input_type != "password");
        // A NIR is never kept for the page: it is asked for again.
        let kept = !name.ends_with("[nir]");
        if typed && kept {
            let escaped = value.replace('&', "&amp;").replace('\'', "&#x27;").replace('"', "&quot;");
            let form_html =
                page.split(&format!("action=\"/api/{}\"", form.endpoint)).nth(1).unwrap_or(&page).split("</form>").next().unwrap_or_default();
            assert!(
                page.contains(value.as_str()) || page.contains(&escaped),
                "{what}: {name} = {value:?} comes back without JavaScript; the form: {form_html}"
            );
        }
    }
    assert!(!page.contains(GOOD_PASSWORD), "{what}: a password is never sent back");
    assert_eq!(changes(&before, &after_script), Vec::<String>::new(), "{what}: the script's post wrote nothing");
    assert_eq!(changes(&before_plain, &after_plain), Vec::<String>::new(), "{what}: the plain post wrote nothing");
}

async fn check_all_optional(sweep: &Sweep, form: &Form) {
    let what = format!("{} with every field left out", form.key());
    let draft = form.endpoint == "project/save";
    let fixed = sweep.current_fixed(form).await;
    // Unknown ids: the server must read the form, then find nothing to act on.
    let unknown: Vec<(String, String)> =
        fixed
            .iter()
            .map(|(k, v)| {
                if draft || v.is_empty() || k == "action" || k == "change" {
                    (k.clone(), v.clone())
                } else {
                    (k.clone(), "balayage-inconnu".into())
                }
            })
            .collect();
    let before = snapshot(&sweep.app, sweep.backend).await;
    let (status, body) = sweep.post(form, &unknown, &[], false).await;
    let (_, page) = sweep.post(form, &unknown, &[], true).await;
    let after = snapshot(&sweep.app, sweep.backend).await;

    assert_ne!(status, 400, "{what}: the form is read, got {body}");
    assert!(status < 500, "{what}: got {status} {body}");
    assert!(!page.contains("mal formée") && !page.contains("connexion au service"), "{what}: {page}");
    if !draft && unknown != fixed {
        assert_eq!(changes(&before, &after), Vec::<String>::new(), "{what}: nothing was written");
    } else {
        // Nothing to make unknown: this was a real submission, and it says so.
        assert!(page.contains("role=\"status\""), "{what}: a submission with nothing left to fill says it worked");
    }
}

/// Forms whose success uses up another form's link or ticket, changes who is logged in, or
/// closes accounts and sessions the sweep still uses: submitted last, in this order (prefixes
/// of [`Form::key`]).
const LAST: [&str; 14] = [
    "profile/request-deletion",
    "session/logout",
    // Closes every session of its account, then is replaced by the next link.
    "account/reset-password",
    "account/existing-reset",
    "session/accept-terms",
    "staff/project/transition",
    "staff/support",
    "staff/merge [",
    // Erases the person the merge and the support actions act on.
    "staff/erase",
    "admin/staff/update change=join",
    "admin/services/save slug=",
    "admin/staff/update change=role",
    "admin/staff/update change=active",
    "session/login",
];

/// `forms`, what ends a session or uses up a link last ([`LAST`]).
fn in_submission_order(forms: &[Form]) -> Vec<&Form> {
    let mut ordered: Vec<&Form> = forms.iter().collect();
    ordered.sort_by_key(|f| LAST.iter().position(|e| f.key().starts_with(e)).map_or(0, |p| p + 1));
    ordered
}

/// A valid submission sent as the page's script sends it is answered with success (2xx, the
/// function's value in JSON).
async fn check_succeeds_with_script(sweep: &Sweep, form: &Form) -> String {
    let Some(fixed) = sweep.still_offered(form).await else {
        return format!("{}: valid submission not tried, no longer offered", form.key());
    };
    let values: Vec<(String, String)> = form.fields.iter().map(|f| (f.name.clone(), sweep.valid(form, f))).collect();
    let (status, body) = sweep.post(form, &fixed, &values, false).await;
    let what = format!("{} sent valid by the script", form.key());
    assert!((200..300).contains(&status), "{what}: a success, got {status} {body}");
    assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok(), "{what}: the function's value, in JSON, got {body}");
    format!("{}: valid submission answered {status}", form.key())
}

/// A valid submission without JavaScript says it worked: the page the browser lands on holds a
/// confirmation (`role="status"`), or is the next step (another page), and no error.
async fn check_confirmed(sweep: &Sweep, form: &Form) -> String {
    let Some(fixed) = sweep.still_offered(form).await else {
        // An earlier submission used it up (a request already made, a link already used).
        return format!("{}: valid submission not tried, no longer offered", form.key());
    };
    let values: Vec<(String, String)> = form.fields.iter().map(|f| (f.name.clone(), sweep.valid(form, f))).collect();
    let (_, page) = sweep.post(form, &fixed, &values, true).await;
    let what = format!("{} submitted valid", form.key());
    let landed = page.starts_with("<!-- landed on");
    let main = page.split("<main").nth(1).unwrap_or(&page).split("</main>").next().unwrap_or_default();
    assert!(!page.contains("error-summary") && !page.contains("alert-error"), "{what}: no error, got {main}");
    assert!(page.contains("role=\"status\"") || landed, "{what}: the page says it worked (role=\"status\") or is the next step, got {main}");
    format!("{}: valid submission confirmed{}", form.key(), if landed { " by the next page" } else { "" })
}
