//! Administration from the server's shell: the first national admin.

use app::backend::orgs::{self, OrgInput};
use app::backend::{audit, auth, invites};
use app::domain::auth::{AccessRole, Email};
use app::domain::org::{OdsCode, OrgKind, OrgStatus};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set, TransactionTrait};

/// Creates a person with a national admin grant over the national body `org_code`.
pub async fn create_national_admin(
    db: &DatabaseConnection,
    email: &str,
    name: &str,
    org_code: &str,
    password: String,
) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "give the admin's name");
    anyhow::ensure!(
        app::backend::people::find_by_email(db, email.as_str())
            .await?
            .is_none(),
        "{} already exists",
        email.as_str()
    );
    let txn = db.begin().await?;
    let org = match orgs::find_by_code(&txn, org_code).await? {
        Some(o) => o.id,
        None => {
            let code = OdsCode::parse(OrgKind::National, org_code).map_err(anyhow::Error::msg)?;
            let input = OrgInput {
                code,
                name: "NHS England".into(),
                kind: OrgKind::National,
                status: OrgStatus::Active,
                opened_on: None,
                closed_on: None,
                postcode: None,
            };
            orgs::upsert(&txn, &input).await?.id()
        }
    };
    let person = app::backend::entity::person::ActiveModel {
        display_name: Set(name.to_owned()),
        email: Set(email.as_str().to_owned()),
        job_title: Set(Some("National admin".into())),
        org_id: Set(Some(org)),
        disabled: Set(false),
        created_at: Set(time::OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    auth::set_password(&txn, person.id, email.as_str(), password).await?;
    invites::grant(&txn, person.id, org, AccessRole::NationalAdmin).await?;
    audit::record(
        &txn,
        audit::Event {
            action: "national_admin_created",
            org: Some(org),
            subject: Some(email.as_str().to_owned()),
            client: Some("cli".into()),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Imports an ODS file from disk, printing progress to standard error.
pub async fn import_ods(
    db: &DatabaseConnection,
    kind: &str,
    path: &std::path::Path,
) -> anyhow::Result<app::backend::import::ods::ImportReport> {
    use app::backend::import::ods;
    let file = ods::OdsFile::parse(kind).ok_or_else(|| anyhow::anyhow!("unknown kind {kind}"))?;
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let parsed = ods::parse(file, &bytes, time::OffsetDateTime::now_utc().date());
    let report = ods::apply(db, parsed, |done, total| {
        eprintln!("{done} of {total} rows stored")
    })
    .await?;
    audit::record(
        db,
        audit::Event {
            action: "ods_import",
            subject: Some(path.display().to_string()),
            detail: Some(report.summary()),
            client: Some("cli".into()),
            ..Default::default()
        },
    )
    .await?;
    Ok(report)
}

/// Checks incident timelines (all, or one by reference), prints a line for each, and returns
/// how many are broken.
pub async fn verify_timelines(
    db: &DatabaseConnection,
    reference: Option<&str>,
) -> anyhow::Result<usize> {
    use app::backend::entity::incident;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let ids = match reference {
        Some(r) => {
            let inc = incident::Entity::find()
                .filter(incident::Column::Reference.eq(r.trim()))
                .one(db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no incident {r}"))?;
            Some(vec![inc.id])
        }
        None => None,
    };
    let checks = app::backend::timeline::verify_all(db, ids)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut broken = 0;
    for c in &checks {
        println!("{}", timeline_line(c));
        if c.result.is_err() {
            broken += 1;
        }
    }
    println!("{} timeline(s) checked, {broken} broken.", checks.len());
    Ok(broken)
}

/// One incident's line in `wardline verify-timeline`: whole, or BROKEN with what happened
/// (its kind first, so scripts can pick it out).
pub fn timeline_line(c: &app::backend::timeline::Check) -> String {
    match &c.finding {
        app::backend::timeline::Finding::Whole { entries } => {
            format!("{}: whole ({entries} entries)", c.reference)
        }
        f => format!("{}: BROKEN [{}]: {}", c.reference, f.name(), f.describe()),
    }
}

/// Rotates the secret key in `path`: see `key_rotation::rotate`.
pub async fn rotate_keys(
    db: &DatabaseConnection,
    path: &std::path::Path,
) -> anyhow::Result<app::backend::key_rotation::Rotated> {
    app::backend::key_rotation::rotate(db, path)
        .await
        .map_err(|e| anyhow::anyhow!("rotating the key: {e}"))
}
