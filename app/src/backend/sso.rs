//! Single sign-on with OpenID Connect (NHSmail through Microsoft Entra ID, Care Identity
//! Service 2, any conformant provider): the authorization code flow with PKCE, its state and
//! nonce checked, the ID token verified against the provider's published keys (fetched again
//! once when a token is signed with a key not yet seen, so the provider may rotate keys).
//! The protocol is the `openidconnect` crate's; what is decided here is who it lets in: a
//! person whose email the provider verified, in an allowed domain, who already has a Wardline
//! account or invitation. The first sign-in links the provider's subject to the account and
//! every later one must come from that subject, so an email address reused at the provider
//! cannot take an account over.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenVerifier, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;

use super::entity::{identity_provider, organisation, person, sso_identity};
use super::state::AppState;
use super::{audit, errors};
use crate::domain::auth::SignInOutcome;
use crate::error::AppError;

/// The session key holding a sign-in under way at a provider.
const PENDING: &str = "sso_pending";
/// How long a person has at their provider before the sign-in must start again.
const PENDING_SECS: i64 = 10 * 60;
/// How long discovered metadata (and its keys) is used before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// `amr` values that mean more than a password (RFC 8176): multi-factor, a hardware or
/// software key, a one-time password, a smartcard (NHS CIS2), a fingerprint or face.
const STRONG_AMR: &[&str] = &["mfa", "hwk", "swk", "otp", "sc", "fpt", "face"];

/// Why a sign-in at a provider did not let the person in. Each is a fixed sentence on the
/// sign-in page (chosen by its code in the address, so nothing the provider sent is echoed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The flow did not complete: expired, replayed, forged, or refused at the provider.
    Failed,
    NoAccount,
    Unverified,
    Domain,
    LinkedElsewhere,
    WrongOrganisation,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Failed => "failed",
            Refusal::NoAccount => "no-account",
            Refusal::Unverified => "unverified",
            Refusal::Domain => "domain",
            Refusal::LinkedElsewhere => "linked-elsewhere",
            Refusal::WrongOrganisation => "organisation",
        }
    }
}

/// A provider to add (`wardline sso add`).
#[derive(Debug, Clone)]
pub struct NewProvider {
    pub slug: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret_file: String,
    pub allowed_domains: Vec<String>,
    pub org_claim: Option<String>,
    pub trust_mfa: bool,
}

/// Adds (or replaces, by slug) a provider. The secret file must be readable now.
pub async fn add_provider(
    db: &impl ConnectionTrait,
    p: &NewProvider,
) -> Result<identity_provider::Model, AppError> {
    let slug = p.slug.trim().to_ascii_lowercase();
    if slug.is_empty()
        || slug.len() > 40
        || !slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(AppError::Invalid(
            "A provider's short name is letters, digits and hyphens (up to 40).".into(),
        ));
    }
    IssuerUrl::new(p.issuer.clone())
        .map_err(|_| AppError::Invalid("The issuer must be a URL.".into()))?;
    read_secret(&p.client_secret_file)?;
    if p.allowed_domains.is_empty() {
        return Err(AppError::Invalid(
            "Name at least one email domain the provider may sign in (like nhs.net).".into(),
        ));
    }
    if let Some(old) = identity_provider::Entity::find()
        .filter(identity_provider::Column::Slug.eq(slug.as_str()))
        .one(db)
        .await?
    {
        identity_provider::Entity::delete_by_id(old.id)
            .exec(db)
            .await?;
    }
    Ok(identity_provider::ActiveModel {
        slug: Set(slug),
        name: Set(p.name.trim().to_owned()),
        issuer: Set(p.issuer.trim().to_owned()),
        client_id: Set(p.client_id.trim().to_owned()),
        client_secret_file: Set(p.client_secret_file.clone()),
        allowed_domains: Set(p
            .allowed_domains
            .iter()
            .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(",")),
        org_claim: Set(p.org_claim.clone().filter(|c| !c.trim().is_empty())),
        trust_mfa: Set(p.trust_mfa),
        enabled: Set(true),
        created_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// The providers people may sign in with: (short name, name).
pub async fn providers(db: &impl ConnectionTrait) -> Result<Vec<(String, String)>, AppError> {
    Ok(identity_provider::Entity::find()
        .filter(identity_provider::Column::Enabled.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.slug, p.name))
        .collect())
}

fn read_secret(path: &str) -> Result<String, AppError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::Invalid(format!("The client secret file {path} cannot be read.")))
}

fn http() -> Result<openidconnect::reqwest::Client, AppError> {
    openidconnect::reqwest::Client::builder()
        // Following redirects would let a provider's answer send Wardline anywhere.
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| errors::internal("sso http client", &e))
}

fn cache() -> &'static Mutex<HashMap<String, (Instant, CoreProviderMetadata)>> {
    static CACHE: OnceLock<Mutex<HashMap<String, (Instant, CoreProviderMetadata)>>> =
        OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The provider's metadata and keys: as last discovered, or fetched now when `fresh`.
