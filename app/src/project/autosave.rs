//! Nothing typed in the project form is lost.
//!
//! Every change is mirrored at once to `localStorage`, under a key naming the user and the
//! project, together with the server version it started from. The text is sent to the server
//! about 2 s after typing stops, when a field is left, when the page is hidden, and (as a
//! beacon) when it is closed. A failed save is retried with backoff and again as soon as the
//! browser says the network is back; a refused session keeps the text on the device until the
//! person logs in again. The local copy is dropped once the server holds that exact text.
//!
//! Each save names the version it started from. When the server has moved on (another tab or
//! device saved in between), the save is refused and the page shows both texts side by side
//! until the person chooses: never a silent overwrite.
//!
//! The local copy is read only after hydration, so the server-rendered page and the first
//! browser render are identical.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::fields::{self, Draft};
use super::ProjectView;

/// Wait this long after the last keystroke before saving.
pub const DEBOUNCE_MS: u64 = 2000;
/// Retries wait 2, 4, 8, 16 then 30 s.
pub const MAX_RETRY_SECS: u64 = 30;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Idle,
    /// Typed, not yet sent (kept on this device).
    Dirty,
    Saving,
    /// Saved; the server's time of the save.
    Saved(i64),
    /// The browser says it has no network.
    Offline,
    /// The last save failed; the next try is at this time (browser clock, ms).
    Retry {
        at_ms: i64,
    },
    SessionExpired,
    /// The server refused the text itself (too long): the message says why.
    Refused(String),
    Conflict,
}

impl Status {
    /// The visible text; `now_ms` is the browser clock, for the countdown.
    pub fn text(&self, now_ms: i64) -> String {
        match self {
            Status::Idle => String::new(),
            Status::Dirty => "Modifications conservées sur cet appareil — enregistrement dans un instant".into(),
            Status::Saving => "Enregistrement…".into(),
            Status::Saved(at) => format!("Enregistré à {}", crate::domain::date::paris_time(*at)),
            Status::Offline => "Hors ligne — vos saisies sont conservées sur cet appareil".into(),
            Status::Retry { at_ms } => {
                let secs = ((at_ms - now_ms).max(0) + 999) / 1000;
                format!("Non enregistré — nouvel essai dans {secs} s")
            }
            Status::SessionExpired => "Session expirée — vos saisies sont conservées sur cet appareil : reconnectez-vous pour les enregistrer".into(),
            Status::Refused(message) => format!("Non enregistré : {message}"),
            Status::Conflict => "Deux versions différentes — choisissez ci-dessous celle à garder".into(),
        }
    }

    /// What screen readers hear: the same, without the second-by-second countdown.
    pub fn announcement(&self) -> String {
        match self {
            Status::Retry { .. } => "Non enregistré — nouvel essai automatique dans quelques secondes".into(),
            other => other.text(0),
        }
    }
}

/// The text on this device and the server version it started from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalCopy {
    pub base_version: i64,
    pub draft: Draft,
}

/// Both texts, while the person chooses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub server_version: i64,
    pub server: Draft,
    pub mine: Draft,
}

/// The `localStorage` key of a user's project: another account on the same browser never reads it.
pub fn storage_key(owner_id: &str, project_id: &str) -> String {
    format!("passerelle:projet:{owner_id}:{project_id}")
}

#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub struct Autosave {
    fields: StoredValue<Vec<(&'static str, RwSignal<String>)>>,
    pub version: RwSignal<i64>,
    pub status: RwSignal<Status>,
    pub conflict: RwSignal<Option<Conflict>>,
    /// The browser clock, ticking each second (countdowns).
    pub now: RwSignal<i64>,
    /// True once the page's code watches the form (after hydration; tests wait for it).
    pub started: RwSignal<bool>,
    /// The text the server holds at `version`.
    confirmed: StoredValue<Draft>,
    key: StoredValue<String>,
    in_flight: StoredValue<bool>,
    again: StoredValue<bool>,
    failures: StoredValue<u32>,
    timer: StoredValue<Option<i32>>,
}

