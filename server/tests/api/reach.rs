//! Every organisation, person and asset a write names is checked against what the caller
//! may act on: outside it, the answer is 404 and says nothing about what was named; every
//! refused write is audited with who asked and from where.

use app::backend::entity::{asset, audit_event, incident, incident_asset, incident_org, task};
use app::domain::accountability::Chart;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

// Priya is an org admin at RJ1; Aisha (staff) and Sam (lead) are at RJZ, outside her reach.
use crate::helpers::people::{AISHA, PRIYA, RUTH, SAM};
use crate::helpers::{TestApp, spawn_app};

async fn declare_at(app: &TestApp, client: &reqwest::Client, org: &str) -> incident::Model {
    let reference = app.declare_at(client, "ransomware", org).await;
    app.incident_row(&reference).await
}

async fn org_id(app: &TestApp, code: &str) -> i64 {
    app::backend::orgs::find_by_code(&app.db, code)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Status and body, the body being what a refusal shows.
async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let res = app.post_with(client, path, form).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn adding_an_affected_organisation_outside_reach_is_not_found() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let inc = declare_at(&app, &priya, "RJ1").await;
    let outside = post(
        &app,
        &priya,
        "/api/incidents/lead/affect",
        &[("reference", &inc.reference), ("org_code", "RJZ")],
    )
    .await;
    let unknown = post(
        &app,
        &priya,
        "/api/incidents/lead/affect",
        &[("reference", &inc.reference), ("org_code", "ZZZ99")],
    )
    .await;
    assert_eq!(outside.0, 404);
    assert_eq!(
        outside, unknown,
        "an organisation out of reach looks absent"
    );
    let added = incident_org::Entity::find()
        .filter(incident_org::Column::IncidentId.eq(inc.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(added, 0);
}

#[tokio::test]
async fn reassigning_a_task_to_a_person_outside_reach_is_not_found() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let inc = declare_at(&app, &priya, "RJ1").await;
    let t = task::Entity::find()
        .filter(task::Column::IncidentId.eq(inc.id))
        .order_by_asc(task::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let id = t.id.to_string();
    let reassign = |to: &'static str| {
        [
            ("id", id.clone()),
            ("action", "reassign".into()),
            ("note", "handing over".into()),
            ("to_email", to.into()),
        ]
    };
    let form = reassign(AISHA);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let outside = post(&app, &priya, "/api/tasks/act", &form).await;
    let form = reassign("nobody@demo.wardline.test");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let unknown = post(&app, &priya, "/api/tasks/act", &form).await;
    assert_eq!(outside.0, 404);
    assert_eq!(outside, unknown, "no 'this email exists' difference");
    let after = task::Entity::find_by_id(t.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.assignee_id, t.assignee_id);
}

#[tokio::test]
async fn escalation_level_naming_a_person_outside_reach_is_not_found() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let level = |email: &'static str| {
        vec![
            ("org_code", "RJ1"),
            ("repeat_count", "0"),
            ("levels[0][timeout_minutes]", "5"),
            ("levels[0][person_email]", email),
        ]
    };
    let outside = post(&app, &priya, "/api/manage/escalation", &level(AISHA)).await;
    let unknown = post(
        &app,
        &priya,
        "/api/manage/escalation",
        &level("nobody@demo.wardline.test"),
    )
    .await;
    assert_eq!(outside.0, 404);
    assert_eq!(outside, unknown, "no 'this email exists' difference");
    // A role at a fixed organisation out of reach is refused the same way.
    let fixed = post(
        &app,
        &priya,
        "/api/manage/escalation",
        &[
            ("org_code", "RJ1"),
            ("repeat_count", "0"),
            ("levels[0][role]", "head_of_cyber"),
            ("levels[0][scope]", "RJZ"),
            ("levels[0][timeout_minutes]", "5"),
        ],
    )
    .await;
    assert_eq!(fixed, unknown);
    let policy: app::domain::escalation::PolicyView = app
        .post_with(&priya, "/api/escalation/policy", &[("org_code", "RJ1")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(policy.source, "The national default", "nothing saved");
}

#[tokio::test]
async fn linking_an_asset_of_another_organisation_is_not_found() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let inc = declare_at(&app, &priya, "RJ1").await;
    let theirs = asset::ActiveModel {
        org_id: Set(org_id(&app, "RJZ").await),
        name: Set("King's PAS".into()),
        kind: Set("application".into()),
        clinical_service: Set(String::new()),
        patient_safety_critical: Set(true),
        os: Set(String::new()),
        os_version: Set(String::new()),
        updated_at: Set(time::OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let id = theirs.id.to_string();
    let outside = post(
        &app,
        &priya,
        "/api/incidents/lead/asset",
        &[("reference", &inc.reference), ("asset_id", &id)],
    )
    .await;
    let unknown = post(
        &app,
        &priya,
        "/api/incidents/lead/asset",
        &[("reference", &inc.reference), ("asset_id", "999999")],
    )
    .await;
    assert_eq!(outside.0, 404);
    assert_eq!(outside, unknown);
    // Declaring with it is refused alike.
    let declared = post(
        &app,
        &priya,
        "/api/incidents/declare",
        &[
            ("kind", "ransomware"),
            ("location", "Server room"),
            ("patients_affected", "unknown"),
            ("org_code", "RJ1"),
            ("assets[]", &id),
        ],
    )
    .await;
    assert_eq!(declared.0, 404, "{declared:?}");
    let linked = incident_asset::Entity::find()
        .filter(incident_asset::Column::AssetId.eq(theirs.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(linked, 0);
}

#[tokio::test]
async fn chart_as_at_uses_the_narrower_scope_of_then_and_now() {
    let app = spawn_app().await.with_demo().await;
    // Princess Royal moves from King's (RJZ) to Guy's and St Thomas' (RJ1) today.
    let today = time::OffsetDateTime::now_utc().date();
    let yesterday = (today - time::Duration::days(1)).to_string();
    assert!(
        app::backend::orgs::set_parent(
            &app.db,
            org_id(&app, "RJZ30").await,
            org_id(&app, "RJ1").await,
            today,
        )
        .await
        .unwrap()
    );
    let codes =
        |chart: &Chart| -> Vec<String> { chart.orgs.iter().map(|o| o.org.code.clone()).collect() };
    // King's lead: the site was theirs then, but is not now.
    let sam = app.enrolled(SAM).await;
    let then = app
        .post_with(
            &sam,
            "/api/chart/get",
            &[("org_code", "RJZ"), ("as_at", &yesterday)],
        )
        .await;
    assert_eq!(then.status(), 200);
    let then: Chart = then.json().await.unwrap();
    assert_eq!(codes(&then), vec!["RJZ".to_owned()], "the site moved away");
    let (status, _) = post(
        &app,
        &sam,
        "/api/chart/get",
        &[("org_code", "RJZ30"), ("as_at", &yesterday)],
    )
    .await;
    assert_eq!(status, 404);
    // Guy's admin: the site is theirs now, but was not then.
    let priya = app.enrolled(PRIYA).await;
    let (status, _) = post(&app, &priya, "/api/chart/get", &[("org_code", "RJZ30")]).await;
    assert_eq!(status, 200, "theirs today");
    let (status, _) = post(
        &app,
        &priya,
        "/api/chart/get",
        &[("org_code", "RJZ30"), ("as_at", &yesterday)],
    )
    .await;
    assert_eq!(status, 404, "not theirs yesterday");
}

#[tokio::test]
async fn refused_writes_are_audited() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let ruth = app.enrolled(RUTH).await;
    let inc = declare_at(&app, &priya, "RJ1").await;
    // Out of reach (404, from the scope check) and a regulator's write (403, at the floor).
    let (status, _) = post(
        &app,
        &priya,
        "/api/incidents/lead/affect",
        &[("reference", &inc.reference), ("org_code", "RJZ")],
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &app,
        &ruth,
        "/api/incidents/declare",
        &[
            ("kind", "ransomware"),
            ("location", "x"),
            ("patients_affected", "unknown"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    // A refused read is not a write refusal.
    let (status, _) = post(&app, &priya, "/api/people/list", &[("org_code", "RJZ")]).await;
    assert_eq!(status, 404);

    let refused = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("write_refused"))
        .order_by_asc(audit_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let seen: Vec<(Option<String>, Option<String>, Option<String>)> = refused
        .iter()
        .map(|e| (e.subject.clone(), e.detail.clone(), e.client.clone()))
        .collect();
    let local = Some("127.0.0.1".to_owned());
    assert_eq!(
        seen,
        vec![
            (
                Some("/api/incidents/lead/affect".into()),
                Some("404".into()),
                local.clone()
            ),
            (
                Some("/api/incidents/declare".into()),
                Some("403".into()),
                local
            ),
        ]
    );
    assert!(refused.iter().all(|e| e.actor_id.is_some()));
    assert_ne!(refused[0].actor_id, refused[1].actor_id);
}
