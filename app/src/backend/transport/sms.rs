//! Text messages through GOV.UK Notify: `POST {base}/v2/notifications/sms` with the phone
//! number, the template id, its personalisation (`message`) and Wardline's own reference,
//! authenticated by a JWT (HS256, `iss` the service id, `iat` now) signed with the secret
//! half of the API key. The key's format is `{key_name}-{service_id}-{secret_key}`, both
//! ids 36 characters.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use secrecy::{ExposeSecret, SecretString};

use super::{Address, Message, Transport};
use crate::domain::escalation::Channel;
use crate::error::AppError;

/// Where Notify is and which key and template Wardline uses. The key never prints.
#[derive(Clone)]
pub struct NotifySettings {
    pub api_key: SecretString,
    /// `https://api.notifications.service.gov.uk`, or a local stand-in.
    pub base_url: String,
    /// The text message template, whose whole content is `((message))`.
    pub sms_template_id: String,
}

impl std::fmt::Debug for NotifySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifySettings")
            .field("api_key", &"[REDACTED]")
            .field("base_url", &self.base_url)
            .field("sms_template_id", &self.sms_template_id)
            .finish()
    }
}

/// The two halves of a Notify API key Wardline uses.
pub struct NotifyKey {
    pub service_id: String,
    secret: SecretString,
}

impl NotifyKey {
    /// Reads `{key_name}-{service_id(36)}-{secret_key(36)}`. The answer never repeats the key.
    pub fn parse(key: &str) -> Result<NotifyKey, String> {
        let key = key.trim();
        let n = key.len();
        let wrong =
            || "not a GOV.UK Notify API key ({key_name}-{service_id}-{secret_key})".to_owned();
        if n < 36 + 1 + 36 + 2 || !key.is_ascii() {
            return Err(wrong());
        }
        let (name_and_service, secret) = key.split_at(n - 36);
        let Some(name_and_service) = name_and_service.strip_suffix('-') else {
            return Err(wrong());
        };
        let m = name_and_service.len();
        let (name, service) = name_and_service.split_at(m - 36);
        if !name.ends_with('-') || name.len() < 2 {
            return Err(wrong());
        }
        let uuid_like =
            |s: &str| s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if !uuid_like(service) || !uuid_like(secret) {
            return Err(wrong());
        }
        Ok(NotifyKey {
            service_id: service.to_owned(),
            secret: SecretString::from(secret.to_owned()),
        })
    }
}

/// What Notify's JWT carries.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct NotifyClaims {
    pub iss: String,
    pub iat: i64,
}

/// Sends text messages through GOV.UK Notify.
#[derive(Clone)]
pub struct Sms {
    http: reqwest::Client,
    /// How long Notify has to answer one request before the attempt counts as failed.
    timeout: StdDuration,
    base_url: String,
    template_id: String,
    key: Arc<NotifyKey>,
}

/// A text Notify accepted: its own id for it.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub provider_id: Option<String>,
}

impl Sms {
    pub fn new(settings: &NotifySettings) -> Result<Sms, AppError> {
        let key = NotifyKey::parse(settings.api_key.expose_secret())
            .map_err(|e| crate::backend::errors::internal("notify key", &e))?;
        let timeout = StdDuration::from_secs(10);
        Ok(Sms {
            http: client(timeout)?,
            timeout,
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            template_id: settings.sms_template_id.clone(),
            key: Arc::new(key),
        })
    }

    /// The same, giving Notify `timeout` to answer each request (10 seconds unless changed;
    /// tests of an unresponsive Notify shorten it).
    pub fn with_timeout(self, timeout: StdDuration) -> Result<Sms, AppError> {
        Ok(Sms {
            http: client(timeout)?,
            timeout,
            ..self
        })
    }

    /// The bearer token for a request made at `now` (seconds since the epoch).
    pub fn token(&self, now: i64) -> Result<String, String> {
        use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
        let claims = NotifyClaims {
            iss: self.key.service_id.clone(),
            iat: now,
        };
        let failed = |_| "the Notify token could not be made".to_owned();
        let key =
            EncodingKey::from_secret(self.key.secret.expose_secret().as_bytes()).map_err(failed)?;
        encode(&Header::new(Algorithm::HS256), &claims, &key).map_err(failed)
    }