impl Autosave {
    /// `shown` is the text the page starts with (the server's, or what a plain form post kept).
    pub fn new(project: &ProjectView, shown: &Draft, conflict: Option<Conflict>) -> Autosave {
        let fields = fields::all_fields().map(|f| (f.key, RwSignal::new(shown.get(f.key).cloned().unwrap_or_default()))).collect();
        Autosave {
            fields: StoredValue::new(fields),
            version: RwSignal::new(project.version),
            status: RwSignal::new(if conflict.is_some() { Status::Conflict } else { Status::Idle }),
            conflict: RwSignal::new(conflict),
            now: RwSignal::new(0),
            started: RwSignal::new(false),
            confirmed: StoredValue::new(project.draft.clone()),
            key: StoredValue::new(storage_key(&project.owner_id, &project.id)),
            in_flight: StoredValue::new(false),
            again: StoredValue::new(false),
            failures: StoredValue::new(0),
            timer: StoredValue::new(None),
        }
    }

    /// False once the form has left the page (its signals are gone). Browsers still send it
    /// events then (a focused control removed by navigation loses focus): they are ignored.
    fn alive(&self) -> bool {
        !self.version.is_disposed()
    }

    pub fn signal(&self, key: &str) -> RwSignal<String> {
        self.fields.with_value(|f| f.iter().find(|(k, _)| *k == key).map(|(_, s)| *s)).expect("a known field")
    }

    /// The text on the page now (tracked: for progress and counts).
    pub fn draft(&self) -> Draft {
        fields::normalized(self.fields.with_value(|f| f.iter().map(|(k, s)| (k.to_string(), s.get())).collect()))
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn draft_untracked(&self) -> Draft {
        fields::normalized(self.fields.with_value(|f| f.iter().map(|(k, s)| (k.to_string(), s.get_untracked())).collect()))
    }

    /// Shows `draft` in the form. The form's controls are written here and only here: they are
    /// not bound to the signals, so hydration never rewrites what was typed before it.
    fn apply(&self, draft: &Draft) {
        self.fields.with_value(|f| {
            for (key, signal) in f {
                let value = draft.get(*key).cloned().unwrap_or_default();
                Self::set_control(key, &value);
                signal.set(value);
            }
        });
    }

    /// A field changed: keep it on the device now, send it soon.
    pub fn edited(&self) {
        if !self.alive() {
            return;
        }
        self.mirror();
        if matches!(self.status.get_untracked(), Status::Idle | Status::Saved(_) | Status::Saving | Status::Dirty | Status::Refused(_)) {
            self.status.set(Status::Dirty);
        }
        if self.failures.get_value() == 0 {
            self.schedule(DEBOUNCE_MS);
        }
    }

    /// "Garder ma version": the server's version is now the base, and this text replaces it.
    pub fn keep_mine(&self) {
        if let Some(conflict) = self.conflict.get_untracked() {
            self.version.set(conflict.server_version);
            self.confirmed.set_value(conflict.server);
            self.conflict.set(None);
            self.status.set(Status::Dirty);
            self.mirror();
            self.save_now();
        }
    }

    /// "Reprendre la version enregistrée": this device's text is dropped.
    pub fn keep_server(&self) {
        if let Some(conflict) = self.conflict.get_untracked() {
            self.apply(&conflict.server);
            self.version.set(conflict.server_version);
            self.confirmed.set_value(conflict.server);
            self.conflict.set(None);
            self.status.set(Status::Idle);
            self.forget_local(None);
        }
    }
}

#[cfg(not(feature = "hydrate"))]
impl Autosave {
    fn set_control(_key: &str, _value: &str) {}
    pub fn start(&self) {}
    pub fn save_now(&self) {}
    fn mirror(&self) {}
    fn schedule(&self, _ms: u64) {}
    fn forget_local(&self, _only_if: Option<&Draft>) {}
    pub fn local_copy(_key: &str) -> Option<LocalCopy> {
        None
    }
}

#[cfg(feature = "hydrate")]
impl Autosave {
    fn control(key: &str) -> Option<web_sys::Element> {
        document().get_element_by_id(&crate::forms::fields::field_id(key))
    }

    fn set_control(key: &str, value: &str) {
        if let Some(element) = Self::control(key) {
            let _ = js_sys::Reflect::set(&element, &"value".into(), &value.into());
        }
    }

