//! Where uploaded files live: a folder outside the web root (one server), or an S3-compatible
//! object store (several servers). Keys are made by us (`documents/<uuid>`), never from a
//! file name someone sent.
//!
//! A file is written whole or not at all: the local folder writes a temporary file then renames
//! it, the object store receives each file in one PUT (an object exists whole or not at all), and
//! uploads are only stored once they were received in full and checked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid storage key")]
    BadKey,
    #[error("file storage: {0}")]
    Io(#[from] std::io::Error),
    #[error("object store: {0}")]
    Remote(String),
}

/// The file store of this server process.
#[derive(Clone, Debug)]
pub enum Storage {
    /// Files under this folder; partial writes go to `<root>/.partial/` first.
    Local { root: PathBuf },
    /// Objects in one bucket of an S3-compatible store, shared by every server.
    S3(S3Store),
}

/// Where the S3-compatible object store is and how to sign in to it.
#[derive(Clone)]
pub struct S3Config {
    /// `https://s3.eu-west-3.amazonaws.com`, `http://127.0.0.1:9000`...; requests are path-style
    /// (`<endpoint>/<bucket>/<key>`).
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    /// Both empty: the credentials of the machine's cloud role (instance metadata).
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &"[redacted]")
            .field("secret_access_key", &"[redacted]")
            .finish()
    }
}

/// A bucket of an S3-compatible store; cheap to clone (one shared HTTP client).
#[derive(Clone)]
pub struct S3Store {
    store: Arc<dyn ObjectStore>,
    endpoint: String,
    bucket: String,
    /// Removed from error messages (a server could echo the access key id back).
    secrets: Arc<[String]>,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store").field("endpoint", &self.endpoint).field("bucket", &self.bucket).finish_non_exhaustive()
    }
}

impl S3Store {
    /// A store error as `StorageError::Remote`, without the credentials in it.
    fn error(&self, e: object_store::Error) -> StorageError {
        StorageError::Remote(redact(&e.to_string(), &self.secrets))
    }
}

fn redact(message: &str, secrets: &[String]) -> String {
    secrets.iter().filter(|secret| !secret.is_empty()).fold(message.to_string(), |message, secret| message.replace(secret.as_str(), "[redacted]"))
}

impl Storage {
    pub fn local(root: impl Into<PathBuf>) -> Storage {
        Storage::Local { root: root.into() }
    }

    /// An S3-compatible bucket. Nothing is sent yet: a wrong endpoint or credentials show at the
    /// first request. Plain `http://` endpoints are accepted (a store on this machine or a private
    /// network); path-style requests, not virtual-hosted ones.
    pub fn s3(config: S3Config) -> Result<Storage, StorageError> {
        let endpoint = config.endpoint.trim_end_matches('/').to_string();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(StorageError::Remote("the endpoint must start with http:// or https://".into()));
        }
        if config.bucket.is_empty() {
            return Err(StorageError::Remote("no bucket given".into()));
        }
        if config.access_key_id.is_empty() != config.secret_access_key.is_empty() {
            return Err(StorageError::Remote("the access key id and secret access key go together".into()));
        }
        let secrets: Arc<[String]> = Arc::from(vec![config.secret_access_key.clone(), config.access_key_id.clone()]);
        let mut builder = AmazonS3Builder::new()
            .with_endpoint(&endpoint)
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false);
        if !config.access_key_id.is_empty() {
            builder = builder.with_access_key_id(&config.access_key_id).with_secret_access_key(&config.secret_access_key);
        }
        let store = builder.build().map_err(|e| StorageError::Remote(redact(&e.to_string(), &secrets)))?;
        Ok(Storage::S3(S3Store { store: Arc::new(store), endpoint, bucket: config.bucket, secrets }))
    }

    /// Stores `bytes` under `key`, replacing nothing (keys are fresh ids).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        check_key(key)?;
        match self {
            Storage::Local { root } => {
                let partial_dir = root.join(".partial");
                tokio::fs::create_dir_all(&partial_dir).await?;
                let target = root.join(key);
                if let Some(parent) = target.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                let partial = partial_dir.join(uuid::Uuid::new_v4().to_string());
                if let Err(e) = tokio::fs::write(&partial, &bytes).await {
                    let _ = tokio::fs::remove_file(&partial).await;
                    return Err(e.into());
                }
                if let Err(e) = tokio::fs::rename(&partial, &target).await {
                    let _ = tokio::fs::remove_file(&partial).await;
                    return Err(e.into());
                }
                Ok(())
            }
            Storage::S3(s3) => {
                s3.store.put(&object_path(key), PutPayload::from(bytes)).await.map_err(|e| s3.error(e))?;
                Ok(())
            }
        }
    }

    /// The file under `key`, or `None` when there is none.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        match self {
            Storage::Local { root } => match tokio::fs::read(root.join(key)).await {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            },
            Storage::S3(s3) => match s3.store.get(&object_path(key)).await {
                Ok(found) => {
                    let bytes = found.bytes().await.map_err(|e| s3.error(e))?;
                    Ok(Some(bytes.to_vec()))
                }
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(s3.error(e)),
            },
        }
    }

    /// Removes the file under `key`; removing a missing file is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        check_key(key)?;
        match self {
            Storage::Local { root } => match tokio::fs::remove_file(root.join(key)).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e.into()),
            },
            Storage::S3(s3) => match s3.store.delete(&object_path(key)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(s3.error(e)),
            },
        }
    }

    /// Every key stored, partial writes included (tests prove nothing is left behind).
    pub async fn keys(&self) -> Result<Vec<String>, StorageError> {
        match self {
            Storage::Local { root } => {
                let mut keys = Vec::new();
                collect_files(root, root, &mut keys).await?;
                keys.sort();
                Ok(keys)
            }
            Storage::S3(s3) => {
                let objects: Vec<_> = s3.store.list(None).try_collect().await.map_err(|e| s3.error(e))?;
                let mut keys: Vec<String> = objects.into_iter().map(|meta| meta.location.to_string()).collect();
                keys.sort();
                Ok(keys)
            }
        }
    }
}

