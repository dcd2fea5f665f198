//! The S3 object store against a real S3-compatible server on loopback: `s3s-fs` serving a
//! temporary folder, in this process, with one access key (`S3Server`).

use app::documents::storage::{S3Config, Storage, StorageError};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const ACCESS_KEY_ID: &str = "passerelle-test";
const SECRET_ACCESS_KEY: &str = "passerelle-test-secret-key";

/// An S3-compatible server on 127.0.0.1, with one empty bucket; stopped and removed on drop.
pub struct S3Server {
    pub endpoint: String,
    pub bucket: String,
    accept: JoinHandle<()>,
    _root: tempfile::TempDir,
}

impl S3Server {
    pub async fn start() -> S3Server {
        let root = tempfile::tempdir().expect("temporary folder for the S3 server");
        let bucket = "passerelle".to_string();
        // s3s-fs keeps each bucket as a sub-folder of its root.
        std::fs::create_dir(root.path().join(&bucket)).expect("bucket folder");
        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs on the temporary folder");
        let service = {
            let mut builder = S3ServiceBuilder::new(fs);
            builder.set_auth(SimpleAuth::from_single(ACCESS_KEY_ID, SECRET_ACCESS_KEY));
            builder.build()
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the S3 server");
        let addr = listener.local_addr().expect("S3 server address");
        let accept = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            while let Ok((socket, _)) = listener.accept().await {
                let connection = http.serve_connection(TokioIo::new(socket), service.clone()).into_owned();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
        });
        S3Server { endpoint: format!("http://{addr}"), bucket, accept, _root: root }
    }

    /// Settings that sign in to this server.
    pub fn config(&self) -> S3Config {
        S3Config {
            endpoint: self.endpoint.clone(),
            bucket: self.bucket.clone(),
            region: "us-east-1".into(),
            access_key_id: ACCESS_KEY_ID.into(),
            secret_access_key: SECRET_ACCESS_KEY.into(),
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_s3_store_stores_reads_lists_and_deletes_whole_files_on_a_real_server() {
    let server = S3Server::start().await;
    let storage = Storage::s3(server.config()).unwrap();
    let pdf: Vec<u8> = b"%PDF-1.7\n".iter().copied().chain((0..=255u8).cycle().take(300_000)).collect();

    storage.put("documents/a", pdf.clone()).await.unwrap();
    storage.put("documents/b", b"second".to_vec()).await.unwrap();
    let read = storage.get("documents/a").await.unwrap();
    let keys = storage.keys().await.unwrap();
    storage.delete("documents/a").await.unwrap();
    let after_delete = storage.get("documents/a").await.unwrap();
    let keys_after_delete = storage.keys().await.unwrap();

    assert_eq!(read.as_deref(), Some(&pdf[..]), "the file comes back byte for byte");
    assert_eq!(keys, ["documents/a", "documents/b"]);
    assert_eq!(after_delete, None);
    assert_eq!(keys_after_delete, ["documents/b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_key_reads_as_none_and_deletes_without_error_on_a_real_server() {
    let server = S3Server::start().await;
    let storage = Storage::s3(server.config()).unwrap();

    let read = storage.get("documents/never-stored").await;
    let deleted = storage.delete("documents/never-stored").await;
    let keys = storage.keys().await;

    assert_eq!(read.unwrap(), None);
    assert!(deleted.is_ok(), "{deleted:?}");
    assert!(keys.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_give_an_error_without_the_secret_in_it() {
    let server = S3Server::start().await;
    let wrong_secret = "not-the-secret-of-this-server";
    let storage = Storage::s3(S3Config { secret_access_key: wrong_secret.into(), ..server.config() }).unwrap();

    let put = storage.put("documents/a", b"%PDF-1.7".to_vec()).await;
    let get = storage.get("documents/a").await;
    let keys = storage.keys().await;

    for result in [put.map(|_| ()), get.map(|_| ()), keys.map(|_| ())] {
        let err = result.expect_err("a request signed with the wrong secret is refused");
        assert!(matches!(err, StorageError::Remote(_)), "{err}");
        assert!(!err.to_string().contains(wrong_secret), "{err}");
    }
    let honest = Storage::s3(server.config()).unwrap();
    assert!(honest.keys().await.unwrap().is_empty(), "nothing was stored");
}

/// The whole upload path on the S3 backend: what several servers use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_s3_backend_uploads_land_in_the_bucket_download_whole_and_refused_ones_leave_nothing() {
    let s3 = S3Server::start().await;
    let config = s3.config();
    let app = crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, |settings| {
        settings.storage.backend = passerelle_server::config::StorageBackend::S3;
        settings.storage.s3_endpoint = config.endpoint.clone();
        settings.storage.s3_bucket = config.bucket.clone();
        settings.storage.s3_access_key_id = config.access_key_id.clone();
        settings.storage.s3_secret_access_key = config.secret_access_key.as_str().into();
    })
    .await;
    let bucket = Storage::s3(s3.config()).unwrap();
    let (_, camille) = app.logged_in("camille@exemple.fr", "Camille Martin", app::account::Role::Beneficiary).await;
    let bytes = crate::helpers::pdf(200_000);

    let (status, id) = app.upload_as::<String>(&camille, "documents/upload", &[("category", "cv")], &[("file", "cv.pdf", bytes.clone())]).await;
    let refused = app.upload_as::<String>(&camille, "documents/upload", &[("category", "cv")], &[("file", "x.pdf", b"MZ".to_vec())]).await;
    let downloaded = camille.get(app.url(&format!("/fichiers/{}", id.unwrap()))).send().await.unwrap().bytes().await.unwrap();

    assert_eq!([status, refused.0], [200, 422]);
    assert_eq!(downloaded.to_vec(), bytes);
    assert_eq!(bucket.keys().await.unwrap().len(), 1, "one object, for the accepted upload only");
    assert!(app.stored_files().await.is_empty(), "nothing in the local folder");
    app.stop().await;
}
