//! An incident's obligations ledger: which reporting obligations it carries, the decisions
//! leads record against each (a report made, not reportable and why, the NIS
//! significant-impact answers, the DSPT grading), and where each stands. Decisions are only
//! ever added, each on the hash-chained timeline and in the audit; only leads over the
//! incident's organisation make them.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use time::{Duration, OffsetDateTime};

use crate::backend::access::User;
use crate::backend::assignments::in_force_at;
use crate::backend::entity::{
    asset, assignment, incident, incident_asset, incident_obligation, incident_report,
    organisation, person, role,
};
use crate::backend::{audit, orgs, timeline};
use crate::domain::dates::moment as fmt;
use crate::domain::incidents::obligations::{
    Duty, Facts, Grading, Impact, State, Step, duties, standing,
};
use crate::domain::incidents::{Clock, IncidentKind, csoc_purpose};
use crate::domain::org::OrgKind;
use crate::error::AppError;

use super::access::touch;
use super::declaring::bounded;
use super::lifecycle::{finish, lead_incident};

/// Whether an organisation is an operator of essential services: trusts and ICBs by their
/// kind, others when DHSC designated them; a site as its trust is.
pub(crate) async fn essential_service(
    db: &impl ConnectionTrait,
    org: &organisation::Model,
) -> Result<bool, AppError> {
    if essential_by_itself(org) {
        return Ok(true);
    }
    if org.summary().kind == OrgKind::Site
        && let Some(parent) = orgs::ancestors(db, org.id).await?.first()
        && let Some(p) = organisation::Entity::find_by_id(*parent).one(db).await?
    {
        return Ok(essential_by_itself(&p));
    }
    Ok(false)
}

/// An operator of essential services by its kind (trust, ICB) or by DHSC's designation.
fn essential_by_itself(o: &organisation::Model) -> bool {
    o.essential_service || matches!(o.summary().kind, OrgKind::Trust | OrgKind::Icb)
}

/// The incident's facts that decide which obligations apply, from what was read.
fn facts_for(
    inc: &incident::Model,
    kind: IncidentKind,
    org_kind: OrgKind,
    essential_service: bool,
    device_asset: bool,
) -> Facts {
    Facts {
        personal_data: inc.personal_data,
        essential_service,
        practice: org_kind == OrgKind::GpPractice,
        supplier: org_kind == OrgKind::Supplier,
        medical_device: kind == IncidentKind::MedicalDevice || device_asset,
        crime: matches!(
            kind,
            IncidentKind::Ransomware
                | IncidentKind::Phishing
                | IncidentKind::DenialOfService
                | IncidentKind::LostDevice
        ),
    }
}

