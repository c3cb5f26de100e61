//! The state every request shares, put into Leptos context for server functions.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sea_orm::DatabaseConnection;

use super::limits::Limits;
use crate::error::AppError;

/// Defined in the leaf `live`; named here too, where it was first.
pub use super::live::LiveEvent;

/// Session, sign-in and request-safety settings.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Mark the session cookie Secure. Off only by an explicit setting, for plain-http local use.
    pub secure_cookies: bool,
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however busy.
    pub absolute_timeout: Duration,
    /// How long an invitation link works.
    pub invite_ttl: Duration,
    /// The address people reach Wardline at, for links in invitations.
    pub public_url: String,
    /// Reverse proxies whose `X-Forwarded-For` names the real client. Empty: none.
    pub trusted_proxies: super::client_addr::TrustedProxies,
    /// Let webhooks reach loopback and private addresses (local development only).
    pub allow_private_webhooks: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            secure_cookies: true,
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 60 * 60),
            invite_ttl: Duration::from_secs(7 * 24 * 60 * 60),
            public_url: "http://127.0.0.1:3000".into(),
            trusted_proxies: Default::default(),
            allow_private_webhooks: false,
        }
    }
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: DatabaseConnection,
    pub auth: Arc<AuthSettings>,
    pub limits: Arc<Limits>,
    /// Live updates within this process.
    pub live: super::live::Sender,
    /// The declaration writer (group commit).
    pub declarations: super::incidents::Declarations,
    /// Text messages through GOV.UK Notify, when connected (verification codes, tests).
    pub texts: Option<super::transport::Sms>,
    /// Signed-in people as last read (see `callers::Callers`).
    pub callers: Arc<super::callers::Callers>,
    /// The present's chart of the whole country, as last read (see `chart::Cache`).
    pub charts: Arc<super::chart::Cache>,
}

impl AppState {
    /// Tells open pages about a declaration just written, whose people are known.
    pub fn publish_declared(&self, declared: super::incidents::Declared) {
        // Nobody listening is fine.
        let _ = self.live.send(LiveEvent {
            reference: declared.reference,
            people: declared.people,
            relayed: false,
        });
    }

    /// Tells open pages that an incident changed (its people read from the database).
    pub async fn publish(&self, reference: &str) {
        use super::entity::incident;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let Ok(Some(inc)) = incident::Entity::find()
            .filter(incident::Column::Reference.eq(reference))
            .one(&self.db)
            .await
        else {
            return;
        };
        let people = super::incidents::people_of(&self.db, inc.id)
            .await
            .unwrap_or_default();
        // Nobody listening is fine.
        let _ = self.live.send(LiveEvent {
            reference: reference.to_owned(),
            people,
            relayed: false,
        });
    }
}

/// The state, from inside a server function or a server-rendered component.
pub fn current() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from context");
        AppError::Internal("state".into())
    })
}
