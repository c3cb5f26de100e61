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

use crate::helpers::{TestApp, spawn_app};

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
    if role.requires_mfa() {
        app.enrolled(email).await
    } else {
        app.signed_in_as(email).await
    }
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
async fn regulators_get_403_from_every_registered_writer() {
    let app = spawn_app().await.with_demo().await;
    let ruth = signed_in_client(
        &app,
        "ruth.adeyemi@demo.wardline.test",
        AccessRole::Regulator,
    )
    .await;
    let mut registered: Vec<String> = server_fn_paths().map(|(p, _)| p.to_string()).collect();
    registered.sort();
    registered.dedup();
    // Every declaration names a real function, so none can go stale unnoticed.
    for declared in app::api::READ_ENDPOINTS
        .iter()
        .chain(app::api::OWN_ACCOUNT_ENDPOINTS)
    {
        assert!(
            registered.iter().any(|p| p == declared),
            "{declared} is declared but not registered"
        );
    }
    // Everything else is a write: a function nobody declared is refused like any other.
    let writers: Vec<&String> = registered
        .iter()
        .filter(|p| app::api::is_write(p))
        .collect();
    assert!(writers.len() >= 25, "{writers:?}");
    for path in writers {
        let before = app.fingerprint().await;
        let status = app.post_with(&ruth, path, &[]).await.status();
        assert_eq!(
            status, 403,
            "{path} is neither declared a read (app::api::READ_ENDPOINTS) nor refused to regulators"
        );
        assert_eq!(app.fingerprint().await, before, "{path} changed something");
    }
}

/// The writes that name an organisation, a person, an asset or an incident, as forms built
/// for a caller (their own organisation `own`, their own incident `mine`) against a target.
struct Target<'a> {
    org: &'a str,
    person_email: &'a str,
    person_id: String,
    asset: String,
    incident: String,
    task: String,
    assignment: Option<String>,
}

const WRITES: &[&str] = &[
    "/api/incidents/declare",
    "/api/incidents/lead/affect",
    "/api/tasks/act#reassign",
    "/api/manage/escalation#person",
    "/api/manage/escalation",
    "/api/manage/assign",
    "/api/manage/assign#holder",
    "/api/incidents/lead/asset",
    "/api/manage/assets/import",
    "/api/incidents/lead/exercise",
    "/api/runbooks/save",
    "/api/manage/webhook",
    "/api/manage/end_assignment",
    "/api/admin/set_disabled",
    "/api/incidents/change",
    "/api/incidents/lead/report",
    "/api/incidents/lead/ack_command",
    "/api/incidents/lead/review",
    "/api/incidents/lead/link",
    "/api/incidents/lead/command",
    "/api/incidents/lead/review_action",
    "/api/tasks/act",
];

