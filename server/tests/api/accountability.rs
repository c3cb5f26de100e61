//! Named accountability over HTTP: the chart, its history, gaps, exports, the overview,
//! assignments and attestation.

use app::domain::auth::AccessRole;

use crate::helpers::{DEMO_PASSWORD, TestApp, spawn_app};

const NADIA: &str = "nadia.kowalski@demo.wardline.test";
const GARETH: &str = "gareth.lloyd@demo.wardline.test";
const RUTH: &str = "ruth.adeyemi@demo.wardline.test";
const DANA: &str = "dana.whitlock@demo.wardline.test";

async fn chart(
    app: &TestApp,
    client: &reqwest::Client,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let res = app.post_with(client, "/api/chart/get", form).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

fn row<'a>(chart: &'a serde_json::Value, org: &str, role: &str) -> &'a serde_json::Value {
    chart["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["org"]["code"] == org)
        .unwrap_or_else(|| panic!("{org} in chart"))["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role_key"] == role)
        .unwrap_or_else(|| panic!("{role} at {org}"))
}

#[tokio::test]
async fn the_chart_shows_holders_deputies_and_gaps_for_a_subtree() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let (status, c) = chart(&app, &gareth, &[("org_code", "QKK")]).await;
    assert_eq!(status, 200, "{c}");
    let codes: Vec<&str> = c["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["org"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes[0], "QKK");
    assert!(
        codes.contains(&"G85028") && codes.contains(&"RJZ30") && !codes.contains(&"RRU"),
        "{codes:?}"
    );
    let siro = row(&c, "RJ1", "siro");
    assert_eq!(siro["holding"]["holder_name"], "Tom Okafor");
    assert_eq!(siro["holding"]["deputy_name"], "Priya Raman");
    assert!(siro["gaps"].as_array().unwrap().is_empty());
    assert_eq!(row(&c, "RJ1", "dpo")["gaps"][0], "no_deputy");
    assert_eq!(row(&c, "RJZ", "caldicott_guardian")["gaps"][0], "vacant");
    assert!(
        c["totals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g[0] == "vacant")
    );

    let (_, only) = chart(
        &app,
        &gareth,
        &[
            ("org_code", "QKK"),
            ("kind", "gp_practice"),
            ("gap", "vacant"),
        ],
    )
    .await;
    let kinds: Vec<&str> = only["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["org"]["kind"].as_str().unwrap())
        .collect();
    assert!(
        !kinds.is_empty() && kinds.iter().all(|k| *k == "gp_practice"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn the_chart_answers_who_held_a_role_at_a_past_moment() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let assigned = app
        .post_with(
            &gareth,
            "/api/manage/assign",
            &[
                ("org_code", "RJ1"),
                ("role_key", "siro"),
                ("holder_email", "helen.marsh@demo.wardline.test"),
                ("deputy_email", "tom.okafor@demo.wardline.test"),
            ],
        )
        .await;
    assert_eq!(assigned.status(), 200);
    let (_, now) = chart(&app, &gareth, &[("org_code", "RJ1")]).await;
    assert_eq!(
        row(&now, "RJ1", "siro")["holding"]["holder_name"],
        "Helen Marsh"
    );
    let (_, before) = chart(
        &app,
        &gareth,
        &[("org_code", "RJ1"), ("as_at", "2024-05-12T14:00")],
    )
    .await;
    assert_eq!(
        row(&before, "RJ1", "siro")["holding"]["holder_name"],
        "Tom Okafor"
    );
    assert_eq!(before["is_now"], false);
    let (_, long_ago) = chart(
        &app,
        &gareth,
        &[("org_code", "RJ1"), ("as_at", "2017-05-12T14:00")],
    )
    .await;
    assert!(
        row(&long_ago, "RJ1", "siro")["holding"].is_null(),
        "nobody was recorded in 2017"
    );
    let (status, _) = chart(
        &app,
        &gareth,
        &[("org_code", "RJ1"), ("as_at", "12/05/2017")],
    )
    .await;
    assert_eq!(status, 422);
    let audit: i64 = {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        app::backend::entity::audit_event::Entity::find()
            .filter(app::backend::entity::audit_event::Column::Action.eq("role_assigned"))
            .count(&app.db)
            .await
            .unwrap() as i64
    };
    assert_eq!(audit, 1, "every change is audited");
}

#[tokio::test]
async fn staff_see_their_own_organisation_and_nothing_above_it() {
    let app = spawn_app().await.with_demo().await;
    app.sign_in(NADIA).await;
    let (status, c) = chart(&app, &app.client, &[("org_code", "G85028")]).await;
    assert_eq!(status, 200);
    assert_eq!(c["orgs"].as_array().unwrap().len(), 1);
    let (status, _) = chart(&app, &app.client, &[("org_code", "QKK")]).await;
    assert_eq!(status, 404);
    let assign = app
        .post_form(
            "/api/manage/assign",
            &[
                ("org_code", "G85028"),
                ("role_key", "dpo"),
                ("holder_email", NADIA),
            ],
        )
        .await;
    // Their own organisation exists for them; administering it is refused.
    assert_eq!(assign.status(), 403, "staff administer nothing");
}

#[tokio::test]
async fn a_holder_confirms_their_details_and_the_gap_clears() {
    let app = spawn_app().await.with_demo().await;
    app::backend::settings::set_i64(&app.db, "attestation_days", 7)
        .await
        .unwrap();
    app.sign_in(NADIA).await;
    let (_, c) = chart(&app, &app.client, &[("org_code", "G85028")]).await;
    let lead = row(&c, "G85028", "data_security_lead");
    assert!(
        lead["gaps"]
            .as_array()
            .unwrap()
            .contains(&"unconfirmed".into()),
        "{lead}"
    );
    assert_eq!(lead["holding"]["stale"], true);
    let id = lead["holding"]["id"].to_string();
    let other = row(&c, "G85028", "caldicott_guardian")["holding"]["id"].to_string();
    assert_eq!(
        app.post_form("/api/me/confirm_role", &[("id", &other)])
            .await
            .status(),
        404,
        "only the holder confirms"
    );
    assert_eq!(
        app.post_form("/api/me/confirm_role", &[("id", &id)])
            .await
            .status(),
        200
    );
    let (_, c) = chart(&app, &app.client, &[("org_code", "G85028")]).await;
    assert!(
        row(&c, "G85028", "data_security_lead")["gaps"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let status: serde_json::Value = app
        .post_form("/api/auth/status", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["SignedIn"]["roles_to_confirm"], 0);
}

#[tokio::test]
async fn exports_follow_the_same_access_as_the_chart() {
    let app = spawn_app().await.with_demo().await;
    let ruth = app.enrolled(RUTH).await;
    let csv = ruth
        .get(format!("{}/export/chart.csv?org=Y56", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("wardline-chart-Y56.csv")
    );
    let body = csv.text().await.unwrap();
    let mut lines = body.lines();
    assert!(lines.next().unwrap().starts_with("org_code,org_name,kind"));
    assert!(body.contains("Tom Okafor") && body.contains("vacant"));
    let json: serde_json::Value = ruth
        .get(format!("{}/export/chart.json?org=QKK", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["root"]["code"], "QKK");

    let nadia = app.new_client();
    app.sign_in_with(&nadia, NADIA, DEMO_PASSWORD).await;
    let refused = nadia
        .get(format!("{}/export/chart.csv?org=QKK", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    let anonymous = app
        .new_client()
        .get(format!("{}/export/chart.json?org=QKK", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn the_overview_counts_gaps_by_region_and_icb_for_what_a_regulator_may_see() {
    let app = spawn_app().await.with_demo().await;
    let ruth = app.enrolled(RUTH).await;
    let lines: serde_json::Value = app
        .post_with(&ruth, "/api/chart/overview", &[])
        .await
        .json()
        .await
        .unwrap();
    let lines = lines.as_array().unwrap();
    let codes: Vec<&str> = lines
        .iter()
        .map(|l| l["org"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["Y56", "QKK"]);
    let total = |l: &serde_json::Value| {
        l["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g[1].as_u64().unwrap())
            .sum::<u64>()
    };
    assert!(total(&lines[0]) >= total(&lines[1]) && total(&lines[1]) > 0);
    assert_eq!(
        lines[1]["organisations"], 12,
        "72Q, five practices, five trusts and one site sit under the ICB"
    );
}

#[tokio::test]
async fn only_national_admins_extend_the_catalogue() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let form = [
        ("key", "backup_lead"),
        ("name", "Backup lead"),
        ("applies_to[0]", "trust"),
        ("mandatory", "on"),
    ];
    assert_eq!(
        app.post_with(&gareth, "/api/manage/add_role", &form)
            .await
            .status(),
        403
    );
    let dana = app.enrolled(DANA).await;
    let res = app.post_with(&dana, "/api/manage/add_role", &form).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(
        app.post_with(&dana, "/api/manage/add_role", &form)
            .await
            .status(),
        409
    );
    let roles: serde_json::Value = app
        .post_with(&dana, "/api/roles/list", &[])
        .await
        .json()
        .await
        .unwrap();
    let added = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "backup_lead")
        .unwrap();
    assert_eq!(added["mandatory"], true);
    assert_eq!(added["applies_to"][0], "trust");
    let _ = AccessRole::NationalAdmin;
}

#[tokio::test]
async fn bad_assignment_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    for (form, why) in [
        (
            vec![
                ("org_code", "G85028"),
                ("role_key", "siro"),
                ("holder_email", NADIA),
            ],
            "SIRO does not apply to a practice",
        ),
        (
            vec![
                ("org_code", "G85028"),
                ("role_key", "dpo"),
                ("holder_email", "nobody@x.nhs.uk"),
            ],
            "unknown holder",
        ),
        (
            vec![
                ("org_code", "G85028"),
                ("role_key", "dpo"),
                ("holder_email", NADIA),
                ("work_phone", "call me"),
            ],
            "bad phone",
        ),
    ] {
        let res = app.post_with(&gareth, "/api/manage/assign", &form).await;
        // Someone unknown is out of reach like anyone else: absent, whether or not they exist.
        let expect = if why == "unknown holder" { 404 } else { 422 };
        assert_eq!(res.status(), expect, "{why}");
    }
    let (_, c) = chart(&app, &gareth, &[("org_code", "G85028")]).await;
    assert_eq!(
        row(&c, "G85028", "dpo")["holding"]["holder_name"],
        "Meera Shah",
        "untouched"
    );
}

#[tokio::test]
async fn merging_icbs_moves_their_organisations_and_keeps_history() {
    use app::backend::orgs::{OrgInput, set_parent, upsert};
    use app::domain::org::{OdsCode, OrgKind, OrgStatus};
    let app = spawn_app().await.with_demo().await;
    let new_icb = OrgInput {
        code: OdsCode::parse(OrgKind::Icb, "QKA").unwrap(),
        name: "NHS South London Integrated Care Board".into(),
        kind: OrgKind::Icb,
        status: OrgStatus::Active,
        opened_on: None,
        closed_on: None,
        postcode: None,
    };
    let id = upsert(&app.db, &new_icb).await.unwrap().id();
    let london = app::backend::orgs::find_by_code(&app.db, "Y56")
        .await
        .unwrap()
        .unwrap()
        .id;
    set_parent(&app.db, id, london, time::macros::date!(2026 - 01 - 01))
        .await
        .unwrap();

    let gareth = app.enrolled(GARETH).await;
    let refused = app
        .post_with(
            &gareth,
            "/api/manage/merge_org",
            &[
                ("from_code", "QKK"),
                ("into_code", "QKA"),
                ("on", "2026-04-01"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 403);
    let dana = app.enrolled(DANA).await;
    let bad = app
        .post_with(
            &dana,
            "/api/manage/merge_org",
            &[
                ("from_code", "QKK"),
                ("into_code", "RJ1"),
                ("on", "2026-04-01"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422, "an ICB cannot merge into a trust");
    let ok = app
        .post_with(
            &dana,
            "/api/manage/merge_org",
            &[
                ("from_code", "QKK"),
                ("into_code", "QKA"),
                ("on", "2026-04-01"),
            ],
        )
        .await;
    assert_eq!(ok.status(), 200);
    let moved: usize = ok.json().await.unwrap();
    assert_eq!(moved, 6, "72Q and five trusts");

    let (_, now) = chart(&app, &dana, &[("org_code", "QKA")]).await;
    let codes: Vec<&str> = now["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["org"]["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"RJ1") && codes.contains(&"G85028"),
        "{codes:?}"
    );
    let (_, before) = chart(&app, &dana, &[("org_code", "QKK"), ("as_at", "2025-06-01")]).await;
    let then: Vec<&str> = before["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["org"]["code"].as_str().unwrap())
        .collect();
    assert!(
        then.contains(&"RJ1"),
        "before the merge RJ1 sat under QKK: {then:?}"
    );
    assert_eq!(
        row(&before, "QKK", "siro")["holding"]["holder_name"],
        "Meera Shah"
    );
    let detail: serde_json::Value = app
        .post_with(&dana, "/api/orgs/detail", &[("code", "QKK")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["org"]["status"], "closed");
}
