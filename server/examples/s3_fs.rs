//! An S3-compatible server on loopback for benchmarks (`bench/servers.py`): `s3s-fs` serving a
//! folder, with one access key, as the object-store tests run it in process
//! (`server/tests/api/s3.rs`). Not for production.
//!
//! cargo run --release -p server --example s3_fs -- ROOT PORT ACCESS_KEY SECRET_KEY
//! Creates the bucket `passerelle` under ROOT; prints "listening" once it accepts connections.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [root, port, access_key, secret_key] = args.as_slice() else {
        eprintln!("usage: s3_fs ROOT PORT ACCESS_KEY SECRET_KEY");
        std::process::exit(2);
    };
    std::fs::create_dir_all(std::path::Path::new(root).join("passerelle")).expect("the bucket's folder");
    let fs = s3s_fs::FileSystem::new(root).expect("s3s-fs on ROOT");
    let service = {
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(access_key.as_str(), secret_key.as_str()));
        builder.build()
    };
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await.expect("bind the S3 server");
    println!("listening");
    let http = ConnBuilder::new(TokioExecutor::new());
    while let Ok((socket, _)) = listener.accept().await {
        let connection = http.serve_connection(TokioIo::new(socket), service.clone()).into_owned();
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
}
