//! "Je ne suis pas un robot", without any third party.
//!
//! With JavaScript: an ALTCHA-compatible proof of work. The server issues a signed challenge
//! (`SHA-256(salt ‖ n) = challenge` for a secret n below `maxnumber`); the browser finds n when
//! the box is ticked; the server checks the answer, the signature and the expiry, and accepts
//! each challenge once. Without JavaScript: a short arithmetic question written in words,
//! signed the same way and also accepted once — readable by screen readers, no image.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What the server sends (the ALTCHA challenge format).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub algorithm: String,
    pub challenge: String,
    pub maxnumber: u64,
    pub salt: String,
    pub signature: String,
}

/// What the browser sends back, base64-encoded JSON (the ALTCHA payload format).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Solution {
    pub algorithm: String,
    pub challenge: String,
    pub number: u64,
    pub salt: String,
    pub signature: String,
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// How many numbers the browser tries before it lets the page breathe: about 12 ms on a desktop
/// (Chromium, `bench/robot.spec.mjs`), a few times more on a phone.
pub const SOLVE_SLICE: u64 = 25_000;

/// Tries the numbers `from..to` (below `maxnumber`): the solution if one of them is it. The
/// browser calls it slice by slice ([`SOLVE_SLICE`]), pausing between slices, so the page stays
/// responsive for the second or so the search takes on a phone.
pub fn solve_range(challenge: &Challenge, from: u64, to: u64) -> Option<Solution> {
    let target: Vec<u8> =
        (0..challenge.challenge.len() / 2).filter_map(|i| u8::from_str_radix(challenge.challenge.get(2 * i..2 * i + 2)?, 16).ok()).collect();
    let mut buffer = challenge.salt.clone().into_bytes();
    let salt_len = buffer.len();
    let number = (from..to.min(challenge.maxnumber.saturating_add(1))).find(|n| {
        buffer.truncate(salt_len);
        buffer.extend_from_slice(n.to_string().as_bytes());
        Sha256::digest(&buffer).as_slice() == target.as_slice()
    })?;
    Some(Solution {
        algorithm: challenge.algorithm.clone(),
        challenge: challenge.challenge.clone(),
        number,
        salt: challenge.salt.clone(),
        signature: challenge.signature.clone(),
    })
}

/// Finds the number at once (tests, and callers that may block).
pub fn solve(challenge: &Challenge) -> Option<Solution> {
    solve_range(challenge, 0, u64::MAX)
}

/// The text question shown when JavaScript is off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub text: String,
    /// Signed expiry and nonce, sent back in a hidden field with the answer.
    pub token: String,
}

/// A fresh proof-of-work challenge (asked when the box is ticked).
#[leptos::server(endpoint = "robot/challenge")]
pub async fn robot_challenge() -> Result<Challenge, crate::error::AppError> {
    crate::server::serve_anyone(|state| async move {
        let network = crate::account::client_network().unwrap_or_else(|| "unknown".into());
        Ok(new_challenge(&state.config.secrets, difficulty(&state, &network).await?))
    })
    .await
}

/// A fresh text question (shown when JavaScript is off).
#[leptos::server(endpoint = "robot/question")]
pub async fn robot_question() -> Result<Question, crate::error::AppError> {
    crate::server::serve_anyone(|state| async move { Ok(new_question(&state.config.secrets)) }).await
}

