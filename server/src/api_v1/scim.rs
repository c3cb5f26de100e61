//! SCIM 2.0 `Users` (RFC 7643, RFC 7644), for identity providers that push leavers (Microsoft
//! Entra ID's provisioning, among others). A provider is given an API token, made for writing
//! by an organisation admin (or a national admin) and scoped as any token is: it finds, reads
//! and deactivates only the people that admin administers. Deactivating (or deleting) a person
//! disables them in Wardline: their sessions and tokens end at once and the chart shows what
//! they held as a gap. A provisioned person who is new to Wardline is created with no access:
//! access is still given by invitation.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::{Value, json};

use app::backend::access::{self, User};
use app::backend::entity::person;
use app::backend::state::AppState;
use app::error::AppError;

use super::Caller;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A SCIM error (RFC 7644 section 3.12).
pub struct ScimError(u16, String);

impl From<AppError> for ScimError {
    fn from(e: AppError) -> Self {
        ScimError(e.status(), e.to_string())
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let body =
            json!({"schemas": [ERROR_SCHEMA], "status": self.0.to_string(), "detail": self.1});
        scim(
            StatusCode::from_u16(self.0).unwrap_or(StatusCode::BAD_REQUEST),
            &body,
        )
    }
}

fn scim(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    res
}

fn resource(p: &person::Model) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "id": p.id.to_string(),
        "userName": p.email,
        "displayName": p.display_name,
        "active": !p.disabled,
        "emails": [{"value": p.email, "primary": true}],
        "meta": {"resourceType": "User", "location": format!("/scim/v2/Users/{}", p.id)},
    })
}

/// The provider's caller, who must be able to write and to administer someone.
fn admin(caller: &Caller) -> Result<&User, ScimError> {
    let user = caller.0.writer().map_err(ScimError::from)?;
    Ok(user)
}

/// The person with this id, if the caller administers their organisation (never themselves).
async fn administered(state: &AppState, user: &User, id: &str) -> Result<person::Model, ScimError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ScimError(404, "No such user.".into()))?;
    let p = person::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(AppError::from)?
        .ok_or(ScimError(404, "No such user.".into()))?;
    administered_model(state, user, p).await
}

async fn administered_model(
    state: &AppState,
    user: &User,
    p: person::Model,
) -> Result<person::Model, ScimError> {
    let scope = access::administered_orgs(&state.db, user).await?;
    if p.id == user.person_id || !p.org_id.is_some_and(|o| access::within(&scope, o)) {
        return Err(ScimError(404, "No such user.".into()));
    }
    Ok(p)
}

