//! The routes outside Leptos (exports, live streams, the upload) let in only a signed-in
//! person whose session passed the second factor their role needs (`SignedIn`).

use crate::helpers::{DEMO_PASSWORD, TestApp, spawn_app};

const DANA: &str = "dana.whitlock@demo.wardline.test";

/// Each route with a request that it answers once the caller is let in.
enum Route {
    Export,
    IncidentStream,
    TaskStream,
    Upload,
}

const ROUTES: [Route; 4] = [
    Route::Export,
    Route::IncidentStream,
    Route::TaskStream,
    Route::Upload,
];

impl Route {
    async fn send(&self, app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
        let url = |path: &str| format!("{}{path}", app.address);
        let req = match self {
            Route::Export => client.get(url("/export/chart.csv?org=QKK")),
            Route::IncidentStream => client.get(url("/live/incidents/INC-NONE")),
            Route::TaskStream => client.get(url("/live/tasks")),
            Route::Upload => client
                .post(url("/admin/import/ods"))
                .header("Content-Type", "text/plain")
                .body("not a form"),
        };
        req.send().await.expect("request")
    }

    fn name(&self) -> &'static str {
        match self {
            Route::Export => "export",
            Route::IncidentStream => "incident stream",
            Route::TaskStream => "task stream",
            Route::Upload => "upload",
        }
    }

    /// What the route answers a caller it lets in, for the request above.
    fn answer_when_let_in(&self) -> u16 {
        match self {
            Route::Export | Route::TaskStream => 200,
            // Past the caller check, the reference is looked up: there is no such incident.
            Route::IncidentStream => 404,
            // Past the caller check, the body is read: it is not a multipart form.
            Route::Upload => 422,
        }
    }
}

#[tokio::test]
async fn a_session_that_passed_the_password_but_not_the_second_factor_is_refused() {
    let app = spawn_app().await.with_demo().await;
    let dana_id = app.person_id(DANA).await;

    let anonymous = app.new_client();
    for route in &ROUTES {
        let res = route.send(&app, &anonymous).await;
        assert_eq!(res.status(), 401, "{} without a session", route.name());
    }

    // Dana is a national admin and has not enrolled yet: her password opens a session, but
    // only enrolment is open to it.
    let password_only = app.new_client();
    assert_eq!(
        app.sign_in_with(&password_only, DANA, DEMO_PASSWORD)
            .await
            .status(),
        200
    );
    for route in &ROUTES {
        let res = route.send(&app, &password_only).await;
        assert_eq!(
            res.status(),
            403,
            "{} before the second factor",
            route.name()
        );
        let body = res.text().await.unwrap();
        assert_eq!(
            body,
            "You do not have permission to do that.",
            "{}",
            route.name()
        );
    }
    let refused = app.audit_rows("chart_exported").await;
    assert!(
        refused
            .iter()
            .any(|r| r.actor_id == Some(dana_id) && r.outcome == "refused"),
        "the refused export is audited as hers: {refused:#?}"
    );

    // The same session, once it has passed the second factor, is let in.
    app.enrol_on(&password_only).await;
    for route in &ROUTES {
        let res = route.send(&app, &password_only).await;
        assert_eq!(
            res.status(),
            route.answer_when_let_in(),
            "{} after the second factor",
            route.name()
        );
    }

    // Now enrolled, a password alone does not even make a signed-in session.
    let second = app.new_client();
    assert_eq!(
        app.sign_in_with(&second, DANA, DEMO_PASSWORD)
            .await
            .status(),
        200
    );
    for route in &ROUTES {
        let res = route.send(&app, &second).await;
        assert_eq!(
            res.status(),
            401,
            "{} with the password alone",
            route.name()
        );
    }
}
