//! Benchmarks recorded in docs/BENCHMARKS.md. Run: `cargo bench -p server --bench wardline`.
//!
//! 1. Sign-in answers for an unknown email and a wrong password take the same time.
//! 2. ODS import of a synthetic national-size epraccur.csv, then the same file again.
//! 3. The responsibility chart and the overview at that size.

use std::time::{Duration, Instant};

use server::Application;
use server::config::Settings;

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(v[v.len() / 2]), ms(v[v.len() * 95 / 100]))
}

fn practice(i: usize) -> String {
    format!(
        "\"G{:05}\",\"BENCH PRACTICE {i}, SOMEWHERE\",\"Y56\",\"QKK\",\"1 THE STREET\",\"\",\"LONDON\",\"\",\"\",\"SW9 9AB\",\"19740401\",\"\",\"A\",\"B\",\"72Q\",\"20220701\",\"\",\"02071234567\",\"\",\"\",\"\",\"0\",\"\",\"4\",\"\",\"4\",\"\"\r\n",
        i
    )
}

// Long because it is the benchmark's script, in the order it runs (set up, warm, measure,
// print); each step is short and reads top to bottom.
#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let app = Application::build(Settings::for_tests(&url)).await.unwrap();
    let address = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let db = app::backend::db::connect(&url).await.unwrap();
    app::backend::demo::load(&db).await.unwrap();

    // 1. Sign-in timing. Each round comes from its own loopback address and failures are
    //    spread over the demo accounts, so the rate limiter never answers first.
    let attempt = |email: String, round: usize| {
        let address = address.clone();
        let client = reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 1, (round + 2) as u8]))
            .build()
            .unwrap();
        async move {
            let t = Instant::now();
            let res = client
                .post(format!("{address}/api/auth/sign_in"))
                .header("Accept", "application/json")
                .form(&[
                    ("email", email.as_str()),
                    ("password", "not the password at all"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 401);
            t.elapsed()
        }
    };
    let people: Vec<&str> = app::backend::demo::PEOPLE.iter().map(|p| p.1).collect();
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for round in 0..60 {
        // Alternate which goes first, so neither gains from what the other left warm.
        let u = format!("nobody{round}@example.nhs.uk");
        let w = people[round % people.len()].to_owned();
        if round % 2 == 0 {
            unknown.push(attempt(u, round).await);
            wrong.push(attempt(w, round + 100).await);
        } else {
            wrong.push(attempt(w, round + 100).await);
            unknown.push(attempt(u, round).await);
        }
    }
    let (u50, u95) = stats(unknown);
    let (w50, w95) = stats(wrong);
    println!("sign-in, unknown email:  median {u50:.1} ms, p95 {u95:.1} ms (60 attempts)");
    println!("sign-in, wrong password: median {w50:.1} ms, p95 {w95:.1} ms (60 attempts)");
    println!("ratio of medians unknown/wrong: {:.3}", u50 / w50);

    // 2. Import.
    let rows = 8_000;
    let file: String = (0..rows).map(practice).collect();
    let parse_t = Instant::now();
    let parsed = app::backend::import::ods::parse(
        app::backend::import::ods::OdsFile::Practices,
        file.as_bytes(),
        time::OffsetDateTime::now_utc().date(),
    );
    let parse_d = parse_t.elapsed();
    let t = Instant::now();
    let report = app::backend::import::ods::apply(&db, parsed, |_, _| {})
        .await
        .unwrap();
    let first = t.elapsed();
    assert_eq!(report.created, rows);
    let parsed = app::backend::import::ods::parse(
        app::backend::import::ods::OdsFile::Practices,
        file.as_bytes(),
        time::OffsetDateTime::now_utc().date(),
    );
    let t = Instant::now();
    let again = app::backend::import::ods::apply(&db, parsed, |_, _| {})
        .await
        .unwrap();
    let second = t.elapsed();
    assert!(again.changed_nothing());
    println!(
        "import of {rows} practices ({} KB): parse {:.0} ms, store {:.2} s ({:.0} rows/s)",
        file.len() / 1024,
        parse_d.as_secs_f64() * 1000.0,
        first.as_secs_f64(),
        rows as f64 / first.as_secs_f64()
    );
    println!(
        "re-import of the same file (no changes): {:.2} s",
        second.as_secs_f64()
    );

    // 3. The chart of the ICB with every practice under it, and the national overview.
    let dana = app::backend::access::User {
        person_id: app::backend::people::find_by_email(&db, "dana.whitlock@demo.wardline.test")
            .await
            .unwrap()
            .unwrap()
            .id,
        name: "Dana".into(),
        email: "dana.whitlock@demo.wardline.test".into(),
        grants: vec![(1, app::domain::auth::AccessRole::NationalAdmin)],
        mfa_enabled: true,
        second_factor: true,
    };
    let mut times = Vec::new();
    let mut size = 0;
    // Each run reads the country afresh (a new cache), as after any change.
    for _ in 0..5 {
        let t = Instant::now();
        let fresh = app::backend::chart::Cache::default();
        let c = app::backend::chart::chart(&db, &fresh, &dana, "QKK", None, &Default::default())
            .await
            .unwrap();
        times.push(t.elapsed());
        size = c.orgs.len();
    }
    let (c50, _) = stats(times);
    println!("chart of QKK with {size} organisations: median {c50:.0} ms (5 runs)");
    let t = Instant::now();
    let lines = app::backend::chart::overview(&db, &Default::default(), &dana)
        .await
        .unwrap();
    println!(
        "national overview ({} lines over {} organisations): {:.0} ms",
        lines.len(),
        size + 6,
        t.elapsed().as_secs_f64() * 1000.0
    );
}