async fn metadata(issuer: &str, fresh: bool) -> Result<CoreProviderMetadata, AppError> {
    if !fresh
        && let Some((at, md)) = cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(issuer)
        && at.elapsed() < METADATA_TTL
    {
        return Ok(md.clone());
    }
    let url = IssuerUrl::new(issuer.to_owned()).map_err(|e| errors::internal("sso issuer", &e))?;
    let md = CoreProviderMetadata::discover_async(url, &http()?)
        .await
        .map_err(|e| {
            tracing::warn!(%issuer, err = %e, "discovering an identity provider");
            AppError::Unavailable
        })?;
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(issuer.to_owned(), (Instant::now(), md.clone()));
    Ok(md)
}

async fn enabled(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<identity_provider::Model, AppError> {
    identity_provider::Entity::find()
        .filter(identity_provider::Column::Slug.eq(slug))
        .filter(identity_provider::Column::Enabled.eq(true))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

fn redirect_url(state: &AppState, slug: &str) -> Result<RedirectUrl, AppError> {
    RedirectUrl::new(format!(
        "{}/sso/{slug}/callback",
        state.auth.public_url.trim_end_matches('/')
    ))
    .map_err(|e| errors::internal("sso redirect", &e))
}

/// A client as discovery makes it: authorization endpoint known, token and user-info
/// endpoints as the provider published them.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Wardline as the provider's client, from its metadata as last discovered.
async fn client(
    state: &AppState,
    p: &identity_provider::Model,
    secret: &str,
) -> Result<Client, AppError> {
    let md = metadata(&p.issuer, false).await?;
    Ok(CoreClient::from_provider_metadata(
        md,
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(secret.to_owned())),
    )
    .set_redirect_uri(redirect_url(state, &p.slug)?))
}

#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    provider: String,
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    at: i64,
}

/// Starts signing in at a provider: where to send the browser.
pub async fn start(
    state: &AppState,
    session: &Session,
    slug: &str,
    next: &str,
) -> Result<String, AppError> {
    let p = enabled(&state.db, slug).await?;
    let client = client(state, &p, &read_secret(&p.client_secret_file)?).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    session
        .insert(
            PENDING,
            Pending {
                provider: p.slug,
                state: csrf.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                next: crate::domain::redirect::safe_next(next).unwrap_or_else(|| "/".into()),
                at: OffsetDateTime::now_utc().unix_timestamp(),
            },
        )
        .await
        .map_err(|e| errors::internal("session", &e))?;
    Ok(url.to_string())
}

/// What the callback came back with.
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Where a finished (or refused) sign-in sends the browser.
pub enum Finished {
    /// Signed in (or on to the second factor, at the sign-in page): go here.
    Go(String),
    Refused(Refusal),
}

/// Completes signing in at a provider.
pub async fn finish(
    state: &AppState,
    session: &Session,
    slug: &str,
    back: Callback,
    client_ip: IpAddr,
) -> Result<Finished, AppError> {
    // Taken out at once: a state is good for one callback, never a replay.
    let pending: Option<Pending> = session
        .remove(PENDING)
        .await
        .map_err(|e| errors::internal("session", &e))?;
    let refused = |why: Refusal, detail: &str| {
        let detail = detail.to_owned();
        async move {
            audit::record(
                &state.db,
                audit::Event {
                    action: "sso_refused",
                    subject: Some(slug.to_owned()),
                    detail: Some(format!("{}: {detail}", why.code())),
                    client: Some(client_ip.to_string()),
                    outcome: Some(audit::REFUSED),
                    ..Default::default()
                },
            )
            .await?;
            Ok::<Finished, AppError>(Finished::Refused(why))
        }
    };
    let Some(pending) = pending else {
        return refused(Refusal::Failed, "no sign-in under way in this session").await;
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let state_ok = back
        .state
        .as_deref()
        .is_some_and(|s| super::tokens::same_secret(s, &pending.state));
    if pending.provider != slug || now - pending.at > PENDING_SECS || !state_ok {
        return refused(Refusal::Failed, "state missing, mismatched or expired").await;
    }
    if back.error.is_some() {
        return refused(Refusal::Failed, "the provider refused the sign-in").await;
    }
    let Some(code) = back.code else {
        return refused(Refusal::Failed, "no code").await;
    };
    let p = enabled(&state.db, slug).await?;
    let secret = read_secret(&p.client_secret_file)?;
    let client = client(state, &p, &secret).await?;
    let http = http()?;
    let exchange = match client.exchange_code(AuthorizationCode::new(code)) {
        Ok(x) => x,
        Err(_) => return refused(Refusal::Failed, "the provider has no token endpoint").await,
    };
    let token = match exchange
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&http)
        .await
    {
        Ok(t) => t,
        Err(e) => return refused(Refusal::Failed, &format!("code exchange: {e}")).await,
    };
    let Some(id_token) = token.id_token() else {
        return refused(Refusal::Failed, "no ID token").await;
    };
    let nonce = Nonce::new(pending.nonce);
    let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
        Ok(c) => c.clone(),
        Err(first) => {
            // Perhaps signed with a key published since the keys were last fetched.
            let fresh = metadata(&p.issuer, true).await?;
            let verifier = CoreIdTokenVerifier::new_confidential_client(
                ClientId::new(p.client_id.clone()),
                ClientSecret::new(secret),
                fresh.issuer().clone(),
                fresh.jwks().clone(),
            );
            match id_token.claims(&verifier, &nonce) {
                Ok(c) => c.clone(),
                Err(e) => {
                    return refused(Refusal::Failed, &format!("ID token refused: {first}; {e}"))
                        .await;
                }
            }
        }
    };
    let Some(email) = claims.email().map(|e| e.as_str().trim().to_lowercase()) else {
        return refused(Refusal::Unverified, "no email").await;
    };
    if claims.email_verified() != Some(true) {
        return refused(Refusal::Unverified, &email).await;
    }
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if !p.allowed_domains.split(',').any(|d| d == domain) {
        return refused(Refusal::Domain, &email).await;
    }
    let subject = claims.subject().as_str().to_owned();
    let person = match link(&state.db, &p, &subject, &email).await? {
        Ok(person) => person,
        Err(why) => return refused(why, &email).await,
    };
    if let Some(claim) = &p.org_claim {
        let said = raw_claim(&id_token.to_string(), claim);
        let home = match person.org_id {
            Some(o) => organisation::Entity::find_by_id(o)
                .one(&state.db)
                .await?
                .map(|o| o.code),
            None => None,
        };
        if said.is_none() || said.map(|s| s.to_ascii_uppercase()) != home {
            return refused(Refusal::WrongOrganisation, &email).await;
        }
    }
    let strong = p.trust_mfa
        && claims
            .auth_method_refs()
            .is_some_and(|amr| amr.iter().any(|m| STRONG_AMR.contains(&m.as_str())));
    let outcome =
        super::auth::sign_in_vouched(state, session, person.id, client_ip, strong, &p.name).await?;
    Ok(Finished::Go(match outcome {
        SignInOutcome::SignedIn => pending.next,
        SignInOutcome::NeedsSecondFactor => {
            format!(
                "/sign-in?next={}",
                crate::domain::redirect::encode(&pending.next)
            )
        }
    }))
}

