//! A registration ticket: proof, kept by the page after registering, that this browser
//! registered account X in the last 24 hours. It allows resending the activation link or
//! correcting the address (with the password), and nothing else. A ticket of another scope
//! (`terms`: the password was right, the new CGU remain to be accepted) is not interchangeable.

use crate::account::secrets::Secrets;
use crate::db::now_ms;

const LIFETIME_MS: i64 = 24 * 3600 * 1000;

pub fn issue(secrets: &Secrets, user_id: &str) -> String {
    issue_scoped(secrets, "ticket", user_id, LIFETIME_MS)
}

/// The account a ticket names, if it is genuine and not expired.
pub fn verify(secrets: &Secrets, ticket: &str) -> Option<String> {
    verify_scoped(secrets, "ticket", ticket)
}

fn issue_scoped(secrets: &Secrets, scope: &str, user_id: &str, lifetime_ms: i64) -> String {
    let expires = now_ms() + lifetime_ms;
    let signature = secrets.sign(&format!("{scope}:{user_id}:{expires}"));
    format!("{user_id}.{expires}.{signature}")
}

fn verify_scoped(secrets: &Secrets, scope: &str, ticket: &str) -> Option<String> {
    let mut parts = ticket.split('.');
    let (user_id, expires, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || expires.parse::<i64>().ok()? <= now_ms() {
        return None;
    }
    secrets.verify(&format!("{scope}:{user_id}:{expires}"), signature).then(|| user_id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_names_its_account_and_cannot_be_forged() {
        let secrets = Secrets::from_master(b"k");
        let ticket = issue(&secrets, "user-1");
        assert_eq!(verify(&secrets, &ticket).as_deref(), Some("user-1"));
        assert_eq!(verify(&secrets, &ticket.replace("user-1", "user-2")), None);
        assert_eq!(verify(&Secrets::from_master(b"other"), &ticket), None);
        assert_eq!(verify(&secrets, "garbage"), None);
    }
}
