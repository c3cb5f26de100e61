//! Sign-in cannot exhaust memory: each argon2id check holds 19 MiB, so a flood of sign-ins
//! must queue for the hashing permits rather than run all at once.
//!
//! The server runs in this test's process, so the process's resident memory is the
//! server's. nextest runs each test in a process of its own; under `cargo test` other tests
//! share the process and the figure includes them.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use crate::helpers::spawn_app;

/// A field of /proc/self/status, in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

const CEILING_MIB: u64 = 400;
const ADDRESSES: u8 = 10;
const PER_ADDRESS: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sign_ins_stay_under_the_memory_ceiling() {
    let app = spawn_app().await;
    // One sign-in first, so the dummy hash and the connection pool exist before measuring.
    let _ = app
        .sign_in_with(&app.new_client(), "warm@nhs.test", "not the password")
        .await;
    let before = status_kib("VmRSS:");
    let started = Instant::now();
    let mut calls = Vec::new();
    for a in 0..ADDRESSES {
        // Each from its own loopback address, as several clients.
        let client = reqwest::Client::builder()
            .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + a)))
            .build()
            .unwrap();
        for i in 0..PER_ADDRESS {
            let client = client.clone();
            let url = format!("{}/api/auth/sign_in", app.address);
            calls.push(tokio::spawn(async move {
                client
                    .post(url)
                    .header("Accept", "application/json")
                    .form(&[
                        ("email", format!("person{i}@client{a}.nhs.test")),
                        ("password", "a wrong password".to_owned()),
                    ])
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }));
        }
    }
    let mut statuses = Vec::new();
    for c in calls {
        statuses.push(c.await.unwrap());
    }
    let elapsed = started.elapsed();
    let peak = status_kib("VmHWM:");
    let growth_mib = peak.saturating_sub(before) / 1024;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    println!(
        "{} sign-ins in {elapsed:?}: {checked} checked (401), {limited} refused early (429); \
         resident before {} MiB, peak {} MiB, growth {growth_mib} MiB",
        statuses.len(),
        before / 1024,
        peak / 1024
    );
    assert_eq!(checked + limited, statuses.len(), "{statuses:?}");
    assert!(
        checked >= 200,
        "most attempts reached the password check, so the hashing bound is what is tested"
    );
    assert!(
        growth_mib < CEILING_MIB,
        "resident memory grew {growth_mib} MiB under {} concurrent sign-ins",
        statuses.len()
    );
    assert!(elapsed < Duration::from_secs(120));
}
