//! Transports: each channel that leaves Wardline (email, webhook, text message) lives in its own
//! file behind [`Transport`]. [`Delivery`] holds one of each, configured at start-up; the
//! engine addresses each outbox row and hands it to the transport for its channel.

pub mod email;
pub mod sms;
pub mod webhook;

pub use email::{Email, MailSettings};
pub use sms::{NotifySettings, Sms};
pub use webhook::{Webhook, webhook_signature};

use crate::domain::escalation::Channel;
use crate::error::AppError;

/// Where a message goes.
pub enum Address {
    /// An email address.
    Email(String),
    /// A webhook's URL and its signing secret, sealed as stored.
    Webhook { url: String, sealed_secret: String },
    /// A verified mobile number (`+447…`) and the reference Notify's receipts will name.
    Sms { phone: String, reference: String },
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

/// Sends what the outbox holds: email through SMTP, webhooks as signed JSON POSTs, text
/// messages through GOV.UK Notify (when it is connected).
#[derive(Clone)]
pub struct Delivery {
    email: Email,
    webhook: Webhook,
    sms: Option<Sms>,
    public_url: String,
}

impl Delivery {
    pub fn new(mail: &MailSettings, public_url: &str) -> Result<Delivery, AppError> {
        Ok(Delivery {
            email: Email::new(mail)?,
            webhook: Webhook::new(false)?,
            sms: None,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Lets webhooks reach loopback and private addresses: local development only.
    pub fn allowing_private_webhooks(mut self, allow: bool) -> Result<Delivery, AppError> {
        self.webhook = Webhook::new(allow)?;
        Ok(self)
    }

    /// Sends text messages through GOV.UK Notify; without it, nobody is paged by text.
    pub fn with_sms(mut self, sms: Option<Sms>) -> Delivery {
        self.sms = sms;
        self
    }

    pub fn sms_enabled(&self) -> bool {
        self.sms.is_some()
    }

    pub fn email_enabled(&self) -> bool {
        self.email.enabled()
    }

    /// Where Wardline is reached, for links in messages (no trailing slash).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The transport that sends `channel`; none for the inbox, which is written delivered.
    /// A person's Teams page is a post to their organisation's channel: the webhook
    /// transport carries it.
    pub fn transport(&self, channel: Channel) -> Option<&dyn Transport> {
        let found: &dyn Transport = match channel {
            Channel::Inbox => return None,
            Channel::Email => &self.email,
            Channel::Webhook | Channel::Teams => &self.webhook,
            Channel::Sms => self.sms.as_ref()?,
        };
        debug_assert!(
            found.channel() == channel
                || (channel == Channel::Teams && found.channel() == Channel::Webhook)
        );
        Some(found)
    }
}