async fn set_active(
    state: &AppState,
    user: &User,
    p: &person::Model,
    active: bool,
) -> Result<(), ScimError> {
    if p.disabled == active {
        app::backend::people::mark_disabled(&state.db, Some(user.person_id), p.id, !active).await?;
        app::backend::audit::record(
            &state.db,
            app::backend::audit::Event {
                actor: Some(user.person_id),
                action: if active {
                    "scim.reactivate"
                } else {
                    "scim.deactivate"
                },
                org: p.org_id,
                subject: Some(p.email.clone()),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    filter: Option<String>,
    #[serde(rename = "startIndex")]
    start_index: Option<u64>,
    count: Option<u64>,
}

/// `userName eq "someone@nhs.net"`, the one filter providers send.
fn user_name_filter(filter: &str) -> Option<String> {
    let rest = filter.trim().strip_prefix("userName")?.trim_start();
    let rest = rest
        .strip_prefix("eq")
        .or_else(|| rest.strip_prefix("EQ"))?
        .trim();
    Some(rest.trim_matches('"').to_owned())
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<axum::extract::Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ScimError> {
    let user = admin(&caller)?;
    let axum::extract::Query(q) =
        query.map_err(|_| ScimError(400, "The query was not understood.".into()))?;
    let scope = access::administered_orgs(&state.db, user).await?;
    let mut find = person::Entity::find();
    if let Some(f) = q.filter.as_deref() {
        let name = user_name_filter(f).ok_or(ScimError(
            400,
            "Only the filter userName eq \"…\" is supported.".into(),
        ))?;
        find = find.filter(person::Column::Email.eq(name.trim().to_lowercase()));
    }
    let start = q.start_index.unwrap_or(1).max(1);
    let count = q.count.unwrap_or(100).min(200);
    let people: Vec<person::Model> = find
        .all(&state.db)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .filter(|p| p.id != user.person_id && p.org_id.is_some_and(|o| access::within(&scope, o)))
        .collect();
    let page: Vec<Value> = people
        .iter()
        .skip((start - 1) as usize)
        .take(count as usize)
        .map(resource)
        .collect();
    Ok(scim(
        StatusCode::OK,
        &json!({"schemas": [LIST_SCHEMA], "totalResults": people.len(), "startIndex": start,
                "itemsPerPage": page.len(), "Resources": page}),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let user = admin(&caller)?;
    let p = administered(&state, user, &id).await?;
    Ok(scim(StatusCode::OK, &resource(&p)))
}

fn body(bytes: &[u8]) -> Result<Value, ScimError> {
    serde_json::from_slice(bytes).map_err(|_| ScimError(400, "The body is not valid JSON.".into()))
}

/// `true`, `false`, or the strings Entra sends ("True", "False").
fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Creates a person the provider provisions: an existing one (by email) in the caller's reach
/// is a conflict, as RFC 7644 asks; a new one has no access until invited.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    bytes: axum::body::Bytes,
) -> Result<Response, ScimError> {
    let user = admin(&caller)?;
    let v = body(&bytes)?;
    let email = v["userName"].as_str().unwrap_or_default();
    let email = app::domain::auth::Email::parse(email)
        .map_err(|_| ScimError(400, "userName must be an email address.".into()))?;
    if person::find_by_email(&state.db, email.as_str())
        .await
        .map_err(AppError::from)?
        .is_some()
    {
        return Err(ScimError(409, "A user with that userName exists.".into()));
    }
    let name = v["displayName"]
        .as_str()
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().count() <= 200)
        .unwrap_or(email.as_str())
        .to_owned();
    let org = access::administered_orgs(&state.db, user)
        .await?
        .and_then(|s| s.into_iter().min())
        .or_else(|| user.grants.first().map(|(o, _)| *o));
    let p = person::ActiveModel {
        display_name: Set(name),
        email: Set(email.as_str().to_owned()),
        job_title: Set(None),
        org_id: Set(org),
        disabled: Set(v.get("active").and_then(boolean) == Some(false)),
        created_at: Set(time::OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&state.db)
    .await
    .map_err(AppError::from)?;
    app::backend::audit::record(
        &state.db,
        app::backend::audit::Event {
            actor: Some(user.person_id),
            action: "scim.create",
            org: p.org_id,
            subject: Some(p.email.clone()),
            ..Default::default()
        },
    )
    .await?;
    Ok(scim(StatusCode::CREATED, &resource(&p)))
}

/// Replaces a person's `active` (and display name).
pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Response, ScimError> {
    let user = admin(&caller)?;
    let p = administered(&state, user, &id).await?;
    let v = body(&bytes)?;
    if let Some(active) = v.get("active").and_then(boolean) {
        set_active(&state, user, &p, active).await?;
    }
    let p = administered(&state, user, &id).await?;
    Ok(scim(StatusCode::OK, &resource(&p)))
}

/// Applies `replace` operations on `active` (the leaver) and `displayName`.
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Response, ScimError> {
    let user = admin(&caller)?;
    let p = administered(&state, user, &id).await?;
    let v = body(&bytes)?;
    if !v["schemas"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s == PATCH_SCHEMA))
    {
        return Err(ScimError(400, "A PATCH body is a PatchOp message.".into()));
    }
    let ops = v["Operations"]
        .as_array()
        .ok_or(ScimError(400, "Operations is required.".into()))?;
    for op in ops {
        let kind = op["op"].as_str().unwrap_or_default().to_ascii_lowercase();
        if kind != "replace" && kind != "add" {
            continue;
        }
        let active = match op["path"].as_str() {
            Some(path) if path.eq_ignore_ascii_case("active") => boolean(&op["value"]),
            Some(_) => None,
            None => op["value"].get("active").and_then(boolean),
        };
        if let Some(active) = active {
            set_active(&state, user, &p, active).await?;
        }
    }
    let p = administered(&state, user, &id).await?;
    Ok(scim(StatusCode::OK, &resource(&p)))
}

/// Deleting a person at the provider disables them here (records are kept for the audit
/// trail and the charts of the past).
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let user = admin(&caller)?;
    let p = administered(&state, user, &id).await?;
    set_active(&state, user, &p, false).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::user_name_filter;

    #[test]
    fn the_user_name_filter_is_read() {
        assert_eq!(
            user_name_filter("userName eq \"a@nhs.net\"").as_deref(),
            Some("a@nhs.net")
        );
        assert_eq!(user_name_filter("displayName eq \"x\""), None);
    }
}