/// The form for one write, and the organisation it names.
fn write_form<'a>(
    write: &str,
    own: &'a str,
    mine: &'a str,
    my_task: &'a str,
    me: &'a str,
    t: &'a Target<'a>,
    person_org: &'a str,
) -> Option<(Vec<(&'a str, &'a str)>, &'a str)> {
    let org = t.org;
    Some(match write {
        "/api/incidents/declare" => (
            vec![
                ("kind", "ransomware"),
                ("location", "Reception"),
                ("patients_affected", "unknown"),
                ("org_code", org),
            ],
            org,
        ),
        "/api/incidents/lead/affect" => (vec![("reference", mine), ("org_code", org)], org),
        "/api/tasks/act#reassign" => (
            vec![
                ("id", my_task),
                ("action", "reassign"),
                ("note", "handing over"),
                ("to_email", t.person_email),
            ],
            person_org,
        ),
        "/api/manage/escalation#person" => (
            vec![
                ("org_code", own),
                ("repeat_count", "0"),
                ("levels[0][timeout_minutes]", "5"),
                ("levels[0][person_email]", t.person_email),
            ],
            person_org,
        ),
        "/api/manage/escalation" => (
            vec![
                ("org_code", org),
                ("repeat_count", "0"),
                ("levels[0][role]", "head_of_cyber"),
                ("levels[0][scope]", "here"),
                ("levels[0][timeout_minutes]", "5"),
            ],
            org,
        ),
        "/api/manage/assign" => (
            vec![
                ("org_code", org),
                ("role_key", "head_of_cyber"),
                ("holder_email", me),
            ],
            org,
        ),
        "/api/manage/assign#holder" => (
            vec![
                ("org_code", own),
                ("role_key", "head_of_cyber"),
                ("holder_email", t.person_email),
            ],
            person_org,
        ),
        "/api/incidents/lead/asset" => (
            vec![("reference", mine), ("asset_id", t.asset.as_str())],
            org,
        ),
        "/api/manage/assets/import" => (
            vec![
                ("org_code", org),
                (
                    "csv",
                    "name,kind,owner_email,supplier_code,clinical_service,patient_safety_critical,os,os_version,end_of_support,site_code,depends_on\n",
                ),
            ],
            org,
        ),
        "/api/incidents/lead/exercise" => (
            vec![
                ("org_code", org),
                ("kind", "ransomware"),
                ("exercise", "communications"),
            ],
            org,
        ),
        "/api/runbooks/save" => (
            vec![
                ("kind", "ransomware"),
                ("org_code", org),
                ("title", "Ransomware"),
                ("steps[0][phase]", "triage"),
                ("steps[0][title]", "Isolate"),
                ("steps[0][owner_role]", "head_of_cyber"),
                ("steps[0][due_minutes]", "15"),
                ("steps[0][instructions]", "Unplug it."),
            ],
            org,
        ),
        "/api/manage/webhook" => (
            vec![
                ("org_code", org),
                ("url", "https://hooks.example.test/x"),
                ("enabled", "on"),
            ],
            org,
        ),
        "/api/manage/end_assignment" => (vec![("id", t.assignment.as_deref()?)], person_org),
        "/api/admin/set_disabled" => (
            vec![("email", t.person_email), ("disabled", "false")],
            person_org,
        ),
        "/api/incidents/change" => (
            vec![
                ("reference", t.incident.as_str()),
                ("status", "triaged"),
                ("reason", "Spreading"),
            ],
            org,
        ),
        "/api/incidents/lead/report" => (
            vec![
                ("reference", t.incident.as_str()),
                ("body", "csoc"),
                ("their_reference", "CSOC-1"),
                ("purpose", "information"),
            ],
            org,
        ),
        "/api/incidents/lead/ack_command" => (vec![("reference", t.incident.as_str())], org),
        "/api/incidents/lead/review" => (
            vec![
                ("reference", t.incident.as_str()),
                ("what_happened", "x"),
                ("went_well", "x"),
                ("lessons", "x"),
            ],
            org,
        ),
        "/api/incidents/lead/link" => (vec![("reference", t.incident.as_str())], org),
        "/api/incidents/lead/command" => (
            vec![("reference", t.incident.as_str()), ("command", "gold")],
            org,
        ),
        "/api/incidents/lead/review_action" => (
            vec![
                ("reference", t.incident.as_str()),
                ("title", "Patch"),
                ("owner_id", t.person_id.as_str()),
                ("due_on", "2099-01-01"),
            ],
            org,
        ),
        "/api/tasks/act" => (
            vec![("id", t.task.as_str()), ("action", "acknowledge")],
            org,
        ),
        _ => unreachable!("{write}"),
    })
}

