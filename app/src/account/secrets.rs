//! Keys derived from the one secret of the settings (`security.secret_key`): NIR encryption,
//! the NIR's keyed hash (uniqueness without storing it in clear), and signatures (robot-check
//! challenges, registration tickets).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::domain::Nir;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct Secrets {
    nir_cipher: [u8; 32],
    nir_hash: [u8; 32],
    signing: [u8; 32],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(…)")
    }
}

fn derive(master: &[u8], label: &str) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(master).expect("HMAC takes any key length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Secrets {
    pub fn from_master(master: &[u8]) -> Secrets {
        Secrets {
            nir_cipher: derive(master, "passerelle nir encryption v1"),
            nir_hash: derive(master, "passerelle nir hash v1"),
            signing: derive(master, "passerelle signing v1"),
        }
    }

    /// AES-256-GCM with a random nonce; base64 of nonce ‖ ciphertext.
    pub fn encrypt_nir(&self, nir: &Nir) -> String {
        let cipher = Aes256Gcm::new_from_slice(&self.nir_cipher).expect("32-byte key");
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher.encrypt(Nonce::from_slice(&nonce), nir.as_str().as_bytes()).expect("encrypting a short text cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        STANDARD.encode(out)
    }

    pub fn decrypt_nir(&self, stored: &str) -> Option<Nir> {
        let bytes = STANDARD.decode(stored).ok()?;
        if bytes.len() < 13 {
            return None;
        }
        let cipher = Aes256Gcm::new_from_slice(&self.nir_cipher).ok()?;
        let plain = cipher.decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..]).ok()?;
        Nir::parse(std::str::from_utf8(&plain).ok()?).ok()
    }

    /// Same NIR, same hash; without the key, the hash reveals nothing.
    pub fn nir_hash(&self, nir: &Nir) -> String {
        self.sign_with(&self.nir_hash, nir.as_str())
    }

    /// An HMAC-SHA256 signature (hex) of `data`.
    pub fn sign(&self, data: &str) -> String {
        self.sign_with(&self.signing, data)
    }

    /// Checks a signature in constant time.
    pub fn verify(&self, data: &str, signature: &str) -> bool {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.signing).expect("any key length");
        mac.update(data.as_bytes());
        let Some(expected) = decode_hex(signature) else { return false };
        mac.verify_slice(&expected).is_ok()
    }

    fn sign_with(&self, key: &[u8], data: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("any key length");
        mac.update(data.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nir() -> Nir {
        let first13 = "175022A123045";
        let n: u64 = first13.replace("2A", "19").parse().unwrap();
        Nir::parse(&format!("{first13}{:02}", 97 - n % 97)).unwrap()
    }

    #[test]
    fn a_nir_round_trips_through_encryption_and_is_never_stored_in_clear() {
        let secrets = Secrets::from_master(b"test master key of sufficient length");
        let sealed = secrets.encrypt_nir(&nir());
        assert!(!sealed.contains("123045"));
        assert_ne!(sealed, secrets.encrypt_nir(&nir()), "a fresh nonce each time");
        assert_eq!(secrets.decrypt_nir(&sealed), Some(nir()));
        assert_eq!(Secrets::from_master(b"another key").decrypt_nir(&sealed), None);
    }

    #[test]
    fn the_nir_hash_is_stable_and_depends_on_the_key() {
        let a = Secrets::from_master(b"key one");
        assert_eq!(a.nir_hash(&nir()), a.nir_hash(&nir()));
        assert_ne!(a.nir_hash(&nir()), Secrets::from_master(b"key two").nir_hash(&nir()));
    }

    #[test]
    fn signatures_verify_only_for_their_data() {
        let s = Secrets::from_master(b"key");
        let sig = s.sign("user-1");
        assert!(s.verify("user-1", &sig));
        assert!(!s.verify("user-2", &sig));
        assert!(!s.verify("user-1", "zz"));
    }
}
