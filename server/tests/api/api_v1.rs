//! The JSON API under /api/v1 with tokens, and alerts that declare: scope and reach as the
//! pages have them, read-only tokens that cannot write, every use audited, RFC 9457
//! problems for every refusal and every bad input, the OpenAPI document, and alert
//! de-duplication under a burst.

use app::domain::api::{NewIntegrationKey, NewToken, TokenView};
use app::domain::incidents::{IncidentRow, IncidentStatus, IncidentView, TaskState, TaskView};
use app::domain::listing::Listing;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::people::{DANA, GARETH, NADIA, PRIYA, RUTH, SAM, TOM};
use crate::helpers::{TestApp, spawn_app};

/// Makes a personal token for the person signed in on `client`.
async fn token(app: &TestApp, client: &reqwest::Client, orgs: &str, access: &str) -> String {
    let res = app
        .post_with(
            client,
            "/api/tokens/create",
            &[
                ("name", "reporting job"),
                ("orgs", orgs),
                ("access", access),
                ("days", "30"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let made: NewToken = res.json().await.unwrap();
    assert!(made.secret.starts_with("wlt_"));
    made.secret
}

async fn get(app: &TestApp, bearer: &str, path: &str) -> reqwest::Response {
    app.new_client()
        .get(format!("{}{path}", app.address))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
}

async fn post_json(app: &TestApp, bearer: &str, path: &str, body: &Value) -> reqwest::Response {
    app.new_client()
        .post(format!("{}{path}", app.address))
        .bearer_auth(bearer)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Asserts a problem+json answer with this status, and hands back its detail.
async fn problem(res: reqwest::Response, status: u16) -> String {
    assert_eq!(res.status(), status, "status");
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "a problem's content type"
    );
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], status);
    assert_eq!(p["type"], "about:blank");
    assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()));
    p["detail"].as_str().unwrap().to_owned()
}

fn ransomware() -> Value {
    json!({"kind": "ransomware", "location": "Reception PC", "patients_affected": "no", "summary": "Ransom note"})
}

