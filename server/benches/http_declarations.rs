//! Declarations as people make them, through HTTP (issue 14, point 7), recorded in
//! docs/BENCHMARKS.md. Run: `cargo bench -p server --bench http_declarations`.
//!
//! The whole server (router, sessions, sign-in check, same-origin check, rate limits, the
//! group-commit writer, the audit row, the escalation engine woken by each commit) on a
//! temp-file SQLite database (WAL, synchronous=FULL) with the demo tree, on loopback.
//! `CLIENTS` closed-loop clients each declare ransomware at the demo GP practice, one
//! request after another, as several staff of their own (each signed in, with a cookie jar
//! of their own and an address of their own, so per-person and per-address limits are
//! never what answers). Prints declarations per second, p50/p99/p99.9/max latency of the
//! whole request, and the ratio of p99 to the 50 ms target.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use app::backend::entity::{account, person};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

const CLIENTS: usize = 50;
/// Staff per client: the per-person limit lets 30 declarations through at once.
const PEOPLE_PER_CLIENT: usize = 4;
/// Timed declarations per person (after one untimed, which warms the writer's plan).
const PER_PERSON: usize = 25;
const TARGET_P99_MS: f64 = 50.0;
const PASSWORD: &str = app::backend::demo::DEMO_PASSWORD;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// Loopback address `n` (127.0.1.0 upwards): each signed-in person comes from their own.
fn address(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        127,
        0,
        1 + (n / 250) as u8,
        (n % 250) as u8 + 1,
    ))
}

