//! Import jobs started from the admin page: the file is parsed and stored in the background
//! while the page shows progress from the database.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use time::OffsetDateTime;

use super::ods::{self, ImportReport, OdsFile};
use crate::backend::access::User;
use crate::backend::audit::{self, Event};
use crate::backend::entity::import_job;
use crate::backend::state::AppState;
use crate::domain::imports::{ImportStatus, ImportView, RejectedLine};
use crate::error::AppError;

/// The largest file accepted (epraccur.csv is a few megabytes).
pub const MAX_BYTES: usize = 50 * 1024 * 1024;

/// Starts importing; returns the job's id at once.
pub async fn start(
    state: &AppState,
    actor: &User,
    kind: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<i64, AppError> {
    if !actor.is_national_admin() {
        return Err(AppError::Forbidden);
    }
    let file = OdsFile::parse(kind)
        .ok_or_else(|| AppError::Invalid("Choose which ODS file this is.".into()))?;
    if bytes.is_empty() {
        return Err(AppError::Invalid("The file is empty.".into()));
    }
    let name: String = file_name
        .chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect();
    let job = import_job::ActiveModel {
        kind: Set(kind.to_owned()),
        file_name: Set(if name.is_empty() {
            "upload.csv".into()
        } else {
            name
        }),
        status: Set(ImportStatus::Running),
        done: Set(0),
        total: Set(0),
        report: Set(None),
        created_by: Set(Some(actor.person_id)),
        created_at: Set(OffsetDateTime::now_utc()),
        finished_at: Set(None),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    let (db, id, actor_id) = (state.db.clone(), job.id, actor.person_id);
    tokio::spawn(run(db, file, bytes, id, actor_id));
    Ok(job.id)
}

/// The import itself, in the background: parse, store with progress written as it goes,
/// then the report and the audit row.
async fn run(
    db: sea_orm::DatabaseConnection,
    file: OdsFile,
    bytes: Vec<u8>,
    id: i64,
    actor_id: i64,
) {
    let parsed = ods::parse(file, &bytes, OffsetDateTime::now_utc().date());
    // Progress goes through a channel to a writer of its own, so storing rows never
    // waits on reporting them.
    let (tx, mut rx) = tokio::sync::watch::channel((0usize, 0usize));
    let progress_db = db.clone();
    let writer = tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let (done, total) = *rx.borrow_and_update();
            let _ = import_job::Entity::update_many()
                .col_expr(import_job::Column::Done, Expr::value(done as i64))
                .col_expr(import_job::Column::Total, Expr::value(total as i64))
                .filter(import_job::Column::Id.eq(id))
                .exec(&progress_db)
                .await;
        }
    });
    let result = ods::apply(&db, parsed, |done, total| {
        let _ = tx.send((done, total));
    })
    .await;
    drop(tx);
    let _ = writer.await;
    let (status, report) = match &result {
        Ok(r) => (ImportStatus::Finished, serde_json::to_string(r).ok()),
        Err(e) => (
            ImportStatus::Failed,
            Some(serde_json::json!({ "error": e.to_string() }).to_string()),
        ),
    };
    let _ = import_job::Entity::update_many()
        .col_expr(import_job::Column::Status, Expr::value(status))
        .col_expr(import_job::Column::Report, Expr::value(report))
        .col_expr(
            import_job::Column::FinishedAt,
            Expr::value(OffsetDateTime::now_utc()),
        )
        .filter(import_job::Column::Id.eq(id))
        .exec(&db)
        .await;
    let detail = result
        .as_ref()
        .map(ImportReport::summary)
        .unwrap_or_else(|e| e.to_string());
    let _ = audit::record(
        &db,
        Event {
            actor: Some(actor_id),
            action: "ods_import",
            detail: Some(detail),
            ..Default::default()
        },
    )
    .await;
}

pub async fn view(state: &AppState, actor: &User, id: i64) -> Result<ImportView, AppError> {
    if !actor.is_national_admin() {
        return Err(AppError::NotFound);
    }
    let job = import_job::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let status = job.status;
    let report: Option<ImportReport> = job
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    let failure: Option<String> = job
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
        .and_then(|v| v["error"].as_str().map(str::to_owned));
    Ok(ImportView {
        id: job.id,
        kind: job.kind,
        file_name: job.file_name,
        status,
        done: job.done,
        total: job.total,
        summary: report.as_ref().map(ImportReport::summary).or(failure),
        rejected: report
            .as_ref()
            .map(|r| {
                r.rejected
                    .iter()
                    .map(|x| RejectedLine {
                        line: x.line,
                        reason: x.reason.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        parents_unknown: report
            .map(|r| {
                r.parents_unknown
                    .into_iter()
                    .map(|(line, child, parent)| {
                        format!("Line {line}: {child} names parent {parent}, not known yet")
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}