/// The incidents among `ids` with a connected medical device among their affected assets:
/// their links first, then only the assets they name.
async fn with_device(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashSet<i64>, AppError> {
    let links = crate::backend::db::all_in(
        db,
        incident_asset::Entity::find(),
        incident_asset::Column::IncidentId,
        ids,
    )
    .await?;
    let mut asset_ids: Vec<i64> = links.iter().map(|l| l.asset_id).collect();
    asset_ids.sort_unstable();
    asset_ids.dedup();
    let devices: std::collections::HashSet<i64> = crate::backend::db::all_in(
        db,
        asset::Entity::find().filter(asset::Column::Kind.eq("medical_device")),
        asset::Column::Id,
        &asset_ids,
    )
    .await?
    .into_iter()
    .map(|a| a.id)
    .collect();
    Ok(links
        .into_iter()
        .filter(|l| devices.contains(&l.asset_id))
        .map(|l| l.incident_id)
        .collect())
}

async fn facts_of(
    db: &impl ConnectionTrait,
    inc: &incident::Model,
    org: &organisation::Model,
    kind: IncidentKind,
) -> Result<Facts, AppError> {
    let device = with_device(db, &[inc.id]).await?.contains(&inc.id);
    Ok(facts_for(
        inc,
        kind,
        org.summary().kind,
        essential_service(db, org).await?,
        device,
    ))
}

/// For each organisation with real incidents among `within` (readable by the caller): how
/// many obligations are overdue (missed) and how many were decided after their deadline.
/// One read of the incidents, their decisions and their devices, however many there are.
pub(crate) async fn tally(
    db: &impl ConnectionTrait,
    orgs: &std::collections::HashMap<i64, organisation::Model>,
    within: &std::collections::HashSet<i64>,
    parent: &std::collections::HashMap<i64, i64>,
    now: OffsetDateTime,
) -> Result<std::collections::HashMap<i64, (usize, usize)>, AppError> {
    let incidents: Vec<incident::Model> = incident::Entity::find()
        .filter(incident::Column::Exercise.is_null())
        .all(db)
        .await?
        .into_iter()
        .filter(|i| within.contains(&i.org_id))
        .collect();
    let ids: Vec<i64> = incidents.iter().map(|i| i.id).collect();
    let mut decisions: std::collections::HashMap<i64, Vec<incident_obligation::Model>> =
        std::collections::HashMap::new();
    // In id order, so each obligation's steps come in the order they were taken.
    for d in crate::backend::db::all_in(
        db,
        incident_obligation::Entity::find().order_by_asc(incident_obligation::Column::Id),
        incident_obligation::Column::IncidentId,
        &ids,
    )
    .await?
    {
        decisions.entry(d.incident_id).or_default().push(d);
    }
    let devices = with_device(db, &ids).await?;
    let mut out: std::collections::HashMap<i64, (usize, usize)> = std::collections::HashMap::new();
    for inc in &incidents {
        let Some(org) = orgs.get(&inc.org_id) else {
            continue;
        };
        let org_kind = org.summary().kind;
        let oes = essential_by_itself(org)
            || (org_kind == OrgKind::Site
                && parent
                    .get(&org.id)
                    .and_then(|p| orgs.get(p))
                    .is_some_and(essential_by_itself));
        let kind = IncidentKind::parse(&inc.kind).unwrap_or(IncidentKind::SystemDown);
        let facts = facts_for(inc, kind, org_kind, oes, devices.contains(&inc.id));
        let mine = decisions
            .get(&inc.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (duty, applies, _) in duties(&facts) {
            let steps: Vec<(Step, OffsetDateTime)> = mine
                .iter()
                .filter(|d| d.obligation == duty.as_str())
                .filter_map(|d| step_of(d).map(|s| (s, d.decided_at)))
                .collect();
            let s = standing(duty, applies, inc.aware_at, &steps, now);
            let e = out.entry(inc.org_id).or_default();
            e.0 += usize::from(s.overdue);
            e.1 += usize::from(s.late);
        }
    }
    Ok(out)
}

fn step_of(d: &incident_obligation::Model) -> Option<Step> {
    let detail = d.detail.as_deref().unwrap_or_default();
    Some(match d.decision.as_str() {
        "reported" => Step::Reported {
            at: d.reported_at.unwrap_or(d.decided_at),
        },
        "not_reportable" => Step::NotReportable,
        "assessed" => Step::Assessed {
            significant: serde_json::from_str::<Impact>(detail).ok()?.significant,
        },
        "graded" => Step::Graded {
            notify: serde_json::from_str::<Grading>(detail).ok()?.notify_ico(),
        },
        _ => return None,
    })
}

/// A decision as its history line says it.
fn history_line(d: &incident_obligation::Model, who: &str) -> String {
    let what = match d.decision.as_str() {
        "reported" => format!(
            "Reported{}{} at {}, reference {}",
            d.channel
                .as_deref()
                .map(|c| format!(" by {c}"))
                .unwrap_or_default(),
            d.purpose
                .as_deref()
                .and_then(csoc_purpose)
                .map(|(_, w)| format!(" ({w})"))
                .unwrap_or_default(),
            d.reported_at.map(fmt).unwrap_or_default(),
            d.reference.as_deref().unwrap_or_default()
        ),
        "not_reportable" => format!(
            "Not reportable: {}",
            d.reason.as_deref().unwrap_or_default()
        ),
        "assessed" => format!(
            "Impact assessed ({})",
            serde_json::from_str::<Impact>(d.detail.as_deref().unwrap_or_default())
                .map(|i| i.summary())
                .unwrap_or_default()
        ),
        "graded" => serde_json::from_str::<Grading>(d.detail.as_deref().unwrap_or_default())
            .map(|g| g.meaning())
            .unwrap_or_default(),
        other => other.to_owned(),
    };
    format!("{}: {what} ({who})", fmt(d.decided_at))
}

/// The incident's ledger: every obligation, whether it applies, its deadline and where it
/// stands. An exercise reports to nobody: it has none.
pub(crate) async fn ledger(
    db: &impl ConnectionTrait,
    inc: &incident::Model,
    org: &organisation::Model,
    kind: IncidentKind,
    exercise: bool,
    now: OffsetDateTime,
) -> Result<Vec<Clock>, AppError> {
    if exercise {
        return Ok(Vec::new());
    }
    let facts = facts_of(db, inc, org, kind).await?;
    let decisions = incident_obligation::Entity::find()
        .filter(incident_obligation::Column::IncidentId.eq(inc.id))
        .order_by_asc(incident_obligation::Column::Id)
        .all(db)
        .await?;
    let names: std::collections::HashMap<i64, String> = person::Entity::find()
        .filter(
            person::Column::Id.is_in(decisions.iter().map(|d| d.decided_by).collect::<Vec<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect();
    Ok(duties(&facts)
        .into_iter()
        .map(|(duty, applies, why)| {
            let mine: Vec<&incident_obligation::Model> = decisions
                .iter()
                .filter(|d| d.obligation == duty.as_str())
                .collect();
            let steps: Vec<(Step, OffsetDateTime)> = mine
                .iter()
                .filter_map(|d| step_of(d).map(|s| (s, d.decided_at)))
                .collect();
            let s = standing(duty, applies, inc.aware_at, &steps, now);
            let report = mine.iter().rev().find(|d| d.decision == "reported");
            let latest = |kind: &str| {
                mine.iter()
                    .rev()
                    .find(|d| d.decision == kind)
                    .and_then(|d| d.detail.clone())
            };
            let grading: Option<Grading> =
                latest("graded").and_then(|j| serde_json::from_str(&j).ok());
            let due_at = match (s.due, duty.window()) {
                (Some(d), _) => fmt(d),
                (None, Some(_)) => String::new(),
                (None, None) => "As soon as possible".into(),
            };
            Clock {
                body: duty.as_str().into(),
                label: duty.name().into(),
                due_at,
                applies,
                why: why.into(),
                channel_hint: duty.channel().into(),
                state: s.state,
                overdue: s.overdue,
                late: s.late,
                reassessed: s.reassessed,
                history: mine
                    .iter()
                    .map(|d| history_line(d, names.get(&d.decided_by).map_or("", String::as_str)))
                    .collect(),
                grade: grading.as_ref().map(Grading::meaning),
                impact: latest("assessed").and_then(|j| serde_json::from_str(&j).ok()),
                grading,
                minutes_left: s.due.map_or(0, |d| (d - now).whole_minutes()),
                // Only the report that stands: a later "not reportable" replaces it.
                reported_at: (s.state == State::Reported)
                    .then(|| report.and_then(|r| r.reported_at).map(fmt))
                    .flatten(),
                report_channel: report.and_then(|r| r.channel.clone()),
                report_reference: (s.state == State::Reported)
                    .then(|| report.and_then(|r| r.reference.clone()))
                    .flatten(),
                report_purpose: report
                    .and_then(|r| r.purpose.as_deref())
                    .and_then(csoc_purpose)
                    .map(|(_, words)| words.to_owned()),
            }
        })
        .collect())
}

/// How to reach the organisation's data protection officer, for the ICO report.
pub(crate) async fn dpo_contact(
    db: &impl ConnectionTrait,
    org_id: i64,
    now: OffsetDateTime,
) -> Result<Option<String>, AppError> {
    let Some(dpo) = role::Entity::find()
        .filter(role::Column::Key.eq("dpo"))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(a) = assignment::Entity::find()
        .filter(assignment::Column::OrgId.eq(org_id))
        .filter(assignment::Column::RoleId.eq(dpo.id))
        .filter(in_force_at(now))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(person::Entity::find_by_id(a.person_id)
        .one(db)
        .await?
        .filter(|p| !p.disabled)
        .map(|p| format!("{} (data protection officer), {}", p.display_name, p.email)))
}

/// What a report says: which obligation it meets, when it was made, how, the reference the
/// receiving body gave and, for the CSOC, whether it was for information or a request for
/// support.
pub struct Report<'a> {
    pub body: &'a str,
    pub reported_at: Option<&'a str>,
    pub their_reference: &'a str,
    pub purpose: Option<&'a str>,
    pub channel: Option<&'a str>,
}

fn duty(raw: &str) -> Result<Duty, AppError> {
    Duty::parse(raw.trim())
        .ok_or_else(|| AppError::Invalid("Choose which obligation this is about.".into()))
}

/// Records that a report was made. Recording again corrects it; every record stays in the
/// ledger and on the timeline.
pub async fn record_report(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    report: Report<'_>,
) -> Result<(), AppError> {
    let Report {
        body,
        reported_at,
        their_reference,
        purpose,
        channel,
    } = report;
    let duty = duty(body)?;
    // The CSOC asks every report to say what it is for; other bodies do not.
    let purpose = match (duty, purpose.map(str::trim).filter(|p| !p.is_empty())) {
        (Duty::Csoc, Some(p)) => Some(csoc_purpose(p).ok_or_else(|| {
            AppError::Invalid(
                "Say whether the report is for information or a request for support.".into(),
            )
        })?),
        (Duty::Csoc, None) => {
            return Err(AppError::Invalid(
                "Say whether the report to the CSOC is for information or a request for support."
                    .into(),
            ));
        }
        _ => None,
    };
    let their_reference = bounded(their_reference, "the reference you were given", 100, true)?;
    let channel = bounded(
        channel.unwrap_or_default(),
        "how it was reported",
        100,
        false,
    )?;
    let now = timeline::now();
    let at = crate::domain::dates::parse_moment(reported_at.unwrap_or_default())
        .map_err(AppError::Invalid)?
        .unwrap_or(now);
    if at > now + Duration::minutes(5) {
        return Err(AppError::Invalid(
            "A report cannot be made in the future.".into(),
        ));
    }
    let inc = lead_incident(db, user, reference).await?;
    if at < inc.aware_at - Duration::days(1) {
        return Err(AppError::Invalid(
            "That is before the organisation knew of the incident: check the date.".into(),
        ));
    }
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    // The report that stands is also one of the incident's signed facts.
    let existing = incident_report::Entity::find()
        .filter(incident_report::Column::IncidentId.eq(inc.id))
        .filter(incident_report::Column::Body.eq(duty.as_str()))
        .one(&txn)
        .await?;
    let corrected = existing.is_some();
    match existing {
        Some(r) => {
            let mut m: incident_report::ActiveModel = r.into();
            m.reported_at = Set(at);
            m.reference = Set(their_reference.clone());
            m.purpose = Set(purpose.map(|(v, _)| v.to_owned()));
            m.recorded_by = Set(user.person_id);
            m.recorded_at = Set(now);
            m.update(&txn).await?;
        }
        None => {
            incident_report::ActiveModel {
                incident_id: Set(inc.id),
                body: Set(duty.as_str().to_owned()),
                reported_at: Set(at),
                reference: Set(their_reference.clone()),
                purpose: Set(purpose.map(|(v, _)| v.to_owned())),
                recorded_by: Set(user.person_id),
                recorded_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    let channel = (!channel.is_empty()).then_some(channel);
    insert(
        &txn,
        incident_obligation::ActiveModel {
            incident_id: Set(inc.id),
            obligation: Set(duty.as_str().to_owned()),
            decision: Set("reported".into()),
            reported_at: Set(Some(at)),
            channel: Set(channel.clone()),
            reference: Set(Some(their_reference.clone())),
            purpose: Set(purpose.map(|(v, _)| v.to_owned())),
            decided_by: Set(user.person_id),
            decided_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let detail = format!(
        "{} to {}{}{} at {}, reference {their_reference} ({})",
        if corrected {
            "Report corrected: made"
        } else {
            "Reported"
        },
        duty.recipient(),
        purpose
            .map(|(_, words)| format!(" ({words})"))
            .unwrap_or_default(),
        channel.map(|c| format!(" by {c}")).unwrap_or_default(),
        fmt(at),
        user.name
    );
    finish(&txn, user, &inc, "report", "incident_reported", detail).await?;
    txn.commit().await?;
    Ok(())
}

async fn insert(
    txn: &impl ConnectionTrait,
    row: incident_obligation::ActiveModel,
) -> Result<(), AppError> {
    row.insert(txn).await?;
    Ok(())
}

/// A decision other than a report.
pub enum Decision {
    /// Assessed: not reportable, with the reason.
    NotReportable(String),
    /// NIS: the significant-impact answers.
    Impact(Impact),
    /// DSPT: the breach graded.
    Graded(Grading),
}

/// Records a lead's decision on one obligation: never replacing an earlier one, on the
/// timeline and in the audit.
pub async fn decide(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    obligation: &str,
    decision: Decision,
) -> Result<(), AppError> {
    let duty = duty(obligation)?;
    let (kind, reason, detail, words) = match decision {
        Decision::NotReportable(reason) => {
            let reason = bounded(&reason, "why it is not reportable", 2000, true)?;
            (
                "not_reportable",
                Some(reason.clone()),
                None,
                format!("Not reportable to {}: {reason}", duty.recipient()),
            )
        }
        Decision::Impact(i) => {
            if duty != Duty::Nis {
                return Err(AppError::Invalid(
                    "The significant-impact questions are NIS's.".into(),
                ));
            }
            i.check().map_err(AppError::Invalid)?;
            let words = format!("NIS impact assessed: {}", i.summary());
            (
                "assessed",
                None,
                Some(
                    serde_json::to_string(&i)
                        .map_err(|e| crate::backend::errors::internal("impact", &e))?,
                ),
                words,
            )
        }
        Decision::Graded(g) => {
            if duty != Duty::Ico {
                return Err(AppError::Invalid(
                    "Grading is for personal-data breaches (the DSPT report).".into(),
                ));
            }
            let g = Grading {
                nature: bounded(&g.nature, "the nature of the breach", 2000, true)?,
                categories: bounded(&g.categories, "who is concerned", 500, false)?,
                consequences: bounded(&g.consequences, "the likely consequences", 2000, false)?,
                measures: bounded(&g.measures, "the measures taken", 2000, false)?,
                ..g
            };
            g.check().map_err(AppError::Invalid)?;
            let words = format!("DSPT grading: {}", g.meaning());
            (
                "graded",
                None,
                Some(
                    serde_json::to_string(&g)
                        .map_err(|e| crate::backend::errors::internal("grading", &e))?,
                ),
                words,
            )
        }
    };
    let inc = lead_incident(db, user, reference).await?;
    if inc.exercise.is_some() {
        return Err(AppError::Invalid(
            "An exercise reports to nobody: it has no obligations.".into(),
        ));
    }
    let now = timeline::now();
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    insert(
        &txn,
        incident_obligation::ActiveModel {
            incident_id: Set(inc.id),
            obligation: Set(duty.as_str().to_owned()),
            decision: Set(kind.to_owned()),
            reason: Set(reason),
            detail: Set(detail),
            decided_by: Set(user.person_id),
            decided_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let detail = format!("{words} ({})", user.name);
    finish(
        &txn,
        user,
        &inc,
        "obligation",
        "incident_obligation_decided",
        detail,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Records whether DHSC designated an organisation an operator of essential services.
/// National admins only (the designation is DHSC's); audited.
pub async fn designate(
    db: &DatabaseConnection,
    user: &User,
    org_code: &str,
    designated: bool,
) -> Result<(), AppError> {
    if !user.is_national_admin() {
        return Err(AppError::Forbidden);
    }
    let org = orgs::find_by_code(db, org_code.trim())
        .await?
        .ok_or(AppError::NotFound)?;
    if matches!(org.summary().kind, OrgKind::Trust | OrgKind::Icb) {
        return Err(AppError::Invalid(
            "Trusts and ICBs are operators of essential services by law: there is nothing to designate."
                .into(),
        ));
    }
    if org.essential_service == designated {
        return Ok(());
    }
    let txn = db.begin().await?;
    let mut m: organisation::ActiveModel = org.clone().into();
    m.essential_service = Set(designated);
    m.updated_at = Set(timeline::now());
    m.update(&txn).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: Some(user.person_id),
            action: "org_essential_service_set",
            org: Some(org.id),
            subject: Some(org.code.clone()),
            detail: Some(if designated {
                "Designated by DHSC as an operator of essential services".into()
            } else {
                "No longer designated as an operator of essential services".into()
            }),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