/// A checked key as an object path (letters, digits, `-`, `_` and `/`: nothing to encode).
fn object_path(key: &str) -> ObjectPath {
    ObjectPath::from(key)
}

/// Keys are `segment/segment`, made of letters, digits, `-` and `_`: nothing can climb out.
fn check_key(key: &str) -> Result<(), StorageError> {
    let ok =
        !key.is_empty() && key.split('/').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    if ok {
        Ok(())
    } else {
        Err(StorageError::BadKey)
    }
}

async fn collect_files(root: &Path, dir: &Path, keys: &mut Vec<String>) -> Result<(), std::io::Error> {
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    while let Some(entry) = entries.next_entry().await? {
        let path = entry.path();
        if entry.file_type().await?.is_dir() {
            Box::pin(collect_files(root, &path, keys)).await?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            keys.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_climb_out_of_the_store() {
        for bad in ["", "../x", "a/../b", "/abs", "a//b", "a/b.pdf", "a\\b", "é"] {
            assert!(check_key(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(check_key("documents/0f3a-12_b").is_ok());
    }

    #[tokio::test]
    async fn a_local_folder_stores_reads_and_deletes_whole_files() {
        let root = std::env::temp_dir().join(format!("passerelle-storage-{}", uuid::Uuid::new_v4()));
        let storage = Storage::local(&root);

        storage.put("documents/a", b"%PDF-1.7".to_vec()).await.unwrap();
        let read = storage.get("documents/a").await.unwrap();
        let missing = storage.get("documents/b").await.unwrap();
        let keys = storage.keys().await.unwrap();
        storage.delete("documents/a").await.unwrap();
        storage.delete("documents/a").await.unwrap();

        assert_eq!(read.as_deref(), Some(&b"%PDF-1.7"[..]));
        assert_eq!(missing, None);
        assert_eq!(keys, ["documents/a"]);
        assert!(storage.keys().await.unwrap().is_empty());
        let _ = std::fs::remove_dir_all(root);
    }

    fn s3_config() -> S3Config {
        S3Config {
            endpoint: "http://127.0.0.1:9000".into(),
            bucket: "passerelle".into(),
            region: "us-east-1".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI-secret".into(),
        }
    }

    #[test]
    fn an_s3_store_is_built_without_contacting_the_server_and_never_shows_its_secrets() {
        let config = s3_config();

        let storage = Storage::s3(config.clone()).unwrap();
        let printed = format!("{storage:?} {config:?}");

        assert!(matches!(storage, Storage::S3(_)));
        assert!(printed.contains("http://127.0.0.1:9000") && printed.contains("passerelle"), "{printed}");
        assert!(!printed.contains("wJalrXUtnFEMI-secret") && !printed.contains("AKIDEXAMPLE"), "{printed}");
    }

    #[test]
    fn an_s3_store_refuses_a_bad_endpoint_a_missing_bucket_or_half_the_credentials() {
        let no_scheme = S3Config { endpoint: "127.0.0.1:9000".into(), ..s3_config() };
        let no_bucket = S3Config { bucket: String::new(), ..s3_config() };
        let half_credentials = S3Config { secret_access_key: String::new(), ..s3_config() };

        for config in [no_scheme, no_bucket, half_credentials] {
            let err = Storage::s3(config).unwrap_err();

            assert!(matches!(err, StorageError::Remote(_)), "{err}");
            assert!(!err.to_string().contains("wJalrXUtnFEMI-secret"), "{err}");
        }
    }

    #[test]
    fn store_errors_lose_the_credentials_they_mention() {
        let secrets = ["s3cr3t".to_string(), "AKID".to_string(), String::new()];

        let message = redact("403 Forbidden: key AKID signed with s3cr3t", &secrets);

        assert_eq!(message, "403 Forbidden: key [redacted] signed with [redacted]");
    }
}
