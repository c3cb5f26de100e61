//! The API's OpenAPI 3.1 document, generated from the handlers and the types they send, and
//! a page that reads it out (served from here: no script, no outside assets).

use std::fmt::Write;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::{alerts, problem, reads, writes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Wardline API",
        version = "1",
        description = "Organisations, responsibility charts and their gaps, incidents, tasks \
            and assets, for the organisations a token reaches; and alerts that declare. \
            Send a token as `Authorization: Bearer wlt_…` (made on your account page, or \
            by an organisation admin for a service account); alerts are sent with an alert \
            source's key, `Authorization: Bearer wla_…`. Errors are RFC 9457 problem \
            details. Lists are paged: `page` from 1, 50 a page, with `page`, `pages` and \
            `total` in the answer."
    ),
    paths(
        reads::orgs, reads::org, reads::chart, reads::chart_csv, reads::assets,
        reads::incidents, reads::incident, reads::tasks,
        writes::declare, writes::acknowledge, writes::complete,
        alerts::receive,
    ),
    components(schemas(problem::Problem)),
    modifiers(&Security),
    tags(
        (name = "organisations", description = "The NHS organisations Wardline maps"),
        (name = "charts", description = "Who holds each cyber and information role, and the gaps"),
        (name = "incidents", description = "Incidents: list, read, declare"),
        (name = "tasks", description = "The token holder's tasks"),
        (name = "assets", description = "Catalogued systems and devices"),
        (name = "alerts", description = "Alerts from security tools that open incidents"),
    )
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, what) in [
            ("token", "An API token, wlt_…"),
            ("alert_key", "An alert source's key, wla_…"),
        ] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(what))
                        .build(),
                ),
            );
        }
    }
}

/// The document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

pub async fn openapi_json() -> Response {
    let body = document().to_json().unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The API reference as a plain page: each operation, its parameters, what it answers.
pub async fn page() -> Response {
    let doc = document();
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Wardline API</title>\
         </head><body><main id=\"main\" class=\"page\">",
    );
    let _ = write!(
        html,
        "<h1>Wardline API, version {}</h1><p>{}</p>\
         <p>The machine-readable document: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>",
        esc(&doc.info.version),
        esc(doc.info.description.as_deref().unwrap_or_default())
    );
    for (path, item) in &doc.paths.paths {
        let ops = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let _ = write!(
                html,
                "<section><h2><code>{method} {}</code></h2>",
                esc(path)
            );
            if let Some(d) = op.description.as_deref().or(op.summary.as_deref()) {
                let _ = write!(html, "<p>{}</p>", esc(d));
            }
            if let Some(params) = &op.parameters
                && !params.is_empty()
            {
                html.push_str("<table><caption>Parameters</caption><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">In</th><th scope=\"col\">What it is</th></tr></thead><tbody>");
                for p in params {
                    let utoipa::openapi::RefOr::T(p) = p else {
                        continue;
                    };
                    let place = match p.parameter_in {
                        utoipa::openapi::path::ParameterIn::Path => "path",
                        utoipa::openapi::path::ParameterIn::Query
                        | utoipa::openapi::path::ParameterIn::QueryString => "query",
                        utoipa::openapi::path::ParameterIn::Header => "header",
                        utoipa::openapi::path::ParameterIn::Cookie => "cookie",
                    };
                    let _ = write!(
                        html,
                        "<tr><td><code>{}</code></td><td>{place}</td><td>{}</td></tr>",
                        esc(&p.name),
                        esc(p.description.as_deref().unwrap_or_default())
                    );
                }
                html.push_str("</tbody></table>");
            }
            html.push_str("<p>Answers: ");
            let codes: Vec<String> = op
                .responses
                .responses
                .keys()
                .map(|c| format!("<code>{}</code>", esc(c)))
                .collect();
            html.push_str(&codes.join(", "));
            html.push_str("</p></section>");
        }
    }
    html.push_str("</main></body></html>");
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response()
}
