//! Object-level authorisation against an oracle: for random (person, object) pairs, a read
//! succeeds exactly when the object's organisation lies within the person's grants, and
//! answers 404 otherwise. The oracle is computed here from the demo's own parent table,
//! independently of the server's code.

use std::collections::HashMap;

use app::backend::demo::{ORGS, PEOPLE};
use app::domain::auth::AccessRole;
use leptos::server_fn::axum::server_fn_paths;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::helpers::{DEMO_PASSWORD, TestApp, spawn_app};

/// Whether `actor_org` (with `role`) may read records of `target_org`.
fn oracle(actor_org: &str, role: AccessRole, target_org: &str) -> bool {
    if role == AccessRole::NationalAdmin {
        return true;
    }
    let parent: HashMap<&str, &str> = ORGS
        .iter()
        .filter_map(|(c, _, _, p)| p.map(|p| (*c, p)))
        .collect();
    let mut at = Some(target_org);
    while let Some(org) = at {
        if org == actor_org {
            return true;
        }
        at = parent.get(org).copied();
    }
    false
}

/// Signs a demo person in on their own client, enrolling MFA first where their role needs it.
async fn signed_in_client(app: &TestApp, email: &str, role: AccessRole) -> reqwest::Client {
    let client = app.new_client();
    assert_eq!(
        app.sign_in_with(&client, email, DEMO_PASSWORD)
            .await
            .status(),
        200
    );
    if role.requires_mfa() {
        let enrol: serde_json::Value = app
            .post_with(&client, "/api/auth/mfa_begin", &[])
            .await
            .json()
            .await
            .unwrap();
        let code = app::backend::mfa::code_now(enrol["secret"].as_str().unwrap()).unwrap();
        assert_eq!(
            app.post_with(&client, "/api/auth/mfa_confirm", &[("code", &code)])
                .await
                .status(),
            200
        );
    }
    client
}

#[tokio::test]
async fn reads_of_people_follow_the_grant_oracle_for_random_pairs() {
    let app = spawn_app().await.with_demo().await;
    let mut clients = Vec::new();
    for (_, email, _, _, role) in PEOPLE {
        clients.push(signed_in_client(&app, email, *role).await);
    }
    let org_codes: Vec<&str> = ORGS.iter().map(|(c, ..)| *c).collect();

    let mut runner = TestRunner::deterministic();
    let pairs =
        proptest::collection::vec((0..PEOPLE.len(), 0..PEOPLE.len(), 0..org_codes.len()), 150)
            .new_tree(&mut runner)
            .unwrap()
            .current();
    let mut allowed = 0;
    for (actor, target, org) in pairs {
        let (_, _, _, actor_org, role) = PEOPLE[actor];
        let (_, target_email, _, target_org, _) = PEOPLE[target];
        let expect = oracle(actor_org, role, target_org);
        let status = app
            .post_with(
                &clients[actor],
                "/api/people/get",
                &[("email", target_email)],
            )
            .await
            .status();
        assert_eq!(
            status == 200,
            expect,
            "{actor_org} ({role:?}) reading a person of {target_org}: {status}"
        );
        if !expect {
            assert_eq!(status, 404, "refusals look like absence");
        }
        allowed += usize::from(expect);

        let code = org_codes[org];
        let expect = oracle(actor_org, role, code);
        let status = app
            .post_with(&clients[actor], "/api/people/list", &[("org_code", code)])
            .await
            .status();
        assert_eq!(
            status == 200,
            expect,
            "{actor_org} ({role:?}) listing people of {code}: {status}"
        );
    }
    assert!(
        allowed > 10 && allowed < 140,
        "the sample exercises both outcomes: {allowed}"
    );
}

#[tokio::test]
async fn a_regulator_gets_403_from_every_function_that_changes_anything() {
    let app = spawn_app().await.with_demo().await;
    let ruth = signed_in_client(
        &app,
        "ruth.adeyemi@demo.wardline.test",
        AccessRole::Regulator,
    )
    .await;
    let writes: Vec<String> = server_fn_paths()
        .map(|(p, _)| p.to_string())
        .filter(|p| app::api::WRITE_AREAS.iter().any(|area| p.starts_with(area)))
        .collect();
    assert!(!writes.is_empty());
    for path in writes {
        let status = app.post_with(&ruth, &path, &[]).await.status();
        assert_eq!(status, 403, "{path}");
    }
}
