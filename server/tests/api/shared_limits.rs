//! Rate limits hold across instances on PostgreSQL: failures spread over two instances are
//! refused at the same count as on one.
//!
//! On SQLite each instance keeps its limits in memory: an SQLite database serves one
//! instance (several instances are a PostgreSQL deployment), so these tests run in the
//! suite's PostgreSQL pass and say so on SQLite.

use crate::helpers::{DEMO_PASSWORD, TestApp, spawn_app};

const NADIA: &str = "nadia.kowalski@demo.wardline.test";
const RUTH: &str = "ruth.adeyemi@demo.wardline.test";
const GARETH: &str = "gareth.lloyd@demo.wardline.test";

/// One instance, or two on one database.
async fn instances(two: bool) -> Vec<TestApp> {
    let first = spawn_app().await.with_demo().await;
    let mut all = Vec::new();
    if two {
        all.push(first.another_instance().await);
    }
    all.insert(0, first);
    all
}

fn on_postgres(app: &TestApp) -> bool {
    if !app.on_postgres() {
        eprintln!("skipped: limits are shared through PostgreSQL; SQLite serves one instance");
    }
    app.on_postgres()
}

/// The number of requests answered before the first 429, request `i` going to instance
/// `i % n`; `most` if none was refused.
fn first_refusal(statuses: impl IntoIterator<Item = reqwest::StatusCode>) -> usize {
    let mut answered = 0;
    for status in statuses {
        if status == 429 {
            break;
        }
        answered += 1;
    }
    answered
}

async fn wrong_passwords(apps: &[TestApp]) -> usize {
    let attacker = apps[0].new_client();
    let mut statuses = Vec::new();
    for i in 0..60 {
        let app = &apps[i % apps.len()];
        let status = app
            .sign_in_with(&attacker, NADIA, "not-the-password")
            .await
            .status();
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    first_refusal(statuses)
}

#[tokio::test]
async fn sign_in_failures_over_two_instances_are_refused_at_the_same_count_as_on_one() {
    let one = instances(false).await;
    if !on_postgres(&one[0]) {
        return;
    }
    let on_one = wrong_passwords(&one).await;
    let two = instances(true).await;
    let on_two = wrong_passwords(&two).await;
    assert!((3..=10).contains(&on_one), "{on_one}");
    assert_eq!(
        on_two, on_one,
        "two instances give an attacker no more guesses"
    );
}

async fn wrong_second_factors(apps: &[TestApp]) -> usize {
    let phone = apps[0].new_client();
    let first = apps[0].sign_in_with(&phone, GARETH, DEMO_PASSWORD).await;
    assert_eq!(first.status(), 200);
    let mut statuses = Vec::new();
    for i in 0..60 {
        let app = &apps[i % apps.len()];
        let status = app
            .post_with(&phone, "/api/auth/second_factor", &[("code", "000000")])
            .await
            .status();
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    first_refusal(statuses)
}

#[tokio::test]
async fn second_factor_guesses_over_two_instances_are_refused_at_the_same_count() {
    let one = instances(false).await;
    if !on_postgres(&one[0]) {
        return;
    }
    let gareth = one[0].signed_in_as(GARETH).await;
    one[0].enrol_on(&gareth).await;
    let on_one = wrong_second_factors(&one).await;
    let two = instances(true).await;
    let gareth = two[0].signed_in_as(GARETH).await;
    two[0].enrol_on(&gareth).await;
    let on_two = wrong_second_factors(&two).await;
    assert!(on_one < 60, "refused at last: {on_one}");
    assert_eq!(on_two, on_one);
}

async fn declarations(apps: &[TestApp]) -> usize {
    let nadia = apps[0].signed_in_as(NADIA).await;
    let mut statuses = Vec::new();
    for i in 0..40 {
        let app = &apps[i % apps.len()];
        let summary = format!("Screens locked, report {i}");
        let status = app
            .post_with(
                &nadia,
                "/api/incidents/declare",
                &[
                    ("kind", "ransomware"),
                    ("location", "Reception"),
                    ("patients_affected", "unknown"),
                    ("systems", "EMIS"),
                    ("summary", &summary),
                ],
            )
            .await
            .status();
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    first_refusal(statuses)
}

async fn exports(apps: &[TestApp]) -> usize {
    let ruth = apps[0].enrolled(RUTH).await;
    let mut statuses = Vec::new();
    for i in 0..40 {
        let app = &apps[i % apps.len()];
        let status = ruth
            .get(format!("{}/export/chart.csv?org=Y56", app.address))
            .send()
            .await
            .unwrap()
            .status();
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    first_refusal(statuses)
}

#[tokio::test]
async fn declarations_and_exports_over_two_instances_are_limited_as_on_one() {
    let one = instances(false).await;
    if !on_postgres(&one[0]) {
        return;
    }
    let on_one = declarations(&one).await;
    let two = instances(true).await;
    let on_two = declarations(&two).await;
    assert_eq!(on_one, 30, "the burst a person may declare at once");
    assert_eq!(on_two, on_one);

    let on_one = exports(&instances(false).await).await;
    let on_two = exports(&instances(true).await).await;
    assert_eq!(on_one, 30);
    assert_eq!(on_two, on_one);
}
