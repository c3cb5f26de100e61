//! Who the client is behind a reverse proxy, and limits keyed on that client: forwarded
//! addresses are believed only from trusted proxies, and one attacker's failures stay theirs.

use app::backend::client_addr::TrustedProxies;
use app::backend::entity::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const NADIA: &str = "nadia.kowalski@demo.wardline.test";
const PRIYA: &str = "priya.raman@demo.wardline.test";

async fn behind_proxy() -> TestApp {
    spawn_app_with(|s| {
        s.auth.trusted_proxies = TrustedProxies::parse("127.0.0.1/32").unwrap();
    })
    .await
    .with_demo()
    .await
}

/// A failed sign-in sent with an `X-Forwarded-For` header; returns the status.
async fn sign_in_via(app: &TestApp, forwarded_for: &str, email: &str) -> u16 {
    app.new_client()
        .post(format!("{}/api/auth/sign_in", app.address))
        .header("Accept", "application/json")
        .header("X-Forwarded-For", forwarded_for)
        .form(&[("email", email), ("password", "not the password at all")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn last_failed_sign_in_client(app: &TestApp) -> Option<String> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("sign_in_failed"))
        .order_by_desc(audit_event::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .and_then(|e| e.client)
}

#[tokio::test]
async fn forwarded_client_is_used_only_from_trusted_proxies() {
    let app = behind_proxy().await;
    // The rightmost hop that is not a trusted proxy; a spoofed hop further left is ignored.
    assert_eq!(sign_in_via(&app, "1.2.3.4, 198.51.100.7", NADIA).await, 401);
    assert_eq!(
        last_failed_sign_in_client(&app).await.as_deref(),
        Some("198.51.100.7"),
        "the audit trail records the real client"
    );
    // Limits key on that client: one forwarded client is slowed, another is not.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(sign_in_via(&app, "198.51.100.7", NADIA).await);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert_eq!(sign_in_via(&app, "198.51.100.8", NADIA).await, 401);

    // Without trusted proxies the header is the client's own claim, and is ignored.
    let direct = spawn_app().await.with_demo().await;
    assert_eq!(sign_in_via(&direct, "198.51.100.7", NADIA).await, 401);
    assert_eq!(
        last_failed_sign_in_client(&direct).await.as_deref(),
        Some("127.0.0.1")
    );
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(sign_in_via(&direct, &format!("198.51.100.{}", 20 + i), NADIA).await);
    }
    assert_eq!(
        statuses.last(),
        Some(&429),
        "a changing header does not escape the limit: {statuses:?}"
    );
}

#[tokio::test]
async fn one_attacker_cannot_block_every_invitation() {
    let app = behind_proxy().await;
    let db = &app.db;
    let priya = app::backend::people::find_by_email(db, PRIYA)
        .await
        .unwrap()
        .unwrap();
    let rj1 = app::backend::orgs::find_by_code(db, "RJ1")
        .await
        .unwrap()
        .unwrap();
    let admin = app::backend::access::User {
        person_id: priya.id,
        name: priya.display_name.clone(),
        email: PRIYA.into(),
        grants: vec![(rj1.id, app::domain::auth::AccessRole::OrgAdmin)],
        mfa_enabled: true,
        second_factor: true,
    };
    let link = app::backend::invites::create(
        &app.state(),
        &admin,
        "new.nurse@demo.wardline.test",
        "New Nurse",
        "RJ1",
        app::domain::auth::AccessRole::Staff,
        None,
    )
    .await
    .unwrap();
    let token = link.rsplit('/').next().unwrap().to_owned();

    // An attacker guesses tokens from many addresses: more failures than any one key allows.
    let accept = |forwarded: String, token: String| {
        let client = app.new_client();
        let url = format!("{}/api/auth/accept_invite", app.address);
        async move {
            client
                .post(url)
                .header("Accept", "application/json")
                .header("X-Forwarded-For", forwarded)
                .form(&[
                    ("token", token.as_str()),
                    ("password", "night shift on ward 7"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let mut refused = 0;
    for address in 1..=8 {
        for guess in 0..8 {
            let status = accept(
                format!("198.51.100.{address}"),
                format!("guess-{address}-{guess}"),
            )
            .await;
            assert!(status == 422 || status == 429, "{status}");
            refused += usize::from(status == 429);
        }
    }
    for _ in 0..30 {
        refused += usize::from(accept("203.0.113.66".into(), "guess".into()).await == 429);
    }
    assert!(refused > 0, "the attacker is slowed");
    // The real invitee, elsewhere, is not.
    assert_eq!(accept("192.0.2.40".into(), token).await, 200);
}