    /// What the form's controls hold now: text typed before the page became interactive is
    /// there and nowhere else.
    fn typed_before_start(&self) -> Vec<(&'static str, String)> {
        self.fields.with_value(|f| {
            f.iter()
                .filter_map(|(key, signal)| {
                    let element = Self::control(key)?;
                    let value = js_sys::Reflect::get(&element, &"value".into()).ok()?.as_string()?;
                    (value != signal.get_untracked()).then(|| (*key, value))
                })
                .collect()
        })
    }

    pub fn local_copy(key: &str) -> Option<LocalCopy> {
        use gloo_storage::Storage;
        gloo_storage::LocalStorage::get::<LocalCopy>(key).ok()
    }

    fn mirror(&self) {
        use gloo_storage::Storage;
        let copy = LocalCopy { base_version: self.version.get_untracked(), draft: self.draft_untracked() };
        let key = self.key.get_value();
        if copy.draft == self.confirmed.get_value() && self.conflict.get_untracked().is_none() {
            gloo_storage::LocalStorage::delete(&key);
        } else {
            // A full storage (private browsing) only loses the copy, never the page's text.
            let _ = gloo_storage::LocalStorage::set(&key, &copy);
        }
    }

    /// Drops the local copy, if it still holds `only_if` (another tab may have written since).
    fn forget_local(&self, only_if: Option<&Draft>) {
        use gloo_storage::Storage;
        let key = self.key.get_value();
        let current = Self::local_copy(&key);
        if only_if.is_none() || current.as_ref().is_some_and(|c| Some(&c.draft) == only_if) {
            gloo_storage::LocalStorage::delete(&key);
        }
    }

    fn clear_timer(&self) {
        if let Some(id) = self.timer.get_value() {
            if let Some(window) = web_sys::window() {
                window.clear_timeout_with_handle(id);
            }
            self.timer.set_value(None);
        }
    }

