//! On-call rotas kept by an organisation's admins: rotations, schedules of time rules,
//! overrides, and requests to cover that become overrides when the colleague accepts. The
//! rules themselves are pure (`domain::rota`); this module stores them, checks reach, audits
//! every change and answers "who is on call at T".
//!
//! `rotations`, `schedules`, `overrides` (and cover requests), `holding` (a role held by a
//! schedule), `reading` (who is on call, the preview), `page` (the on-call page).

use sea_orm::{ConnectionTrait, EntityTrait};
use time::{Duration, OffsetDateTime};

use crate::backend::access::{self, Action, User};
use crate::backend::entity::{on_call_schedule, rotation};
use crate::domain::rota::parse_local_moment;
use crate::error::AppError;

mod calendar;
mod handovers;
mod history;
mod holding;
mod overrides;
mod page;
mod reading;
mod rotations;
mod schedules;

pub use calendar::{
    FEED_DAYS, FEED_PATH, PersonShift, create_feed, feed, feed_status, revoke_feed, shifts_of,
};
pub use handovers::{HANDOVER, WINDOW_MINUTES, handover_notices, notify_handovers};
pub use holding::{hold_role, release_role, schedule_for_role, with_on_call_gaps};
pub use overrides::{
    OverrideInput, accept_cover, add_override, decline_cover, remove_override, request_cover,
};
pub use page::page;
pub use reading::{
    gap_hours, load_schedule, next_days, now_and_next, on_call_at, on_call_holdings, on_call_views,
    who_at,
};
pub use rotations::{RotationInput, create_rotation, update_rotation};
pub use schedules::{RuleInput, add_rule, create_schedule};

/// Longest name of a rotation or schedule.
pub const MAX_NAME: usize = 120;
/// Longest override or cover period.
pub(crate) const MAX_PERIOD_DAYS: i64 = 92;
/// Days the preview shows.
pub const PREVIEW_DAYS: i64 = 28;
/// Days searched for gaps.
pub const GAP_DAYS: i64 = 14;

/// A name typed into a form: required, bounded, and plain text.
pub fn name(raw: &str) -> Result<String, AppError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(AppError::Invalid("Give it a name.".into()));
    }
    if v.chars().count() > MAX_NAME {
        return Err(AppError::Invalid(format!(
            "Keep the name to {MAX_NAME} characters."
        )));
    }
    if v.chars().any(|c| c == '<' || c == '>' || c.is_control()) {
        return Err(AppError::Invalid(
            "Use letters, numbers and ordinary punctuation in the name (no < or >).".into(),
        ));
    }
    Ok(v.to_owned())
}

pub(crate) fn invalid(e: String) -> AppError {
    AppError::Invalid(e)
}

/// The rotation, if the caller may do `action` in its organisation (404 otherwise).
pub(crate) async fn rotation_in_reach(
    db: &impl ConnectionTrait,
    user: &User,
    rotation_id: i64,
    action: Action,
) -> Result<rotation::Model, AppError> {
    let Some(r) = rotation::Entity::find_by_id(rotation_id).one(db).await? else {
        return Err(AppError::NotFound);
    };
    access::org_id_in_reach(db, user, r.org_id, action).await?;
    Ok(r)
}

pub(crate) async fn schedule_in_reach(
    db: &impl ConnectionTrait,
    user: &User,
    schedule_id: i64,
    action: Action,
) -> Result<on_call_schedule::Model, AppError> {
    let Some(s) = on_call_schedule::Entity::find_by_id(schedule_id)
        .one(db)
        .await?
    else {
        return Err(AppError::NotFound);
    };
    access::org_id_in_reach(db, user, s.org_id, action).await?;
    Ok(s)
}

