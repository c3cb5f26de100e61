//! Declaration throughput, recorded in docs/BENCHMARKS.md.
//! Run: `cargo bench -p server --bench declarations`.
//!
//! On one SQLite file (WAL, synchronous=FULL, as the server runs it):
//! 1. the raw durable-transaction rate: a bare insert-and-commit loop;
//! 2. declarations through the group-committing writer the server uses: 50 concurrent
//!    clients, a 20-step runbook in force, each declaration routed and written whole;
//! 3. for comparison, the same load with one transaction per declaration (the same writer,
//!    committing each declaration alone).
//!
//! Rates, p50/p99 latency and the ratio to the raw rate are printed.
//! `DECLARATIONS_ONLY=group` skips the third; `DECLARATIONS_TRACE=FILE` writes each
//! group-committed declaration's start (ms into the run) and latency, to see when slow
//! ones happen.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::backend::access::User;
use app::backend::incidents::{self, Declarations, DeclareInput};
use app::domain::auth::AccessRole;
use app::domain::incidents::{IncidentKind, PatientsAffected, StepInput};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

const CLIENTS: usize = 50;
const PER_CLIENT: usize = 200;
const RAW: usize = 3000;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

async fn user(db: &DatabaseConnection, email: &str, grant: (i64, AccessRole)) -> User {
    User {
        person_id: app::backend::people::find_by_email(db, email)
            .await
            .unwrap()
            .unwrap()
            .id,
        name: email.into(),
        email: email.into(),
        grants: vec![grant],
        mfa_enabled: true,
        second_factor: true,
    }
}