/// `n` staff at the demo practice, with the demo password (the hash is copied from a demo
/// member of staff, so setting up does not spend minutes hashing).
async fn add_staff(db: &sea_orm::DatabaseConnection, n: usize) -> Vec<String> {
    let nadia = person::find_by_email(db, "nadia.kowalski@demo.wardline.test")
        .await
        .unwrap()
        .expect("the demo is loaded");
    let hash = account::Entity::find_by_id(nadia.id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    let practice = nadia.org_id.expect("demo staff belong to the practice");
    let mut emails = Vec::with_capacity(n);
    for i in 0..n {
        let email = format!("bench.staff.{i}@demo.wardline.test");
        let p = person::ActiveModel {
            display_name: Set(format!("Bench Staff {i}")),
            email: Set(email.clone()),
            job_title: Set(Some("Receptionist".into())),
            org_id: Set(Some(practice)),
            disabled: Set(false),
            created_at: Set(time::OffsetDateTime::now_utc()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        account::ActiveModel {
            person_id: Set(p.id),
            password_hash: Set(hash.clone()),
            password_changed_at: Set(Some(time::OffsetDateTime::now_utc())),
            failed_attempts: Set(0),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        app::backend::invites::grant(db, p.id, practice, app::domain::auth::AccessRole::Staff)
            .await
            .unwrap();
        emails.push(email);
    }
    emails
}

async fn signed_in(base: &str, email: &str, from: IpAddr) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .local_address(from)
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let res = client
        .post(format!("{base}/api/auth/sign_in"))
        .header("Accept", "application/json")
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "sign in as {email}");
    client
}

async fn declare(base: &str, client: &reqwest::Client) -> Duration {
    let t = Instant::now();
    let res = client
        .post(format!("{base}/api/incidents/declare"))
        .header("Accept", "application/json")
        .form(&[
            ("kind", "ransomware"),
            ("location", "Reception PC 2"),
            ("patients_affected", "unknown"),
            ("systems", "EMIS Web"),
            ("summary", "Ransom note on screen; files renamed"),
        ])
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body = res.bytes().await.unwrap();
    let took = t.elapsed();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    took
}

async fn status(base: &str, client: &reqwest::Client) -> Duration {
    let t = Instant::now();
    let res = client
        .post(format!("{base}/api/auth/status"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = res.status();
    let _ = res.bytes().await.unwrap();
    assert_eq!(status, 200);
    t.elapsed()
}

// Long because it is the benchmark's script, in the order it runs (set up, warm, measure,
// print); each step is short and reads top to bottom.
#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("wardline.db").display());
    let mut settings = server::config::Settings::for_tests(&url);
    // As the server runs: the escalation and delivery engines woken by every declaration.
    // `HTTP_BENCH_ENGINE=off` leaves them out, to see what they cost the declarations.
    let engines = std::env::var("HTTP_BENCH_ENGINE").as_deref() != Ok("off");
    settings.run_engine = engines;
    let app = server::Application::build(settings).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let writer = app.declarations().clone();
    tokio::spawn(app.run_until_stopped());
    let db = app::backend::db::connect(&url).await.unwrap();
    app::backend::demo::load(&db).await.unwrap();
    let emails = add_staff(&db, CLIENTS * PEOPLE_PER_CLIENT).await;

    let mut people = Vec::with_capacity(emails.len());
    for (n, email) in emails.iter().enumerate() {
        people.push(signed_in(&base, email, address(n)).await);
    }
    // One untimed declaration each, all at once: the writer's plan cache and the
    // connections warm, as on a running server.
    let warm: Vec<_> = people
        .iter()
        .cloned()
        .map(|c| {
            let base = base.clone();
            tokio::spawn(async move { declare(&base, &c).await })
        })
        .collect();
    for w in warm {
        w.await.unwrap();
    }

    // For comparison, the same clients asking only who they are (session, sign-in check, no
    // write): what the request path costs before the declaration's own work.
    let (rate, mut reads) = {
        let started = Instant::now();
        let clients: Vec<_> = people
            .chunks(PEOPLE_PER_CLIENT)
            .map(|mine| {
                let mine = mine.to_vec();
                let base = base.clone();
                tokio::spawn(async move {
                    let mut took = Vec::new();
                    for _ in 0..PER_PERSON {
                        for c in &mine {
                            took.push(status(&base, c).await);
                        }
                    }
                    took
                })
            })
            .collect();
        let mut all = Vec::new();
        for c in clients {
            all.extend(c.await.unwrap());
        }
        (all.len() as f64 / started.elapsed().as_secs_f64(), all)
    };
    reads.sort();
    println!(
        "HTTP signed-in reads (/api/auth/status): {} by {CLIENTS} clients = {rate:.0}/s; \
         p50 {:.1} ms, p99 {:.1} ms",
        reads.len(),
        percentile(&reads, 0.50),
        percentile(&reads, 0.99),
    );

    let (batches_before, declared_before) = writer.counts();
    let started = Instant::now();
    let clients: Vec<_> = people
        .chunks(PEOPLE_PER_CLIENT)
        .map(|mine| {
            let mine = mine.to_vec();
            let base = base.clone();
            tokio::spawn(async move {
                let mut took = Vec::with_capacity(PEOPLE_PER_CLIENT * PER_PERSON);
                for _ in 0..PER_PERSON {
                    for c in &mine {
                        took.push(declare(&base, c).await);
                    }
                }
                took
            })
        })
        .collect();
    let mut all = Vec::new();
    for c in clients {
        all.extend(c.await.unwrap());
    }
    let elapsed = started.elapsed();
    let (batches, declared) = writer.counts();
    all.sort();
    let p99 = percentile(&all, 0.99);
    println!(
        "HTTP declarations: {} by {CLIENTS} clients in {:.2} s = {:.0}/s; \
         p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms; \
         p99 is {:.2} of the {TARGET_P99_MS} ms target",
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        percentile(&all, 0.50),
        p99,
        percentile(&all, 0.999),
        all.last().unwrap().as_secs_f64() * 1000.0,
        p99 / TARGET_P99_MS,
    );
    let batches = batches - batches_before;
    println!(
        "the writer committed them in {batches} batches ({:.1} declarations a batch)",
        (declared - declared_before) as f64 / batches.max(1) as f64
    );
    let written = app::backend::entity::incident::Entity::find()
        .filter(app::backend::entity::incident::Column::Location.eq("Reception PC 2"))
        .count(&db)
        .await
        .unwrap();
    println!(
        "incidents written: {written} (expected {}); engines {}",
        all.len() + people.len(),
        if engines { "on" } else { "off" }
    );
    // What the declarations left for the delivery engine, by channel and status.
    let rows = app::backend::entity::notification::Entity::find()
        .all(&db)
        .await
        .unwrap();
    let mut counts: std::collections::BTreeMap<(String, &str), usize> = Default::default();
    for n in &rows {
        *counts
            .entry((n.channel.clone(), n.status.as_str()))
            .or_default() += 1;
    }
    println!("notifications: {counts:?}");
}
