//! Settings: `Leptos.toml` (every key documented there), each key overridable by an environment
//! variable named `PASSERELLE_<SECTION>_<KEY>` (for example `database.url` →
//! `PASSERELLE_DATABASE_URL`). Missing file or key: the embedded default. A bad value stops
//! start-up with one line naming the key and its variable.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use app::db::Backend;
use app::state::AppConfig;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub mail: MailSettings,
    pub storage: StorageSettings,
    pub session: SessionSettings,
    pub accounts: AccountSettings,
    pub security: SecuritySettings,
    pub retention: RetentionSettings,
    pub log: LogSettings,
    pub metrics: MetricsSettings,
}

/// Prometheus metrics (`GET /metrics`) on their own address; empty: none.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    pub listen: String,
}

/// How the server writes its log (on standard output).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
}

/// `text`: one readable line per event; `json`: one JSON object per line, with the request's
/// span (request id, method, route, account) in each, for a log collector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings { format: LogFormat::Text }
    }
}

/// How long data is kept; the privacy policy says the same (a test compares them).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    pub unactivated_days: u32,
    pub login_attempts_days: u32,
    pub inactive_years: u32,
    pub inactivity_warning_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        let r = app::profile::retention::Retention::default();
        RetentionSettings {
            unactivated_days: r.unactivated_days,
            login_attempts_days: r.login_attempts_days,
            inactive_years: r.inactive_years,
            inactivity_warning_days: r.inactivity_warning_days,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountSettings {
    #[serde(rename = "activation_link_hours", with = "hours")]
    pub activation_link: Duration,
    #[serde(rename = "reset_link_minutes", with = "minutes")]
    pub reset_link: Duration,
    pub registrations_per_ip_per_hour: i64,
    pub login_failures_per_ip_per_hour: i64,
    pub login_failures_per_hour: i64,
    pub robot_difficulty: u64,
    pub registrations_per_hour_normal: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    pub secret_key: Secret,
}

/// A secret setting (a password, a key). Its `Debug` prints `[redacted]`, so settings that are
/// logged, or shown by a panic, never reveal it; `expose` is the one way to read it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The development secret: fine on a laptop, refused outside development mode.
pub const DEV_SECRET_KEY: &str = "development only: not a secret, never use in production";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: String,
    pub base_url: String,
    pub dev_mode: bool,
    #[serde(rename = "request_timeout_ms", with = "millis")]
    pub request_timeout: Duration,
    /// Proxies in front of the server, comma-separated addresses or CIDR blocks: when a request
    /// comes from one, the client is read from `X-Forwarded-For`/`Forwarded`.
    pub trusted_proxies: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    pub transport: MailTransport,
    pub from: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    pub smtp_username: String,
    pub smtp_password: Secret,
    #[serde(rename = "poll_interval_ms", with = "millis")]
    pub poll_interval: Duration,
    #[serde(rename = "retry_base_ms", with = "millis")]
    pub retry_base: Duration,
    #[serde(rename = "retry_max_ms", with = "millis")]
    pub retry_max: Duration,
    pub max_attempts: u32,
    /// How long a worker's claim on an email lasts before another worker may take it over
    /// (extended while it is being sent).
    #[serde(rename = "claim_ms", with = "millis")]
    pub claim: Duration,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    pub backend: StorageBackend,
    pub files_dir: String,
    pub s3_endpoint: String,
    pub s3_bucket: String,
    pub s3_region: String,
    pub s3_access_key_id: String,
    pub s3_secret_access_key: Secret,
    /// What one person's documents and attachments may take in all, in megabytes.
    pub quota_per_person_mb: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    #[serde(rename = "idle_timeout_minutes", with = "minutes")]
    pub idle_timeout: Duration,
    #[serde(rename = "absolute_timeout_hours", with = "hours")]
    pub absolute_timeout: Duration,
    /// How long an exceptional access to a person outside one's scope lasts at most (it ends
    /// with the session anyway).
    #[serde(rename = "exceptional_access_minutes", with = "minutes")]
    pub exceptional_access: Duration,
}

