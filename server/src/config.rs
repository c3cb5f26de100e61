//! Settings, built once from environment variables with defaults. The only place that reads
//! the environment.

use std::net::SocketAddr;

use anyhow::Context;
use app::backend::client_addr::TrustedProxies;
use app::backend::escalation::{MailSettings, NotifySettings};
use app::backend::state::AuthSettings;
use leptos::prelude::LeptosOptions;
use secrecy::{ExposeSecret, SecretString};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/wardline.db";
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_NOTIFY_BASE_URL: &str = "https://api.notifications.service.gov.uk";

/// The variables Wardline reads, for `--help`.
pub const ENV_HELP: &str = "\
Environment variables:
  WARDLINE_DATABASE_URL  database to use; sqlite://PATH or postgres://… [default: sqlite://data/wardline.db]
  WARDLINE_ADDR          address to serve on [default: 127.0.0.1:3000, or LEPTOS_SITE_ADDR]
  WARDLINE_PUBLIC_URL    address people reach Wardline at, for invitation links [default: http://WARDLINE_ADDR]
  WARDLINE_SECRET_KEY_FILE  key that encrypts stored secrets and signs timelines; made on
                         first start if missing: keep it safe and backed up, apart from the
                         database [default: secret.key beside the SQLite file, else data/secret.key]
  WARDLINE_COOKIE_SECURE mark the session cookie Secure (HTTPS only); set to false only for
                         plain-http local use [default: true]
  WARDLINE_TRUSTED_PROXIES  comma-separated CIDRs of reverse proxies whose X-Forwarded-For
                         names the client [default: none]
  WARDLINE_WEBHOOK_ALLOW_PRIVATE  let webhooks reach loopback and private addresses, for
                         local development only [default: false]
  WARDLINE_SMTP_HOST     mail server for escalation emails; email is off when unset
  WARDLINE_SMTP_PORT     its port [default: 587 with starttls, 465 with tls, else 25]
  WARDLINE_SMTP_SECURITY none, starttls or tls [default: starttls]
  WARDLINE_SMTP_USER, WARDLINE_SMTP_PASSWORD  credentials, if the server wants them
  WARDLINE_SMTP_FROM     sender address [default: wardline@localhost]
  WARDLINE_NOTIFY_API_KEY_FILE  file holding the GOV.UK Notify API key; text messages are
                         off when unset
  WARDLINE_NOTIFY_BASE_URL  Notify's API [default: https://api.notifications.service.gov.uk]
  WARDLINE_NOTIFY_SMS_TEMPLATE_ID  the text message template, whose content is ((message))
  WARDLINE_NOTIFY_CALLBACK_TOKEN_FILE  file holding the bearer token Notify's callbacks
                         carry (delivery receipts, received texts); /notify/receipts and
                         /notify/replies refuse everything when unset
  WARDLINE_METRICS_ALLOW comma-separated CIDRs that may read /metrics (Prometheus text);
                         nobody may when unset [default: none]
  LEPTOS_SITE_ROOT       folder holding the built site [default: target/site]
  LEPTOS_HASH_FILES      whether /pkg file names carry content hashes, listed in the
                         hash file beside the binary [default: true when that file is there]
  RUST_LOG               log filter [default: info]";

pub struct Settings {
    /// May hold a PostgreSQL password, so it is kept out of logs.
    pub database_url: SecretString,
    pub addr: SocketAddr,
    pub leptos: LeptosOptions,
    pub auth: AuthSettings,
    pub mail: MailSettings,
    /// GOV.UK Notify for text messages; off when `None`.
    pub notify: Option<NotifySettings>,
    /// The bearer token Notify's callbacks carry; callbacks are refused when `None`.
    pub notify_callback_token: Option<SecretString>,
    /// Fault injection for the crash test (debug builds only): abort right after an
    /// escalation decision commits, before anything is delivered.
    pub abort_after_decision: bool,
    /// Run the escalation engine in this process (tests drive their own, with a moved clock).
    pub run_engine: bool,
    /// The key file (`secrets::Keyring`): the key itself is read by `open_database` into
    /// `SecretBox`es and never printed.
    pub secret_key_file: std::path::PathBuf,
    /// How often an open live-update stream checks that its session and access still hold.
    pub live_recheck: std::time::Duration,
    /// Who may read `/metrics`.
    pub metrics_allow: TrustedProxies,
}

/// Written out by hand: the database URL and the SMTP password never show, whatever the
/// types that hold them print.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const HIDDEN: &str = "[REDACTED]";
        let mail = &self.mail;
        f.debug_struct("Settings")
            .field("database_url", &HIDDEN)
            .field("addr", &self.addr)
            .field("leptos", &self.leptos)
            .field("auth", &self.auth)
            .field("mail.host", &mail.host)
            .field("mail.port", &mail.port)
            .field("mail.from", &mail.from)
            .field("mail.security", &mail.security)
            .field("mail.username", &mail.username)
            .field("mail.password", &mail.password.as_ref().map(|_| HIDDEN))
            .field("notify", &self.notify)
            .field(
                "notify_callback_token",
                &self.notify_callback_token.as_ref().map(|_| HIDDEN),
            )
            .field("abort_after_decision", &self.abort_after_decision)
            .field("run_engine", &self.run_engine)
            .field("secret_key_file", &self.secret_key_file)
            .field("live_recheck", &self.live_recheck)
            .field("metrics_allow", &self.metrics_allow)
            .finish()
    }
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Settings> {
        let leptos = leptos_from_env()?;
        let addr = match std::env::var("WARDLINE_ADDR") {
            Ok(raw) => raw
                .parse()
                .with_context(|| format!("WARDLINE_ADDR={raw} is not an address"))?,
            Err(_) => leptos.site_addr,
        };
        let database_url =
            std::env::var("WARDLINE_DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.into());
        let auth = auth_from_env(addr)?;
        let mail = mail_from_env()?;
        let (notify, notify_callback_token) = notify_from_env()?;
        let abort_after_decision = cfg!(debug_assertions)
            && std::env::var("WARDLINE_FAULT").as_deref() == Ok("abort-after-escalation-decision");
        let secret_key_file = std::env::var("WARDLINE_SECRET_KEY_FILE")
            .ok()
            .filter(|p| !p.is_empty())
            .map(Into::into)
            .unwrap_or_else(|| default_key_file(&database_url));
        let metrics_allow =
            TrustedProxies::parse(&std::env::var("WARDLINE_METRICS_ALLOW").unwrap_or_default())
                .map_err(|e| anyhow::anyhow!("WARDLINE_METRICS_ALLOW: {e}"))?;
        Ok(Settings {
            metrics_allow,
            secret_key_file,
            database_url: database_url.into(),
            addr,
            leptos,
            auth,
            mail,
            notify,
            notify_callback_token,
            abort_after_decision,
            run_engine: true,
            live_recheck: std::time::Duration::from_secs(20),
        })
    }

    /// Settings for tests: the given database, a free port, no environment.
    pub fn for_tests(database_url: &str) -> Settings {
        let leptos = LeptosOptions::builder()
            .output_name("wardline")
            .site_addr(SocketAddr::from(([127, 0, 0, 1], 0)))
            .build();
        Settings {
            secret_key_file: default_key_file(database_url),
            database_url: database_url.to_owned().into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            leptos,
            auth: AuthSettings {
                secure_cookies: false,
                ..AuthSettings::default()
            },
            mail: MailSettings::default(),
            notify: None,
            notify_callback_token: None,
            abort_after_decision: false,
            run_engine: false,
            live_recheck: std::time::Duration::from_secs(20),
            metrics_allow: TrustedProxies::default(),
        }
    }

    /// Reads the key file, making it (mode 0600) when missing, and gives its keys to the
    /// backend. True when it was made now.
    pub fn load_secret_key(&self) -> anyhow::Result<bool> {
        let (ring, made) = app::backend::secrets::Keyring::load_or_create(&self.secret_key_file)
            .map_err(anyhow::Error::msg)?;
        if made {
            tracing::warn!(
                path = %self.secret_key_file.display(),
                "made a new secret key: keep this file safe and back it up apart from the database; \
                 without it two-step verification and webhook secrets cannot be read and \
                 timelines cannot be verified"
            );
        }
        app::backend::secrets::install(&ring);
        Ok(made)
    }

    /// Creates the folder of a SQLite database file, so a fresh clone just works.
    pub fn prepare_storage(&self) -> anyhow::Result<()> {
        let url = self.database_url.expose_secret();
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if !path.is_empty()
                && !path.contains(":memory:")
                && let Some(dir) = std::path::Path::new(path)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
        }
        Ok(())
    }
}

