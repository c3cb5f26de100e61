//! Named accountability over HTTP: the chart, its history, gaps, exports, the overview,
//! assignments and attestation.

use app::domain::accountability::{Chart, ChartRow, OverviewLine};
use app::domain::auth::{AccessRole, AuthStatus};
use app::domain::gaps::GapKind;
use app::domain::org::{OrgDetail, OrgKind};
use app::domain::roles::RoleView;

use crate::helpers::people::{DANA, GARETH, NADIA, RUTH, TOM};
use crate::helpers::{TestApp, spawn_app};

/// The chart as the person signed in on `client` asks for it: the status, and the chart
/// when there is one.
async fn chart(
    app: &TestApp,
    client: &reqwest::Client,
    form: &[(&str, &str)],
) -> (u16, Option<Chart>) {
    let res = app.post_with(client, "/api/chart/get", form).await;
    let status = res.status().as_u16();
    let chart = if status == 200 {
        Some(res.json().await.unwrap())
    } else {
        None
    };
    (status, chart)
}

/// The chart, which must answer.
async fn chart_of(app: &TestApp, client: &reqwest::Client, form: &[(&str, &str)]) -> Chart {
    let (status, chart) = chart(app, client, form).await;
    assert_eq!(status, 200, "{form:?}");
    chart.unwrap()
}

fn row<'a>(chart: &'a Chart, org: &str, role: &str) -> &'a ChartRow {
    chart
        .orgs
        .iter()
        .find(|o| o.org.code == org)
        .unwrap_or_else(|| panic!("{org} in chart"))
        .rows
        .iter()
        .find(|r| r.role_key == role)
        .unwrap_or_else(|| panic!("{role} at {org}"))
}

fn holder<'a>(chart: &'a Chart, org: &str, role: &str) -> Option<&'a str> {
    row(chart, org, role)
        .holding
        .as_ref()
        .map(|h| h.holder_name.as_str())
}

fn codes_in(chart: &Chart) -> Vec<&str> {
    chart.orgs.iter().map(|o| o.org.code.as_str()).collect()
}