#[tokio::test]
async fn a_token_reaches_what_its_holder_may_within_its_scope_and_nothing_else() {
    let app = spawn_app().await.with_demo().await;
    let tom = app.signed_in_as(TOM).await;
    let sam = app.signed_in_as(SAM).await;
    let kings = app.declare(&sam, "ransomware").await;

    let all = token(&app, &tom, "", "read").await;
    let res = get(&app, &all, "/api/v1/orgs/RJ1/chart").await;
    assert_eq!(res.status(), 200);
    let chart: Value = res.json().await.unwrap();
    assert_eq!(chart["root"]["code"], "RJ1");
    // King's is not Tom's: its chart and its incident are not there for his token.
    problem(get(&app, &all, "/api/v1/orgs/RJZ/chart").await, 404).await;
    problem(
        get(&app, &all, &format!("/api/v1/incidents/{kings}")).await,
        404,
    )
    .await;
    let listed: Listing<IncidentRow> = get(&app, &all, "/api/v1/incidents")
        .await
        .json()
        .await
        .unwrap();
    assert!(listed.items.iter().all(|i| i.reference != kings));
    problem(get(&app, &all, "/api/v1/incidents?org=RJZ").await, 404).await;
    // Nor can he scope a token to it.
    let res = app
        .post_with(
            &tom,
            "/api/tokens/create",
            &[("name", "x"), ("orgs", "RJZ"), ("access", "read")],
        )
        .await;
    assert_eq!(res.status(), 422);
    // Sam's token reads it, through the same view the incident page uses.
    let sams = token(&app, &sam, "RJZ", "read").await;
    let view: IncidentView = get(&app, &sams, &format!("/api/v1/incidents/{kings}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view.org_code, "RJZ");
    assert!(!view.tasks.is_empty());
    let open: Listing<IncidentRow> = get(&app, &sams, "/api/v1/incidents?status=open&org=RJZ")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        open.items.iter().filter(|i| i.reference == kings).count(),
        1
    );
    let closed: Listing<IncidentRow> = get(&app, &sams, "/api/v1/incidents?status=closed")
        .await
        .json()
        .await
        .unwrap();
    assert!(closed.items.iter().all(|i| i.reference != kings));
}

#[tokio::test]
async fn a_scoped_token_loses_an_organisation_when_its_holder_loses_the_grant() {
    let app = spawn_app().await.with_demo().await;
    let tom = app.signed_in_as(TOM).await;
    let scoped = token(&app, &tom, "RJ1", "read").await;
    assert_eq!(
        get(&app, &scoped, "/api/v1/orgs/RJ1/chart").await.status(),
        200
    );
    use app::backend::entity::access_grant;
    let tom_id = app.person_id(TOM).await;
    access_grant::Entity::delete_many()
        .filter(access_grant::Column::PersonId.eq(tom_id))
        .exec(&app.db)
        .await
        .unwrap();
    // No grant left at all: the token reaches nothing.
    problem(get(&app, &scoped, "/api/v1/orgs/RJ1/chart").await, 403).await;
}

#[tokio::test]
async fn read_tokens_and_regulators_never_write() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let read = token(&app, &nadia, "", "read").await;
    problem(
        post_json(&app, &read, "/api/v1/incidents", &ransomware()).await,
        403,
    )
    .await;
    let listed: Listing<IncidentRow> = get(&app, &read, "/api/v1/incidents")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.total, 0, "nothing was declared");

    let ruth = app.enrolled(RUTH).await;
    let res = app
        .post_with(
            &ruth,
            "/api/tokens/create",
            &[("name", "dashboard"), ("access", "write")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let ruths = token(&app, &ruth, "", "read").await;
    assert_eq!(
        get(&app, &ruths, "/api/v1/orgs/QKK/chart").await.status(),
        200
    );
    problem(
        post_json(&app, &ruths, "/api/v1/incidents", &ransomware()).await,
        403,
    )
    .await;
    // Even a write token stored for a regulator (made before a grant changed) cannot write.
    use app::backend::entity::api_token;
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::CanWrite,
            sea_orm::sea_query::Expr::value(true),
        )
        .exec(&app.db)
        .await
        .unwrap();
    problem(
        post_json(&app, &ruths, "/api/v1/incidents", &ransomware()).await,
        403,
    )
    .await;
}

