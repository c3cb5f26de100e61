//! Paging latency, recorded in docs/BENCHMARKS.md.
//! Run: `cargo bench -p server --bench paging`.
//!
//! 1. Declaration to page: 50 declarations at once through the group-commit writer (as the
//!    server declares), the delivery engine running on the wall clock and woken by each
//!    commit, email pages going to a real SMTP listener on loopback. For each declaration,
//!    the time from its commit (the writer's answer, when the server answers the HTTP
//!    request) to the first page naming it arriving at the listener. Target: p99 under 2 s.
//! 2. A burst: 1,000 pages falling due at once. Target: all at the listener within 10 s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use app::backend::access::User;
use app::backend::entity::{notification, task};
use app::backend::escalation::{Delivery, Engine, MailSettings, SystemClock};
use app::backend::incidents::{Declarations, DeclareInput};
use app::backend::paging::Channels;
use app::domain::auth::AccessRole;
use app::domain::incidents::{IncidentKind, PatientsAffected};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Every message an SMTP listener on loopback accepted, with when it arrived.
type Arrivals = Arc<Mutex<Vec<(Instant, String)>>>;

async fn smtp_listener() -> (u16, Arrivals) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got: Arrivals = Arc::default();
    let kept = got.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            kept.lock()
                                .unwrap()
                                .push((Instant::now(), std::mem::take(body)));
                            data = None;
                            let _ = write.write_all(b"250 2.0.0 queued\r\n").await;
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 2.0.0 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, got)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

// Long because it is the benchmark's script, in the order it runs (set up, warm, measure,
// print); each step is short and reads top to bottom.
#[tokio::main]
async fn main() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("error")
        .try_init();
    // Timelines are signed: a key as the server loads from its key file.
    app::backend::secrets::install(&app::backend::secrets::Keyring::generate());
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("paging.db").display());
    let db = app::backend::db::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    app::backend::roles::seed(&db).await.unwrap();
    app::backend::runbooks::seed_runbooks(&db).await.unwrap();
    app::backend::escalation::seed_policy(&db).await.unwrap();
    app::backend::demo::load(&db).await.unwrap();
    let practice = app::backend::orgs::find_by_code(&db, "G85028")
        .await
        .unwrap()
        .unwrap();
    let staff = User {
        person_id: app::backend::people::find_by_email(&db, "nadia.kowalski@demo.wardline.test")
            .await
            .unwrap()
            .unwrap()
            .id,
        name: "Nadia".into(),
        email: "nadia.kowalski@demo.wardline.test".into(),
        grants: vec![(practice.id, AccessRole::Staff)],
        mfa_enabled: false,
        second_factor: false,
    };
    let (port, arrivals) = smtp_listener().await;
    let mail = MailSettings {
        host: Some("127.0.0.1".into()),
        port,
        from: "wardline@nhs.test".into(),
        security: "none".into(),
        username: None,
        password: None,
    };
    let engine = Arc::new(Engine::new(
        app::backend::db::connect(&url).await.unwrap(),
        Arc::new(SystemClock),
        Delivery::new(&mail, "http://127.0.0.1:3000").unwrap(),
        false,
    ));
    let writer = Declarations::start(db.clone()).paging(
        Channels {
            email: true,
            sms: false,
            teams: false,
        },
        Some(engine.waker()),
    );
    let running = engine.clone().spawn();

    // 1. 50 declarations at once: commit to the first page of each at the listener.
    let mut handles = Vec::new();
    for i in 0..50 {
        let (db, staff, writer) = (db.clone(), staff.clone(), writer.clone());
        handles.push(tokio::spawn(async move {
            let reference = writer
                .declare(
                    &db,
                    &staff,
                    DeclareInput {
                        org_code: None,
                        kind: IncidentKind::Ransomware,
                        summary: format!("paging bench {i}"),
                        location: "Reception".into(),
                        patients_affected: PatientsAffected::Unknown,
                        systems: String::new(),
                        personal_data: None,
                        assets: Vec::new(),
                        exercise: None,
                    },
                )
                .await
                .unwrap()
                .reference;
            (reference, Instant::now())
        }));
    }
    let mut committed = Vec::new();
    for h in handles {
        committed.push(h.await.unwrap());
    }
    let first_page = |reference: &str| {
        arrivals
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, m)| m.contains(reference))
            .map(|(at, _)| *at)
            .min()
    };
    let waited = Instant::now();
    while committed.iter().any(|(r, _)| first_page(r).is_none())
        && waited.elapsed() < StdDuration::from_secs(30)
    {
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    let mut latency: Vec<f64> = committed
        .iter()
        .filter_map(|(r, at)| {
            first_page(r).map(|page| page.saturating_duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    latency.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "declaration to page: {} of 50 paged; p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (target: p99 under 2000 ms); {} pages in all",
        latency.len(),
        pct(&latency, 0.5),
        pct(&latency, 0.99),
        latency.last().copied().unwrap_or_default(),
        arrivals.lock().unwrap().len()
    );

    // 2. 1,000 pages falling due at once (written due now, in one transaction, as a burst
    // of delayed rules coming due would leave them).
    let waited = Instant::now();
    let mut settled = arrivals.lock().unwrap().len();
    loop {
        tokio::time::sleep(StdDuration::from_millis(500)).await;
        let n = arrivals.lock().unwrap().len();
        if n == settled || waited.elapsed() > StdDuration::from_secs(30) {
            break;
        }
        settled = n;
    }
    arrivals.lock().unwrap().clear();
    let tasks: Vec<task::Model> = task::Entity::find()
        .filter(task::Column::AssigneeId.is_not_null())
        .limit(200)
        .all(&db)
        .await
        .unwrap();
    let now = app::backend::timeline::now();
    let rows: Vec<notification::ActiveModel> = (0..1000)
        .map(|k| {
            let t = &tasks[k % tasks.len()];
            let person = t.assignee_id.unwrap_or(staff.person_id);
            notification::ActiveModel {
                subject: Set("task".into()),
                subject_id: Set(t.id),
                incident_id: Set(t.incident_id),
                level: Set(0),
                round: Set(1 + k as i32),
                recipient_key: Set(format!("person:{person}")),
                person_id: Set(Some(person)),
                channel: Set("email".into()),
                title: Set(format!("Burst page {k}")),
                body: Set(format!("burst-{k}")),
                status: Set(app::domain::escalation::NotificationStatus::Pending),
                attempts: Set(0),
                next_attempt_at: Set(now),
                created_at: Set(now),
                ..Default::default()
            }
        })
        .collect();
    let start = Instant::now();
    app::backend::escalation::outbox::insert(&db, rows)
        .await
        .unwrap();
    engine.waker().notify_one();
    while arrivals.lock().unwrap().len() < 1000 && start.elapsed() < StdDuration::from_secs(60) {
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    let last = arrivals
        .lock()
        .unwrap()
        .iter()
        .map(|(at, _)| *at)
        .max()
        .map(|at| at.saturating_duration_since(start).as_secs_f64())
        .unwrap_or_default();
    let by_page: HashMap<String, usize> =
        arrivals
            .lock()
            .unwrap()
            .iter()
            .fold(HashMap::new(), |mut m, (_, body)| {
                if let Some(k) = body.split("burst-").nth(1) {
                    let k: String = k.chars().take_while(char::is_ascii_digit).collect();
                    *m.entry(k).or_default() += 1;
                }
                m
            });
    println!(
        "burst: {} of 1000 pages due at once at the listener in {:.2} s, {} sent twice (target: all within 10 s)",
        by_page.len(),
        last,
        by_page.values().filter(|n| **n > 1).count()
    );
    running.abort();
}