/// One claim of an ID token whose signature has already been verified, as text.
fn raw_claim(jwt: &str, name: &str) -> Option<String> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    match &v[name] {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The person this provider subject signs in as: the one already linked, or (the first
/// time) the enabled person with the verified email, linked now. A subject whose email
/// belongs to someone already linked to another subject is refused.
async fn link(
    db: &sea_orm::DatabaseConnection,
    p: &identity_provider::Model,
    subject: &str,
    email: &str,
) -> Result<Result<person::Model, Refusal>, AppError> {
    if let Some(linked) = sso_identity::Entity::find()
        .filter(sso_identity::Column::ProviderId.eq(p.id))
        .filter(sso_identity::Column::Subject.eq(subject))
        .one(db)
        .await?
    {
        return Ok(person::Entity::find_by_id(linked.person_id)
            .one(db)
            .await?
            .filter(|person| !person.disabled)
            .ok_or(Refusal::NoAccount));
    }
    let person = match person::find_by_email(db, email).await? {
        Some(p) if p.disabled => return Ok(Err(Refusal::NoAccount)),
        Some(p) => p,
        // Invited, not yet joined: the provider's word accepts the invitation.
        None => match super::invites::accept_vouched(db, email).await? {
            Some(p) => p,
            None => return Ok(Err(Refusal::NoAccount)),
        },
    };
    let taken = sso_identity::Entity::find()
        .filter(sso_identity::Column::ProviderId.eq(p.id))
        .filter(sso_identity::Column::PersonId.eq(person.id))
        .one(db)
        .await?
        .is_some();
    if taken {
        return Ok(Err(Refusal::LinkedElsewhere));
    }
    sso_identity::ActiveModel {
        provider_id: Set(p.id),
        subject: Set(subject.to_owned()),
        person_id: Set(person.id),
        linked_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        audit::Event {
            actor: Some(person.id),
            action: "sso_linked",
            subject: Some(p.slug.clone()),
            ..Default::default()
        },
    )
    .await?;
    Ok(Ok(person))
}

/// Turns password sign-in on or off for an organisation its caller administers.
pub async fn set_password_sign_in(
    db: &impl ConnectionTrait,
    user: &super::access::User,
    org_code: &str,
    allowed: bool,
) -> Result<(), AppError> {
    let org =
        super::access::org_in_reach(db, user, org_code, super::access::Action::Administer).await?;
    let mut row: organisation::ActiveModel = org.clone().into();
    row.password_sign_in = Set(allowed);
    row.update(db).await?;
    audit::record(
        db,
        audit::Event {
            actor: Some(user.person_id),
            action: "password_sign_in",
            org: Some(org.id),
            detail: Some(if allowed { "on" } else { "off" }.into()),
            ..Default::default()
        },
    )
    .await
}
