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

async fn invitation_guesses(apps: &[TestApp]) -> usize {
    let guesser = apps[0].new_client();
    let mut statuses = Vec::new();
    for i in 0..60 {
        let app = &apps[i % apps.len()];
        let status = app
            .post_with(
                &guesser,
                "/api/auth/accept_invite",
                &[
                    ("token", "a-guessed-invitation-token"),
                    ("password", "correct horse battery staple 42"),
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

#[tokio::test]
async fn invitation_guesses_over_two_instances_are_refused_at_the_same_count() {
    let one = instances(false).await;
    if !on_postgres(&one[0]) {
        return;
    }
    let on_one = invitation_guesses(&one).await;
    let on_two = invitation_guesses(&instances(true).await).await;
    assert!((3..=10).contains(&on_one), "{on_one}");
    assert_eq!(on_two, on_one);
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
    // A person may declare 30 at once, then one more every 2 seconds: a slow run earns a
    // token or two back, so each count is held to 30 plus what its own time refilled.
    // Without shared limits two instances answer all 40.
    let within = |answered: usize, took: std::time::Duration| {
        let refilled = (took.as_secs_f64() / 2.0).floor() as usize;
        assert!(
            (30..=30 + refilled).contains(&answered),
            "{answered} answered in {took:?}"
        );
    };
    let timed = std::time::Instant::now();
    within(declarations(&one).await, timed.elapsed());
    let two = instances(true).await;
    let timed = std::time::Instant::now();
    within(declarations(&two).await, timed.elapsed());

    let one = instances(false).await;
    let timed = std::time::Instant::now();
    within(exports(&one).await, timed.elapsed());
    let two = instances(true).await;
    let timed = std::time::Instant::now();
    within(exports(&two).await, timed.elapsed());
}

#[tokio::test]
async fn a_very_long_account_name_is_refused_cleanly_not_with_a_server_error() {
    let apps = instances(false).await;
    if !on_postgres(&apps[0]) {
        return;
    }
    // Characters that do not compress (a repeated one would fit an index entry compressed).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let noise: String = (0..5_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect();
    let long = format!("{noise}@nhs.net");
    let client = apps[0].new_client();
    let mut statuses = Vec::new();
    // Not an email, so its failures count against the client (20 at once).
    for _ in 0..30 {
        statuses.push(
            apps[0]
                .sign_in_with(&client, &long, "not-the-password")
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(
        statuses.iter().all(|s| (400..500).contains(s)),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.last(),
        Some(&429),
        "and it is limited: {statuses:?}"
    );
}
