//! API tokens, service accounts and alert sources as their pages show them.

use serde::{Deserialize, Serialize};

/// How long a token lives unless its maker says otherwise, and the longest allowed.
pub const DEFAULT_TOKEN_DAYS: i64 = 90;
pub const MAX_TOKEN_DAYS: i64 = 365;

/// Every token starts with this, so a leaked one is recognisable (secret scanners key on it).
pub const TOKEN_PREFIX: &str = "wlt_";
/// Every alert integration key starts with this.
pub const ALERT_KEY_PREFIX: &str = "wla_";

/// One API token, without its secret (shown once, when made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    /// "Every organisation you reach", or the organisations' codes.
    pub scope: String,
    pub can_write: bool,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    /// Revoked, or past its expiry: no longer accepted.
    pub ended: bool,
}

/// A token just made: the secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewToken {
    pub secret: String,
    pub token: TokenView,
}

/// A service account of an organisation, with its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceAccountView {
    pub id: i64,
    pub name: String,
    pub disabled: bool,
    pub tokens: Vec<TokenView>,
}

/// An alert source's integration key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntegrationKeyView {
    pub id: i64,
    pub source: String,
    /// `IncidentKind`'s label for what an alert opens unless it says.
    pub kind: String,
    pub prefix: String,
    /// Alerts sent to this address do the same as alerts sent with the key.
    pub email: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

/// A key just made: the secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewIntegrationKey {
    pub secret: String,
    pub key: IntegrationKeyView,
}

/// An organisation's integrations page: its service accounts and alert sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Integrations {
    pub org_code: String,
    pub org_name: String,
    pub service_accounts: Vec<ServiceAccountView>,
    pub alert_sources: Vec<IntegrationKeyView>,
    /// Whether its people may sign in with a password (off: single sign-on only).
    #[serde(default)]
    pub password_sign_in: bool,
}
