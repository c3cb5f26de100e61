//! Named accountability: the responsibility chart, the national overview, the role
//! catalogue, and keeping assignments true.

use leptos::prelude::*;

use crate::domain::accountability::{Chart, OverviewLine};
use crate::domain::roles::RoleView;
use crate::error::AppError;

/// The chart of an organisation's subtree. `as_at` is `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`
/// (UK time); `kind` and `gap` narrow it.
#[server(endpoint = "chart/get")]
pub async fn get_chart(
    org_code: String,
    as_at: Option<String>,
    kind: Option<String>,
    gap: Option<String>,
    page: Option<u64>,
) -> Result<Chart, AppError> {
    crate::backend::http::respond(
        async {
            use crate::domain::accountability::ChartFilter;
            let (state, user) = crate::backend::caller::caller().await?;
            let at = crate::domain::dates::parse_moment(as_at.as_deref().unwrap_or(""))
                .map_err(AppError::Invalid)?;
            let filter = ChartFilter {
                kind: kind
                    .as_deref()
                    .filter(|k| !k.is_empty())
                    .map(|k| {
                        crate::domain::org::OrgKind::parse(k).ok_or_else(|| {
                            AppError::Invalid("Unknown kind of organisation.".into())
                        })
                    })
                    .transpose()?,
                gap: gap
                    .as_deref()
                    .filter(|g| !g.is_empty())
                    .map(|g| {
                        crate::domain::gaps::GapKind::parse(g)
                            .ok_or_else(|| AppError::Invalid("Unknown kind of gap.".into()))
                    })
                    .transpose()?,
            };
            // A page of organisations at a time; exports stay whole.
            crate::backend::chart::chart_page(
                &state.db,
                &state.charts,
                &user,
                &org_code,
                at,
                &filter,
                page.unwrap_or(1),
            )
            .await
        }
        .await,
    )
}

/// Gap counts by region and ICB across the caller's organisations.
#[server(endpoint = "chart/overview")]
pub async fn get_overview() -> Result<Vec<OverviewLine>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::chart::overview(&state.db, &state.charts, &user).await
        }
        .await,
    )
}

#[server(endpoint = "roles/list")]
pub async fn list_roles() -> Result<Vec<RoleView>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, _) = crate::backend::caller::caller().await?;
            Ok(crate::backend::roles::all(&state.db)
                .await?
                .iter()
                .map(crate::backend::roles::view)
                .collect())
        }
        .await,
    )
}

/// Adds a role to the catalogue. National admins only.
#[server(endpoint = "manage/add_role")]
pub async fn add_role(
    key: String,
    name: String,
    applies_to: Vec<String>,
    mandatory: Option<String>,
    description: Option<String>,
) -> Result<RoleView, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::writer().await?;
            if !user.is_national_admin() {
                return Err(AppError::Forbidden);
            }
            let kinds: Vec<_> = applies_to
                .iter()
                .filter_map(|k| crate::domain::org::OrgKind::parse(k))
                .collect();
            let role = crate::backend::roles::add(
                &state.db,
                &key,
                &name,
                &kinds,
                mandatory.is_some(),
                description,
            )
            .await?;
            crate::backend::audit::record(
                &state.db,
                crate::backend::audit::Event {
                    actor: Some(user.person_id),
                    action: "role_added",
                    subject: Some(role.key.clone()),
                    ..Default::default()
                },
            )
            .await?;
            Ok(role)
        }
        .await,
    )
}

/// Gives a role in an organisation to a person, ending the previous holder's assignment.
#[server(endpoint = "manage/assign")]
#[allow(clippy::too_many_arguments)]
pub async fn assign_role(
    org_code: String,
    role_key: String,
    holder_email: String,
    deputy_email: Option<String>,
    work_phone: Option<String>,
    out_of_hours_phone: Option<String>,
    contact_email: Option<String>,
) -> Result<i64, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::writer().await?;
            let input = crate::backend::assignments::AssignInput {
                org_code,
                role_key,
                holder_email,
                deputy_email,
                work_phone,
                out_of_hours_phone,
                contact_email,
                starts_at: None,
            };
            crate::backend::assignments::assign(&state.db, &user, input).await
        }
        .await,
    )
}

/// Ends an assignment: the role falls vacant until someone is assigned.
#[server(endpoint = "manage/end_assignment")]
pub async fn end_assignment(id: i64) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::writer().await?;
            crate::backend::assignments::end(&state.db, &user, id).await
        }
        .await,
    )
}

/// Sets how often holders must confirm their details. National admins only.
#[server(endpoint = "manage/attestation_days")]
pub async fn set_attestation_days(days: i64) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::writer().await?;
            if !user.is_national_admin() {
                return Err(AppError::Forbidden);
            }
            if !(7..=730).contains(&days) {
                return Err(AppError::Invalid("Choose between 7 and 730 days.".into()));
            }
            crate::backend::settings::set_i64(
                &state.db,
                crate::backend::settings::ATTESTATION_DAYS.0,
                days,
            )
            .await?;
            crate::backend::audit::record(
                &state.db,
                crate::backend::audit::Event {
                    actor: Some(user.person_id),
                    action: "attestation_days_set",
                    detail: Some(days.to_string()),
                    ..Default::default()
                },
            )
            .await
        }
        .await,
    )
}

/// The holder confirms they hold the role and its details are right.
#[server(endpoint = "me/confirm_role")]
pub async fn confirm_role(id: i64) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::assignments::confirm(&state.db, &user, id).await
        }
        .await,
    )
}

/// The roles the caller holds, for confirming.
#[server(endpoint = "me/holdings")]
pub async fn my_holdings() -> Result<Vec<crate::domain::auth::MyHolding>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::assignments::mine(&state.db, user.person_id).await
        }
        .await,
    )
}

/// Merges one organisation into another (ICB mergers): national admins only.
#[server(endpoint = "manage/merge_org")]
pub async fn merge_org(
    from_code: String,
    into_code: String,
    on: String,
) -> Result<usize, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::writer().await?;
            if !user.is_national_admin() {
                return Err(AppError::Forbidden);
            }
            let on = time::Date::parse(
                on.trim(),
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| AppError::Invalid("Give the merge date as 2027-04-01.".into()))?;
            crate::backend::orgs::merge(&state.db, Some(user.person_id), &from_code, &into_code, on)
                .await
        }
        .await,
    )
}
