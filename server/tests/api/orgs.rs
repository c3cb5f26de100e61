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

/// Many practices under one ICB, as an England-sized map has: no page renders them all.
#[tokio::test]
async fn a_large_map_opens_collapsed_searches_on_the_server_and_pages_children() {
    use app::backend::demo_national::{Shape, load};
    use app::domain::org::{OrgDetail, OrgTree};
    let app = spawn_app().await.with_demo().await;
    let shape = Shape {
        regions: 1,
        icbs: 1,
        trusts: 4,
        practices: 900,
        suppliers: 3,
    };
    load(&app.db, shape).await.unwrap();
    app.sign_in(NADIA).await;

    // The map: whole levels from the top while they fit, the rest counted.
    let map: OrgTree = app
        .post_form("/api/orgs/tree", &[])
        .await
        .json()
        .await
        .unwrap();
    let shown = app::domain::tree::count(&map.roots);
    assert!(map.total > 900, "{}", map.total);
    assert!(shown <= app::backend::orgs::MAP_SHOWS, "{shown}");
    fn hidden(nodes: &[app::domain::org::OrgNode]) -> usize {
        nodes.iter().map(|n| n.hidden + hidden(&n.children)).sum()
    }
    assert_eq!(
        shown + hidden(&map.roots),
        map.total,
        "everyone shown or counted"
    );
    assert!(
        map.suppliers
            .iter()
            .all(|s| s.serves.len() <= app::backend::orgs::MAP_CLIENTS),
        "a supplier's clients are listed a few at a time"
    );
    assert!(map.suppliers.iter().any(|s| s.more > 0));
    let html = app.get("/orgs").await.text().await.unwrap();
    assert!(html.len() < 400_000, "the map page is {} bytes", html.len());
    assert!(html.contains("organisations below"));

    // A search the server answers: a practice deep in the tree, with the way to it.
    let found: OrgTree = app
        .post_form("/api/orgs/tree", &[("q", "Z00777")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found.matched, Some(1));
    let html = app.get("/orgs?q=Z00777").await.text().await.unwrap();
    assert!(html.contains("Z00777"));
    let long = "x".repeat(101);
    assert_eq!(
        app.post_form("/api/orgs/tree", &[("q", &long)])
            .await
            .status(),
        422
    );

    // An organisation's children a page at a time.
    let sub = found.roots[0].children[0].children[0].children[0]
        .org
        .code
        .clone();
    let first: OrgDetail = app
        .post_form("/api/orgs/detail", &[("code", &sub)])
        .await
        .json()
        .await
        .unwrap();
    assert!(
        first.children_total > 200,
        "{sub}: {}",
        first.children_total
    );
    assert_eq!(first.children.len(), app::domain::org::ORG_PAGE_SIZE);
    let last: OrgDetail = app
        .post_form("/api/orgs/detail", &[("code", &sub), ("page", "999")])
        .await
        .json()
        .await
        .unwrap();
    assert!(
        last.page > 1 && !last.children.is_empty(),
        "clamped to the last page"
    );
    assert_ne!(first.children[0].code, last.children[0].code);
    let html = app
        .get(&format!("/orgs/{sub}?page=2"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Previous page"), "a plain link back");
}