#[tokio::test]
async fn the_chart_shows_holders_deputies_and_gaps_for_a_subtree() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let c = chart_of(&app, &gareth, &[("org_code", "QKK")]).await;
    let codes = codes_in(&c);
    assert_eq!(codes[0], "QKK");
    assert!(
        codes.contains(&"G85028") && codes.contains(&"RJZ30") && !codes.contains(&"RRU"),
        "{codes:?}"
    );
    let siro = row(&c, "RJ1", "siro");
    let holding = siro.holding.as_ref().unwrap();
    assert_eq!(holding.holder_name, "Tom Okafor");
    assert_eq!(holding.deputy_name.as_deref(), Some("Priya Raman"));
    assert!(siro.gaps.is_empty());
    assert_eq!(row(&c, "RJ1", "dpo").gaps[0], GapKind::NoDeputy);
    assert_eq!(
        row(&c, "RJZ", "caldicott_guardian").gaps[0],
        GapKind::Vacant
    );
    assert!(c.totals.0.iter().any(|(kind, _)| *kind == GapKind::Vacant));

    let only = chart_of(
        &app,
        &gareth,
        &[
            ("org_code", "QKK"),
            ("kind", "gp_practice"),
            ("gap", "vacant"),
        ],
    )
    .await;
    let kinds: Vec<OrgKind> = only.orgs.iter().map(|o| o.org.kind).collect();
    assert!(
        !kinds.is_empty() && kinds.iter().all(|k| *k == OrgKind::GpPractice),
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
    let now = chart_of(&app, &gareth, &[("org_code", "RJ1")]).await;
    assert_eq!(holder(&now, "RJ1", "siro"), Some("Helen Marsh"));
    let before = chart_of(
        &app,
        &gareth,
        &[("org_code", "RJ1"), ("as_at", "2024-05-12T14:00")],
    )
    .await;
    assert_eq!(holder(&before, "RJ1", "siro"), Some("Tom Okafor"));
    assert!(!before.is_now);
    let long_ago = chart_of(
        &app,
        &gareth,
        &[("org_code", "RJ1"), ("as_at", "2017-05-12T14:00")],
    )
    .await;
    assert_eq!(
        holder(&long_ago, "RJ1", "siro"),
        None,
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
    let c = chart_of(&app, &app.client, &[("org_code", "G85028")]).await;
    assert_eq!(c.orgs.len(), 1);
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
    let c = chart_of(&app, &app.client, &[("org_code", "G85028")]).await;
    let lead = row(&c, "G85028", "data_security_lead");
    assert!(lead.gaps.contains(&GapKind::Unconfirmed), "{lead:?}");
    let holding = lead.holding.as_ref().unwrap();
    assert!(holding.stale);
    let id = holding.id.to_string();
    let other = row(&c, "G85028", "caldicott_guardian")
        .holding
        .as_ref()
        .unwrap()
        .id
        .to_string();
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
    let c = chart_of(&app, &app.client, &[("org_code", "G85028")]).await;
    assert!(row(&c, "G85028", "data_security_lead").gaps.is_empty());
    let status: AuthStatus = app
        .post_form("/api/auth/status", &[])
        .await
        .json()
        .await
        .unwrap();
    let AuthStatus::SignedIn(me) = status else {
        panic!("still signed in: {status:?}")
    };
    assert_eq!(me.roles_to_confirm, 0);
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
    let json: Chart = ruth
        .get(format!("{}/export/chart.json?org=QKK", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json.root.code, "QKK");

    let nadia = app.signed_in_as(NADIA).await;
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
    let lines: Vec<OverviewLine> = app
        .post_with(&ruth, "/api/chart/overview", &[])
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = lines.iter().map(|l| l.org.code.as_str()).collect();
    assert_eq!(codes, ["Y56", "QKK"]);
    let total = |l: &OverviewLine| l.gaps.total();
    assert!(total(&lines[0]) >= total(&lines[1]) && total(&lines[1]) > 0);
    assert_eq!(
        lines[1].organisations, 12,
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
    let roles: Vec<RoleView> = app
        .post_with(&dana, "/api/roles/list", &[])
        .await
        .json()
        .await
        .unwrap();
    let added = roles.iter().find(|r| r.key == "backup_lead").unwrap();
    assert!(added.mandatory);
    assert_eq!(added.applies_to[0], OrgKind::Trust);
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
    let c = chart_of(&app, &gareth, &[("org_code", "G85028")]).await;
    assert_eq!(holder(&c, "G85028", "dpo"), Some("Meera Shah"), "untouched");
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

    let now = chart_of(&app, &dana, &[("org_code", "QKA")]).await;
    let codes = codes_in(&now);
    assert!(
        codes.contains(&"RJ1") && codes.contains(&"G85028"),
        "{codes:?}"
    );
    let before = chart_of(&app, &dana, &[("org_code", "QKK"), ("as_at", "2025-06-01")]).await;
    let then = codes_in(&before);
    assert!(
        then.contains(&"RJ1"),
        "before the merge RJ1 sat under QKK: {then:?}"
    );
    assert_eq!(holder(&before, "QKK", "siro"), Some("Meera Shah"));
    let detail: OrgDetail = app
        .post_with(&dana, "/api/orgs/detail", &[("code", "QKK")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail.org.status, OrgStatus::Closed);
}

#[tokio::test]
async fn a_holder_with_no_verified_way_to_be_paged_shows_as_a_gap_until_they_have_one() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let c = chart_of(&app, &gareth, &[("org_code", "QKK")]).await;
    assert!(
        !row(&c, "RJ1", "siro").gaps.contains(&GapKind::Unreachable),
        "Tom accepted his invitation: his email is proven"
    );

    // Tom turns email off and has no verified mobile: nothing can page him.
    let tom = app.signed_in_as(TOM).await;
    let res = app.post_with(&tom, "/api/me/set_prefs", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let c = chart_of(&app, &gareth, &[("org_code", "QKK")]).await;
    assert!(
        row(&c, "RJ1", "siro").gaps.contains(&GapKind::Unreachable),
        "{:?}",
        row(&c, "RJ1", "siro")
    );
    assert!(c.totals.get(GapKind::Unreachable) >= 1);
    let only = chart_of(
        &app,
        &gareth,
        &[("org_code", "QKK"), ("gap", "unreachable")],
    )
    .await;
    assert!(codes_in(&only).contains(&"RJ1"), "{:?}", codes_in(&only));

    // Email on again: the gap closes.
    let res = app
        .post_with(&tom, "/api/me/set_prefs", &[("email", "on")])
        .await;
    assert_eq!(res.status(), 200);
    let c = chart_of(&app, &gareth, &[("org_code", "QKK")]).await;
    assert!(!row(&c, "RJ1", "siro").gaps.contains(&GapKind::Unreachable));
}

/// A chart over more organisations than a page holds opens with what sits below the root
/// and shows a page of organisations at a time (exports stay whole).
#[tokio::test]
async fn a_large_chart_is_summarised_and_paged() {
    use app::backend::demo_national::{Shape, load};
    use app::domain::accountability::CHART_PAGE;
    let app = spawn_app().await.with_demo().await;
    let shape = Shape {
        regions: 1,
        icbs: 1,
        trusts: 4,
        practices: 300,
        suppliers: 1,
    };
    load(&app.db, shape).await.unwrap();
    let dana = app.enrolled(DANA).await;
    let get = |page: &'static str| {
        let (app, dana) = (&app, &dana);
        async move {
            let res = app
                .post_with(
                    dana,
                    "/api/chart/get",
                    &[("org_code", "Q00"), ("page", page)],
                )
                .await;
            assert_eq!(res.status(), 200);
            res.json::<Chart>().await.unwrap()
        }
    };
    let first = get("1").await;
    assert!(first.org_total > CHART_PAGE, "{}", first.org_total);
    assert_eq!(first.orgs.len(), CHART_PAGE);
    assert!(first.pages >= 2);
    assert!(
        !first.below.is_empty(),
        "the sub-ICB locations and trusts below the ICB"
    );
    assert!(first.below.iter().all(|c| c.org.code.starts_with('Z')));
    let last = get("999").await;
    assert_eq!(last.page, last.pages, "clamped to the last page");
    assert_eq!(
        (last.pages as usize - 1) * CHART_PAGE + last.orgs.len(),
        first.org_total,
        "every organisation is on one page"
    );
    let html = dana
        .get(format!(
            "{}/orgs/Q00/chart?page=2&kind=gp_practice",
            app.address
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Previous page"));
    assert!(
        html.contains("kind=gp_practice&amp;page=1") || html.contains("kind=gp_practice&page=1")
    );
    // The export is still the whole chart.
    let csv = dana
        .get(format!("{}/export/chart.csv?org=Q00", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let orgs_in_csv: std::collections::HashSet<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    // Every organisation with a role to hold (sites hold none), far more than a page.
    assert!(orgs_in_csv.len() > CHART_PAGE * 2, "{}", orgs_in_csv.len());
}

/// The person as the services see them when signed in with a second factor.
async fn acting_as(app: &TestApp, email: &str) -> app::backend::access::User {
    let person_id = app.person_id(email).await;
    let known = app::backend::callers::read(&app.db, person_id)
        .await
        .unwrap()
        .unwrap();
    app::backend::access::User {
        person_id,
        name: known.name.clone(),
        email: email.into(),
        grants: known.grants.clone(),
        mfa_enabled: true,
        second_factor: true,
    }
}

/// A moment, then a pause, so the next change is recorded strictly after it.
async fn moment() -> time::OffsetDateTime {
    let t = time::OffsetDateTime::now_utc();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    t
}

#[tokio::test]
async fn a_past_chart_shows_confirmations_contacts_and_disabled_status_as_they_were() {
    use app::backend::{assignments, chart, people};
    let app = spawn_app().await.with_demo().await;
    let db = &app.db;
    let dana = acting_as(&app, DANA).await;
    let charts = chart::Cache::default();
    let lead_at = async |at: Option<time::OffsetDateTime>| {
        let c = chart::chart(db, &charts, &dana, "G85028", at, &Default::default())
            .await
            .unwrap();
        row(&c, "G85028", "data_security_lead").clone()
    };
    let first = lead_at(None).await;
    let holding = first.holding.clone().expect("the demo lead is held");
    let first_confirmed = holding
        .confirmed_at
        .expect("the demo holding was confirmed");
    let holder = acting_as(&app, &holding.holder_email).await;
    let t1 = moment().await;

    // The holder confirms again; then an admin disables them.
    assignments::confirm(db, &holder, holding.id).await.unwrap();
    let t2 = moment().await;
    people::mark_disabled(db, Some(dana.person_id), holder.person_id, true)
        .await
        .unwrap();
    let t3 = moment().await;
    // They come back, and their holding is given again with a new work phone.
    people::mark_disabled(db, Some(dana.person_id), holder.person_id, false)
        .await
        .unwrap();
    assignments::assign(
        db,
        &dana,
        assignments::AssignInput {
            org_code: "G85028".into(),
            role_key: "data_security_lead".into(),
            holder_email: holding.holder_email.clone(),
            work_phone: Some("0161 496 0999".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    let at_t1 = lead_at(Some(t1)).await;
    let h1 = at_t1.holding.as_ref().unwrap();
    assert_eq!(
        h1.confirmed_at,
        Some(first_confirmed),
        "the confirmation then"
    );
    assert!(!at_t1.gaps.contains(&GapKind::HolderDisabled));
    assert_eq!(h1.work_phone, holding.work_phone);

    let at_t2 = lead_at(Some(t2)).await;
    let h2 = at_t2.holding.as_ref().unwrap();
    assert!(
        h2.confirmed_at.is_some_and(|c| c > t1 && c < t2),
        "the re-confirmation: {:?}",
        h2.confirmed_at
    );
    assert!(!at_t2.gaps.contains(&GapKind::HolderDisabled));

    let at_t3 = lead_at(Some(t3)).await;
    assert!(
        at_t3.gaps.contains(&GapKind::HolderDisabled),
        "disabled then: {:?}",
        at_t3.gaps
    );
    assert_eq!(
        at_t3.holding.as_ref().unwrap().work_phone,
        holding.work_phone
    );

    // Now: enabled, the new holding with its new phone, not yet confirmed.
    let now = lead_at(None).await;
    let h = now.holding.as_ref().unwrap();
    assert!(
        !now.gaps.contains(&GapKind::HolderDisabled),
        "{:?}",
        now.gaps
    );
    assert_eq!(h.work_phone.as_deref(), Some("0161 496 0999"));
    assert_eq!(h.confirmed_at, None);
    // And the earlier moments are unchanged by what came after.
    assert_eq!(lead_at(Some(t1)).await, at_t1);
    assert_eq!(lead_at(Some(t3)).await, at_t3);
}

#[tokio::test]
async fn the_present_chart_is_shared_until_something_changes() {
    use app::backend::{chart, people};
    let app = spawn_app().await.with_demo().await;
    let db = &app.db;
    let dana = acting_as(&app, DANA).await;
    let charts = chart::Cache::default();
    let read = async || {
        chart::chart(db, &charts, &dana, "G85028", None, &Default::default())
            .await
            .unwrap()
    };
    let first = read().await;
    let again = read().await;
    assert_eq!(first.at, again.at, "nothing changed: the same reading");
    let holder = row(&first, "G85028", "data_security_lead")
        .holding
        .clone()
        .unwrap()
        .holder_email;
    people::mark_disabled(db, Some(dana.person_id), app.person_id(&holder).await, true)
        .await
        .unwrap();
    let after = read().await;
    assert!(after.at > first.at, "a change is read afresh");
    assert!(
        row(&after, "G85028", "data_security_lead")
            .gaps
            .contains(&GapKind::HolderDisabled)
    );
    // A setting is a change too: a confirmation older than a day is now overdue.
    app::backend::settings::set_i64(db, "attestation_days", 1)
        .await
        .unwrap();
    let stricter = read().await;
    assert!(stricter.at > after.at);
}

#[tokio::test]
async fn the_chart_reads_again_only_what_changed_and_shows_every_change() {
    use app::backend::generation::{Parts, read_parts};
    use app::backend::{assignments, chart, orgs, people};
    let app = spawn_app().await.with_demo().await;
    let db = &app.db;
    let dana = acting_as(&app, DANA).await;
    let charts = chart::Cache::default();
    let read = async || {
        chart::chart(db, &charts, &dana, "G85028", None, &Default::default())
            .await
            .unwrap()
    };
    let lead_of = |c: &Chart| row(c, "G85028", "data_security_lead").clone();
    let moved = |before: Parts, after: Parts| {
        (
            after.all - before.all,
            after.holdings - before.holdings,
            after.tree - before.tree,
        )
    };
    let first = read().await;
    let lead = lead_of(&first).holding.expect("the demo lead is held");

    // The role is ended: holdings alone change, and the generation moves as far as they do.
    let p0 = read_parts(db).await.unwrap();
    assignments::end(db, &dana, lead.id).await.unwrap();
    let p1 = read_parts(db).await.unwrap();
    let (all, holdings, tree) = moved(p0, p1);
    assert!(all > 0 && all == holdings && tree == 0, "{p0:?} {p1:?}");
    assert!(!p0.more_than_holdings_and_tree(&p1));
    let ended = read().await;
    assert!(ended.at > first.at, "read again");
    let vacant = lead_of(&ended);
    assert!(vacant.holding.is_none(), "{vacant:?}");
    assert!(vacant.gaps.contains(&GapKind::Vacant), "{:?}", vacant.gaps);

    // Given again, with a new phone: the holding and its details are the new ones.
    assignments::assign(
        db,
        &dana,
        assignments::AssignInput {
            org_code: "G85028".into(),
            role_key: "data_security_lead".into(),
            holder_email: lead.holder_email.clone(),
            work_phone: Some("0161 496 0777".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let given = lead_of(&read().await);
    let h = given.holding.as_ref().expect("held again");
    assert_ne!(h.id, lead.id);
    assert_eq!(h.holder_email, lead.holder_email);
    assert_eq!(h.work_phone.as_deref(), Some("0161 496 0777"));
    assert!(!given.gaps.contains(&GapKind::Vacant), "{:?}", given.gaps);

    // A person disabled moves neither part: people are read again, and the chart shows it.
    let p2 = read_parts(db).await.unwrap();
    people::mark_disabled(
        db,
        Some(dana.person_id),
        app.person_id(&lead.holder_email).await,
        true,
    )
    .await
    .unwrap();
    let p3 = read_parts(db).await.unwrap();
    let (all, holdings, tree) = moved(p2, p3);
    assert!(all > 0 && holdings == 0 && tree == 0, "{p2:?} {p3:?}");
    assert!(p2.more_than_holdings_and_tree(&p3));
    let disabled = lead_of(&read().await);
    assert!(
        disabled.gaps.contains(&GapKind::HolderDisabled),
        "{:?}",
        disabled.gaps
    );

    // Another holding ending after that is read against the people as they now stand.
    let now = read().await;
    let other = now.orgs[0]
        .rows
        .iter()
        .find(|r| r.role_key != "data_security_lead" && r.holding.is_some())
        .expect("another role held at the practice")
        .clone();
    assignments::end(db, &dana, other.holding.unwrap().id)
        .await
        .unwrap();
    let later = read().await;
    assert!(row(&later, "G85028", &other.role_key).holding.is_none());
    let still = lead_of(&later);
    assert!(
        still.gaps.contains(&GapKind::HolderDisabled),
        "{:?}",
        still.gaps
    );

    // The practice renamed: the tree moves its part, and everything is read again.
    let p4 = read_parts(db).await.unwrap();
    let practice = orgs::find_by_code(db, "G85028").await.unwrap().unwrap();
    let mut renamed: app::backend::entity::organisation::ActiveModel = practice.into();
    renamed.name = sea_orm::Set("Renamed Practice".into());
    sea_orm::ActiveModelTrait::update(renamed, db)
        .await
        .unwrap();
    let p5 = read_parts(db).await.unwrap();
    let (all, holdings, tree) = moved(p4, p5);
    assert!(all > 0 && all == tree && holdings == 0, "{p4:?} {p5:?}");
    let after = read().await;
    assert_eq!(after.orgs[0].org.name, "Renamed Practice");
    assert!(
        lead_of(&after).gaps.contains(&GapKind::HolderDisabled),
        "people as they stand, read again with the tree"
    );
}

#[tokio::test]
async fn readiness_for_a_large_subtree_is_paged_and_its_export_stays_whole() {
    use app::backend::demo_national::{Shape, load};
    use app::domain::caf::{CAF_PAGE, Readiness};
    let app = spawn_app().await.with_demo().await;
    let shape = Shape {
        regions: 1,
        icbs: 1,
        trusts: 4,
        practices: 300,
        suppliers: 1,
    };
    load(&app.db, shape).await.unwrap();
    let dana = app.enrolled(DANA).await;
    let get = |page: &'static str| {
        let (app, dana) = (&app, &dana);
        async move {
            let res = app
                .post_with(
                    dana,
                    "/api/caf/readiness",
                    &[("org_code", "Q00"), ("page", page)],
                )
                .await;
            assert_eq!(res.status(), 200);
            res.json::<Readiness>().await.unwrap()
        }
    };
    let first = get("1").await;
    assert!(first.below_total > CAF_PAGE, "{}", first.below_total);
    assert_eq!(
        first.orgs.len(),
        1 + CAF_PAGE,
        "the root and a page below it"
    );
    assert_eq!(first.orgs[0].code, "Q00");
    assert!(first.pages >= 2);
    // Every organisation below is on exactly one page, and the root heads each.
    let mut seen = std::collections::HashSet::new();
    for p in 1..=first.pages {
        let page: &'static str = Box::leak(p.to_string().into_boxed_str());
        let r = get(page).await;
        assert_eq!(r.page, p);
        assert_eq!(r.orgs[0].code, "Q00");
        for o in &r.orgs[1..] {
            assert!(seen.insert(o.code.clone()), "{} twice", o.code);
        }
    }
    assert_eq!(seen.len(), first.below_total);
    let last = get("999").await;
    assert_eq!(last.page, last.pages, "clamped to the last page");
    let html = dana
        .get(format!("{}/orgs/Q00/caf?page=2", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Previous page"), "the page links");
    assert!(html.contains("/orgs/Q00/caf?page=1"));
    // The export is still every organisation.
    let csv = dana
        .get(format!("{}/export/caf.csv?org=Q00", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let orgs_in_csv: std::collections::HashSet<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    assert_eq!(
        orgs_in_csv.len(),
        first.below_total + 1,
        "root and all below"
    );
}
