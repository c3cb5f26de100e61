//! Email through SMTP (lettre), off when no host is configured.

use std::time::Duration as StdDuration;

use super::{Address, Message, Transport};
use crate::domain::escalation::Channel;
use crate::error::AppError;

/// SMTP settings. Email is off when there is no host. The password never prints.
#[derive(Clone, Default)]
pub struct MailSettings {
    pub host: Option<String>,
    pub port: u16,
    pub from: String,
    /// none, starttls or tls
    pub security: String,
    pub username: Option<String>,
    pub password: Option<secrecy::SecretString>,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "(hidden)"))
            .finish()
    }
}

/// Sends email through the configured SMTP server.
#[derive(Clone)]
pub struct Email {
    mail: Option<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>>,
    from: String,
}

impl Email {
    pub fn new(mail: &MailSettings) -> Result<Email, AppError> {
        use lettre::AsyncSmtpTransport;
        let internal =
            |e: lettre::transport::smtp::Error| crate::backend::errors::internal("smtp", &e);
        let transport = match &mail.host {
            None => None,
            Some(host) => {
                let mut b = match mail.security.as_str() {
                    "tls" => AsyncSmtpTransport::<lettre::Tokio1Executor>::relay(host)
                        .map_err(internal)?,
                    "starttls" => {
                        AsyncSmtpTransport::<lettre::Tokio1Executor>::starttls_relay(host)
                            .map_err(internal)?
                    }
                    _ => AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(host),
                };
                b = b.port(mail.port).timeout(Some(StdDuration::from_secs(10)));
                if let (Some(u), Some(p)) = (&mail.username, &mail.password) {
                    b = b.credentials(lettre::transport::smtp::authentication::Credentials::new(
                        u.clone(),
                        secrecy::ExposeSecret::expose_secret(p).to_owned(),
                    ));
                }
                Some(b.build())
            }
        };
        Ok(Email {
            mail: transport,
            from: mail.from.clone(),
        })
    }

    pub fn enabled(&self) -> bool {
        self.mail.is_some()
    }
}

#[async_trait::async_trait]
impl Transport for Email {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    async fn send(&self, message: &Message) -> Result<String, String> {
        use lettre::AsyncTransport;
        let Address::Email(to) = &message.to else {
            return Err("not an email address".into());
        };
        let Some(mail) = &self.mail else {
            return Err("email is not configured".into());
        };
        let email = lettre::Message::builder()
            .from(
                self.from
                    .parse()
                    .map_err(|e| format!("sender address: {e}"))?,
            )
            .to(to.parse().map_err(|e| format!("recipient address: {e}"))?)
            .subject(&message.title)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| e.to_string())?;
        mail.send(email)
            .await
            .map(|r| format!("accepted by the mail server ({})", r.code()))
            .map_err(|e| format!("mail server refused or unreachable: {e}"))
    }
}