/// Time settings are `Duration`s. The key names the unit (`_ms`, `_minutes`, `_hours`) in which the
/// file and the environment give a whole number; these modules read and write it.
macro_rules! duration_in {
    ($unit:ident, $millis:expr) => {
        mod $unit {
            use serde::{de::Error, Deserialize, Deserializer, Serializer};
            use std::time::Duration;

            pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_u64((value.as_millis() / $millis) as u64)
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
                let count = u64::deserialize(deserializer)?;
                count.checked_mul($millis).map(Duration::from_millis).ok_or_else(|| D::Error::custom(format!("{count} is too large")))
            }
        }
    };
}
duration_in!(millis, 1);
duration_in!(minutes, 60_000);
duration_in!(hours, 3_600_000);

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: ServerSettings {
                listen: "127.0.0.1:3000".into(),
                base_url: "http://127.0.0.1:3000".into(),
                dev_mode: true,
                request_timeout: Duration::from_secs(15),
                trusted_proxies: String::new(),
            },
            database: DatabaseSettings { url: "sqlite://data/passerelle.db".into(), max_connections: 10 },
            mail: MailSettings {
                transport: MailTransport::Mailbox,
                from: "Passerelle <ne-pas-repondre@passerelle.example>".into(),
                smtp_host: "localhost".into(),
                smtp_port: 587,
                smtp_tls: SmtpTls::StartTls,
                smtp_username: String::new(),
                smtp_password: Secret::default(),
                poll_interval: Duration::from_secs(1),
                retry_base: Duration::from_secs(5),
                retry_max: Duration::from_secs(3600),
                max_attempts: 12,
                claim: Duration::from_secs(120),
            },
            storage: StorageSettings {
                backend: StorageBackend::Local,
                files_dir: "data/files".into(),
                s3_endpoint: String::new(),
                s3_bucket: String::new(),
                s3_region: "us-east-1".into(),
                s3_access_key_id: String::new(),
                s3_secret_access_key: Secret::default(),
                quota_per_person_mb: 200,
            },
            session: SessionSettings {
                idle_timeout: Duration::from_secs(30 * 60),
                absolute_timeout: Duration::from_secs(12 * 3600),
                exceptional_access: Duration::from_secs(4 * 3600),
            },
            accounts: AccountSettings {
                activation_link: Duration::from_secs(48 * 3600),
                reset_link: Duration::from_secs(60 * 60),
                registrations_per_ip_per_hour: 10,
                login_failures_per_ip_per_hour: 30,
                login_failures_per_hour: 1000,
                robot_difficulty: 250_000,
                registrations_per_hour_normal: 100,
            },
            security: SecuritySettings { secret_key: Secret::from(DEV_SECRET_KEY) },
            retention: RetentionSettings::default(),
            log: LogSettings::default(),
            metrics: MetricsSettings::default(),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Settings::default().server
    }
}
impl Default for DatabaseSettings {
    fn default() -> Self {
        Settings::default().database
    }
}
impl Default for MailSettings {
    fn default() -> Self {
        Settings::default().mail
    }
}
impl Default for StorageSettings {
    fn default() -> Self {
        Settings::default().storage
    }
}
impl Default for SessionSettings {
    fn default() -> Self {
        Settings::default().session
    }
}
impl Default for AccountSettings {
    fn default() -> Self {
        Settings::default().accounts
    }
}
impl Default for SecuritySettings {
    fn default() -> Self {
        Settings::default().security
    }
}

/// A setting that stops start-up: which key, which variable, what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            write!(f, "invalid settings: {}", self.message)
        } else {
            write!(f, "invalid setting {} ({}): {}", self.key, env_name(&self.key), self.message)
        }
    }
}

fn error(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { key: key.into(), message: message.into() }
}

/// The environment variable that overrides `section.key`.
pub fn env_name(key: &str) -> String {
    format!("PASSERELLE_{}", key.replace('.', "_").to_uppercase())
}

/// Which mail transport delivers the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// Development: messages stay in the database and are shown at `/dev/mailbox`.
    Mailbox,
    Smtp,
}