#[tokio::test]
async fn unknown_revoked_expired_and_disabled_holders_tokens_are_refused() {
    let app = spawn_app().await.with_demo().await;
    let tom = app.signed_in_as(TOM).await;
    let res = app
        .new_client()
        .get(format!("{}/api/v1/incidents", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"wardline\""
    );
    problem(res, 401).await;
    problem(
        get(&app, "wlt_not-a-real-token", "/api/v1/incidents").await,
        401,
    )
    .await;

    let revoked = token(&app, &tom, "", "read").await;
    let mine: Vec<TokenView> = app
        .post_with(&tom, "/api/tokens/mine", &[])
        .await
        .json()
        .await
        .unwrap();
    let id = mine[0].id.to_string();
    assert_eq!(
        app.post_with(&tom, "/api/tokens/revoke", &[("id", &id)])
            .await
            .status(),
        200
    );
    problem(get(&app, &revoked, "/api/v1/incidents").await, 401).await;
    // Someone else cannot revoke Tom's: it answers as if there were none.
    let kept = token(&app, &tom, "", "read").await;
    let mine: Vec<TokenView> = app
        .post_with(&tom, "/api/tokens/mine", &[])
        .await
        .json()
        .await
        .unwrap();
    let sam = app.signed_in_as(SAM).await;
    let res = app
        .post_with(
            &sam,
            "/api/tokens/revoke",
            &[("id", &mine[0].id.to_string())],
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(get(&app, &kept, "/api/v1/incidents").await.status(), 200);

    use app::backend::entity::{api_token, person};
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(
                time::OffsetDateTime::now_utc() - time::Duration::minutes(1),
            ),
        )
        .filter(api_token::Column::Id.eq(mine[0].id))
        .exec(&app.db)
        .await
        .unwrap();
    problem(get(&app, &kept, "/api/v1/incidents").await, 401).await;

    let another = token(&app, &tom, "", "read").await;
    person::Entity::update_many()
        .col_expr(
            person::Column::Disabled,
            sea_orm::sea_query::Expr::value(true),
        )
        .filter(person::Column::Email.eq(TOM))
        .exec(&app.db)
        .await
        .unwrap();
    problem(get(&app, &another, "/api/v1/incidents").await, 401).await;
}

#[tokio::test]
async fn a_write_token_declares_and_works_tasks_through_the_same_services() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let gareth = app.enrolled(GARETH).await;
    let nadias = token(&app, &nadia, "", "write").await;
    let res = post_json(&app, &nadias, "/api/v1/incidents", &ransomware()).await;
    assert_eq!(res.status(), 201);
    let declared: Value = res.json().await.unwrap();
    let reference = declared["reference"].as_str().unwrap().to_owned();
    assert_eq!(declared["href"], format!("/api/v1/incidents/{reference}"));
    // Declared as the page declares: the practice's roles are held at its ICB, so Gareth
    // there has its tasks.
    let owens = token(&app, &gareth, "QKK", "write").await;
    let tasks: Listing<TaskView> = get(&app, &owens, "/api/v1/tasks")
        .await
        .json()
        .await
        .unwrap();
    let task = tasks
        .items
        .iter()
        .find(|t| t.incident_reference == reference)
        .expect("Gareth's task")
        .clone();
    // Nadia's token cannot act on Gareth's task.
    let nadia_ack = post_json(
        &app,
        &nadias,
        &format!("/api/v1/tasks/{}/acknowledge", task.id),
        &json!({}),
    )
    .await;
    assert!(matches!(nadia_ack.status().as_u16(), 403 | 404));
    let ack = app
        .new_client()
        .post(format!(
            "{}/api/v1/tasks/{}/acknowledge",
            app.address, task.id
        ))
        .bearer_auth(&owens)
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), 204);
    let done = post_json(
        &app,
        &owens,
        &format!("/api/v1/tasks/{}/complete", task.id),
        &json!({"note": "Isolated the PC"}),
    )
    .await;
    assert_eq!(done.status(), 204);
    let view = app.incident(&gareth, &reference).await;
    let t = view.tasks.iter().find(|t| t.id == task.id).unwrap();
    assert_eq!(t.state, TaskState::Done);
    assert_eq!(t.note.as_deref(), Some("Isolated the PC"));
    // A task id that is not a task, or not a number.
    problem(
        post_json(&app, &owens, "/api/v1/tasks/999999/complete", &json!({})).await,
        404,
    )
    .await;
    problem(
        post_json(&app, &owens, "/api/v1/tasks/abc/complete", &json!({})).await,
        404,
    )
    .await;
}