pub(crate) fn period(start: &str, end: &str) -> Result<(OffsetDateTime, OffsetDateTime), AppError> {
    let start = parse_local_moment(start).map_err(invalid)?;
    let end = parse_local_moment(end).map_err(invalid)?;
    if end <= start {
        return Err(AppError::Invalid("The end must be after the start.".into()));
    }
    if end - start > Duration::days(MAX_PERIOD_DAYS) {
        return Err(AppError::Invalid(format!(
            "Keep a period to {MAX_PERIOD_DAYS} days."
        )));
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::db;
    use crate::backend::entity::{access_grant, audit_event};
    use crate::domain::auth::AccessRole;
    use crate::domain::rota;
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, QueryFilter};
    use time::macros::datetime;

    const PRIYA: &str = "priya.raman@demo.wardline.test";
    const TOM: &str = "tom.okafor@demo.wardline.test";
    const HELEN: &str = "helen.marsh@demo.wardline.test";
    const OWEN: &str = "owen.fraser@demo.wardline.test";

    async fn setup() -> DatabaseConnection {
        let conn = db::connect(&db::scratch("sqlite::memory:").await)
            .await
            .unwrap();
        Migrator::up(&conn, None).await.unwrap();
        crate::backend::demo::load(&conn).await.unwrap();
        conn
    }

    async fn user(db: &DatabaseConnection, email: &str) -> User {
        let p = super::super::people::find_by_email(db, email)
            .await
            .unwrap()
            .unwrap();
        let grants = access_grant::Entity::find()
            .filter(access_grant::Column::PersonId.eq(p.id))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|g| AccessRole::parse(&g.role).map(|r| (g.org_id, r)))
            .collect();
        User {
            person_id: p.id,
            name: p.display_name,
            email: p.email,
            grants,
            mfa_enabled: true,
            second_factor: true,
        }
    }

    fn weekly(participants: &str) -> RotationInput {
        RotationInput {
            name: "Gold on call".into(),
            participants: participants.into(),
            shift_count: 1,
            shift_unit: "weeks".into(),
            handover: "08:00".into(),
            start: "2026-01-05".into(),
        }
    }

    fn always(rotation_id: i64) -> RuleInput {
        RuleInput {
            days: "every day".into(),
            from: "00:00".into(),
            until: "00:00".into(),
            rotation_id,
        }
    }

    #[tokio::test]
    async fn an_admin_builds_a_schedule_and_sees_who_is_on_call_audited() {
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let tom = user(&db, TOM).await;
        let helen = user(&db, HELEN).await;
        let rot = create_rotation(&db, &priya, "RJ1", weekly(&format!("{TOM}\n{HELEN}")), None)
            .await
            .unwrap();
        let sched = create_schedule(&db, &priya, "rj1", "Gold", always(rot), None)
            .await
            .unwrap();
        let t = datetime!(2026-01-13 12:00 UTC);
        assert_eq!(
            on_call_at(&db, sched, t).await.unwrap(),
            vec![helen.person_id]
        );
        let page = page(&db, &priya, "RJ1", datetime!(2026-01-05 09:00 UTC))
            .await
            .unwrap();
        assert_eq!(page.schedules[0].now, vec!["Tom Okafor".to_owned()]);
        assert_eq!(
            page.schedules[0].next.as_ref().unwrap().people,
            vec!["Helen Marsh".to_owned()]
        );
        assert_eq!(page.schedules[0].gap_hours, 0);
        assert!(page.may_administer);
        let audited: Vec<String> = audit_event::Entity::find()
            .filter(audit_event::Column::Action.starts_with("rota_"))
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.action)
            .collect();
        assert_eq!(
            audited,
            vec!["rota_rotation_created", "rota_schedule_created"]
        );
        // A lead of the same trust reads it but may not change it.
        let seen = super::page(&db, &tom, "RJ1", t).await.unwrap();
        assert!(!seen.may_administer);
        assert_eq!(
            create_rotation(&db, &tom, "RJ1", weekly(TOM), None).await,
            Err(AppError::Forbidden)
        );
    }

    #[tokio::test]
    async fn another_organisations_ids_and_people_are_not_found() {
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let owen = user(&db, OWEN).await;
        let rot = create_rotation(&db, &priya, "RJ1", weekly(TOM), None)
            .await
            .unwrap();
        let sched = create_schedule(&db, &priya, "RJ1", "Gold", always(rot), None)
            .await
            .unwrap();
        // Priya cannot name a GP partner at a practice outside her trust.
        assert_eq!(
            create_rotation(&db, &priya, "RJ1", weekly(OWEN), None).await,
            Err(AppError::NotFound)
        );
        // Owen, a lead at a practice, gets 404 for the trust's schedule and rotation.
        assert_eq!(
            update_rotation(&db, &owen, rot, weekly(OWEN), None).await,
            Err(AppError::NotFound)
        );
        assert_eq!(
            add_rule(&db, &owen, sched, always(rot), None).await,
            Err(AppError::NotFound)
        );
        assert_eq!(
            page(&db, &owen, "RJ1", datetime!(2026-01-05 09:00 UTC))
                .await
                .map(|_| ()),
            Err(AppError::NotFound)
        );
    }

    #[tokio::test]
    async fn an_accepted_cover_request_replaces_the_requester_once() {
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let tom = user(&db, TOM).await;
        let helen = user(&db, HELEN).await;
        let rot = create_rotation(&db, &priya, "RJ1", weekly(TOM), None)
            .await
            .unwrap();
        let sched = create_schedule(&db, &priya, "RJ1", "Gold", always(rot), None)
            .await
            .unwrap();
        let req = request_cover(
            &db,
            &tom,
            sched,
            HELEN,
            "2026-01-13T18:00",
            "2026-01-14T08:00",
            None,
        )
        .await
        .unwrap();
        let during = datetime!(2026-01-13 20:00 UTC);
        assert_eq!(
            on_call_at(&db, sched, during).await.unwrap(),
            vec![tom.person_id]
        );
        // Only the colleague asked may accept.
        assert_eq!(
            accept_cover(&db, &tom, req, None).await,
            Err(AppError::Forbidden)
        );
        accept_cover(&db, &helen, req, None).await.unwrap();
        assert_eq!(
            on_call_at(&db, sched, during).await.unwrap(),
            vec![helen.person_id]
        );
        assert_eq!(
            on_call_at(&db, sched, datetime!(2026-01-14 09:00 UTC))
                .await
                .unwrap(),
            vec![tom.person_id]
        );
        assert!(matches!(
            accept_cover(&db, &helen, req, None).await,
            Err(AppError::Conflict(_))
        ));
    }

    #[tokio::test]
    async fn overrides_and_gaps_show_in_the_preview() {
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let rot = create_rotation(&db, &priya, "RJ1", weekly(TOM), None)
            .await
            .unwrap();
        let office = RuleInput {
            days: "weekdays".into(),
            from: "08:00".into(),
            until: "18:00".into(),
            rotation_id: rot,
        };
        let sched = create_schedule(&db, &priya, "RJ1", "Office hours", office, None)
            .await
            .unwrap();
        add_override(
            &db,
            &priya,
            sched,
            OverrideInput {
                kind: "add".into(),
                person: HELEN.into(),
                replaces: String::new(),
                start: "2026-01-12T18:00".into(),
                end: "2026-01-12T20:00".into(),
            },
            None,
        )
        .await
        .unwrap();
        let page = page(&db, &priya, "RJ1", datetime!(2026-01-12 00:00 UTC))
            .await
            .unwrap();
        let s = &page.schedules[0];
        assert!(s.now.is_empty(), "midnight is a gap");
        assert_eq!(s.overrides[0].change, "Add Helen Marsh");
        // 14 days of 24 h, less 10 weekdays of 10 h, less the 2 h override.
        assert_eq!(s.gap_hours, 14 * 24 - 10 * 10 - 2);
        assert!(s.preview.iter().any(|x| x.people == vec!["Helen Marsh"]));
    }

    #[tokio::test]
    async fn a_role_held_by_a_schedule_routes_to_whoever_is_on_call() {
        use crate::backend::routing::Router;
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let helen = user(&db, HELEN).await;
        let rj1 = access::org_in_reach(&db, &priya, "RJ1", Action::Read)
            .await
            .unwrap();
        let now = crate::backend::timeline::now();
        let before = Router::load(&db, rj1.id, now).await.unwrap();
        let named = before.route("head_of_cyber").0;
        assert_ne!(named, Some(helen.person_id));
        let rot = create_rotation(&db, &priya, "RJ1", weekly(HELEN), None)
            .await
            .unwrap();
        let sched = create_schedule(&db, &priya, "RJ1", "Cyber on call", always(rot), None)
            .await
            .unwrap();
        // Only an admin of the organisation may hand a role to a schedule.
        let tom = user(&db, TOM).await;
        assert_eq!(
            hold_role(&db, &tom, "RJ1", "head_of_cyber", sched, None).await,
            Err(AppError::Forbidden)
        );
        hold_role(&db, &priya, "RJ1", "head_of_cyber", sched, None)
            .await
            .unwrap();
        let after = Router::load(&db, rj1.id, now).await.unwrap();
        let (who, at, _) = after.route("head_of_cyber");
        assert_eq!(who, Some(helen.person_id));
        assert_eq!(at, Some(rj1.id));
        // The named holder at the trust (if any) stands behind the schedule.
        let role_id = before.roles["head_of_cyber"].0;
        let named_here = before.holdings.get(&(rj1.id, role_id)).map(|h| h.0);
        assert_eq!(
            after.holdings[&(rj1.id, role_id)],
            (helen.person_id, named_here)
        );
        // Read again by the time the preview span ends at the latest (one participant: no
        // handover changes who it is before then).
        assert!(
            after
                .valid_until
                .is_some_and(|u| u <= now + Duration::days(rota::MAX_SPAN_DAYS))
        );
        // A schedule with nobody on call leaves the named holder in place.
        add_override(
            &db,
            &priya,
            sched,
            OverrideInput {
                kind: "remove".into(),
                person: HELEN.into(),
                replaces: String::new(),
                start: "2000-01-01T00:00".into(),
                end: "2000-01-02T00:00".into(),
            },
            None,
        )
        .await
        .unwrap();
        let in_2000 = time::macros::datetime!(2000-01-01 12:00 UTC);
        assert_eq!(
            on_call_at(&db, sched, in_2000).await.unwrap(),
            Vec::<i64>::new()
        );
    }

    #[tokio::test]
    async fn a_schedule_with_hours_uncovered_is_an_accountability_gap() {
        use crate::domain::gaps::GapKind;
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let rot = create_rotation(&db, &priya, "RJ1", weekly(HELEN), None)
            .await
            .unwrap();
        let office = RuleInput {
            days: "weekdays".into(),
            from: "08:00".into(),
            until: "18:00".into(),
            rotation_id: rot,
        };
        let sched = create_schedule(&db, &priya, "RJ1", "Office only", office, None)
            .await
            .unwrap();
        hold_role(&db, &priya, "RJ1", "head_of_cyber", sched, None)
            .await
            .unwrap();
        let rj1 = access::org_in_reach(&db, &priya, "RJ1", Action::Read)
            .await
            .unwrap();
        let now = crate::backend::timeline::now();
        let gaps = with_on_call_gaps(&db, Vec::new(), now, |o| o == rj1.id)
            .await
            .unwrap();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].kind, GapKind::OnCallGap);
        assert_eq!(gaps[0].org_id, rj1.id);
        // Covered around the clock, it is no gap.
        add_rule(&db, &priya, sched, always(rot), None)
            .await
            .unwrap();
        let gaps = with_on_call_gaps(&db, Vec::new(), now, |o| o == rj1.id)
            .await
            .unwrap();
        assert!(gaps.is_empty(), "{gaps:?}");
    }

    // Long because it is one story told in order (a rota set up, a handover coming, noticed
    // once to both people, a second pass sending nothing, a late handover skipped): each
    // step depends on the state the one before left.
    #[tokio::test]
    async fn each_handover_is_noticed_once_to_both_people_and_late_ones_are_not_sent() {
        use crate::backend::entity::notification;
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let tom = user(&db, TOM).await;
        let helen = user(&db, HELEN).await;
        let rot = create_rotation(&db, &priya, "RJ1", weekly(&format!("{TOM}\n{HELEN}")), None)
            .await
            .unwrap();
        let sched = create_schedule(&db, &priya, "RJ1", "Gold", always(rot), None)
            .await
            .unwrap();
        // Helen takes email; Tom turned it off.
        crate::backend::entity::notification_pref::ActiveModel {
            person_id: sea_orm::Set(tom.person_id),
            email: sea_orm::Set(false),
            updated_at: sea_orm::Set(datetime!(2026-01-01 00:00 UTC)),
        }
        .insert(&db)
        .await
        .unwrap();
        // Five minutes before Tom hands over to Helen (Monday 12 January, 08:00).
        let before = datetime!(2026-01-12 07:55 UTC);
        assert_eq!(notify_handovers(&db, before).await.unwrap(), 1);
        let rows = handover_notices(&db, sched).await.unwrap();
        let mut got: Vec<(i64, String)> = rows
            .iter()
            .map(|n| (n.person_id.unwrap(), n.channel.clone()))
            .collect();
        got.sort();
        let mut want = vec![
            (tom.person_id, "inbox".to_owned()),
            (helen.person_id, "inbox".to_owned()),
            (helen.person_id, "email".to_owned()),
        ];
        want.sort();
        assert_eq!(got, want);
        let to_helen = rows
            .iter()
            .find(|n| n.person_id == Some(helen.person_id))
            .unwrap();
        assert_eq!(
            to_helen.title,
            "On call for Gold from Mon 12 Jan 2026 08:00 GMT"
        );
        assert!(
            to_helen.body.contains("taking over from Tom Okafor"),
            "{}",
            to_helen.body
        );
        assert_eq!(to_helen.incident_id, 0);
        assert_eq!(
            i64::from(to_helen.round),
            datetime!(2026-01-12 08:00 UTC).unix_timestamp() / 60
        );
        let to_tom = rows
            .iter()
            .find(|n| n.person_id == Some(tom.person_id))
            .unwrap();
        assert!(
            to_tom.body.contains("Helen Marsh takes over"),
            "{}",
            to_tom.body
        );
        let email = rows.iter().find(|n| n.channel == "email").unwrap();
        assert_eq!(
            email.status,
            crate::domain::escalation::NotificationStatus::Pending
        );
        // The next run (a minute on, or on a second server) adds nothing.
        notify_handovers(&db, before + Duration::minutes(1))
            .await
            .unwrap();
        notify_handovers(&db, datetime!(2026-01-12 08:05 UTC))
            .await
            .unwrap();
        assert_eq!(handover_notices(&db, sched).await.unwrap().len(), 3);
        // Back after an hour down: the handover at 08:00 is too old to announce.
        let late = datetime!(2026-01-19 09:00 UTC);
        assert_eq!(notify_handovers(&db, late).await.unwrap(), 0);
        assert_eq!(
            notification::Entity::find()
                .filter(notification::Column::Subject.eq(HANDOVER))
                .all(&db)
                .await
                .unwrap()
                .len(),
            3
        );
    }

    #[tokio::test]
    async fn names_with_markup_or_too_long_are_refused() {
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let mut input = weekly(TOM);
        input.name = "<script>alert(1)</script>".into();
        assert!(matches!(
            create_rotation(&db, &priya, "RJ1", input.clone(), None).await,
            Err(AppError::Invalid(_))
        ));
        input.name = "x".repeat(MAX_NAME + 1);
        assert!(matches!(
            create_rotation(&db, &priya, "RJ1", input, None).await,
            Err(AppError::Invalid(_))
        ));
        assert!(rotation::Entity::find().all(&db).await.unwrap().is_empty());
    }
}