/// A secret kept in a file (its surrounding white space dropped), never in the environment.
fn read_secret_file(path: &str, variable: &str) -> anyhow::Result<SecretString> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("{variable}: reading {path}"))?;
    let text = text.trim();
    if text.is_empty() {
        anyhow::bail!("{variable}: {path} is empty");
    }
    Ok(SecretString::from(text.to_owned()))
}

/// `secret.key` beside a SQLite database file, else `data/secret.key`.
fn default_key_file(database_url: &str) -> std::path::PathBuf {
    let file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or_default())
        .filter(|p| !p.is_empty() && !p.contains(":memory:"));
    match file.and_then(|p| std::path::Path::new(p).parent()) {
        Some(dir) => dir.join("secret.key"),
        None => std::path::PathBuf::from("data/secret.key"),
    }
}

/// Leptos's own settings, and whether the built `/pkg` names carry content hashes.
fn leptos_from_env() -> anyhow::Result<LeptosOptions> {
    let mut leptos = leptos::prelude::get_configuration(None)
        .context("reading the Leptos settings")?
        .leptos_options;
    // cargo-leptos writes the hashed `/pkg` names beside the binary it builds; a binary
    // started directly (not by `cargo leptos`) finds them there without being told.
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        leptos.hash_files = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.join(leptos.hash_file.as_ref())))
            .is_some_and(|file| file.is_file());
    }
    Ok(leptos)
}