#[tokio::test]
async fn every_use_of_a_token_is_audited_and_its_last_use_shown() {
    let app = spawn_app().await.with_demo().await;
    let tom = app.signed_in_as(TOM).await;
    let t = token(&app, &tom, "", "read").await;
    assert_eq!(get(&app, &t, "/api/v1/orgs/RJ1").await.status(), 200);
    problem(get(&app, &t, "/api/v1/orgs/RJZ/chart").await, 404).await;
    let uses = app.audit_rows("api_token.use").await;
    assert_eq!(uses.len(), 2);
    assert!(
        uses[0]
            .subject
            .as_deref()
            .unwrap()
            .ends_with("GET /api/v1/orgs/RJ1")
    );
    assert_eq!(uses[0].outcome, "success");
    assert_eq!(uses[1].outcome, "refused");
    assert_eq!(uses[0].actor_id, Some(app.person_id(TOM).await));
    assert_eq!(app.audit_rows("api_token.create").await.len(), 1);
    let mine: Vec<TokenView> = app
        .post_with(&tom, "/api/tokens/mine", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(mine[0].last_used_at.is_some());
    // A listed token carries its first characters only.
    assert!(mine[0].prefix.len() <= 12);
}

#[tokio::test]
async fn bad_input_gets_a_problem_with_a_message_never_a_500() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let t = token(&app, &nadia, "", "write").await;
    let send = |body: Vec<u8>, content_type: &'static str| {
        let app = &app;
        let t = t.clone();
        async move {
            app.new_client()
                .post(format!("{}/api/v1/incidents", app.address))
                .bearer_auth(t)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    problem(send(b"{not json".to_vec(), "application/json").await, 400).await;
    problem(send(vec![0xff, 0xfe, b'{'], "application/json").await, 400).await;
    problem(
        send(ransomware().to_string().into_bytes(), "text/plain").await,
        415,
    )
    .await;
    let detail = problem(
        send(
            br#"{"kind":"meteor","location":"x","patients_affected":"no"}"#.to_vec(),
            "application/json",
        )
        .await,
        422,
    )
    .await;
    assert!(detail.contains("kind"), "{detail}");
    problem(
        send(
            br#"{"kind":"ransomware","location":"x","patients_affected":"no","admin":true}"#
                .to_vec(),
            "application/json",
        )
        .await,
        422,
    )
    .await;
    let big = json!({"kind": "ransomware", "location": "x", "patients_affected": "no", "summary": "x".repeat(200 * 1024)});
    problem(
        send(big.to_string().into_bytes(), "application/json").await,
        413,
    )
    .await;
    let long = json!({"kind": "ransomware", "location": "x", "patients_affected": "no", "summary": "<script>".repeat(400)});
    let detail = problem(
        send(long.to_string().into_bytes(), "application/json").await,
        422,
    )
    .await;
    assert!(detail.contains("2000"), "{detail}");
    problem(get(&app, &t, "/api/v1/incidents?page=abc").await, 400).await;
    problem(get(&app, &t, "/api/v1/incidents?status=maybe").await, 422).await;
    problem(
        get(&app, &t, "/api/v1/orgs/RJ1/chart?as_at=yesterday-ish").await,
        422,
    )
    .await;
    problem(get(&app, &t, "/api/v1/nothing-here").await, 404).await;
    problem(
        get(&app, &t, &format!("/api/v1/orgs/{}", "X".repeat(300))).await,
        404,
    )
    .await;
    let listed: Listing<IncidentRow> = get(&app, &t, "/api/v1/incidents")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.total, 0, "no bad request declared anything");
}