async fn person_id(app: &TestApp, email: &str) -> i64 {
    use app::backend::entity::person;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    person::Entity::find()
        .filter(person::Column::Email.eq(email))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn org_id(app: &TestApp, code: &str) -> i64 {
    app::backend::orgs::find_by_code(&app.db, code)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Declares an incident at `org` as the national admin; returns its reference and its
/// first task.
async fn incident_at(app: &TestApp, admin: &reqwest::Client, org: &str) -> (String, i64) {
    use app::backend::entity::task;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let reference = app.declare_at(admin, "ransomware", org).await;
    let t = task::Entity::find()
        .filter(task::Column::IncidentId.eq(app.incident_id(&reference).await))
        .order_by_asc(task::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    (reference, t.id)
}

#[tokio::test]
async fn every_write_refuses_random_callers_outside_the_organisation() {
    use app::backend::entity::{asset, assignment, task};
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    let app = spawn_app().await.with_demo().await;
    let mut clients = Vec::new();
    for (_, email, _, _, role) in PEOPLE {
        clients.push(signed_in_client(&app, email, *role).await);
    }
    let dana = PEOPLE
        .iter()
        .position(|p| p.4 == AccessRole::NationalAdmin)
        .unwrap();
    let org_codes: Vec<&str> = ORGS.iter().map(|(c, ..)| *c).collect();
    // Each organisation: an incident its own people work on (and may widen), one that only
    // ever stands as a target, and a catalogued asset.
    let mut own: HashMap<&str, (String, i64)> = HashMap::new();
    let mut targets: HashMap<&str, (String, i64)> = HashMap::new();
    let mut assets: HashMap<&str, i64> = HashMap::new();
    for code in &org_codes {
        if PEOPLE.iter().any(|p| p.3 == *code) {
            own.insert(code, incident_at(&app, &clients[dana], code).await);
        }
        targets.insert(code, incident_at(&app, &clients[dana], code).await);
        let a = asset::ActiveModel {
            org_id: Set(org_id(&app, code).await),
            name: Set(format!("PAS at {code}")),
            kind: Set("application".into()),
            clinical_service: Set(String::new()),
            patient_safety_critical: Set(false),
            os: Set(String::new()),
            os_version: Set(String::new()),
            updated_at: Set(time::OffsetDateTime::now_utc()),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
        assets.insert(code, a.id);
    }
    let mut ids = Vec::new();
    let mut held = Vec::new();
    for (_, email, ..) in PEOPLE {
        let id = person_id(&app, email).await;
        ids.push(id);
        held.push(
            assignment::Entity::find()
                .filter(assignment::Column::PersonId.eq(id))
                .one(&app.db)
                .await
                .unwrap()
                .map(|a| a.id.to_string()),
        );
    }

    let mut runner = TestRunner::deterministic();
    let samples = proptest::collection::vec(
        (
            0..PEOPLE.len(),
            0..org_codes.len(),
            0..PEOPLE.len(),
            0..WRITES.len(),
        ),
        240,
    )
    .new_tree(&mut runner)
    .unwrap()
    .current();
    let (mut refused, mut reached) = (0, 0);
    let mut writes_refused = std::collections::HashSet::new();
    for (caller, org, person, write) in samples {
        let (_, me, _, own_org, role) = PEOPLE[caller];
        let (_, person_email, _, person_org, _) = PEOPLE[person];
        let code = org_codes[org];
        let (mine, my_task) = &own[own_org];
        // The caller's own task is theirs again before each attempt to hand it on.
        let mut t: task::ActiveModel = task::Entity::find_by_id(*my_task)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        t.assignee_id = Set(Some(ids[caller]));
        t.state = Set(app::domain::incidents::TaskState::Open);
        t.update(&app.db).await.unwrap();
        let target = Target {
            org: code,
            person_email,
            person_id: ids[person].to_string(),
            asset: assets[code].to_string(),
            incident: targets[code].0.clone(),
            task: targets[code].1.to_string(),
            assignment: held[person].clone(),
        };
        let my_task = my_task.to_string();
        let Some((form, named)) = write_form(
            WRITES[write],
            own_org,
            mine,
            &my_task,
            me,
            &target,
            person_org,
        ) else {
            continue;
        };
        let path = WRITES[write].split('#').next().unwrap();
        let inside = oracle(own_org, role, named);
        let before = app.fingerprint().await;
        let status = app.post_with(&clients[caller], path, &form).await.status();
        assert!(
            status.as_u16() < 500,
            "{me} on {} naming {named}: {status}",
            WRITES[write]
        );
        if role == AccessRole::Regulator || !inside {
            let expect = if role == AccessRole::Regulator {
                403
            } else {
                404
            };
            assert_eq!(
                status, expect,
                "{me} ({role:?} at {own_org}) on {} naming {named}",
                WRITES[write]
            );
            assert_eq!(
                app.fingerprint().await,
                before,
                "{me} on {} naming {named} changed something",
                WRITES[write]
            );
            refused += 1;
            writes_refused.insert(WRITES[write]);
        } else {
            reached += 1;
        }
    }
    assert!(
        refused > 40 && reached > 20,
        "the sample exercises both outcomes: {refused} refused, {reached} reached"
    );
    assert_eq!(
        writes_refused.len(),
        WRITES.len(),
        "every write was tried from outside: {writes_refused:?}"
    );
}
