//! Every server function declares who may call it: its body goes through the guard of
//! `app/src/server.rs` with a named audience (`BENEFICIARY`, `STAFF`, `ADMIN`, `SIGNED_IN`, or
//! `serve_anyone`), and none checks a role by hand. A new endpoint without a declared audience
//! cannot land.
//!
//! Shown failing once: with the guard of `messages/thread` replaced by its former lines
//! (`let state = app_state(); let user = require_role(&[…])?; service::read(…)`), the test
//! answers "every server function declares who may call it: messages/thread: a role checked by
//! hand (require_role)"; without any check it would say "no declared audience (…)".

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The audiences a guard may name, and the guards that take none (anyone may call).
const AUDIENCES: [&str; 4] = ["BENEFICIARY", "STAFF", "ADMIN", "SIGNED_IN"];
const GUARDS: [&str; 3] = ["serve(", "serve_form(", "admitted("];
const OPEN_GUARDS: [&str; 2] = ["serve_anyone(", "serve_form_anyone("];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The audience a server function's body declares, or why it declares none.
fn audience_of(body: &str) -> Result<String, String> {
    if body.contains("require_role") {
        return Err("a role checked by hand (require_role)".into());
    }
    if OPEN_GUARDS.iter().any(|g| body.contains(g)) {
        return Ok("ANYONE".into());
    }
    for guard in GUARDS {
        for (at, _) in body.match_indices(guard) {
            let args = &body[at + guard.len()..];
            let first = args.split(',').next().unwrap_or_default().trim().trim_start_matches("crate::server::");
            if AUDIENCES.contains(&first) {
                return Ok(first.to_string());
            }
        }
    }
    Err("no declared audience (serve(AUDIENCE, …), serve_form(AUDIENCE, …), admitted(AUDIENCE, …), serve_anyone or serve_form_anyone)".into())
}

#[test]
fn every_server_function_declares_who_may_call_it() {
    // Arrange: the functions the server registered, and their sources.
    let registered: BTreeSet<String> =
        leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.trim_start_matches("/api/").to_string()).collect();
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src"), &mut files);

    // Act: each `#[server(endpoint = "…")]` function's body, up to the end of the function.
    let mut declared: BTreeMap<String, Result<String, String>> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for marker in ["#[server(endpoint = \"", "#[leptos::server(endpoint = \""] {
            // At the start of a line: not an example in a comment.
            for (at, _) in text.match_indices(marker).filter(|(at, _)| text[..*at].ends_with('\n')) {
                let rest = &text[at + marker.len()..];
                let endpoint = rest.split('"').next().unwrap().to_string();
                let end = rest.find("\n}\n").unwrap_or(rest.len());
                declared.insert(endpoint, audience_of(&rest[..end]));
            }
        }
    }

    // Assert
    let problems: Vec<String> = declared.iter().filter_map(|(endpoint, a)| a.as_ref().err().map(|why| format!("{endpoint}: {why}"))).collect();
    assert!(problems.is_empty(), "every server function declares who may call it:\n{}", problems.join("\n"));
    let unread: Vec<&String> = registered.iter().filter(|path| !declared.contains_key(*path)).collect();
    assert!(unread.is_empty(), "registered server functions not declared with #[server(endpoint = …)] in app/src: {unread:?}");
    assert!(registered.len() >= 58, "the registry lists every server function ({} found)", registered.len());
}