    /// Sends `text` to `phone` under Wardline's `reference`. `Err` in words for the timeline:
    /// never Notify's own answer, which may echo the number.
    pub async fn send_text(
        &self,
        phone: &str,
        text: &str,
        reference: &str,
    ) -> Result<Accepted, String> {
        let token = self.token(time::OffsetDateTime::now_utc().unix_timestamp())?;
        let body = serde_json::json!({
            "phone_number": phone,
            "template_id": self.template_id,
            "personalisation": { "message": text },
            "reference": reference,
        });
        let res = self
            .http
            .post(format!("{}/v2/notifications/sms", self.base_url))
            .bearer_auth(token)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    format!(
                        "GOV.UK Notify timed out: no answer within {}",
                        spoken(self.timeout)
                    )
                } else {
                    "GOV.UK Notify could not be reached".to_owned()
                }
            })?;
        let status = res.status();
        if status.is_success() {
            let provider_id = res
                .text()
                .await
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v["id"].as_str().map(str::to_owned));
            Ok(Accepted { provider_id })
        } else {
            Err(format!("GOV.UK Notify answered {}", status.as_u16()))
        }
    }
}

/// "10 seconds", or "300 ms" for a timeout that is not whole seconds.
fn spoken(d: StdDuration) -> String {
    match d.as_millis() {
        ms if ms % 1000 == 0 => format!("{} seconds", ms / 1000),
        ms => format!("{ms} ms"),
    }
}

fn client(timeout: StdDuration) -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| crate::backend::errors::internal("http client", &e))
}

/// A text message carries the title and the body, cut to what three text fragments hold.
pub fn text_of(title: &str, body: &str) -> String {
    let text = format!("{title}\n{body}");
    if text.chars().count() <= 459 {
        text
    } else {
        let mut cut: String = text.chars().take(456).collect();
        cut.push_str("...");
        cut
    }
}

#[async_trait::async_trait]
impl Transport for Sms {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(&self, message: &Message) -> Result<String, String> {
        let Address::Sms { phone, reference } = &message.to else {
            return Err("not a mobile number".into());
        };
        self.send_text(phone, &text_of(&message.title, &message.body), reference)
            .await
            .map(|_| "accepted by GOV.UK Notify".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = "26785a09-ab16-4eb0-8407-a37497a57506";
    const SECRET: &str = "3d844edf-8d35-48ac-975b-e847b4f122b0";

    #[test]
    fn a_notify_key_splits_into_service_id_and_secret() {
        let key = NotifyKey::parse(&format!("wardline_live-{SERVICE}-{SECRET}")).unwrap();
        assert_eq!(key.service_id, SERVICE);
        assert_eq!(key.secret.expose_secret(), SECRET);
        // Key names may hold dashes of their own.
        let key = NotifyKey::parse(&format!("my-test-key-{SERVICE}-{SECRET}\n")).unwrap();
        assert_eq!(key.service_id, SERVICE);
    }

    #[test]
    fn malformed_keys_are_refused_without_being_repeated() {
        for bad in [
            "",
            SECRET,
            &format!("{SERVICE}-{SECRET}"),
            &format!("name-{SERVICE}{SECRET}"),
            &format!("name-{SERVICE}-{}", &SECRET[1..]),
            &format!("name-{SERVICE}-zz844edf-8d35-48ac-975b-e847b4f122b0"),
        ] {
            let err = NotifyKey::parse(bad).err().expect(bad);
            assert!(!err.contains(SECRET), "{err}");
        }
    }

    #[test]
    fn the_token_is_hs256_with_the_service_as_issuer_signed_with_the_secret() {
        use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
        let sms = Sms::new(&NotifySettings {
            api_key: format!("k-{SERVICE}-{SECRET}").into(),
            base_url: "http://localhost".into(),
            sms_template_id: "t".into(),
        })
        .unwrap();
        let token = sms.token(1_700_000_000).unwrap();
        let mut v = Validation::new(Algorithm::HS256);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        let data = decode::<NotifyClaims>(
            &token,
            &DecodingKey::from_secret(SECRET.as_bytes()).unwrap(),
            &v,
        )
        .unwrap();
        assert_eq!(data.header.alg, Algorithm::HS256);
        assert_eq!(data.header.typ.as_deref(), Some("JWT"));
        assert_eq!(
            (data.claims.iss.as_str(), data.claims.iat),
            (SERVICE, 1_700_000_000)
        );
        assert!(
            decode::<NotifyClaims>(
                &token,
                &DecodingKey::from_secret(b"another secret").unwrap(),
                &v
            )
            .is_err()
        );
    }

    #[test]
    fn the_settings_never_print_the_key() {
        let s = NotifySettings {
            api_key: format!("k-{SERVICE}-{SECRET}").into(),
            base_url: "https://api.notifications.service.gov.uk".into(),
            sms_template_id: "t".into(),
        };
        let shown = format!("{s:?}");
        assert!(
            !shown.contains(SECRET) && !shown.contains(SERVICE),
            "{shown}"
        );
    }

    #[test]
    fn long_texts_are_cut_to_three_fragments() {
        assert_eq!(text_of("T", "b"), "T\nb");
        let long = text_of("T", &"x".repeat(1000));
        assert_eq!(long.chars().count(), 459);
        assert!(long.ends_with("..."));
    }
}
