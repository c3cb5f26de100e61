//! Transports: each channel that leaves Wardline (email, webhook; SMS next) lives in its own
//! file behind [`Transport`]. [`Delivery`] holds one of each, configured at start-up; the
//! engine addresses each outbox row and hands it to the transport for its channel.

pub mod email;
pub mod webhook;

pub use email::{Email, MailSettings};
pub use webhook::{Webhook, webhook_signature};

use crate::domain::escalation::Channel;
use crate::error::AppError;

/// Where a message goes.
pub enum Address {
    /// An email address.
    Email(String),
    /// A webhook's URL and its signing secret, sealed as stored.
    Webhook { url: String, sealed_secret: String },
}

/// One notification, addressed and ready to send.
pub struct Message {
    pub to: Address,
    pub title: String,
    pub body: String,
}

/// A channel that leaves Wardline. `send` answers in words fit for the incident timeline
/// (never the remote's own answer): `Ok` when the message was handed over, `Err` when not,
/// and the engine tries again later.
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    /// The outbox channel this transport sends.
    fn channel(&self) -> Channel;

    async fn send(&self, message: &Message) -> Result<String, String>;
}

/// Sends what the outbox holds: email through SMTP, webhooks as signed JSON POSTs.
#[derive(Clone)]
pub struct Delivery {
    email: Email,
    webhook: Webhook,
    public_url: String,
}

impl Delivery {
    pub fn new(mail: &MailSettings, public_url: &str) -> Result<Delivery, AppError> {
        Ok(Delivery {
            email: Email::new(mail)?,
            webhook: Webhook::new(false)?,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Lets webhooks reach loopback and private addresses: local development only.
    pub fn allowing_private_webhooks(mut self, allow: bool) -> Result<Delivery, AppError> {
        self.webhook = Webhook::new(allow)?;
        Ok(self)
    }

    pub fn email_enabled(&self) -> bool {
        self.email.enabled()
    }

    /// Where Wardline is reached, for links in messages (no trailing slash).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The transport that sends `channel`; none for the inbox, which is written delivered.
    pub fn transport(&self, channel: Channel) -> Option<&dyn Transport> {
        let found: &dyn Transport = match channel {
            Channel::Inbox => return None,
            Channel::Email => &self.email,
            Channel::Webhook => &self.webhook,
        };
        debug_assert_eq!(found.channel(), channel);
        Some(found)
    }
}
