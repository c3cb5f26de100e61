//! Secrets at rest: TOTP, webhook and link-signing secrets sealed under the key file, key
//! rotation, recovery codes under a slow salted hash, and the demo refusing real data.

use app::backend::entity::{account, recovery_code, setting, webhook};
use app::backend::secrets;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use secrecy::ExposeSecret;
use time::OffsetDateTime;

use crate::helpers::people::{DANA, GARETH, NADIA};
use crate::helpers::{TestApp, spawn_app};

/// Enrols a demo person in two-step verification: (their client, TOTP secret, recovery codes).
async fn enrol(app: &TestApp, email: &str) -> (reqwest::Client, String, Vec<String>) {
    let client = app.signed_in_as(email).await;
    let (secret, codes) = app.enrol_on(&client).await;
    (client, secret, codes)
}

async fn stored_totp(app: &TestApp, email: &str) -> String {
    account::Entity::find_by_id(app.person_id(email).await)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .totp_secret
        .unwrap()
}

async fn stored_link_key(app: &TestApp) -> String {
    setting::Entity::find_by_id(secrets::LINK_KEY_SETTING.to_owned())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .value
}

async fn stored_webhooks(app: &TestApp) -> Vec<String> {
    webhook::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.secret)
        .collect()
}

fn opened(stored: &str) -> String {
    secrets::open(stored).unwrap().expose_secret().to_owned()
}

