//! Integration tests: the real router on a real port, a real database (a temporary SQLite file,
//! or a fresh PostgreSQL database), and a real SMTP listener receiving what lettre sends.
//! One test binary; every database test runs on both backends (see `helpers::both_backends`).

mod helpers;

mod accounts;
mod audiences;
mod backup;
mod cross_site;
mod dashboard;
mod form_sweep;
mod health;
mod incidents;
mod mail;
mod mail_scanner;
mod metrics;
mod profile;
mod projects;
mod roles_and_forms;
mod s3;
mod scope;
mod sessions;
mod shell;
mod space;
mod startup;
mod timeouts;
mod two_servers;
