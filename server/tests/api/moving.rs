//! `wardline backup` (online, consistent, restorable) and `wardline copy --to postgres://…`.

use app::backend::entity::incident;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::{DEMO_PASSWORD, TestApp, spawn_on, spawn_sqlite_app};

const NADIA: &str = "nadia.kowalski@demo.wardline.test";
const GARETH: &str = "gareth.lloyd@demo.wardline.test";

fn wardline(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_wardline"))
        .args(args)
        .env("WARDLINE_DATABASE_URL", &app.database_url)
        .env("WARDLINE_SECRET_KEY_FILE", &app.key_file)
        .env("RUST_LOG", "error")
        // As an operator's shell may have it: a refusal still reads as words, not a trace.
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

fn said(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// An application serving `database_url` with `key_file`, as a restored or moved
/// deployment would be started.
async fn serve(database_url: &str, key_file: &std::path::Path) -> TestApp {
    let key_file = key_file.to_owned();
    spawn_on(tempfile::tempdir().unwrap(), database_url.to_owned(), |s| {
        s.secret_key_file = key_file;
    })
    .await
}

#[tokio::test]
async fn a_backup_taken_while_people_declare_is_consistent_and_restores() {
    let app = spawn_sqlite_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let before = app.declare(&nadia, "ransomware").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wardline-backup.db");

    // Declarations keep arriving while the backup is taken.
    let writer = {
        let (address, nadia) = (app.address.clone(), nadia.clone());
        tokio::spawn(async move {
            let mut made = 0;
            for _ in 0..20 {
                let res = nadia
                    .post(format!("{address}/api/incidents/declare"))
                    .header("Accept", "application/json")
                    .form(&[
                        ("kind", "ransomware"),
                        ("location", "Ward 3"),
                        ("patients_affected", "unknown"),
                        ("systems", "EMIS"),
                        ("summary", "Screens locked"),
                    ])
                    .send()
                    .await
                    .unwrap();
                made += usize::from(res.status() == 200);
            }
            made
        })
    };
    let out = {
        let (app_url, key, path) = (
            app.database_url.clone(),
            app.key_file.clone(),
            file.display().to_string(),
        );
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_wardline"))
                .args(["backup", &path])
                .env("WARDLINE_DATABASE_URL", app_url)
                .env("WARDLINE_SECRET_KEY_FILE", key)
                .env("RUST_LOG", "error")
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("integrity check"), "{}", said(&out));
    assert_eq!(writer.await.unwrap(), 20);
    assert!(file.exists());
    assert!(!file.with_extension("partial").exists());
    // The backup holds password hashes and sealed secrets: its owner's alone.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "backup mode {mode:o}");
    }

    // Never over an existing file.
    let again = wardline(&app, &["backup", &file.display().to_string()]);
    assert!(!again.status.success());
    assert!(said(&again).contains("already exists"), "{}", said(&again));
    assert!(!said(&again).contains("backtrace"), "{}", said(&again));

    // Restore: the file in place of the database, the same key, start.
    let restored_dir = tempfile::tempdir().unwrap();
    let restored = restored_dir.path().join("wardline.db");
    std::fs::copy(&file, &restored).unwrap();
    let restored = serve(&format!("sqlite://{}", restored.display()), &app.key_file).await;
    let in_backup = incident::Entity::find().count(&restored.db).await.unwrap();
    assert!((1..=21).contains(&in_backup), "{in_backup}");
    let nadia_again = restored.signed_in_as(NADIA).await;
    let list = restored.incident_list(&nadia_again).await;
    assert_eq!(
        list.len() as u64,
        in_backup,
        "every incident in it is readable"
    );
    assert!(list.iter().any(|r| r.reference == before));
    let verified = wardline(&restored, &["verify-timeline"]);
    assert!(verified.status.success(), "{}", said(&verified));
    assert!(
        said(&verified).contains(&format!("{in_backup} timeline(s) checked, 0 broken")),
        "{}",
        said(&verified)
    );
}

#[tokio::test]
async fn a_backup_of_nothing_or_of_postgres_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wardline"))
        .args(["backup", &dir.path().join("b.db").display().to_string()])
        .env(
            "WARDLINE_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("none.db").display()),
        )
        .env("WARDLINE_SECRET_KEY_FILE", dir.path().join("k"))
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(said(&out).contains("nothing to back up"), "{}", said(&out));
    assert!(!dir.path().join("b.db").exists());
}

#[tokio::test]
async fn copy_moves_an_sqlite_deployment_into_an_empty_postgres_database() {
    if std::env::var("WARDLINE_TEST_POSTGRES").is_err() {
        // Needs a PostgreSQL server to copy into: runs in the suite's PostgreSQL pass.
        eprintln!("skipped: WARDLINE_TEST_POSTGRES is not set");
        return;
    }
    let app = spawn_sqlite_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let first = app.declare(&nadia, "ransomware").await;
    let second = app.declare(&nadia, "phishing").await;
    // A second factor travels too.
    let gareth = app.signed_in_as(GARETH).await;
    let (_, recovery_codes) = app.enrol_on(&gareth).await;

    let target = app::backend::db::scratch("unused").await;
    let out = wardline(&app, &["copy", "--to", &target]);
    let text = said(&out);
    assert!(out.status.success(), "{text}");
    let tables = text
        .lines()
        .filter(|l| l.starts_with("  ") && l.ends_with(" rows"))
        .count();
    assert!(tables > 40, "{text}");
    assert!(
        text.contains(&format!("row counts match on {tables} of {tables}")),
        "{text}"
    );
    assert!(
        text.contains("2 timeline(s) checked on the copy, 0 broken"),
        "{text}"
    );

    // Into a database that is no longer empty: refused, and nothing changes there.
    let twice = wardline(&app, &["copy", "--to", &target]);
    assert!(!twice.status.success());
    assert!(
        said(&twice).contains("already holds tables"),
        "{}",
        said(&twice)
    );

    // The moved deployment serves: the same incidents, the same second factor, and new
    // rows take fresh ids.
    let moved = serve(&target, &app.key_file).await;
    assert_eq!(incident::Entity::find().count(&moved.db).await.unwrap(), 2);
    let nadia = moved.signed_in_as(NADIA).await;
    let list = moved.incident_list(&nadia).await;
    assert!(list.iter().any(|r| r.reference == first));
    assert!(list.iter().any(|r| r.reference == second));
    let third = moved.declare(&nadia, "data_breach").await;
    assert_ne!(third, first);
    assert_eq!(moved.incident_list(&nadia).await.len(), 3);

    let phone = moved.new_client();
    let step1 = moved.sign_in_with(&phone, GARETH, DEMO_PASSWORD).await;
    assert_eq!(step1.status(), 200);
    // (The authenticator's current code was just used to enrol, and is refused once used;
    // a recovery code, kept hashed, shows the second factor travelled.)
    let step2 = moved
        .post_with(
            &phone,
            "/api/auth/second_factor",
            &[("code", &recovery_codes[0])],
        )
        .await;
    assert_eq!(step2.status(), 200, "{}", step2.text().await.unwrap());
}
