//! Delivers the outbox. Each worker claims due emails (several servers never claim the same
//! row), sends them through lettre's SMTP transport, and records the outcome; a failure is
//! retried later with exponential backoff, so an email queued while the mail server is down
//! goes out once it is back.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::watch;

use app::db::{now_ms, Db};
use app::mail::outbox::{self, QueuedEmail};

use crate::config::{lettre_mailbox, MailTransport, Settings, SmtpTls};

const BATCH: i64 = 20;

enum Transport {
    /// Development mailbox: the email stays in the table, marked sent, shown at /dev/mailbox.
    Mailbox,
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

pub struct MailWorker {
    db: Db,
    transport: Transport,
    from: Mailbox,
    poll: Duration,
    retry_base: Duration,
    retry_max: Duration,
    max_attempts: u32,
    /// How long a claimed email belongs to its worker before another may take it over
    /// (`mail.claim_ms`); extended while it is being sent.
    claim: Duration,
}

impl MailWorker {
    pub fn new(db: Db, settings: &Settings) -> Result<MailWorker, String> {
        let mail = &settings.mail;
        let transport = match mail.transport {
            MailTransport::Mailbox => Transport::Mailbox,
            MailTransport::Smtp => {
                let builder = match mail.smtp_tls {
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&mail.smtp_host),
                    SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&mail.smtp_host)
                        .map_err(|e| format!("invalid setting mail.smtp_host: {e}"))?,
                    SmtpTls::Tls => {
                        AsyncSmtpTransport::<Tokio1Executor>::relay(&mail.smtp_host).map_err(|e| format!("invalid setting mail.smtp_host: {e}"))?
                    }
                };
                let mut builder = builder.port(mail.smtp_port).timeout(Some(Duration::from_secs(15)));
                if !mail.smtp_username.is_empty() {
                    builder = builder.credentials(Credentials::new(mail.smtp_username.clone(), mail.smtp_password.expose().to_string()));
                }
                Transport::Smtp(builder.build())
            }
        };
        Ok(MailWorker {
            db,
            transport,
            from: lettre_mailbox(&mail.from).ok_or("invalid setting mail.from")?,
            poll: mail.poll_interval,
            retry_base: mail.retry_base,
            retry_max: mail.retry_max,
            max_attempts: mail.max_attempts,
            claim: mail.claim,
        })
    }

    /// Runs until `shutdown` turns true; an email being sent when it does is finished first,
    /// and the rest of its batch is given back at once for other workers.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let sent_some = match outbox::claim_due(&self.db, BATCH, self.lease_ms()).await {
                Ok(claim) => {
                    let any = !claim.emails.is_empty();
                    for email in claim.emails {
                        if *shutdown.borrow() {
                            break;
                        }
                        self.deliver(email, &claim.token).await;
                    }
                    if let Err(e) = outbox::release(&self.db, &claim.token).await {
                        tracing::warn!(error = %e, "mail worker: cannot give back the rest of a claim (it expires by itself)");
                    }
                    any
                }
                Err(e) => {
                    tracing::warn!(error = %e, "mail worker: cannot read the outbox");
                    false
                }
            };
            if !sent_some {
                tokio::select! {
                    _ = tokio::time::sleep(self.poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.claim.as_millis()).unwrap_or(i64::MAX)
    }

    /// Sends one email of a claim: only if the claim still holds it (extended to a full lease
    /// first), extending it every third of a lease while the SMTP server takes its time, so
    /// that no other worker can take it over mid-send.
    async fn deliver(&self, email: QueuedEmail, token: &str) {
        let attempts = match outbox::extend(&self.db, &email.id, token, self.lease_ms(), true).await {
            Ok(Some(attempts)) => attempts,
            Ok(None) => {
                tracing::info!(email_id = %email.id, "mail worker: claim taken over by another worker; not sending");
                return;
            }
            Err(e) => {
                tracing::warn!(email_id = %email.id, error = %e, "mail worker: cannot extend a claim; not sending");
                return;
            }
        };
        let send = async {
            match &self.transport {
                Transport::Mailbox => Ok(()),
                Transport::Smtp(smtp) => match self.message(&email) {
                    Ok(message) => smtp.send(message).await.map(|_| ()).map_err(|e| (e.to_string(), !e.is_permanent())),
                    Err(e) => Err((e, false)),
                },
            }
        };
        tokio::pin!(send);
        let outcome = loop {
            tokio::select! {
                outcome = &mut send => break outcome,
                _ = tokio::time::sleep(self.claim / 3) => {
                    if let Err(e) = outbox::extend(&self.db, &email.id, token, self.lease_ms(), false).await {
                        tracing::warn!(email_id = %email.id, error = %e, "mail worker: cannot extend a claim while sending");
                    }
                }
            }
        };
        let recorded = match outcome {
            Ok(()) => outbox::mark_sent(&self.db, &email.id, token).await,
            Err((error, retryable)) => {
                let retry_at = (retryable && attempts < i64::from(self.max_attempts)).then(|| now_ms() + self.backoff_ms(attempts));
                tracing::warn!(email_id = %email.id, attempts, %error,
                    will_retry = retry_at.is_some(), "mail worker: delivery failed");
                outbox::mark_attempt_failed(&self.db, &email.id, token, &error, retry_at).await
            }
        };
        match recorded {
            Ok(true) => {}
            Ok(false) => tracing::warn!(email_id = %email.id, "mail worker: the claim was lost while sending; outcome not recorded"),
            Err(e) => tracing::error!(email_id = %email.id, error = %e, "mail worker: cannot record the outcome"),
        }
    }

    fn backoff_ms(&self, attempts: i64) -> i64 {
        let exponent = attempts.clamp(1, 30) as u32 - 1;
        let delay = self.retry_base.saturating_mul(1u32 << exponent.min(31)).min(self.retry_max);
        i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)
    }

    fn message(&self, email: &QueuedEmail) -> Result<Message, String> {
        let to: Mailbox = email.to.parse().map_err(|e| format!("invalid recipient address: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))
            .map_err(|e| format!("cannot build the message: {e}"))
    }
}
