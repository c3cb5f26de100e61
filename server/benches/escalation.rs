//! Escalation timeliness, recorded in docs/BENCHMARKS.md.
//! Run: `cargo bench -p server --bench escalation`.
//!
//! 1. Lateness: the engine runs on the wall clock (as the server runs it) while 300 tasks
//!    fall due at scattered moments over a few seconds; for each, how long after its
//!    deadline the decision was committed. Target: no later than 1 second.
//! 2. Burst: 10,000 escalations all due at once, decided by one engine. Target: within
//!    5 seconds.
//!

use std::sync::Arc;
use std::time::Instant;

use app::backend::access::User;
use app::backend::entity::escalation;
use app::backend::escalation::{Delivery, Engine, MailSettings, ManualClock, SystemClock};
use app::backend::incidents::{Declarations, DeclareInput};
use app::domain::auth::AccessRole;
use app::domain::incidents::{IncidentKind, PatientsAffected};
use migrations::{Migrator, MigratorTrait};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use time::{Duration, OffsetDateTime};

async fn declare_many(db: &sea_orm::DatabaseConnection, staff: &User, n: usize) {
    let writer = Declarations::start(db.clone());
    let mut handles = Vec::new();
    for c in 0..20 {
        let db = db.clone();
        let staff = staff.clone();
        let writer = writer.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..n / 20 {
                writer
                    .declare(
                        &db,
                        &staff,
                        DeclareInput {
                            org_code: None,
                            kind: IncidentKind::Ransomware,
                            summary: format!("bench {c}/{i}"),
                            location: "Reception".into(),
                            patients_affected: PatientsAffected::Unknown,
                            systems: String::new(),
                            personal_data: None,
                            assets: Vec::new(),
                            exercise: None,
                        },
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
}

// Long because it is the benchmark's script, in the order it runs (set up, warm, measure,
// print); each step is short and reads top to bottom.
#[tokio::main]
async fn main() {
    // An error the app logs (a failed declaration, say) shows here.
    tracing_subscriber::fmt().with_env_filter("error").init();
    let dir = tempfile::tempdir().unwrap();
    // `BENCH_DATABASE_URL=postgres://…/DB`: an empty PostgreSQL database instead.
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("escalation.db").display()));
    println!("on {}", url.split(':').next().unwrap_or("?"));
    // Timeline heads are signed, as on a server with its key file.
    app::backend::secrets::install(&app::backend::secrets::Keyring::generate());
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
    let delivery = || Delivery::new(&MailSettings::default(), "http://127.0.0.1:3000").unwrap();

    // 1. Lateness on the wall clock.
    declare_many(&db, &staff, 40).await;
    let rows: Vec<escalation::Model> = escalation::Entity::find()
        .filter(escalation::Column::Subject.eq("task"))
        .all(&db)
        .await
        .unwrap();
    let start = OffsetDateTime::now_utc() + Duration::seconds(2);
    for (i, e) in rows.iter().take(300).enumerate() {
        // Deadlines scattered over 3 seconds, a prime step apart.
        let at = start + Duration::milliseconds(((i * 37) % 3000) as i64);
        escalation::Entity::update_many()
            .filter(escalation::Column::Id.eq(e.id))
            .col_expr(escalation::Column::FiresAt, Expr::value(at))
            .exec(&db)
            .await
            .unwrap();
    }
    let watched: Vec<i64> = rows.iter().take(300).map(|e| e.id).collect();
    let deadlines: std::collections::HashMap<i64, OffsetDateTime> = escalation::Entity::find()
        .filter(escalation::Column::Id.is_in(watched.clone()))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e.fires_at.unwrap()))
        .collect();
    let live = Arc::new(Engine::new(
        app::backend::db::connect(&url).await.unwrap(),
        Arc::new(SystemClock),
        delivery(),
        false,
    ));
    let handle = live.clone().spawn();
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    handle.abort();
    let mut late: Vec<f64> = escalation::Entity::find()
        .filter(escalation::Column::Id.is_in(watched))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.level == 1)
        .map(|e| (e.updated_at - deadlines[&e.id]).as_seconds_f64() * 1000.0)
        .collect();
    late.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| late[((late.len() as f64 * p).ceil() as usize).clamp(1, late.len()) - 1];
    println!(
        "lateness after the deadline ({} of 300 decided): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (target: at most 1000 ms)",
        late.len(),
        pct(0.5),
        pct(0.99),
        late.last().copied().unwrap_or_default()
    );

    // 2. A burst of 10,000 due at once.
    // The national ransomware runbook has about ten steps: 1,100 incidents give over 10,000 tasks.
    declare_many(&db, &staff, 1100).await;
    let now = OffsetDateTime::now_utc();
    escalation::Entity::update_many()
        .filter(escalation::Column::Level.eq(0))
        .filter(escalation::Column::AcknowledgedAt.is_null())
        .col_expr(
            escalation::Column::FiresAt,
            Expr::value(now + Duration::days(30)),
        )
        .exec(&db)
        .await
        .unwrap();
    let burst: Vec<i64> = escalation::Entity::find()
        .filter(escalation::Column::Level.eq(0))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .take(10_000)
        .map(|e| e.id)
        .collect();
    assert_eq!(burst.len(), 10_000, "enough tasks for the burst");
    for part in burst.chunks(500) {
        escalation::Entity::update_many()
            .filter(escalation::Column::Id.is_in(part.to_vec()))
            .col_expr(escalation::Column::FiresAt, Expr::value(now))
            .exec(&db)
            .await
            .unwrap();
    }
    // Engines sharing the burst (`BENCH_ENGINES`, default 1), each on its own connections,
    // as separate instances would be.
    let engines: usize = std::env::var("BENCH_ENGINES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let clock = Arc::new(ManualClock::new(now + Duration::seconds(1)));
    let mut running = Vec::new();
    for _ in 0..engines {
        running.push(Engine::new(
            app::backend::db::connect(&url).await.unwrap(),
            clock.clone(),
            delivery(),
            false,
        ));
    }
    let t = Instant::now();
    let decided: usize = futures::future::join_all(running.iter().map(|e| e.decide_due()))
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();
    let took = t.elapsed();
    let notified = app::backend::entity::notification::Entity::find()
        .filter(app::backend::entity::notification::Column::Level.eq(1))
        .count(&db)
        .await
        .unwrap();
    println!(
        "burst: {decided} escalations due at once decided by {engines} engine(s) in {:.2} s ({:.0}/s), {notified} level-1 notifications written (target: 10,000 within 5 s)",
        took.as_secs_f64(),
        decided as f64 / took.as_secs_f64()
    );
}