    fn schedule(&self, ms: u64) {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        self.clear_timer();
        let this = *self;
        let callback = Closure::once_into_js(move || {
            if !this.alive() {
                return;
            }
            this.timer.set_value(None);
            this.save_now();
        });
        if let Some(window) = web_sys::window() {
            if let Ok(id) = window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), ms as i32) {
                self.timer.set_value(Some(id));
            }
        }
    }

    fn online() -> bool {
        web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true)
    }

    /// After hydration: restore this device's copy, then listen to the network and the page.
    pub fn start(&self) {
        let this = *self;
        let key = self.key.get_value();
        let typed_early = self.typed_before_start();
        if self.conflict.get_untracked().is_none() {
            if let Some(local) = Self::local_copy(&key) {
                let server = self.confirmed.get_value();
                if local.draft == server {
                    self.forget_local(None);
                } else if local.base_version == self.version.get_untracked() {
                    // Typed here and never received by the server: show it and send it.
                    self.apply(&local.draft);
                    self.status.set(Status::Dirty);
                    self.save_now();
                } else {
                    // The server moved on since: both texts, the person chooses.
                    self.apply(&local.draft);
                    self.conflict.set(Some(Conflict { server_version: self.version.get_untracked(), server, mine: local.draft }));
                    self.status.set(Status::Conflict);
                }
            }
        }
        // The newest text of all: what was typed while the page was loading.
        for (field, value) in &typed_early {
            let signal = self.signal(field);
            signal.set(value.clone());
        }
        if !typed_early.is_empty() {
            self.edited();
        }
        self.now.set(js_sys::Date::now() as i64);
        let ticking = set_interval_with_handle(move || this.now.set(js_sys::Date::now() as i64), std::time::Duration::from_secs(1)).ok();
        let online = window_event_listener(leptos::ev::online, move |_| {
            if matches!(this.status.get_untracked(), Status::Offline | Status::Retry { .. } | Status::SessionExpired) {
                this.failures.set_value(0);
                this.save_now();
            }
        });
        let offline = window_event_listener(leptos::ev::offline, move |_| {
            if this.draft_untracked() != this.confirmed.get_value() && this.conflict.get_untracked().is_none() {
                this.status.set(Status::Offline);
            }
        });
        let hidden = window_event_listener(leptos::ev::visibilitychange, move |_| {
            if document().visibility_state() == web_sys::VisibilityState::Hidden {
                this.save_now();
            }
        });
        let closing = window_event_listener(leptos::ev::pagehide, move |_| this.beacon());
        self.started.set(true);
        on_cleanup(move || {
            if let Some(ticking) = ticking {
                ticking.clear();
            }
            this.clear_timer();
            online.remove();
            offline.remove();
            hidden.remove();
            closing.remove();
        });
    }

    /// The page is going away: hand the text to the browser to send even after it is closed.
    /// (The local copy stays until a later visit sees the server holds the same text.)
    fn beacon(&self) {
        if !self.alive() {
            return;
        }
        let draft = self.draft_untracked();
        if draft == self.confirmed.get_value() || self.conflict.get_untracked().is_some() {
            return;
        }
        let Ok(params) = web_sys::UrlSearchParams::new() else { return };
        params.append("version", &self.version.get_untracked().to_string());
        for (key, value) in &draft {
            params.append(&format!("draft[{key}]"), value);
        }
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().send_beacon_with_opt_url_search_params("/api/project/save", Some(&params));
        }
    }

    /// Sends the text now, unless the server already holds it.
    pub fn save_now(&self) {
        if !self.alive() {
            return;
        }
        self.clear_timer();
        if self.conflict.get_untracked().is_some() {
            return;
        }
        if self.in_flight.get_value() {
            self.again.set_value(true);
            return;
        }
        let snapshot = self.draft_untracked();
        if snapshot == self.confirmed.get_value() {
            return;
        }
        self.in_flight.set_value(true);
        self.again.set_value(false);
        if !matches!(self.status.get_untracked(), Status::Offline | Status::Retry { .. } | Status::SessionExpired) {
            self.status.set(Status::Saving);
        }
        let this = *self;
        let base = self.version.get_untracked();
        leptos::task::spawn_local(async move {
            let result = super::save_project(base, snapshot.clone()).await;
            if !this.alive() {
                // The page was left meanwhile; the local copy keeps anything unsaved.
                return;
            }
            this.in_flight.set_value(false);
            this.after_save(snapshot, result).await;
        });
    }

    async fn after_save(self, snapshot: Draft, result: Result<super::Saved, crate::error::AppError>) {
        use crate::error::AppError;
        match result {
            Ok(saved) => {
                self.failures.set_value(0);
                self.version.set(saved.version);
                self.confirmed.set_value(snapshot.clone());
                if self.draft_untracked() == snapshot {
                    self.forget_local(Some(&snapshot));
                    self.status.set(Status::Saved(saved.saved_at));
                } else {
                    self.mirror();
                    self.status.set(Status::Dirty);
                    self.schedule(DEBOUNCE_MS);
                }
                if self.again.get_value() {
                    self.save_now();
                }
            }
            Err(AppError::Stale | AppError::Conflict(_)) => match super::my_project().await {
                _ if !self.alive() => {}
                Ok(project) if project.state.editable() => {
                    let mine = self.draft_untracked();
                    if project.draft == mine {
                        self.version.set(project.version);
                        self.confirmed.set_value(project.draft);
                        self.forget_local(Some(&mine));
                        self.status.set(Status::Saved(project.updated_at));
                    } else {
                        self.conflict.set(Some(Conflict { server_version: project.version, server: project.draft, mine }));
                        self.status.set(Status::Conflict);
                    }
                }
                // Submitted meanwhile (from another tab): the page shows the locked project;
                // this device keeps its copy for when the project is reopened.
                Ok(_) => {
                    let _ = window().location().reload();
                }
                Err(_) => self.retry(false),
            },
            Err(AppError::Unauthorized) => self.retry(true),
            Err(AppError::Validation(problems)) => {
                let message = problems.into_iter().next().map(|(_, m)| m).unwrap_or_default();
                self.status.set(Status::Refused(message));
            }
            Err(_) => self.retry(false),
        }
    }

    fn retry(&self, session_expired: bool) {
        let failures = self.failures.get_value() + 1;
        self.failures.set_value(failures);
        let secs = 2u64.saturating_pow(failures.min(5)).min(MAX_RETRY_SECS);
        let status = if session_expired {
            Status::SessionExpired
        } else if !Self::online() {
            Status::Offline
        } else {
            Status::Retry { at_ms: js_sys::Date::now() as i64 + (secs * 1000) as i64 }
        };
        self.status.set(status);
        self.schedule(secs * 1000);
    }
}