#[tokio::test]
async fn lists_are_paged_and_the_openapi_document_names_every_operation() {
    let app = spawn_app().await.with_demo().await;
    let tom = app.signed_in_as(TOM).await;
    let t = token(&app, &tom, "", "read").await;
    let first: Value = get(&app, &t, "/api/v1/orgs").await.json().await.unwrap();
    let total = first["total"].as_u64().unwrap();
    assert!(total > 0);
    assert_eq!(first["page"], 1);
    assert_eq!(first["pages"].as_u64().unwrap(), total.div_ceil(50).max(1));
    assert!(first["items"].as_array().unwrap().len() <= 50);
    let found: Value = get(&app, &t, "/api/v1/orgs?q=RJ1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["code"], "RJ1");
    let beyond: Value = get(&app, &t, "/api/v1/orgs?page=9999")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        beyond["page"], beyond["pages"],
        "a page past the end is the last"
    );

    let res = app
        .new_client()
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for (path, method) in [
        ("/api/v1/orgs", "get"),
        ("/api/v1/orgs/{code}", "get"),
        ("/api/v1/orgs/{code}/chart", "get"),
        ("/api/v1/orgs/{code}/chart.csv", "get"),
        ("/api/v1/orgs/{code}/assets", "get"),
        ("/api/v1/incidents", "get"),
        ("/api/v1/incidents", "post"),
        ("/api/v1/incidents/{reference}", "get"),
        ("/api/v1/tasks", "get"),
        ("/api/v1/tasks/{id}/acknowledge", "post"),
        ("/api/v1/tasks/{id}/complete", "post"),
        ("/api/v1/alerts", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
        // And it is served: without a token every documented operation asks for one.
        let url = format!(
            "{}{}",
            app.address,
            path.replace("{code}", "RJ1")
                .replace("{reference}", "X")
                .replace("{id}", "1")
        );
        let c = app.new_client();
        let res = if method == "get" {
            c.get(url).send().await
        } else {
            c.post(url).json(&json!({})).send().await
        }
        .unwrap();
        assert_eq!(
            res.status(),
            401,
            "{method} {path} is routed and asks for a token"
        );
    }
    assert!(doc["components"]["schemas"]["IncidentView"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let page = app
        .new_client()
        .get(format!("{}/api/v1/docs", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<code>POST /api/v1/alerts</code>"));
    let csv = get(&app, &t, "/api/v1/orgs/RJ1/chart.csv").await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
}

// ---------------------------------------------------------------------------------------
// Alerts.

async fn alert_source(app: &TestApp, admin: &reqwest::Client, org: &str) -> String {
    let res = app
        .post_with(
            admin,
            "/api/integrations/alert_source",
            &[
                ("org_code", org),
                ("source", "Trust SIEM"),
                ("kind", "ransomware"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let made: NewIntegrationKey = res.json().await.unwrap();
    assert!(made.secret.starts_with("wla_"));
    made.secret
}

async fn alert(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    let res = post_json(app, key, "/api/v1/alerts", &body).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_alert_opens_one_incident_and_its_repeats_join_it_even_in_a_burst() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let key = alert_source(&app, &priya, "RJ1").await;

    // Two hundred copies of one new alert at once: one incident.
    let burst = futures::future::join_all((0..200).map(|_| {
        alert(
            &app,
            &key,
            json!({"alert_key": "edr-4411", "title": "Ransomware behaviour on WS-0231"}),
        )
    }))
    .await;
    assert!(
        burst.iter().all(|(s, _)| *s == 200),
        "{:?}",
        burst.iter().find(|(s, _)| *s != 200)
    );
    let outcomes: Vec<&str> = burst
        .iter()
        .map(|(_, b)| b["results"][0]["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "opened").count(), 1);
    assert_eq!(outcomes.iter().filter(|o| **o == "added").count(), 199);
    let reference = burst[0].1["results"][0]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        burst
            .iter()
            .all(|(_, b)| b["results"][0]["reference"] == reference.as_str())
    );

    let tom = app.signed_in_as(TOM).await;
    let view = app.incident(&tom, &reference).await;
    assert_eq!(view.org_code, "RJ1");
    assert_eq!(view.declared_by, "Trust SIEM (alerts)");
    assert_eq!(view.kind.as_str(), "ransomware");
    assert_eq!(
        view.timeline
            .iter()
            .filter(|e| e.detail.contains("Repeated"))
            .count(),
        199
    );
    let rows = app.incident_list(&tom).await;
    assert_eq!(rows.len(), 1);

    // Resolved at the source: nothing closes; the leads are told.
    let (status, body) = alert(&app, &key, json!({"alert_key": "edr-4411", "title": "Ransomware behaviour on WS-0231", "status": "resolved"})).await;
    assert_eq!(status, 200);
    assert_eq!(body["results"][0]["outcome"], "resolved");
    assert!(app.incident_row(&reference).await.status.open());
    let inbox = app
        .post_with(&tom, "/api/inbox/list", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(inbox.contains("is resolved"), "{inbox}");

    // Once the incident is over, the same alert opens a new one.
    use app::backend::entity::incident;
    incident::Entity::update_many()
        .col_expr(
            incident::Column::Status,
            sea_orm::sea_query::Expr::value(IncidentStatus::Closed.as_str()),
        )
        .filter(incident::Column::Reference.eq(reference.as_str()))
        .exec(&app.db)
        .await
        .unwrap();
    let (_, again) = alert(
        &app,
        &key,
        json!({"alert_key": "edr-4411", "title": "Ransomware behaviour again"}),
    )
    .await;
    assert_eq!(again["results"][0]["outcome"], "opened");
    assert_ne!(again["results"][0]["reference"], reference.as_str());
    // A resolved alert for something never opened does nothing.
    let (_, none) = alert(
        &app,
        &key,
        json!({"alert_key": "never", "title": "x", "status": "resolved"}),
    )
    .await;
    assert_eq!(none["results"][0]["outcome"], "ignored");
}

#[tokio::test]
async fn alertmanager_webhooks_are_taken_alert_by_alert() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let key = alert_source(&app, &priya, "RJ1").await;
    let hook = json!({"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "fingerprint": "a1", "labels": {"alertname": "MassEncryption", "instance": "fs01", "wardline_kind": "system_down"}, "annotations": {"summary": "Files renamed at speed on fs01"}},
        {"status": "firing", "fingerprint": "a1", "labels": {"alertname": "MassEncryption"}, "annotations": {}},
    ]});
    let (status, body) = alert(&app, &key, hook).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["outcome"], "opened");
    assert_eq!(body["results"][1]["outcome"], "added");
    let tom = app.signed_in_as(TOM).await;
    let view = app
        .incident(&tom, body["results"][0]["reference"].as_str().unwrap())
        .await;
    assert_eq!(view.kind.as_str(), "system_down");
    assert_eq!(view.systems, "fs01");
}

#[tokio::test]
async fn alert_keys_are_the_organisations_own_and_refused_once_revoked() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let dana = app.enrolled(DANA).await;
    let key = alert_source(&app, &priya, "RJ1").await;
    // Priya administers Guy's and St Thomas', not King's.
    let res = app
        .post_with(
            &priya,
            "/api/integrations/alert_source",
            &[("org_code", "RJZ"), ("source", "x"), ("kind", "ransomware")],
        )
        .await;
    assert!(matches!(res.status().as_u16(), 403 | 404));
    let kings = alert_source(&app, &dana, "RJZ").await;
    let kings_page: Value = app
        .post_with(&dana, "/api/integrations/get", &[("org_code", "RJZ")])
        .await
        .json()
        .await
        .unwrap();
    let kings_id = kings_page["alert_sources"][0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    assert_eq!(
        app.post_with(
            &priya,
            "/api/integrations/revoke_alert_source",
            &[("key_id", &kings_id)]
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        alert(&app, &kings, json!({"alert_key": "k", "title": "t"}))
            .await
            .0,
        200
    );
    // Bad alerts get a problem, and open nothing.
    assert_eq!(alert(&app, &key, json!({"title": "no key"})).await.0, 422);
    assert_eq!(
        alert(&app, &key, json!({"alert_key": "", "title": "t"}))
            .await
            .0,
        422
    );
    assert_eq!(
        alert(
            &app,
            &key,
            json!({"alert_key": "k", "title": "x".repeat(201)})
        )
        .await
        .0,
        422
    );
    assert_eq!(
        alert(&app, "wla_wrong", json!({"alert_key": "k", "title": "t"}))
            .await
            .0,
        401
    );
    assert_eq!(
        alert(
            &app,
            &key.replace("wla_", "wlt_"),
            json!({"alert_key": "k", "title": "t"})
        )
        .await
        .0,
        401
    );
    let ours: Value = app
        .post_with(&priya, "/api/integrations/get", &[("org_code", "RJ1")])
        .await
        .json()
        .await
        .unwrap();
    let id = ours["alert_sources"][0]["id"].as_i64().unwrap().to_string();
    assert!(
        ours["alert_sources"][0]["email"]
            .as_str()
            .unwrap()
            .starts_with("alerts-")
    );
    assert_eq!(
        app.post_with(
            &priya,
            "/api/integrations/revoke_alert_source",
            &[("key_id", &id)]
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        alert(&app, &key, json!({"alert_key": "k", "title": "t"}))
            .await
            .0,
        401
    );
    let tom = app.signed_in_as(TOM).await;
    assert!(
        app.incident_list(&tom).await.is_empty(),
        "no refused alert declared anything"
    );
}

#[tokio::test]
async fn a_service_accounts_tokens_act_for_its_organisation_until_it_is_disabled() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let res = app
        .post_with(
            &priya,
            "/api/integrations/service_account",
            &[("org_code", "RJ1"), ("name", "Assurance dashboard")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let id: i64 = res.json().await.unwrap();
    let res = app
        .post_with(
            &priya,
            "/api/integrations/service_token",
            &[
                ("service_id", &id.to_string()),
                ("name", "nightly"),
                ("access", "read"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let made: NewToken = res.json().await.unwrap();
    assert_eq!(
        get(&app, &made.secret, "/api/v1/orgs/RJ1/chart")
            .await
            .status(),
        200
    );
    problem(get(&app, &made.secret, "/api/v1/orgs/RJZ/chart").await, 404).await;
    // The service account is no one's person: it is not on the organisation's people list.
    let page = app.page_text(&priya, "/orgs/RJ1/integrations").await;
    assert!(page.contains("Assurance dashboard"));
    // Another organisation's admin cannot give it a token or disable it.
    let sam = app.signed_in_as(SAM).await;
    let res = app
        .post_with(
            &sam,
            "/api/integrations/service_token",
            &[
                ("service_id", &id.to_string()),
                ("name", "x"),
                ("access", "read"),
            ],
        )
        .await;
    assert!(matches!(res.status().as_u16(), 403 | 404));
    assert_eq!(
        app.post_with(
            &priya,
            "/api/integrations/disable_service_account",
            &[("service_id", &id.to_string())]
        )
        .await
        .status(),
        200
    );
    problem(get(&app, &made.secret, "/api/v1/orgs/RJ1/chart").await, 401).await;
}

#[tokio::test]
async fn an_alert_email_to_the_sources_address_does_what_its_key_does() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    alert_source(&app, &priya, "RJ1").await;
    let ours: Value = app
        .post_with(&priya, "/api/integrations/get", &[("org_code", "RJ1")])
        .await
        .json()
        .await
        .unwrap();
    let address = ours["alert_sources"][0]["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let mail = |subject: &str| {
        format!(
            "From: edr@supplier.example\r\nTo: Alerts <{address}>\r\nSubject: {subject}\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nHost WS-0231 encrypted 400 files in a minute.\r\n"
        )
    };
    let state = app.state();
    let first = server::alert_mail::receive(&state, mail("Ransomware on WS-0231").as_bytes(), None)
        .await
        .unwrap();
    assert_eq!(first.outcome, "opened");
    let again =
        server::alert_mail::receive(&state, mail("Fwd: Ransomware  on WS-0231").as_bytes(), None)
            .await
            .unwrap();
    assert_eq!(
        (again.outcome.as_str(), &again.reference),
        ("added", &first.reference)
    );
    let over = server::alert_mail::receive(
        &state,
        mail("RESOLVED: Ransomware on WS-0231").as_bytes(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(over.outcome, "resolved");
    let tom = app.signed_in_as(TOM).await;
    let view = app
        .incident(&tom, first.reference.as_deref().unwrap())
        .await;
    assert!(view.summary.contains("encrypted 400 files"));
    // Another address, or none, is refused and opens nothing.
    let stranger = mail("x").replace(&address, "alerts-nothere@example.test");
    assert!(
        server::alert_mail::receive(&state, stranger.as_bytes(), None)
            .await
            .is_err()
    );
    assert!(
        server::alert_mail::receive(&state, b"\xff\xfe not a message", None)
            .await
            .is_err()
    );
    assert_eq!(app.incident_list(&tom).await.len(), 1);
}

// ---------------------------------------------------------------------------------------
// SCIM: leavers pushed by the identity provider.

async fn scim(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .new_client()
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/scim+json")
            .body(b.to_string());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_leaver_deactivated_through_scim_loses_every_session_and_token_and_leaves_a_gap() {
    use app::domain::accountability::Chart;
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let provider = token(&app, &priya, "RJ1", "write").await;
    let tom = app.signed_in_as(TOM).await;
    let toms = token(&app, &tom, "", "read").await;
    let chart_before: Chart = get(&app, &provider, "/api/v1/orgs/RJ1/chart")
        .await
        .json()
        .await
        .unwrap();

    let (status, found) = scim(
        &app,
        &provider,
        reqwest::Method::GET,
        &format!("/scim/v2/Users?filter=userName%20eq%20%22{TOM}%22"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(found["totalResults"], 1);
    let id = found["Resources"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(found["Resources"][0]["active"], true);
    // Entra's own shape: a PatchOp replacing active with the string "False".
    let (status, patched) = scim(
        &app,
        &provider,
        reqwest::Method::PATCH,
        &format!("/scim/v2/Users/{id}"),
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["active"], false);

    // At once: his session, his token, and his holdings on the chart.
    let res = app.post_with(&tom, "/api/tasks/mine", &[]).await;
    assert_eq!(res.status(), 401);
    problem(get(&app, &toms, "/api/v1/incidents").await, 401).await;
    let chart_after: Chart = get(&app, &provider, "/api/v1/orgs/RJ1/chart")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        chart_after.totals.total() > chart_before.totals.total(),
        "his roles are gaps now"
    );
    assert_eq!(app.audit_rows("scim.deactivate").await.len(), 1);

    // Someone outside Priya's organisation is not there for her provider, nor is she.
    let sam_id = app.person_id(SAM).await;
    assert_eq!(
        scim(
            &app,
            &provider,
            reqwest::Method::GET,
            &format!("/scim/v2/Users/{sam_id}"),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        scim(
            &app,
            &provider,
            reqwest::Method::DELETE,
            &format!("/scim/v2/Users/{sam_id}"),
            None
        )
        .await
        .0,
        404
    );
    let priya_id = app.person_id(PRIYA).await;
    assert_eq!(
        scim(
            &app,
            &provider,
            reqwest::Method::DELETE,
            &format!("/scim/v2/Users/{priya_id}"),
            None
        )
        .await
        .0,
        404
    );
    // A read token provisions nothing; a filter it cannot read is refused plainly.
    let read = token(&app, &priya, "RJ1", "read").await;
    assert_eq!(
        scim(
            &app,
            &read,
            reqwest::Method::DELETE,
            &format!("/scim/v2/Users/{id}"),
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        scim(
            &app,
            &provider,
            reqwest::Method::GET,
            "/scim/v2/Users?filter=title%20co%20%22x%22",
            None
        )
        .await
        .0,
        400
    );
    assert_eq!(
        scim(
            &app,
            &provider,
            reqwest::Method::PATCH,
            &format!("/scim/v2/Users/{id}"),
            Some(json!({"x": 1}))
        )
        .await
        .0,
        400
    );

    // Re-activated by the provider, Tom signs in again.
    let (status, _) = scim(
        &app,
        &provider,
        reqwest::Method::PUT,
        &format!("/scim/v2/Users/{id}"),
        Some(json!({"userName": TOM, "active": true})),
    )
    .await;
    assert_eq!(status, 200);
    app.signed_in_as(TOM).await;
    // A new person pushed by the provider exists with no access until invited.
    let (status, made) = scim(&app, &provider, reqwest::Method::POST, "/scim/v2/Users",
        Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "new.starter@nhs.net", "displayName": "New Starter", "active": true}))).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        scim(
            &app,
            &provider,
            reqwest::Method::POST,
            "/scim/v2/Users",
            Some(json!({"userName": "new.starter@nhs.net"}))
        )
        .await
        .0,
        409
    );
    let deleted = scim(
        &app,
        &provider,
        reqwest::Method::DELETE,
        &format!("/scim/v2/Users/{}", made["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(deleted.0, 204);
}
