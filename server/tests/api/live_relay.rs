//! Live updates across instances: a change made through one instance reaches pages open on
//! another within a second (PostgreSQL LISTEN/NOTIFY). On SQLite, one instance serves a
//! database and its live events stay in its memory, so these run in the PostgreSQL pass.

use std::time::{Duration, Instant};

use crate::helpers::{TestApp, spawn_app};

const NADIA: &str = "nadia.kowalski@demo.wardline.test";
const GARETH: &str = "gareth.lloyd@demo.wardline.test";

async fn open(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    let res = client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res
}

/// How long until the stream says "changed" for `reference`; `None` if not within `most`.
async fn changed_within(
    stream: &mut reqwest::Response,
    reference: &str,
    most: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut seen = String::new();
    tokio::time::timeout(most, async {
        while let Ok(Some(chunk)) = stream.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("changed") && seen.contains(reference) {
                return;
            }
        }
    })
    .await
    .ok()
    .map(|()| started.elapsed())
    .or_else(|| {
        eprintln!("the stream said: {seen:?}");
        None
    })
}

#[tokio::test]
async fn a_change_through_one_instance_refreshes_pages_open_on_another_within_a_second() {
    let a = spawn_app().await.with_demo().await;
    if !a.on_postgres() {
        eprintln!("skipped: live events cross instances through PostgreSQL");
        return;
    }
    let b = a.another_instance().await;
    let nadia = a.signed_in_as(NADIA).await;
    // The ICB's lead, who is given tasks in its practices' incidents.
    let gareth = a.enrolled(GARETH).await;

    // Gareth's task list is open on B; Nadia declares through A.
    let mut tasks_on_b = open(&b, &gareth, "/live/tasks").await;
    // The relay's LISTEN is made as the instance starts; give it a moment to be in place.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let reference = a.declare(&nadia, "ransomware").await;
    let took = changed_within(&mut tasks_on_b, &reference, Duration::from_secs(1)).await;
    assert!(took.is_some(), "the declaration reached B's open task list");

    // The incident is open on B; Gareth acknowledges a task through A.
    let mut incident_on_b = open(&b, &nadia, &format!("/live/incidents/{reference}")).await;
    let task = a
        .my_tasks(&gareth)
        .await
        .into_iter()
        .find(|t| t.incident_reference == reference && t.can_act)
        .expect("Gareth holds a task in it");
    let res = a.act_on_task(&gareth, task.id, "acknowledge").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let took = changed_within(&mut incident_on_b, &reference, Duration::from_secs(1)).await;
    assert!(
        took.is_some(),
        "the acknowledgement reached B's open incident page"
    );
}
