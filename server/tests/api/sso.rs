//! Single sign-on against a real OpenID provider (`oidc-provider` from npm, started here),
//! fronted by a proxy the test controls so it can hand Wardline a forged ID token, one made
//! for another application, or one signed before the provider rotated its key.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::helpers::people::{DANA, NADIA, TOM};
use crate::helpers::{TestApp, spawn_app_with};

const SECRET: &str = "wardline-test-client-secret";

/// What the proxy does to the provider's token response.
#[derive(Clone, Default)]
enum Swap {
    #[default]
    Nothing,
    /// Put this ID token in place of the provider's.
    IdToken(String),
    /// Change one claim of the provider's ID token, keeping its signature (a forgery).
    Tamper(&'static str, Value),
}

#[derive(Clone, Default)]
struct Proxy {
    upstream: Arc<Mutex<u16>>,
    swap: Arc<Mutex<Swap>>,
    /// The last ID token the provider issued (as it was sent).
    seen: Arc<Mutex<Option<String>>>,
}

async fn forward(State(proxy): State<Proxy>, req: Request) -> Response {
    let port = *proxy.upstream.lock().unwrap();
    let url = format!(
        "http://127.0.0.1:{port}{}",
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let method = req.method().clone();
    let mut headers = HeaderMap::new();
    for (k, v) in req.headers() {
        // The Host stays the proxy's: the provider builds its addresses from it.
        if k != "content-length" {
            headers.append(k.clone(), v.clone());
        }
    }
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let Ok(res) = client
        .request(method, &url)
        .headers(headers)
        .body(body)
        .send()
        .await
    else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = res.status();
    let mut out_headers = HeaderMap::new();
    for (k, v) in res.headers() {
        if k != "content-length" && k != "transfer-encoding" {
            out_headers.append(k.clone(), v.clone());
        }
    }
    let mut bytes: Bytes = res.bytes().await.unwrap_or_default();
    if url.contains("/token") && status.is_success() {
        let mut v: Value = serde_json::from_slice(&bytes).unwrap();
        let issued = v["id_token"].as_str().unwrap().to_owned();
        *proxy.seen.lock().unwrap() = Some(issued.clone());
        match proxy.swap.lock().unwrap().clone() {
            Swap::Nothing => {}
            Swap::IdToken(t) => v["id_token"] = json!(t),
            Swap::Tamper(claim, value) => v["id_token"] = json!(tamper(&issued, claim, value)),
        }
        bytes = Bytes::from(v.to_string());
    }
    (status, out_headers, bytes).into_response()
}

/// The token with one payload claim changed and the original signature kept.
fn tamper(jwt: &str, claim: &str, value: Value) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    payload[claim] = value;
    format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(payload.to_string()),
        parts[2]
    )
}

