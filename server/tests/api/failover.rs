//! Losing an instance loses nothing: two `wardline serve` processes on one PostgreSQL
//! database under load; one is SIGKILLed mid-load, the other carries on; SIGTERM drains an
//! instance with no 5xx answered. On SQLite one process serves a database, so this runs in
//! the suite's PostgreSQL pass.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::backend::entity::{escalation, incident, task};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{DEMO_PASSWORD, spawn_app};

const STAFF: [&str; 4] = [
    "nadia.kowalski@demo.wardline.test",
    "aisha.bello@demo.wardline.test",
    "owen.fraser@demo.wardline.test",
    "tom.okafor@demo.wardline.test",
];

struct Instance {
    child: Child,
    address: String,
}

/// A failing test does not leave its servers running.
impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(database_url: &str, key: &std::path::Path) -> Instance {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wardline"))
        .arg("serve")
        .env("WARDLINE_DATABASE_URL", database_url)
        .env("WARDLINE_SECRET_KEY_FILE", key)
        .env("WARDLINE_ADDR", "127.0.0.1:0")
        .env("WARDLINE_COOKIE_SECURE", "false")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("Wardline is serving on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    Instance { child, address }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn sign_in(address: &str, email: &str) -> reqwest::Client {
    let c = client();
    let res = c
        .post(format!("{address}/api/auth/sign_in"))
        .header("Accept", "application/json")
        .form(&[("email", email), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    c
}

/// What load got back: references declared (answered 200), and every status answered.
#[derive(Default)]
struct Outcomes {
    declared: Vec<String>,
    statuses: Vec<u16>,
}

/// Each signed-in person declares `times` times, alternating between `addresses`.
async fn declare_load(
    people: &[reqwest::Client],
    addresses: Vec<String>,
    times: usize,
    pause: Duration,
) -> Outcomes {
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let mut workers = Vec::new();
    for (n, c) in people.iter().enumerate() {
        let c = c.clone();
        let (addresses, outcomes) = (addresses.clone(), outcomes.clone());
        workers.push(tokio::spawn(async move {
            for i in 0..times {
                let address = &addresses[(i + n) % addresses.len()];
                let sent = c
                    .post(format!("{address}/api/incidents/declare"))
                    .header("Accept", "application/json")
                    .form(&[
                        ("kind", "system_down"),
                        ("location", "Pharmacy"),
                        ("patients_affected", "unknown"),
                        ("systems", "EPR"),
                        ("summary", "Nothing loads"),
                    ])
                    .send()
                    .await;
                // A refused connection (the instance is gone) is no answer at all.
                if let Ok(res) = sent {
                    let status = res.status().as_u16();
                    let body = res.text().await.unwrap_or_default();
                    let mut o = outcomes.lock().unwrap();
                    o.statuses.push(status);
                    if status == 200 {
                        o.declared.push(serde_json::from_str(&body).unwrap());
                    }
                }
                tokio::time::sleep(pause).await;
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    Arc::try_unwrap(outcomes)
        .ok()
        .expect("workers done")
        .into_inner()
        .unwrap()
}

#[tokio::test]
async fn sigkill_of_one_of_two_instances_loses_nothing_and_sigterm_drains_without_5xx() {
    let app = spawn_app().await.with_demo().await;
    if !app.on_postgres() {
        eprintln!("skipped: several instances share a database on PostgreSQL only");
        return;
    }
    let mut a = serve(&app.database_url, &app.key_file);
    let b = serve(&app.database_url, &app.key_file);
    let addresses = vec![a.address.clone(), b.address.clone()];
    // Signed in once (sessions are in the database: good at either instance).
    let mut people = Vec::new();
    for email in STAFF {
        people.push(sign_in(&a.address, email).await);
    }
    let people = Arc::new(people);

    // Some incidents, whose escalations are all then made due at once: both engines take
    // them, and A is killed while they do.
    let first = declare_load(&people, addresses.clone(), 3, Duration::ZERO).await;
    assert_eq!(first.declared.len(), 12, "{:?}", first.statuses);
    let before: HashMap<i64, i32> = escalation::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e.level))
        .collect();
    assert!(!before.is_empty());
    escalation::Entity::update_many()
        .col_expr(
            escalation::Column::FiresAt,
            Expr::value(time::OffsetDateTime::now_utc() - time::Duration::seconds(1)),
        )
        .filter(escalation::Column::AcknowledgedAt.is_null())
        .exec(&app.db)
        .await
        .unwrap();

    let load = {
        let (people, addresses) = (people.clone(), addresses.clone());
        tokio::spawn(
            async move { declare_load(&people, addresses, 6, Duration::from_millis(50)).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(250)).await;
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    let during = load.await.unwrap();

    // Every declaration answered 200 is there, with its tasks.
    for reference in first.declared.iter().chain(&during.declared) {
        let inc = incident::Entity::find()
            .filter(incident::Column::Reference.eq(reference.as_str()))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{reference} was answered 200 but is missing"));
        let tasks = task::Entity::find()
            .filter(task::Column::IncidentId.eq(inc.id))
            .count(&app.db)
            .await
            .unwrap();
        assert!(tasks > 0, "{reference} has its tasks");
    }
    assert!(
        during.statuses.iter().all(|s| *s < 500),
        "{:?}",
        during.statuses
    );
    assert!(
        during.declared.len() >= 12,
        "B carried on: {}",
        during.declared.len()
    );

    // Every escalation made due stepped exactly once: none lost, none twice.
    let mut waited = 0;
    loop {
        let due = escalation::Entity::find()
            .filter(escalation::Column::AcknowledgedAt.is_null())
            .filter(escalation::Column::FiresAt.lte(time::OffsetDateTime::now_utc()))
            .count(&app.db)
            .await
            .unwrap();
        if due == 0 || waited > 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    let after: HashMap<i64, escalation::Model> = escalation::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    for (id, level) in &before {
        let now = &after[id];
        if now.acknowledged_at.is_none() {
            assert_eq!(now.level, level + 1, "escalation {id} stepped once");
        }
    }

    // SIGTERM under load: what is in flight finishes, nothing answers 5xx, the process ends.
    // A live stream open on it ends at once rather than holding the drain open.
    let mut stream = people[0]
        .get(format!("{}/live/tasks", b.address))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let survivor = vec![b.address.clone()];
    let load = {
        let people = people.clone();
        tokio::spawn(
            async move { declare_load(&people, survivor, 8, Duration::from_millis(20)).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let pid = b.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let termed = std::time::Instant::now();
    let drained = load.await.unwrap();
    let exit = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || {
            let mut b = b;
            b.child.wait().unwrap()
        }),
    )
    .await
    .expect("it exits after SIGTERM")
    .unwrap();
    assert!(exit.success(), "a clean exit after SIGTERM: {exit:?}");
    assert!(
        termed.elapsed() < Duration::from_secs(5),
        "the open stream did not hold it for the 10 s drain limit: {:?}",
        termed.elapsed()
    );
    let ended = tokio::time::timeout(Duration::from_secs(1), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the live stream ended");
    assert!(!drained.statuses.is_empty());
    assert!(
        drained.statuses.iter().all(|s| *s < 500),
        "{:?}",
        drained.statuses
    );
    for reference in &drained.declared {
        assert!(
            incident::Entity::find()
                .filter(incident::Column::Reference.eq(reference.as_str()))
                .one(&app.db)
                .await
                .unwrap()
                .is_some(),
            "{reference}"
        );
    }
}
