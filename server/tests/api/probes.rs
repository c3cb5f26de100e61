//! `/healthz`, `/readyz` and `/metrics`: what a load balancer and monitoring ask.

use app::backend::entity::{escalation, notification};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn metrics_text(app: &TestApp) -> String {
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// The value of the sample line that starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

#[tokio::test]
async fn liveness_and_readiness_answer_without_a_session_and_name_the_engine() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none());
    assert_eq!(res.text().await.unwrap(), "ok\n");

    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none());
    let engine = if app.on_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(res.text().await.unwrap(), format!("ready: {engine}\n"));
}

#[tokio::test]
async fn metrics_are_refused_to_addresses_not_allowed() {
    let app = spawn_app().await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 404, "nobody may read them by default");
    let body = res.text().await.unwrap();
    assert!(!body.contains("wardline_"), "{body}");

    // A trusted proxy forwarding for an allowed address does not open them to the client
    // behind it, and a forged header from a stranger counts for nothing.
    let app = spawn_app_with(|s| {
        s.metrics_allow = "10.9.9.9/32".parse_allow();
    })
    .await;
    let res = app
        .client
        .get(format!("{}/metrics", app.address))
        .header("X-Forwarded-For", "10.9.9.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

trait ParseAllow {
    fn parse_allow(&self) -> app::backend::client_addr::TrustedProxies;
}

impl ParseAllow for str {
    fn parse_allow(&self) -> app::backend::client_addr::TrustedProxies {
        app::backend::client_addr::TrustedProxies::parse(self).unwrap()
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_read_the_shared_figures() {
    let app = spawn_app_with(|s| {
        s.metrics_allow = "127.0.0.1/32, ::1/128".parse_allow();
    })
    .await
    .with_demo()
    .await;
    let owen = app.signed_in_as("owen.fraser@demo.wardline.test").await;
    app.declare(&owen, "ransomware").await;
    // A stranger's made-up paths are counted under one label, not one each.
    for i in 0..3 {
        app.get(&format!("/no/such/page-{i}")).await;
    }

    // Two steps overdue (one of them for over a minute), one delivery given up on.
    let now = app::backend::timeline::now();
    let ids: Vec<i64> = escalation::Entity::find()
        .filter(escalation::Column::AcknowledgedAt.is_null())
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .take(2)
        .collect();
    assert_eq!(ids.len(), 2, "the declaration started escalations");
    for (id, ago) in ids.iter().zip([10, 300]) {
        escalation::Entity::update_many()
            .col_expr(
                escalation::Column::FiresAt,
                Expr::value(now - time::Duration::seconds(ago)),
            )
            .filter(escalation::Column::Id.eq(*id))
            .exec(&app.db)
            .await
            .unwrap();
    }
    let one = notification::Entity::find()
        .filter(notification::Column::Channel.eq("inbox"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the declaration told its assignees");
    notification::Entity::update_many()
        .col_expr(notification::Column::Status, Expr::value("failed"))
        .col_expr(notification::Column::Channel, Expr::value("email"))
        .filter(notification::Column::Id.eq(one.id))
        .exec(&app.db)
        .await
        .unwrap();

    let text = metrics_text(&app).await;
    assert_eq!(
        sample(&text, "wardline_declarations_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "wardline_escalations_due"), Some(2.0));
    assert_eq!(sample(&text, "wardline_escalations_late"), Some(1.0));
    assert_eq!(
        sample(&text, "wardline_failed_deliveries{channel=\"email\"}"),
        Some(1.0)
    );
    assert!(sample(&text, "wardline_outbox_backlog").is_some());
    let declared = "wardline_http_request_duration_seconds_count{method=\"POST\",route=\"/api/incidents/declare\",status=\"200\"}";
    assert_eq!(sample(&text, declared), Some(1.0), "{text}");
    let unmatched = "wardline_http_request_duration_seconds_count{method=\"GET\",route=\"unmatched\",status=\"404\"}";
    assert_eq!(sample(&text, unmatched), Some(3.0), "{text}");
    assert!(!text.contains("page-1"), "raw paths never become labels");
}