async fn raw_rate(db: &DatabaseConnection) -> f64 {
    db.execute_unprepared("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        .await
        .unwrap();
    let t = Instant::now();
    for i in 0..RAW {
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared(&format!(
            "INSERT INTO bench_raw (v) VALUES ('row {i} of the raw durable-commit loop')"
        ))
        .await
        .unwrap();
        txn.commit().await.unwrap();
    }
    RAW as f64 / t.elapsed().as_secs_f64()
}

/// Runs `CLIENTS` clients each declaring `PER_CLIENT` times; returns (rate, sorted latencies).
async fn load(
    db: &DatabaseConnection,
    staff: Arc<User>,
    writer: Declarations,
) -> (f64, Vec<Duration>) {
    let t = Instant::now();
    let mut handles = Vec::new();
    for c in 0..CLIENTS {
        let db = db.clone();
        let staff = staff.clone();
        let writer = writer.clone();
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(PER_CLIENT);
            for i in 0..PER_CLIENT {
                let input = DeclareInput {
                    org_code: None,
                    kind: IncidentKind::Ransomware,
                    summary: format!("Client {c} declaration {i}: ransom note on screen"),
                    location: "Reception".into(),
                    patients_affected: PatientsAffected::Unknown,
                    systems: "EMIS".into(),
                    personal_data: None,
                    assets: Vec::new(),
                    exercise: None,
                };
                let s = Instant::now();
                writer.declare(&db, &staff, input).await.unwrap();
                lat.push((s.duration_since(t), s.elapsed()));
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    if let Ok(path) = std::env::var("DECLARATIONS_TRACE") {
        let lines: Vec<String> = all
            .iter()
            .map(|(at, l)| {
                format!(
                    "{:.3} {:.3}",
                    at.as_secs_f64() * 1000.0,
                    l.as_secs_f64() * 1000.0
                )
            })
            .collect();
        std::fs::write(path, lines.join("\n")).unwrap();
    }
    let mut all: Vec<Duration> = all.into_iter().map(|(_, l)| l).collect();
    let rate = all.len() as f64 / t.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

// Long because it is the benchmark's script, in the order it runs (set up, warm, measure,
// print); each step is short and reads top to bottom.
#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("declare.db").display());
    // Timeline heads are signed, as on a server with its key file.
    app::backend::secrets::install(&app::backend::secrets::Keyring::generate());
    let db = app::backend::db::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    app::backend::roles::seed(&db).await.unwrap();
    app::backend::runbooks::seed_runbooks(&db).await.unwrap();
    app::backend::demo::load(&db).await.unwrap();

    // A 20-step national ransomware runbook, owned by roles held at different levels, so
    // routing walks the tree (practice → sub-ICB → ICB → region) for most steps.
    let dana = user(
        &db,
        "dana.whitlock@demo.wardline.test",
        (1, AccessRole::NationalAdmin),
    )
    .await;
    let roles = [
        "head_of_cyber",
        "siro",
        "dpo",
        "caldicott_guardian",
        "data_security_lead",
        "gold_on_call",
        "silver_on_call",
        "regional_cyber_lead",
    ];
    let steps: Vec<StepInput> = (0..20)
        .map(|i| StepInput {
            phase: [
                "detect",
                "triage",
                "contain",
                "notify",
                "continuity",
                "recover",
                "review",
            ][i % 7]
                .into(),
            title: format!("Step {} of the benchmark runbook", i + 1),
            owner_role: roles[i % roles.len()].into(),
            due_minutes: (15 * (i + 1)).to_string(),
            instructions: "Do what the plan says and record what was done.".into(),
            required: Some("on".into()),
            depends_on: if i == 0 { String::new() } else { "1".into() },
            remove: None,
        })
        .collect();
    app::backend::runbooks::save(
        &db,
        &dana,
        IncidentKind::Ransomware,
        Some("national"),
        "Benchmark ransomware plan",
        &steps,
    )
    .await
    .unwrap();
    let practice = app::backend::orgs::find_by_code(&db, "G85028")
        .await
        .unwrap()
        .unwrap();
    let staff = Arc::new(
        user(
            &db,
            "nadia.kowalski@demo.wardline.test",
            (practice.id, AccessRole::Staff),
        )
        .await,
    );
    // Warm up, and check the runbook in force has 20 steps.
    let r = Declarations::one_at_a_time(db.clone())
        .declare(
            &db,
            &staff,
            DeclareInput {
                org_code: None,
                kind: IncidentKind::Ransomware,
                summary: String::new(),
                location: "Warm-up".into(),
                patients_affected: PatientsAffected::Unknown,
                systems: String::new(),
                personal_data: None,
                assets: Vec::new(),
                exercise: None,
            },
        )
        .await
        .unwrap();
    let v = incidents::view(&db, &dana, &r.reference).await.unwrap();
    assert_eq!(v.tasks.len(), 20);

    let raw = raw_rate(&db).await;
    println!("raw durable commits: {raw:.0}/s ({RAW} single-row insert-and-commit transactions)");

    let writer = Declarations::start(db.clone());
    // Warm the writer's plan cache and statement shapes the way a running server has them:
    // one declaration per client, untimed.
    let warm: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (db, staff, writer) = (db.clone(), staff.clone(), writer.clone());
            tokio::spawn(async move {
                let input = DeclareInput {
                    org_code: None,
                    kind: IncidentKind::Ransomware,
                    summary: String::new(),
                    location: "Warm-up".into(),
                    patients_affected: PatientsAffected::Unknown,
                    systems: String::new(),
                    personal_data: None,
                    assets: Vec::new(),
                    exercise: None,
                };
                writer.declare(&db, &staff, input).await.unwrap()
            })
        })
        .collect();
    for w in warm {
        w.await.unwrap();
    }
    let (rate, lat) = load(&db, staff.clone(), writer).await;
    println!(
        "group-committed declarations: {rate:.0}/s with {CLIENTS} clients ({} declarations of 20 tasks); p50 {:.1} ms, p99 {:.1} ms (p99.9 {:.1} ms, max {:.1} ms); {:.0}% of the raw rate",
        lat.len(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 0.999),
        percentile(&lat, 1.0),
        100.0 * rate / raw
    );

    // For profiling the writer alone: DECLARATIONS_ONLY=group skips the comparison.
    if std::env::var("DECLARATIONS_ONLY").as_deref() == Ok("group") {
        return;
    }
    let (rate1, lat1) = load(&db, staff, Declarations::one_at_a_time(db.clone())).await;
    println!(
        "one transaction per declaration: {rate1:.0}/s with {CLIENTS} clients; p50 {:.1} ms, p99 {:.1} ms; {:.0}% of the raw rate",
        percentile(&lat1, 0.50),
        percentile(&lat1, 0.99),
        100.0 * rate1 / raw
    );
}