/// Where uploaded files are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// `storage.files_dir` on this machine: one server.
    Local,
    /// A bucket of an S3-compatible object store: several servers.
    S3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    None,
    StartTls,
    Tls,
}

impl Settings {
    /// Reads `path` if it exists (embedded defaults otherwise), then applies the environment;
    /// refuses settings with a problem.
    pub fn load(path: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let settings = Settings::read(path, env)?;
        settings.validate()?;
        Ok(settings)
    }

    /// [`Settings::load`] without the checks of [`Settings::problems`] (`passerelle check`).
    pub fn read(path: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(error("", format!("cannot read {}: {e}", path.display()))),
        };
        Settings::parse(&text, env)
    }

    pub fn from_toml(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let settings = Settings::parse(text, env)?;
        settings.validate()?;
        Ok(settings)
    }

    fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| error("", format!("Leptos.toml: {}", e.message())))?;
        let defaults = toml::Table::try_from(Settings::default()).map_err(|e| error("", e.to_string()))?;
        for (section, keys) in &defaults {
            let Some(keys) = keys.as_table() else { continue };
            for (key, default) in keys {
                let full = format!("{section}.{key}");
                let Some(raw) = env(&env_name(&full)) else { continue };
                let value = parse_env_value(&raw, default).ok_or_else(|| error(&full, format!("{raw:?} is not a {}", default.type_str())))?;
                let section_table = table.entry(section.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let Some(t) = section_table.as_table_mut() {
                    t.insert(key.clone(), value);
                }
            }
        }
        let settings: Settings = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let key = e.path().to_string();
            let message = e.inner().message().to_string();
            if key == "." {
                error("", format!("Leptos.toml: {message}"))
            } else {
                error(&key, message)
            }
        })?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        match self.problems().into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    /// Every problem of these settings, one per key, in the order of `Leptos.toml`
    /// (`passerelle check` prints them all; start-up stops at the first).
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut problems = Vec::new();
        let mut check = |result: Result<(), ConfigError>| {
            if let Err(problem) = result {
                problems.push(problem);
            }
        };
        check(self.server_problems());
        check(self.store_problems());
        check(self.mail_problems());
        check(self.storage_problems());
        check(self.session_problems());
        check(self.secret_problems());
        check(self.metrics_addr().map(|_| ()));
        problems
    }

    fn server_problems(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        let base = &self.server.base_url;
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.ends_with('/') {
            return Err(error("server.base_url", "must start with http:// or https:// and not end with /"));
        }
        if self.server.dev_mode && !self.loopback() {
            return Err(error(
                "server.dev_mode",
                format!("development mode only runs on this machine (base_url http://127.0.0.1 or http://localhost); set it to false for {base}"),
            ));
        }
        if self.server.request_timeout < Duration::from_millis(100) {
            return Err(error("server.request_timeout_ms", "must be at least 100 (milliseconds)"));
        }
        self.trusted_proxies()?;
        Ok(())
    }

    fn store_problems(&self) -> Result<(), ConfigError> {
        if Backend::of_url(&self.database.url).is_none() {
            return Err(error("database.url", "must start with sqlite: or postgres://"));
        }
        if self.database.max_connections == 0 {
            return Err(error("database.max_connections", "must be at least 1"));
        }
        Ok(())
    }

    fn mail_problems(&self) -> Result<(), ConfigError> {
        if self.mail.transport == MailTransport::Mailbox && !self.server.dev_mode {
            return Err(error("mail.transport", "\"mailbox\" keeps emails in the database and only exists in development mode; use \"smtp\""));
        }
        if lettre_mailbox(&self.mail.from).is_none() {
            return Err(error("mail.from", "must be an address such as \"Passerelle <ne-pas-repondre@exemple.fr>\""));
        }
        if self.mail.poll_interval.is_zero() {
            return Err(error("mail.poll_interval_ms", "must be at least 1"));
        }
        if self.mail.max_attempts == 0 {
            return Err(error("mail.max_attempts", "must be at least 1"));
        }
        if self.mail.claim < Duration::from_millis(300) {
            return Err(error("mail.claim_ms", "must be at least 300"));
        }
        Ok(())
    }

    fn storage_problems(&self) -> Result<(), ConfigError> {
        if self.retention.unactivated_days == 0 || self.retention.login_attempts_days == 0 || self.retention.inactive_years == 0 {
            return Err(error("retention", "every duration must be at least 1"));
        }
        if u64::from(self.retention.inactivity_warning_days) >= u64::from(self.retention.inactive_years) * 365 {
            return Err(error("retention.inactivity_warning_days", "must be shorter than retention.inactive_years"));
        }
        if self.storage.quota_per_person_mb == 0 {
            return Err(error("storage.quota_per_person_mb", "must be at least 1"));
        }
        if self.storage.files_dir.trim().is_empty() {
            return Err(error("storage.files_dir", "must name a folder"));
        }
        if self.storage.backend == StorageBackend::S3 {
            let endpoint = &self.storage.s3_endpoint;
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(error("storage.s3_endpoint", "with backend \"s3\", set the store's address, starting with http:// or https://"));
            }
            if self.storage.s3_bucket.trim().is_empty() {
                return Err(error("storage.s3_bucket", "with backend \"s3\", name the bucket"));
            }
            if self.storage.s3_region.trim().is_empty() {
                return Err(error("storage.s3_region", "with backend \"s3\", name the region (e.g. \"us-east-1\")"));
            }
            if self.storage.s3_access_key_id.is_empty() != self.storage.s3_secret_access_key.is_empty() {
                let missing = if self.storage.s3_access_key_id.is_empty() { "storage.s3_access_key_id" } else { "storage.s3_secret_access_key" };
                return Err(error(missing, "the access key id and the secret access key go together"));
            }
        }
        Ok(())
    }

    fn session_problems(&self) -> Result<(), ConfigError> {
        if self.session.idle_timeout.is_zero() {
            return Err(error("session.idle_timeout_minutes", "must be at least 1"));
        }
        if self.session.absolute_timeout.is_zero() {
            return Err(error("session.absolute_timeout_hours", "must be at least 1"));
        }
        if self.session.exceptional_access.is_zero() {
            return Err(error("session.exceptional_access_minutes", "must be at least 1"));
        }
        if self.accounts.activation_link.is_zero() {
            return Err(error("accounts.activation_link_hours", "must be at least 1"));
        }
        if self.accounts.registrations_per_ip_per_hour < 1 {
            return Err(error("accounts.registrations_per_ip_per_hour", "must be at least 1"));
        }
        if self.accounts.login_failures_per_ip_per_hour < 1 {
            return Err(error("accounts.login_failures_per_ip_per_hour", "must be at least 1"));
        }
        if self.accounts.login_failures_per_hour < self.accounts.login_failures_per_ip_per_hour {
            return Err(error("accounts.login_failures_per_hour", "must be at least accounts.login_failures_per_ip_per_hour"));
        }
        if !(1_000..=1_000_000_000).contains(&self.accounts.robot_difficulty) {
            return Err(error("accounts.robot_difficulty", "must be between 1000 and 1000000000"));
        }
        if self.accounts.registrations_per_hour_normal < 1 {
            return Err(error("accounts.registrations_per_hour_normal", "must be at least 1"));
        }
        if self.accounts.reset_link.is_zero() {
            return Err(error("accounts.reset_link_minutes", "must be at least 1"));
        }
        Ok(())
    }

    fn secret_problems(&self) -> Result<(), ConfigError> {
        if !self.server.dev_mode && (self.security.secret_key.expose() == DEV_SECRET_KEY || self.security.secret_key.expose().chars().count() < 32) {
            return Err(error(
                "security.secret_key",
                "outside development mode, set a random secret of 32 characters or more (e.g. `openssl rand -base64 48`)",
            ));
        }
        Ok(())
    }

    /// Where the metrics are served (`metrics.listen`); `None` when they are off. It must not be
    /// the site's own address.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>, ConfigError> {
        let listen = self.metrics.listen.trim();
        if listen.is_empty() {
            return Ok(None);
        }
        let addr: SocketAddr = listen
            .parse()
            .map_err(|_| error("metrics.listen", format!("{listen:?} is not an address such as 127.0.0.1:9100 (empty: no metrics)")))?;
        if addr.port() != 0 && self.listen_addr().is_ok_and(|site| site.port() == addr.port() && site.ip() == addr.ip()) {
            return Err(error("metrics.listen", "must differ from server.listen: the metrics are not for the public"));
        }
        Ok(Some(addr))
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server.listen.parse().map_err(|_| error("server.listen", format!("{:?} is not an address such as 127.0.0.1:3000", self.server.listen)))
    }

    /// The file store these settings describe (nothing is contacted yet); the error is one line.
    pub fn storage(&self) -> Result<app::documents::storage::Storage, String> {
        use app::documents::storage::{S3Config, Storage};
        match self.storage.backend {
            StorageBackend::Local => Ok(Storage::local(&self.storage.files_dir)),
            StorageBackend::S3 => Storage::s3(S3Config {
                endpoint: self.storage.s3_endpoint.clone(),
                bucket: self.storage.s3_bucket.clone(),
                region: self.storage.s3_region.clone(),
                access_key_id: self.storage.s3_access_key_id.clone(),
                secret_access_key: self.storage.s3_secret_access_key.expose().to_string(),
            })
            .map_err(|e| format!("cannot use the object store (storage.s3_endpoint): {e}")),
        }
    }

    /// The blocks of `server.trusted_proxies`; the error names the entry that is not one.
    pub fn trusted_proxies(&self) -> Result<Vec<app::account::client::Cidr>, ConfigError> {
        let entries = self.server.trusted_proxies.split(',').map(str::trim).filter(|entry| !entry.is_empty());
        entries
            .map(|entry| {
                app::account::client::Cidr::parse(entry).ok_or_else(|| {
                    error("server.trusted_proxies", format!("{entry:?} is not an address or a block such as 10.0.0.0/8 or 2001:db8::/32"))
                })
            })
            .collect()
    }

    /// Whether `base_url` is plain http on this machine (localhost, 127.0.0.1 or [::1]).
    pub fn loopback(&self) -> bool {
        ["http://localhost", "http://127.0.0.1", "http://[::1]"].iter().any(|prefix| {
            self.server.base_url == *prefix
                || self.server.base_url.starts_with(&format!("{prefix}:"))
                || self.server.base_url.starts_with(&format!("{prefix}/"))
        })
    }

    /// `Secure` cookies everywhere except development over plain http on this machine.
    pub fn secure_cookies(&self) -> bool {
        !(self.server.dev_mode && self.loopback())
    }

    pub fn app_config(&self) -> AppConfig {
        AppConfig {
            base_url: self.server.base_url.clone(),
            dev_mode: self.server.dev_mode,
            secure_cookies: self.secure_cookies(),
            trusted_proxies: self.trusted_proxies().unwrap_or_default(),
            session_idle: self.session.idle_timeout,
            session_absolute: self.session.absolute_timeout,
            exceptional_access: self.session.exceptional_access,
            retention: app::profile::retention::Retention {
                unactivated_days: self.retention.unactivated_days,
                login_attempts_days: self.retention.login_attempts_days,
                inactive_years: self.retention.inactive_years,
                inactivity_warning_days: self.retention.inactivity_warning_days,
            },
            storage_quota_bytes: i64::try_from(self.storage.quota_per_person_mb.saturating_mul(1024 * 1024)).unwrap_or(i64::MAX),
            live_reload_origin: None,
            secrets: std::sync::Arc::new(app::account::secrets::Secrets::from_master(self.security.secret_key.expose().as_bytes())),
            activation_ttl: self.accounts.activation_link,
            reset_ttl: self.accounts.reset_link,
            registrations_per_ip_per_hour: self.accounts.registrations_per_ip_per_hour,
            login_failures_per_ip_per_hour: self.accounts.login_failures_per_ip_per_hour,
            login_failures_per_hour: self.accounts.login_failures_per_hour,
            robot_difficulty: self.accounts.robot_difficulty,
            registrations_per_hour_normal: self.accounts.registrations_per_hour_normal,
        }
    }
}