struct Provider {
    child: Child,
    proxy: Proxy,
    issuer: String,
    /// Wardline's callback, the redirect URI both of the provider's clients have.
    redirect: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn accounts() -> Value {
    json!({
        "tom": {"claims": {"email": TOM, "email_verified": true, "name": "Tom Okafor"}, "amr": ["pwd"]},
        "dana": {"claims": {"email": DANA, "email_verified": true}, "amr": ["pwd", "mfa"]},
        "nadia-unverified": {"claims": {"email": NADIA, "email_verified": false}},
        "stranger": {"claims": {"email": "nobody.here@demo.wardline.test", "email_verified": true}},
        "other-domain": {"claims": {"email": "tom.okafor@example.com", "email_verified": true}},
        "tom-impostor": {"claims": {"email": TOM, "email_verified": true}},
        "newcomer": {"claims": {"email": "new.lead@demo.wardline.test", "email_verified": true}},
    })
}

fn start_node(port: u16, issuer: &str, redirect: &str, kid: &str) -> Child {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/oidc/provider.mjs");
    Command::new("node")
        .arg(script)
        .env("OIDC_PORT", port.to_string())
        .env("OIDC_ISSUER", issuer)
        .env("OIDC_ACCOUNTS", accounts().to_string())
        .env("OIDC_REDIRECT_URIS", redirect)
        .env("OIDC_CLIENT_SECRET", SECRET)
        .env("OIDC_KID", kid)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs the test identity provider (./scripts/install-tools.sh installs it)")
}

async fn wait_for(url: &str) {
    for _ in 0..100 {
        if reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{url} never answered");
}

/// Wardline (with a known address, for its redirect URI), the provider behind the proxy, and
/// the provider configured in Wardline as "test".
async fn setup(trust_mfa: bool, org_claim: Option<&str>) -> (TestApp, Provider) {
    let wardline_port = free_port();
    let app = spawn_app_with(|s| {
        s.addr = SocketAddr::from(([127, 0, 0, 1], wardline_port));
        s.auth.public_url = format!("http://127.0.0.1:{wardline_port}");
    })
    .await
    .with_demo()
    .await;
    let proxy = Proxy::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let node_port = free_port();
    *proxy.upstream.lock().unwrap() = node_port;
    let redirect = format!("{}/sso/test/callback", app.address);
    let child = start_node(node_port, &issuer, &redirect, "key-1");
    wait_for(&format!("{issuer}/.well-known/openid-configuration")).await;
    let secret_file = std::env::temp_dir().join(format!("wardline-sso-{wardline_port}.secret"));
    std::fs::write(&secret_file, SECRET).unwrap();
    app::backend::sso::add_provider(
        &app.db,
        &app::backend::sso::NewProvider {
            slug: "test".into(),
            name: "Test NHS login".into(),
            issuer: issuer.clone(),
            client_id: "wardline".into(),
            client_secret_file: secret_file.to_string_lossy().into_owned(),
            allowed_domains: vec!["demo.wardline.test".into()],
            org_claim: org_claim.map(str::to_owned),
            trust_mfa,
        },
    )
    .await
    .unwrap();
    (
        app,
        Provider {
            child,
            proxy,
            issuer,
            redirect,
        },
    )
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

fn absolute(base: &str, to: &str) -> String {
    if to.starts_with("http") {
        to.to_owned()
    } else {
        format!("{base}{to}")
    }
}

/// Signs in at the provider as `account` in the browser `client`, from Wardline's start to
/// the callback; returns the finish address Wardline's callback page moves on to.
async fn at_provider(
    app: &TestApp,
    provider: &Provider,
    client: &reqwest::Client,
    account: &str,
) -> String {
    at_provider_signing(app, provider, client, account, None).await
}

/// As `at_provider`, saying how the person signed in at the provider (its `amr`).
async fn at_provider_signing(
    app: &TestApp,
    provider: &Provider,
    client: &reqwest::Client,
    account: &str,
    amr: Option<&str>,
) -> String {
    let res = client
        .get(format!("{}/sso/test/start?next=%2Fincidents", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "start redirects to the provider");
    let url = location(&res);
    assert!(
        url.starts_with(&provider.issuer),
        "{url} from {}",
        provider.issuer
    );
    assert!(
        url.contains("code_challenge_method=S256")
            && url.contains("nonce=")
            && url.contains("state=")
    );
    walk_provider(app, provider, client, &url, account, amr).await
}

/// From an authorize address through the provider's redirects to its sign-in form, the form
/// itself, and back to Wardline's callback page; the `finish` address that page moves on to.
async fn walk_provider(
    app: &TestApp,
    provider: &Provider,
    client: &reqwest::Client,
    authorize: &str,
    account: &str,
    amr: Option<&str>,
) -> String {
    let mut url = authorize.to_owned();
    loop {
        let res = client.get(&url).send().await.unwrap();
        if res.status().is_redirection() {
            url = absolute(&provider.issuer, &location(&res));
            if url.starts_with(&app.address) {
                break;
            }
            continue;
        }
        let status = res.status();
        assert_eq!(
            status,
            200,
            "{url}: {}",
            res.text().await.unwrap_or_default()
        );
        let mut form = vec![("login", account), ("password", "any")];
        if let Some(amr) = amr {
            form.push(("amr", amr));
        }
        let res = client.post(&url).form(&form).send().await.unwrap();
        assert!(
            res.status().is_redirection(),
            "the provider takes the sign-in"
        );
        url = absolute(&provider.issuer, &location(&res));
    }
    // Wardline's callback page only moves the browser on to `finish`.
    let page = client.get(&url).send().await.unwrap().text().await.unwrap();
    let finish = page
        .split("url=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(finish.starts_with("/sso/test/finish?"));
    format!("{}{finish}", app.address)
}

/// Where `finish` sends the browser.
async fn finish(client: &reqwest::Client, url: &str) -> String {
    let res = client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 303);
    location(&res)
}

async fn signed_in(app: &TestApp, client: &reqwest::Client) -> bool {
    app.post_with(client, "/api/tasks/mine", &[]).await.status() == 200
}

#[tokio::test]
async fn an_invited_person_signs_in_through_their_provider_and_stays_linked_to_that_identity() {
    let (app, provider) = setup(false, None).await;
    let tom = app.new_client();
    let done = at_provider(&app, &provider, &tom, "tom").await;
    assert_eq!(finish(&tom, &done).await, "/incidents");
    assert!(signed_in(&app, &tom).await);
    assert_eq!(app.audit_rows("sso_linked").await.len(), 1);
    let sign_ins = app.audit_rows("sign_in").await;
    assert!(
        sign_ins
            .last()
            .unwrap()
            .detail
            .as_deref()
            .unwrap()
            .contains("single sign-on")
    );

    // The same code and state again (a replay, in this browser or another): refused.
    assert_eq!(finish(&tom, &done).await, "/sign-in?sso=failed");
    let thief = app.new_client();
    assert_eq!(finish(&thief, &done).await, "/sign-in?sso=failed");
    assert!(!signed_in(&app, &thief).await);

    // Another identity at the provider with Tom's email cannot take his account.
    let impostor = app.new_client();
    let done = at_provider(&app, &provider, &impostor, "tom-impostor").await;
    assert_eq!(
        finish(&impostor, &done).await,
        "/sign-in?sso=linked-elsewhere"
    );
    assert!(!signed_in(&app, &impostor).await);
}

#[tokio::test]
async fn an_invited_persons_first_sign_in_through_the_provider_accepts_the_invitation() {
    let (app, provider) = setup(false, None).await;
    let priya = app.enrolled(crate::helpers::people::PRIYA).await;
    app.invite(&priya, "new.lead@demo.wardline.test", "RJ1", "lead")
        .await;
    let newcomer = app.new_client();
    let done = at_provider(&app, &provider, &newcomer, "newcomer").await;
    assert_eq!(finish(&newcomer, &done).await, "/incidents");
    assert!(signed_in(&app, &newcomer).await);
    let me: Value = app
        .post_with(&newcomer, "/api/auth/status", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(
        me.to_string().contains("Guy's and St Thomas'"),
        "the invitation's grant: {me}"
    );
    let accepted = app.audit_rows("invite_accepted").await;
    assert!(
        accepted
            .last()
            .unwrap()
            .detail
            .as_deref()
            .unwrap()
            .contains("single sign-on")
    );
    // The invitation is used: it cannot make a second account, and no password was set.
    let res = app
        .sign_in_with(&app.new_client(), "new.lead@demo.wardline.test", "")
        .await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn people_the_provider_does_not_vouch_for_are_refused_with_a_reason() {
    let (app, provider) = setup(false, None).await;
    for (account, why) in [
        ("stranger", "no-account"),
        ("nadia-unverified", "unverified"),
        ("other-domain", "domain"),
    ] {
        let client = app.new_client();
        let done = at_provider(&app, &provider, &client, account).await;
        assert_eq!(
            finish(&client, &done).await,
            format!("/sign-in?sso={why}"),
            "{account}"
        );
        assert!(!signed_in(&app, &client).await);
    }
    // Disabled in Wardline: refused, though the provider still vouches.
    use app::backend::entity::person;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    person::Entity::update_many()
        .col_expr(
            person::Column::Disabled,
            sea_orm::sea_query::Expr::value(true),
        )
        .filter(person::Column::Email.eq(TOM))
        .exec(&app.db)
        .await
        .unwrap();
    let client = app.new_client();
    let done = at_provider(&app, &provider, &client, "tom").await;
    assert_eq!(finish(&client, &done).await, "/sign-in?sso=no-account");
    let page = app.page_text(&client, "/sign-in?sso=no-account").await;
    assert!(
        page.contains("Ask your organisation"),
        "the sign-in page says why"
    );
    assert!(
        page.contains("Sign in with Test NHS login"),
        "and offers the provider"
    );
    assert!(app.audit_rows("sso_refused").await.len() >= 4);
}

#[tokio::test]
async fn a_forged_token_and_one_made_for_another_application_are_refused() {
    let (app, provider) = setup(false, None).await;
    // Tom's real token with the email changed to Dana's: the signature no longer holds.
    *provider.proxy.swap.lock().unwrap() = Swap::Tamper("sub", json!("dana"));
    let client = app.new_client();
    let done = at_provider(&app, &provider, &client, "tom").await;
    assert_eq!(finish(&client, &done).await, "/sign-in?sso=failed");
    assert!(!signed_in(&app, &client).await);

    // A genuine token for Tom, issued to another application (its audience), with this
    // sign-in's own nonce: refused for its audience alone.
    *provider.proxy.swap.lock().unwrap() = Swap::Nothing;
    let client = app.new_client();
    let res = client
        .get(format!("{}/sso/test/start", app.address))
        .send()
        .await
        .unwrap();
    let authorize = location(&res);
    let nonce = url_param(&authorize, "nonce");
    let foreign = token_for_another_app(&provider, "tom", &nonce).await;
    *provider.proxy.swap.lock().unwrap() = Swap::IdToken(foreign);
    let done = walk_provider(&app, &provider, &client, &authorize, "tom", None).await;
    assert_eq!(finish(&client, &done).await, "/sign-in?sso=failed");
    assert!(!signed_in(&app, &client).await);
    let refused = app.audit_rows("sso_refused").await;
    assert!(
        refused.iter().any(|r| r
            .detail
            .as_deref()
            .unwrap_or_default()
            .to_lowercase()
            .contains("audience")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn after_the_provider_rotates_its_key_new_tokens_verify_and_the_old_key_is_refused() {
    let (app, mut provider) = setup(false, None).await;
    let tom = app.new_client();
    let done = at_provider(&app, &provider, &tom, "tom").await;
    assert_eq!(finish(&tom, &done).await, "/incidents");
    let old_token = provider.proxy.seen.lock().unwrap().clone().unwrap();

    // The provider restarts with a new key (and no longer publishes the old one). Wardline
    // holds the old keys: it fetches them again when a token names a key it has not seen.
    let _ = provider.child.kill();
    let _ = provider.child.wait();
    let port = *provider.proxy.upstream.lock().unwrap();
    provider.child = start_node(port, &provider.issuer, &provider.redirect, "key-2");
    wait_for(&format!(
        "{}/.well-known/openid-configuration",
        provider.issuer
    ))
    .await;
    let again = app.new_client();
    let done = at_provider(&app, &provider, &again, "tom").await;
    assert_eq!(finish(&again, &done).await, "/incidents");
    assert!(signed_in(&app, &again).await);

    // A token signed with the retired key is refused.
    *provider.proxy.swap.lock().unwrap() = Swap::IdToken(old_token);
    let late = app.new_client();
    let done = at_provider(&app, &provider, &late, "tom").await;
    assert_eq!(finish(&late, &done).await, "/sign-in?sso=failed");
    assert!(!signed_in(&app, &late).await);
}

#[tokio::test]
async fn the_providers_multi_factor_counts_only_where_it_is_trusted_and_passwords_can_be_switched_off()
 {
    let (app, provider) = setup(true, None).await;
    // Dana (a national admin, who must pass a second factor) signs in with the provider's MFA:
    // no second step is asked, and she may enrol from there as her role asks.
    let dana = app.new_client();
    let done = at_provider(&app, &provider, &dana, "dana").await;
    assert_eq!(finish(&dana, &done).await, "/incidents");
    let status: Value = app
        .post_with(&dana, "/api/auth/status", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(status.to_string().contains("SignedIn"), "{status}");
    // Without the provider's MFA, she is signed in but still owes Wardline a second factor.
    let weak = app.new_client();
    let done = at_provider_signing(&app, &provider, &weak, "dana", Some("pwd")).await;
    assert_eq!(finish(&weak, &done).await, "/incidents");
    assert_eq!(
        app.post_with(&weak, "/api/chart/overview", &[])
            .await
            .status(),
        403,
        "enrolment first, as after a password"
    );
    assert_eq!(
        app.post_with(&dana, "/api/chart/overview", &[])
            .await
            .status(),
        200,
        "the provider's MFA is Wardline's"
    );

    // Guy's and St Thomas' switches passwords off: Tom signs in only through the provider.
    let priya = app.enrolled(crate::helpers::people::PRIYA).await;
    let res = app
        .post_with(
            &priya,
            "/api/integrations/password_sign_in",
            &[("org_code", "RJ1"), ("allowed", "false")],
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let res = app
        .sign_in_with(&app.new_client(), TOM, crate::helpers::DEMO_PASSWORD)
        .await;
    assert_eq!(res.status(), 401);
    let tom = app.new_client();
    let done = at_provider(&app, &provider, &tom, "tom").await;
    assert_eq!(finish(&tom, &done).await, "/incidents");
    assert!(signed_in(&app, &tom).await);
    // Only an admin of the organisation may switch it.
    let res = app
        .post_with(
            &tom,
            "/api/integrations/password_sign_in",
            &[("org_code", "RJ1"), ("allowed", "true")],
        )
        .await;
    assert!(matches!(res.status().as_u16(), 403 | 404));
}

fn url_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .unwrap()
        .1
        .into_owned()
}

/// A whole sign-in as the provider's other client, `another-app`, with `nonce`: its ID token.
async fn token_for_another_app(provider: &Provider, account: &str, nonce: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let verifier = "another-app-verifier-0123456789-0123456789-0123456789";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let redirect = provider.redirect.clone();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let mut url = format!(
        "{}/auth?client_id=another-app&response_type=code&scope=openid%20email&redirect_uri={}&nonce={nonce}&state=s&code_challenge={challenge}&code_challenge_method=S256",
        provider.issuer,
        app::domain::redirect::encode(&redirect)
    );
    let code = loop {
        let res = client.get(&url).send().await.unwrap();
        if res.status().is_redirection() {
            url = absolute(&provider.issuer, &location(&res));
            if url.starts_with(&redirect) {
                break url_param(&url, "code");
            }
            continue;
        }
        let res = client
            .post(&url)
            .form(&[("login", account), ("password", "any")])
            .send()
            .await
            .unwrap();
        url = absolute(&provider.issuer, &location(&res));
    };
    let res = client
        .post(format!("{}/token", provider.issuer))
        .basic_auth("another-app", Some("another-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    v["id_token"].as_str().unwrap().to_owned()
}