/// Cookies, the public address, trusted proxies and private webhook targets.
fn auth_from_env(addr: SocketAddr) -> anyhow::Result<AuthSettings> {
    let secure_cookies = match std::env::var("WARDLINE_COOKIE_SECURE").as_deref() {
        Err(_) | Ok("true") | Ok("1") => true,
        Ok("false") | Ok("0") => false,
        Ok(other) => anyhow::bail!("WARDLINE_COOKIE_SECURE={other}: use true or false"),
    };
    let public_url =
        std::env::var("WARDLINE_PUBLIC_URL").unwrap_or_else(|_| format!("http://{addr}"));
    let trusted_proxies =
        TrustedProxies::parse(&std::env::var("WARDLINE_TRUSTED_PROXIES").unwrap_or_default())
            .map_err(|e| anyhow::anyhow!("WARDLINE_TRUSTED_PROXIES: {e}"))?;
    let allow_private_webhooks = match std::env::var("WARDLINE_WEBHOOK_ALLOW_PRIVATE").as_deref() {
        Err(_) | Ok("false") | Ok("0") | Ok("") => false,
        Ok("true") | Ok("1") => true,
        Ok(other) => {
            anyhow::bail!("WARDLINE_WEBHOOK_ALLOW_PRIVATE={other}: use true or false")
        }
    };
    Ok(AuthSettings {
        secure_cookies,
        public_url,
        trusted_proxies,
        allow_private_webhooks,
        ..AuthSettings::default()
    })
}

