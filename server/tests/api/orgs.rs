//! The organisation map over HTTP: pages rendered whole on the server, and the server
//! functions behind them.

use crate::helpers::spawn_app;

const NADIA: &str = "nadia.kowalski@demo.wardline.test";

#[tokio::test]
async fn the_map_is_rendered_whole_on_the_server() {
    let app = spawn_app().await.with_demo().await;
    app.sign_in(NADIA).await;
    let res = app.get("/orgs").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    for expected in [
        "<h1>Organisations</h1>",
        "Princess Royal University Hospital",
        "Stockwell Group Practice",
        "Synnovis",
        "RJZ30",
    ] {
        assert!(html.contains(expected), "missing {expected}");
    }
    assert!(
        !html.contains("Loading organisations"),
        "the page must not wait for script"
    );
}

#[tokio::test]
async fn searching_without_script_filters_on_the_server() {
    let app = spawn_app().await.with_demo().await;
    app.sign_in(NADIA).await;
    let html = app.get("/orgs?q=stockwell").await.text().await.unwrap();
    assert!(html.contains("Stockwell Group Practice"));
    assert!(
        !html.contains(">Vassall Medical Centre</a>"),
        "filtered out of the rendered list"
    );
    assert!(html.contains(">Stockwell Group Practice</a>"));
    assert!(html.contains("Stockwell"), "status line names the query");
}

#[tokio::test]
async fn an_organisation_page_shows_code_kind_parent_children_and_suppliers() {
    let app = spawn_app().await.with_demo().await;
    app.sign_in(NADIA).await;
    let res = app.get("/orgs/RJZ").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    for expected in [
        "King",
        "NHS trust",
        "NHS South East London Integrated Care Board",
        "Princess Royal University Hospital",
        "Synnovis",
        "Pathology services",
    ] {
        assert!(html.contains(expected), "missing {expected}");
    }
    let supplier = app.get("/orgs/sup-synnovis").await.text().await.unwrap();
    assert!(supplier.contains("Organisations this supplier serves"));
    assert!(supplier.contains("Guy"));
}

#[tokio::test]
async fn an_unknown_organisation_is_a_404_page() {
    let app = spawn_app().await.with_demo().await;
    app.sign_in(NADIA).await;
    let res = app.get("/orgs/ZZZ99").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Organisation not found"));
    assert_eq!(app.get("/no/such/page").await.status(), 404);
}

#[tokio::test]
async fn the_detail_function_answers_404_with_a_plain_error() {
    let app = spawn_app().await.with_demo().await;
    app.sign_in(NADIA).await;
    let res = app.post_form("/api/orgs/detail", &[("code", "ZZZ")]).await;
    assert_eq!(res.status(), 404);
    let body = res.text().await.unwrap();
    assert!(body.contains("NotFound"), "{body}");

    let ok = app
        .post_form("/api/orgs/detail", &[("code", "g85028")])
        .await;
    assert_eq!(ok.status(), 200);
    let detail: app::domain::org::OrgDetail = ok.json().await.unwrap();
    assert_eq!(detail.org.code, "G85028");
    assert_eq!(detail.parent.unwrap().code, "72Q");
}

#[tokio::test]
async fn the_map_sends_anonymous_visitors_to_sign_in() {
    let app = spawn_app().await.with_demo().await;
    let res = app
        .client
        .get(format!("{}/orgs/RJZ", app.address))
        .header("Accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("/sign-in?next=") && location.contains("RJZ"),
        "{location}"
    );
    let res = app.post_form("/api/orgs/tree", &[]).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_malformed_call_is_refused_without_internals() {
    let app = spawn_app().await.with_demo().await;
    app.sign_in(NADIA).await;
    let res = app
        .post_form("/api/orgs/detail", &[("nonsense", "1")])
        .await;
    let status = res.status();
    assert_eq!(status, 422, "a missing argument is the caller's mistake");
    let body = res.text().await.unwrap().to_lowercase();
    assert!(!body.contains("serde") && !body.contains("sql"), "{body}");
}
