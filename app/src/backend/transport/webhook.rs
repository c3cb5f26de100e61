//! Webhooks: a JSON POST signed with HMAC (`X-Wardline-Signature` over the timestamp and
//! body), sent by a client with no redirects, no proxy and a resolver that connects only to
//! addresses it has checked (`webhook_target`).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use time::OffsetDateTime;

use super::{Address, Message, Transport};
use crate::backend::tokens::mac;
use crate::domain::escalation::Channel;
use crate::error::AppError;

/// Posts to organisations' channel webhooks.
#[derive(Clone)]
pub struct Webhook {
    http: reqwest::Client,
    allow_private: bool,
}

impl Webhook {
    /// `allow_private` lets webhooks reach loopback and private addresses: local development
    /// only.
    pub fn new(allow_private: bool) -> Result<Webhook, AppError> {
        Ok(Webhook {
            http: webhook_client(allow_private)?,
            allow_private,
        })
    }
}

/// The client webhooks are posted with: no redirects, no proxy from the environment, and a
/// resolver that connects only to addresses it has checked.
fn webhook_client(allow_private: bool) -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .timeout(StdDuration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(crate::backend::webhook_target::CheckedResolver {
            allow_private,
        }))
        .build()
        .map_err(|e| crate::backend::errors::internal("http client", &e))
}

/// Signs a webhook body as a receiver would check it.
pub fn webhook_signature(secret: &str, timestamp: &str, body: &str) -> String {
    format!(
        "sha256={}",
        mac(secret.as_bytes(), &format!("{timestamp}.{body}"))
    )
}

#[async_trait::async_trait]
impl Transport for Webhook {
    fn channel(&self) -> Channel {
        Channel::Webhook
    }

    /// Posts to a webhook. What comes back is only a status class: the remote's answer is
    /// never written on the timeline.
    async fn send(&self, message: &Message) -> Result<String, String> {
        use crate::backend::webhook_target::{self as target, Refused};
        let Address::Webhook { url, sealed_secret } = &message.to else {
            return Err("not a webhook".into());
        };
        let url = reqwest::Url::parse(url).map_err(|_| "refused: not a URL".to_owned())?;
        // A literal address never reaches the resolver, so it is checked here.
        if let Some(ip) = url.host_str().and_then(target::literal)
            && !self.allow_private
            && !target::is_public(ip)
        {
            return Err(Refused::PrivateAddress.to_string());
        }
        let payload: serde_json::Value = serde_json::from_str(&message.body).unwrap_or_default();
        let body = payload.to_string();
        let ts = OffsetDateTime::now_utc().unix_timestamp();
        let secret = crate::backend::secrets::open(sealed_secret).map_err(|e| e.to_string())?;
        let signature = {
            use secrecy::ExposeSecret;
            mac(secret.expose_secret().as_bytes(), &format!("{ts}.{body}"))
        };
        let res = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header("X-Wardline-Timestamp", ts.to_string())
            .header("X-Wardline-Signature", format!("sha256={signature}"))
            .body(body)
            .send()
            .await
            .map_err(|e| {
                if let Some(refused) = target::refusal_in(&e) {
                    refused.to_string()
                } else if e.is_timeout() {
                    "the webhook timed out: no answer within 5 seconds".to_owned()
                } else {
                    "the webhook could not be reached".to_owned()
                }
            })?;
        let class = format!("webhook answered {}xx", res.status().as_u16() / 100);
        if res.status().is_success() {
            Ok(class)
        } else {
            Err(class)
        }
    }
}