/// The payload sent with the form, as ALTCHA encodes it: base64 of the JSON solution.
pub fn encode_solution(solution: &Solution) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(solution).unwrap_or_default())
}

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use base64::{engine::general_purpose::STANDARD, Engine};
    use rand::Rng;

    use super::*;
    use crate::account::secrets::Secrets;
    use crate::db::{now_ms, Db};

    const LIFETIME_MS: i64 = 20 * 60 * 1000;

    #[derive(Debug, PartialEq, Eq)]
    pub enum RobotProblem {
        /// Nothing sent, malformed, wrong answer or forged.
        Failed,
        Expired,
        /// Already used once.
        Replayed,
    }

    /// A challenge whose secret number is below `maxnumber` (the work is proportional to it).
    pub fn new_challenge(secrets: &Secrets, maxnumber: u64) -> Challenge {
        let mut rng = rand::thread_rng();
        let expires = (now_ms() + LIFETIME_MS) / 1000;
        let salt = format!("{:024x}?expires={expires}", rng.gen::<u128>() & ((1u128 << 96) - 1));
        let maxnumber = maxnumber.max(1);
        let number = rng.gen_range(0..maxnumber);
        let challenge = sha256_hex(&format!("{salt}{number}"));
        Challenge { algorithm: "SHA-256".into(), signature: secrets.sign(&challenge), challenge, maxnumber, salt }
    }

    /// How much work the next challenge asks of this network: `accounts.robot_difficulty`,
    /// four times more while the network has used half its registrations of the hour, and four
    /// times more again while the whole service registers more than
    /// `accounts.registrations_per_hour_normal` an hour.
    pub async fn difficulty(state: &crate::state::AppState, network: &str) -> Result<u64, sqlx::Error> {
        let hour_ago = now_ms() - 3_600_000;
        let from_network: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rate_events WHERE bucket = $1 AND at > $2")
            .bind(format!("register-ip:{network}"))
            .bind(hour_ago)
            .fetch_one(state.db.pool())
            .await?;
        let everywhere: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'beneficiary' AND created_at > $1")
            .bind(hour_ago)
            .fetch_one(state.db.pool())
            .await?;
        let mut maxnumber = state.config.robot_difficulty;
        if from_network * 2 >= state.config.registrations_per_ip_per_hour {
            maxnumber = maxnumber.saturating_mul(4);
        }
        if everywhere >= state.config.registrations_per_hour_normal {
            maxnumber = maxnumber.saturating_mul(4);
        }
        Ok(maxnumber)
    }

    fn expiry_of_salt(salt: &str) -> Option<i64> {
        salt.split_once("?expires=")?.1.split('&').next()?.parse::<i64>().ok().map(|s| s * 1000)
    }

    /// Marks a challenge used; false when it already was.
    async fn use_once(db: &Db, key: &str) -> Result<bool, sqlx::Error> {
        let now = now_ms();
        sqlx::query("DELETE FROM used_challenges WHERE used_at < $1").bind(now - 2 * LIFETIME_MS).execute(db.pool()).await?;
        let inserted = sqlx::query("INSERT INTO used_challenges (challenge_hash, used_at) VALUES ($1, $2)")
            .bind(sha256_hex(key))
            .bind(now)
            .execute(db.pool())
            .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Checks a proof-of-work payload (base64 JSON) and consumes its challenge.
    pub async fn verify_solution(db: &Db, secrets: &Secrets, payload: &str) -> Result<Result<(), RobotProblem>, sqlx::Error> {
        let Some(solution) = STANDARD.decode(payload.trim()).ok().and_then(|bytes| serde_json::from_slice::<Solution>(&bytes).ok()) else {
            return Ok(Err(RobotProblem::Failed));
        };
        let genuine = solution.algorithm == "SHA-256"
            && secrets.verify(&solution.challenge, &solution.signature)
            && sha256_hex(&format!("{}{}", solution.salt, solution.number)) == solution.challenge;
        if !genuine {
            return Ok(Err(RobotProblem::Failed));
        }
        match expiry_of_salt(&solution.salt) {
            Some(expires) if expires > now_ms() => {}
            _ => return Ok(Err(RobotProblem::Expired)),
        }
        Ok(if use_once(db, &solution.challenge).await? { Ok(()) } else { Err(RobotProblem::Replayed) })
    }

    const NUMBERS: [&str; 10] = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"];

    pub fn new_question(secrets: &Secrets) -> Question {
        let mut rng = rand::thread_rng();
        let (a, b) = (rng.gen_range(1..10usize), rng.gen_range(1..10usize));
        let expires = now_ms() + LIFETIME_MS;
        let nonce = format!("{:016x}", rng.gen::<u64>());
        let signature = secrets.sign(&format!("robot-question:{}:{expires}:{nonce}", a + b));
        Question {
            text: format!("Combien font {} plus {} ? Répondez en chiffres.", NUMBERS[a], NUMBERS[b]),
            token: format!("{expires}.{nonce}.{signature}"),
        }
    }

    /// Checks the answer to the text question and consumes the question.
    pub async fn verify_answer(db: &Db, secrets: &Secrets, token: &str, answer: &str) -> Result<Result<(), RobotProblem>, sqlx::Error> {
        let parts: Vec<&str> = token.split('.').collect();
        let [expires, nonce, signature] = parts.as_slice() else { return Ok(Err(RobotProblem::Failed)) };
        let Ok(answer) = answer.trim().parse::<u32>() else { return Ok(Err(RobotProblem::Failed)) };
        if !secrets.verify(&format!("robot-question:{answer}:{expires}:{nonce}"), signature) {
            return Ok(Err(RobotProblem::Failed));
        }
        if expires.parse::<i64>().map_or(true, |e| e <= now_ms()) {
            return Ok(Err(RobotProblem::Expired));
        }
        Ok(if use_once(db, token).await? { Ok(()) } else { Err(RobotProblem::Replayed) })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_challenge_is_solvable_and_its_solution_checks_out() {
            let secrets = Secrets::from_master(b"k");
            let challenge = new_challenge(&secrets, 50_000);
            let solution = solve(&challenge).expect("solvable");
            assert_eq!(solution, solve_range(&challenge, solution.number, solution.number + 1).unwrap(), "found slice by slice too");
            assert!(solve_range(&challenge, solution.number + 1, 50_001).is_none());
            assert_eq!(sha256_hex(&format!("{}{}", solution.salt, solution.number)), challenge.challenge);
            assert!(secrets.verify(&solution.challenge, &solution.signature));
            assert!(expiry_of_salt(&solution.salt).unwrap() > now_ms());
        }
    }
}
