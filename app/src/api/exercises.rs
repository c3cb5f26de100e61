//! Exercises: starting one, an organisation's cadence, and the report afterwards.

use leptos::prelude::*;

use crate::domain::incidents::{ExerciseReport, Exercises};
use crate::error::AppError;

/// Starts an exercise (leads and admins). As a plain form post it lands on the exercise.
#[server(endpoint = "incidents/lead/exercise")]
pub async fn start_exercise(
    org_code: String,
    kind: String,
    exercise: String,
    scenario: Option<String>,
) -> Result<String, AppError> {
    crate::backend::http::respond(
        async {
            use crate::domain::incidents::{ExerciseKind, IncidentKind};
            let (state, user) = crate::backend::caller::caller().await?;
            state.limits.action(user.person_id, "declare").await?;
            let kind = IncidentKind::parse(&kind)
                .ok_or_else(|| AppError::Invalid("Choose which runbook to exercise.".into()))?;
            let exercise = ExerciseKind::parse(&exercise)
                .ok_or_else(|| AppError::Invalid("Choose the kind of exercise.".into()))?;
            let declared = crate::backend::exercises::start(
                &state.declarations,
                &state.db,
                &user,
                &org_code,
                kind,
                exercise,
                scenario.as_deref().unwrap_or_default(),
            )
            .await?;
            let reference = declared.reference.clone();
            state.publish_declared(declared);
            crate::backend::http::redirect(&format!("/incidents/{reference}"));
            Ok(reference)
        }
        .await,
    )
}

#[server(endpoint = "exercises/list")]
pub async fn get_exercises(org_code: String) -> Result<Exercises, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::exercises::overview(&state.db, &user, &org_code).await
        }
        .await,
    )
}

#[server(endpoint = "exercises/report")]
pub async fn get_exercise_report(reference: String) -> Result<ExerciseReport, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::exercises::report(&state.db, &user, &reference).await
        }
        .await,
    )
}