#[tokio::test]
async fn totp_and_webhook_secrets_are_encrypted_at_rest() {
    let app = spawn_app().await.with_demo().await;
    let (_, secret, _) = enrol(&app, GARETH).await;
    let stored = stored_totp(&app, GARETH).await;
    assert!(stored.starts_with("wl1."), "{stored}");
    assert!(!stored.contains(&secret));
    assert_eq!(opened(&stored), secret);

    let (dana, _, _) = enrol(&app, DANA).await;
    let res = app
        .post_with(
            &dana,
            "/api/manage/webhook",
            &[
                ("org_code", "G85028"),
                ("url", "https://hooks.example.test/wardline"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let hooks = stored_webhooks(&app).await;
    assert_eq!(hooks.len(), 1);
    assert!(secrets::is_sealed(&hooks[0]));
    assert_eq!(opened(&hooks[0]).len(), 43, "a 256-bit token inside");

    let key = app::backend::escalation::signing_key(&app.db)
        .await
        .unwrap();
    assert!(secrets::is_sealed(&stored_link_key(&app).await));
    assert_eq!(key.len(), 86);

    // Secrets stored in plaintext before are sealed at start-up, once.
    let practice = app::backend::orgs::find_by_code(&app.db, "RJ1")
        .await
        .unwrap()
        .unwrap();
    webhook::ActiveModel {
        org_id: Set(practice.id),
        url: Set("https://hooks.example.test/old".into()),
        secret: Set("plaintext-from-before".into()),
        enabled: Set(true),
        updated_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let mut acct: account::ActiveModel = account::Entity::find_by_id(app.person_id(GARETH).await)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    acct.totp_secret = Set(Some(secret.clone()));
    acct.update(&app.db).await.unwrap();
    let settings = server::config::Settings::for_tests(&app.database_url);
    server::open_database(&settings).await.unwrap();
    let sealed_totp = stored_totp(&app, GARETH).await;
    assert!(secrets::is_sealed(&sealed_totp));
    assert_eq!(opened(&sealed_totp), secret);
    let hooks = stored_webhooks(&app).await;
    assert!(hooks.iter().all(|h| secrets::is_sealed(h)), "{hooks:?}");
    assert!(hooks.iter().any(|h| opened(h) == "plaintext-from-before"));
    server::open_database(&settings).await.unwrap();
    assert_eq!(
        stored_totp(&app, GARETH).await,
        sealed_totp,
        "sealing again changes nothing"
    );
    assert_eq!(
        app::backend::secrets::seal_stored(&app.db).await.unwrap(),
        0
    );
}

fn key_ids(path: &std::path::Path) -> Vec<String> {
    secrets::Keyring::load(path).unwrap().unwrap().ids()
}

fn verify_cli(app: &TestApp) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_wardline"))
        .arg("verify-timeline")
        .env("WARDLINE_DATABASE_URL", &app.database_url)
        .env("WARDLINE_SECRET_KEY_FILE", &app.key_file)
        .output()
        .unwrap()
}

#[tokio::test]
async fn rotating_the_key_keeps_every_secret_readable() {
    let app = spawn_app().await.with_demo().await;
    let (_, secret, _) = enrol(&app, GARETH).await;
    let nadia = app.signed_in_as(NADIA).await;
    app.declare(&nadia, "ransomware").await;
    let practice = app::backend::orgs::find_by_code(&app.db, "G85028")
        .await
        .unwrap()
        .unwrap();
    webhook::ActiveModel {
        org_id: Set(practice.id),
        url: Set("https://hooks.example.test/wardline".into()),
        secret: Set(secrets::seal("hook-secret").unwrap()),
        enabled: Set(true),
        updated_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let link_key = app::backend::escalation::signing_key(&app.db)
        .await
        .unwrap();
    let old = key_ids(&app.key_file);
    assert_eq!(old.len(), 1);

    // A rotation stopped after the new key was written, before anything was re-encrypted:
    // the file holds both keys and a fresh process still reads and verifies everything.
    let half = secrets::Keyring::load(&app.key_file)
        .unwrap()
        .unwrap()
        .with_new_primary();
    half.save(&app.key_file).unwrap();
    let out = verify_cli(&app);
    assert!(out.status.success(), "{out:?}");

    let rotated = server::admin::rotate_keys(&app.db, &app.key_file)
        .await
        .unwrap();
    let now = key_ids(&app.key_file);
    assert_eq!(
        now,
        vec![rotated.new_key.clone()],
        "only the new key is kept"
    );
    assert!(!old.contains(&rotated.new_key));
    assert_eq!(rotated.secrets, 3, "TOTP, webhook and link key");
    assert_eq!(rotated.heads, 1);
    let prefix = format!("wl1.{}.", rotated.new_key);
    let totp = stored_totp(&app, GARETH).await;
    assert!(totp.starts_with(&prefix));
    assert_eq!(opened(&totp), secret);
    let hooks = stored_webhooks(&app).await;
    assert!(hooks[0].starts_with(&prefix));
    assert_eq!(opened(&hooks[0]), "hook-secret");
    assert!(stored_link_key(&app).await.starts_with(&prefix));
    assert_eq!(
        app::backend::escalation::signing_key(&app.db)
            .await
            .unwrap(),
        link_key
    );
    // A fresh process holding only the new key verifies the re-signed timeline.
    let out = verify_cli(&app);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("whole (1 entries)"));
}

#[tokio::test]
async fn recovery_codes_are_stored_with_a_slow_salted_hash_and_work_once() {
    let app = spawn_app().await.with_demo().await;
    let (_, _, codes) = enrol(&app, GARETH).await;
    let pid = app.person_id(GARETH).await;
    let stored: Vec<String> = recovery_code::Entity::find()
        .filter(recovery_code::Column::PersonId.eq(pid))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.code_hash)
        .collect();
    assert_eq!(stored.len(), codes.len());
    let salts: std::collections::HashSet<&str> = stored
        .iter()
        .map(|h| h.split('$').nth(4).unwrap())
        .collect();
    assert_eq!(salts.len(), stored.len(), "each code its own salt");
    assert!(
        stored
            .iter()
            .all(|h| h.starts_with("$argon2id$v=19$m=4096,t=3,p=1$"))
    );
    assert!(
        app::backend::mfa::check_code(&app.db, pid, &codes[3])
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        app::backend::mfa::check_code(&app.db, pid, &codes[3])
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        app::backend::mfa::check_code(&app.db, pid, "abcde-fghjk")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_demo_command_refuses_a_real_database_and_runs_again_on_a_demo_one() {
    let demo = |app: &TestApp| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wardline"))
            .arg("demo")
            .env("WARDLINE_DATABASE_URL", &app.database_url)
            .env("WARDLINE_SECRET_KEY_FILE", &app.key_file)
            .output()
            .unwrap()
    };
    let app = spawn_app().await;
    let first = demo(&app);
    assert!(first.status.success(), "{first:?}");
    let again = demo(&app);
    assert!(again.status.success(), "safe to run again: {again:?}");
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 organisations"));

    let real = spawn_app().await;
    server::admin::create_national_admin(
        &real.db,
        "real.admin@england.nhs.uk",
        "Real Admin",
        "X24",
        "a long and unguessable passphrase".into(),
    )
    .await
    .unwrap();
    let refused = demo(&real);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("holds real data"), "{stderr}");
    assert!(
        app::backend::people::find_by_email(&real.db, "nadia.kowalski@demo.wardline.test")
            .await
            .unwrap()
            .is_none(),
        "no demo person with the published password was added"
    );
}