pub fn lettre_mailbox(value: &str) -> Option<lettre::message::Mailbox> {
    value.parse().ok()
}

fn parse_env_value(raw: &str, default: &toml::Value) -> Option<toml::Value> {
    Some(match default {
        toml::Value::String(_) => toml::Value::String(raw.to_string()),
        toml::Value::Integer(_) => toml::Value::Integer(raw.trim().parse().ok()?),
        toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return None,
        }),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn secrets_never_show_in_the_settings_debug_output() {
        // Arrange
        let env = |name: &str| match name {
            "PASSERELLE_MAIL_SMTP_PASSWORD" => Some("mot-de-passe-smtp".to_string()),
            "PASSERELLE_SECURITY_SECRET_KEY" => Some("une-cle-maitresse-de-plus-de-32-caracteres".to_string()),
            "PASSERELLE_STORAGE_S3_SECRET_ACCESS_KEY" => Some("cle-secrete-s3".to_string()),
            _ => None,
        };

        // Act
        let settings = Settings::from_toml("", env).unwrap();
        let shown = format!("{settings:?}");

        // Assert
        assert_eq!(settings.mail.smtp_password.expose(), "mot-de-passe-smtp", "the value itself is kept");
        for secret in ["mot-de-passe-smtp", "une-cle-maitresse-de-plus-de-32-caracteres", "cle-secrete-s3"] {
            assert!(!shown.contains(secret), "{secret} is not in {shown}");
        }
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn an_empty_file_gives_the_embedded_development_defaults() {
        let settings = Settings::from_toml("", no_env).unwrap();
        assert_eq!(settings.database.url, "sqlite://data/passerelle.db");
        assert_eq!(settings.mail.transport, MailTransport::Mailbox);
        assert!(settings.server.dev_mode);
        assert!(!settings.secure_cookies());
    }

    #[test]
    fn the_repository_leptos_toml_is_valid_and_documents_every_key() {
        let text = include_str!("../../Leptos.toml");
        Settings::from_toml(text, no_env).unwrap();
        let defaults = toml::Table::try_from(Settings::default()).unwrap();
        for (section, keys) in &defaults {
            for key in keys.as_table().unwrap().keys() {
                let full = format!("{section}.{key}");
                assert!(text.contains(&env_name(&full)), "Leptos.toml does not document {}", env_name(&full));
            }
        }
    }

    #[test]
    fn an_environment_variable_overrides_the_file() {
        let env = |name: &str| match name {
            "PASSERELLE_DATABASE_URL" => Some("postgres://postgres@127.0.0.1/p".to_string()),
            "PASSERELLE_MAIL_SMTP_PORT" => Some("2525".to_string()),
            _ => None,
        };
        let settings = Settings::from_toml("[database]\nurl = \"sqlite://x.db\"\n", env).unwrap();
        assert_eq!(settings.database.url, "postgres://postgres@127.0.0.1/p");
        assert_eq!(settings.mail.smtp_port, 2525);
    }

    #[test]
    fn a_bad_value_names_its_key_and_variable() {
        let err = Settings::from_toml("[mail]\ntransport = \"pigeon\"\n", no_env).unwrap_err();
        assert_eq!(err.key, "mail.transport");
        assert!(err.to_string().contains("PASSERELLE_MAIL_TRANSPORT"));

        let env = |name: &str| (name == "PASSERELLE_MAIL_SMTP_PORT").then(|| "many".to_string());
        let err = Settings::from_toml("", env).unwrap_err();
        assert_eq!(err.key, "mail.smtp_port");
    }

    #[test]
    fn the_request_timeout_defaults_to_15_seconds_and_refuses_less_than_100_ms() {
        let settings = Settings::from_toml("", no_env).unwrap();
        assert_eq!(settings.server.request_timeout, Duration::from_secs(15));
        let env = |name: &str| (name == "PASSERELLE_SERVER_REQUEST_TIMEOUT_MS").then(|| "0".to_string());
        let err = Settings::from_toml("", env).unwrap_err();
        assert_eq!(err.key, "server.request_timeout_ms");
    }

    #[test]
    fn trusted_proxies_are_a_comma_separated_list_of_blocks_and_a_bad_entry_is_named() {
        let env = |name: &str| (name == "PASSERELLE_SERVER_TRUSTED_PROXIES").then(|| "10.0.0.0/8, ::1".to_string());
        let settings = Settings::from_toml("", env).unwrap();
        assert_eq!(settings.trusted_proxies().unwrap().len(), 2);
        assert!(Settings::from_toml("", no_env).unwrap().trusted_proxies().unwrap().is_empty(), "none by default");
        let err = Settings::from_toml("[server]\ntrusted_proxies = \"10.0.0.0/8, proxy.interne\"\n", no_env).unwrap_err();
        assert_eq!(err.key, "server.trusted_proxies");
        assert!(err.to_string().contains("proxy.interne"), "{err}");
    }

    #[test]
    fn time_settings_are_durations_read_in_the_unit_their_key_names() {
        // Arrange
        let file = "[session]\nidle_timeout_minutes = 5\n[accounts]\nactivation_link_hours = 2\n";
        let env = |name: &str| (name == "PASSERELLE_MAIL_RETRY_BASE_MS").then(|| "250".to_string());

        // Act
        let settings = Settings::from_toml(file, env).unwrap();
        let negative = Settings::from_toml("[session]\nabsolute_timeout_hours = -1\n", no_env).unwrap_err();

        // Assert
        assert_eq!(settings.session.idle_timeout, Duration::from_secs(5 * 60));
        assert_eq!(settings.accounts.activation_link, Duration::from_secs(2 * 3600));
        assert_eq!(settings.mail.retry_base, Duration::from_millis(250));
        assert_eq!(settings.accounts.reset_link, Duration::from_secs(3600), "the default stays");
        assert_eq!(negative.key, "session.absolute_timeout_hours");
    }

    #[test]
    fn an_unknown_choice_names_its_key_and_the_choices() {
        let err = Settings::from_toml("[mail]\nsmtp_tls = \"ssl\"\n", no_env).unwrap_err();

        assert_eq!(err.key, "mail.smtp_tls");
        for choice in ["none", "starttls", "tls"] {
            assert!(err.message.contains(choice), "{err}");
        }
    }

    #[test]
    fn development_mode_only_runs_on_this_machine() {
        // Arrange
        let public = "[server]\nbase_url = \"https://passerelle.example\"\n";

        // Act
        let refused = Settings::from_toml(public, no_env).unwrap_err();
        let local = Settings::from_toml("[server]\nbase_url = \"http://localhost:8080\"\n", no_env);

        // Assert
        assert_eq!(refused.key, "server.dev_mode");
        assert!(refused.to_string().contains("PASSERELLE_SERVER_DEV_MODE"), "{refused}");
        assert!(local.is_ok_and(|s| s.server.dev_mode));
    }

    #[test]
    fn every_problem_is_listed_one_per_line() {
        let text = "[server]\nbase_url = \"https://passerelle.example\"\n[database]\nmax_connections = 0\n[session]\nidle_timeout_minutes = 0\n";
        let settings: Settings = toml::from_str(text).unwrap();

        let keys: Vec<String> = settings.problems().into_iter().map(|p| p.key).collect();

        assert_eq!(keys, ["server.dev_mode", "database.max_connections", "session.idle_timeout_minutes"]);
    }

    #[test]
    fn an_unknown_key_is_refused_by_name() {
        let err = Settings::from_toml("[database]\nurll = \"x\"\n", no_env).unwrap_err();
        assert!(err.to_string().contains("urll"), "{err}");
    }

    #[test]
    fn production_cannot_use_the_development_mailbox_and_gets_secure_cookies() {
        let err = Settings::from_toml("[server]\ndev_mode = false\n", no_env).unwrap_err();
        assert_eq!(err.key, "mail.transport");
        let production = "[server]\ndev_mode = false\nbase_url = \"https://passerelle.example\"\n[mail]\ntransport = \"smtp\"\n";
        let err = Settings::from_toml(production, no_env).unwrap_err();
        assert_eq!(err.key, "security.secret_key", "the development secret is refused in production");
        let settings = Settings::from_toml(&format!("{production}[security]\nsecret_key = \"{}\"\n", "x".repeat(40)), no_env).unwrap();
        assert!(settings.secure_cookies());
    }

    #[test]
    fn files_stay_in_the_local_folder_unless_the_s3_backend_is_chosen() {
        let settings = Settings::from_toml("", no_env).unwrap();

        let storage = settings.storage().unwrap();

        assert_eq!(settings.storage.backend, StorageBackend::Local);
        assert_eq!(settings.storage.s3_region, "us-east-1");
        assert!(matches!(storage, app::documents::storage::Storage::Local { .. }));
    }

    #[test]
    fn the_s3_backend_needs_an_endpoint_and_a_bucket_named_by_key() {
        let no_endpoint = "[storage]\nbackend = \"s3\"\ns3_bucket = \"passerelle\"\n";
        let no_bucket = "[storage]\nbackend = \"s3\"\ns3_endpoint = \"https://s3.example\"\n";
        let half_credentials = "[storage]\nbackend = \"s3\"\ns3_endpoint = \"https://s3.example\"\ns3_bucket = \"b\"\ns3_access_key_id = \"AKID\"\n";

        let no_endpoint = Settings::from_toml(no_endpoint, no_env).unwrap_err();
        let no_bucket = Settings::from_toml(no_bucket, no_env).unwrap_err();
        let half_credentials = Settings::from_toml(half_credentials, no_env).unwrap_err();

        assert_eq!(no_endpoint.key, "storage.s3_endpoint");
        assert!(no_endpoint.to_string().contains("PASSERELLE_STORAGE_S3_ENDPOINT"), "{no_endpoint}");
        assert!(!no_endpoint.to_string().contains('\n'));
        assert_eq!(no_bucket.key, "storage.s3_bucket");
        assert_eq!(half_credentials.key, "storage.s3_secret_access_key");
    }

    #[test]
    fn an_unknown_storage_backend_is_refused() {
        let err = Settings::from_toml("[storage]\nbackend = \"ftp\"\n", no_env).unwrap_err();

        assert_eq!(err.key, "storage.backend");
        assert!(err.to_string().contains("PASSERELLE_STORAGE_BACKEND"), "{err}");
    }

    #[test]
    fn the_s3_backend_is_set_from_the_environment_and_builds_a_store() {
        let env = |name: &str| {
            Some(
                match name {
                    "PASSERELLE_STORAGE_BACKEND" => "s3",
                    "PASSERELLE_STORAGE_S3_ENDPOINT" => "http://127.0.0.1:9000",
                    "PASSERELLE_STORAGE_S3_BUCKET" => "passerelle",
                    "PASSERELLE_STORAGE_S3_ACCESS_KEY_ID" => "AKID",
                    "PASSERELLE_STORAGE_S3_SECRET_ACCESS_KEY" => "not-in-messages",
                    _ => return None,
                }
                .to_string(),
            )
        };

        let settings = Settings::from_toml("", env).unwrap();
        let storage = settings.storage().unwrap();

        assert_eq!(settings.storage.backend, StorageBackend::S3);
        assert_eq!(settings.storage.s3_region, "us-east-1");
        assert!(matches!(storage, app::documents::storage::Storage::S3(_)));
        assert!(!format!("{storage:?}").contains("not-in-messages"));
    }
}

#[cfg(test)]
mod privacy_policy_tests {
    use super::Settings;

    #[test]
    fn the_privacy_policy_states_the_retention_durations_the_settings_apply_by_default() {
        let policy = app::pages::legal_texts::find("confidentialite").expect("the privacy policy page").html;
        let keep = Settings::default().retention;
        let months = (f64::from(keep.login_attempts_days) / 30.44).round();
        for said in [
            format!("Un compte jamais activé est supprimé au bout de {} jours", keep.unactivated_days),
            format!("l'historique de vos connexions est gardé {months} mois"),
            format!("un compte sans connexion pendant {} ans est supprimé", keep.inactive_years),
            format!("après un courriel d'avertissement envoyé {} jours avant", keep.inactivity_warning_days),
        ] {
            assert!(policy.contains(&said), "the policy says {said:?}");
        }
    }
}