/// The SMTP server email goes through, if any.
fn mail_from_env() -> anyhow::Result<MailSettings> {
    let security = std::env::var("WARDLINE_SMTP_SECURITY").unwrap_or_else(|_| "starttls".into());
    if !["none", "starttls", "tls"].contains(&security.as_str()) {
        anyhow::bail!("WARDLINE_SMTP_SECURITY={security}: use none, starttls or tls");
    }
    let port = match std::env::var("WARDLINE_SMTP_PORT") {
        Ok(p) => p
            .parse()
            .with_context(|| format!("WARDLINE_SMTP_PORT={p} is not a port"))?,
        Err(_) => match security.as_str() {
            "tls" => 465,
            "starttls" => 587,
            _ => 25,
        },
    };
    Ok(MailSettings {
        host: std::env::var("WARDLINE_SMTP_HOST")
            .ok()
            .filter(|h| !h.is_empty()),
        port,
        from: std::env::var("WARDLINE_SMTP_FROM").unwrap_or_else(|_| "wardline@localhost".into()),
        security,
        username: std::env::var("WARDLINE_SMTP_USER").ok(),
        password: std::env::var("WARDLINE_SMTP_PASSWORD")
            .ok()
            .map(secrecy::SecretString::from),
    })
}

/// GOV.UK Notify for texts (its key and template) and the token its callbacks carry.
fn notify_from_env() -> anyhow::Result<(Option<NotifySettings>, Option<SecretString>)> {
    let notify = match std::env::var("WARDLINE_NOTIFY_API_KEY_FILE") {
        Ok(path) if !path.is_empty() => {
            let template = std::env::var("WARDLINE_NOTIFY_SMS_TEMPLATE_ID")
                .ok()
                .filter(|t| !t.is_empty())
                .context("WARDLINE_NOTIFY_SMS_TEMPLATE_ID is needed with a Notify key")?;
            Some(NotifySettings {
                api_key: read_secret_file(&path, "WARDLINE_NOTIFY_API_KEY_FILE")?,
                base_url: std::env::var("WARDLINE_NOTIFY_BASE_URL")
                    .ok()
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| DEFAULT_NOTIFY_BASE_URL.into()),
                sms_template_id: template,
            })
        }
        _ => None,
    };
    let notify_callback_token = match std::env::var("WARDLINE_NOTIFY_CALLBACK_TOKEN_FILE") {
        Ok(path) if !path.is_empty() => Some(read_secret_file(
            &path,
            "WARDLINE_NOTIFY_CALLBACK_TOKEN_FILE",
        )?),
        _ => None,
    };
    Ok((notify, notify_callback_token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_never_print_a_secret() {
        let mut settings =
            Settings::for_tests("postgres://wardline:db-pass-4711@db.example/wardline");
        settings.mail.host = Some("smtp.example".into());
        settings.mail.username = Some("mailer".into());
        settings.mail.password = Some("smtp-pass-0815".into());
        settings.notify = Some(NotifySettings {
            api_key:
                "live-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0"
                    .to_owned()
                    .into(),
            base_url: DEFAULT_NOTIFY_BASE_URL.into(),
            sms_template_id: "f33517ff-2a88-4f6e-b855-c550268ce08a".into(),
        });
        settings.notify_callback_token = Some("callback-token-4242".to_owned().into());
        for shown in [
            format!("{settings:?}"),
            format!("{settings:#?}"),
            format!("{:?}", settings.mail),
        ] {
            assert!(!shown.contains("smtp-pass-0815"), "{shown}");
            assert!(!shown.contains("3d844edf"), "{shown}");
            assert!(!shown.contains("callback-token-4242"), "{shown}");
            assert!(!shown.contains("db-pass-4711"), "{shown}");
            assert!(
                shown.contains("smtp.example"),
                "the rest still shows: {shown}"
            );
            assert!(shown.contains("mailer"), "{shown}");
        }
        assert!(!format!("{settings:?}").contains("db-pass-4711"));
    }
}
