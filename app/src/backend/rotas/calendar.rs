//! Each person's private calendar feed: a revocable URL whose random token is the credential
//! (only its SHA-256 is stored), serving their on-call shifts for the next [`FEED_DAYS`] days
//! as iCalendar. The feed is written with the `icalendar` crate, which folds long lines and
//! escapes text as RFC 5545 asks.

use std::collections::HashSet;

use icalendar::{Calendar, Component, EventLike, Property};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use time::{Duration, OffsetDateTime};

use crate::backend::access::User;
use crate::backend::audit::{self, Event};
use crate::backend::entity::{
    calendar_feed, on_call_schedule, person, rotation_member, schedule_override, schedule_rule,
};
use crate::backend::rotas::reading::load;
use crate::backend::tokens;
use crate::domain::rota::{CalendarFeedView, local_label};
use crate::error::AppError;

/// Days of shifts a feed carries (eight weeks, within `rota::MAX_SPAN_DAYS`).
pub const FEED_DAYS: i64 = 56;

/// The path a feed is served under, before its token.
pub const FEED_PATH: &str = "/calendar/";

fn feed_url(public_url: &str, token: &str) -> String {
    format!("{}{FEED_PATH}{token}.ics", public_url.trim_end_matches('/'))
}

/// Whether the caller has a live feed, and since when.
pub async fn feed_status(
    db: &impl ConnectionTrait,
    user: &User,
) -> Result<CalendarFeedView, AppError> {
    let live = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::PersonId.eq(user.person_id))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .order_by_desc(calendar_feed::Column::Id)
        .one(db)
        .await?;
    Ok(CalendarFeedView {
        since: live.map(|f| crate::domain::dates::moment(f.created_at)),
        url: None,
    })
}

/// Makes the caller a new feed (revoking any before it) and answers its URL, the only time
/// it is shown.
#[tracing::instrument(skip_all, err)]
pub async fn create_feed(
    db: &DatabaseConnection,
    user: &User,
    public_url: &str,
    client: Option<String>,
) -> Result<CalendarFeedView, AppError> {
    let token = tokens::new_token();
    let now = crate::backend::timeline::now();
    let txn = db.begin().await?;
    revoke_live(&txn, user.person_id, now).await?;
    calendar_feed::ActiveModel {
        person_id: Set(user.person_id),
        token_hash: Set(tokens::digest(&token)),
        created_at: Set(now),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "calendar_feed_created",
            subject: Some(format!("person:{}", user.person_id)),
            client,
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(CalendarFeedView {
        since: Some(crate::domain::dates::moment(now)),
        url: Some(feed_url(public_url, &token)),
    })
}

async fn revoke_live(
    db: &impl ConnectionTrait,
    person_id: i64,
    now: OffsetDateTime,
) -> Result<u64, AppError> {
    Ok(calendar_feed::Entity::update_many()
        .col_expr(calendar_feed::Column::RevokedAt, Expr::value(now))
        .filter(calendar_feed::Column::PersonId.eq(person_id))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Revokes the caller's feed: its URL answers 404 from now on.
#[tracing::instrument(skip_all, err)]
pub async fn revoke_feed(
    db: &DatabaseConnection,
    user: &User,
    client: Option<String>,
) -> Result<(), AppError> {
    let txn = db.begin().await?;
    if revoke_live(&txn, user.person_id, crate::backend::timeline::now()).await? > 0 {
        audit::record(
            &txn,
            Event {
                actor: Some(user.person_id),
                action: "calendar_feed_revoked",
                subject: Some(format!("person:{}", user.person_id)),
                client,
                ..Default::default()
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The feed a token opens, as iCalendar text: `None` for a wrong or revoked token, or a
/// person whose account is disabled.
pub async fn feed(
    db: &impl ConnectionTrait,
    token: &str,
    now: OffsetDateTime,
) -> Result<Option<String>, AppError> {
    if token.is_empty() || token.len() > 64 {
        return Ok(None);
    }
    let Some(f) = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::TokenHash.eq(tokens::digest(token)))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(who) = person::Entity::find_by_id(f.person_id)
        .one(db)
        .await?
        .filter(|p| !p.disabled)
    else {
        return Ok(None);
    };
    let shifts = shifts_of(db, who.id, now, now + Duration::days(FEED_DAYS)).await?;
    Ok(Some(to_ical(&who.display_name, who.id, &shifts)))
}

/// One shift of one person: (schedule id, schedule name, start, end).
pub type PersonShift = (i64, String, OffsetDateTime, OffsetDateTime);

/// A person's on-call shifts in `[from, to)` on every schedule that could name them (through
/// a rotation or an override), in time order.
pub async fn shifts_of(
    db: &impl ConnectionTrait,
    person_id: i64,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<PersonShift>, AppError> {
    let rotations: Vec<i64> = rotation_member::Entity::find()
        .filter(rotation_member::Column::PersonId.eq(person_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.rotation_id)
        .collect();
    let mut ids: HashSet<i64> = schedule_rule::Entity::find()
        .filter(schedule_rule::Column::RotationId.is_in(rotations))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.schedule_id)
        .collect();
    ids.extend(
        schedule_override::Entity::find()
            .filter(schedule_override::Column::PersonId.eq(person_id))
            .filter(schedule_override::Column::EndsAt.gt(from))
            .all(db)
            .await?
            .into_iter()
            .map(|o| o.schedule_id),
    );
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let schedules = on_call_schedule::Entity::find()
        .filter(on_call_schedule::Column::Id.is_in(ids))
        .order_by_asc(on_call_schedule::Column::Id)
        .all(db)
        .await?;
    let loaded = load(db, schedules, from).await?;
    let mut out: Vec<PersonShift> = loaded
        .schedules
        .iter()
        .flat_map(|s| {
            loaded
                .schedule(s.id)
                .shifts_of(person_id, from, to)
                .into_iter()
                .map(|(a, b)| (s.id, s.name.clone(), a, b))
        })
        .collect();
    out.sort_by_key(|x| (x.2, x.0));
    Ok(out)
}

/// The shifts as an iCalendar document, each event with a UID stable across fetches (the
/// schedule, the person and the shift's start), so calendar apps update rather than repeat.
pub fn to_ical(name: &str, person_id: i64, shifts: &[PersonShift]) -> String {
    let mut cal = Calendar::new();
    cal.name(&format!("Wardline on call: {name}"));
    cal.append_property(Property::new("X-PUBLISHED-TTL", "PT1H"));
    cal.append_property(Property::new("REFRESH-INTERVAL;VALUE=DURATION", "PT1H"));
    for (schedule_id, schedule, start, end) in shifts {
        let mut e = icalendar::Event::new();
        e.uid(&format!(
            "oncall-{schedule_id}-{person_id}-{}@wardline",
            start.unix_timestamp()
        ))
        .summary(&format!("On call: {schedule}"))
        .description(&format!(
            "Wardline on-call shift: {} until {}.",
            local_label(*start),
            local_label(*end)
        ))
        .starts(*start)
        .ends(*end);
        cal.push(e.done());
    }
    cal.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_feed_is_icalendar_with_stable_ids_and_escaped_names() {
        let shifts = vec![(
            7,
            "Gold, nights; <b>".to_owned(),
            datetime!(2026-03-28 08:00 UTC),
            datetime!(2026-03-29 07:00 UTC),
        )];
        let ics = to_ical("Ann Example", 3, &shifts);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
        assert!(ics.contains("BEGIN:VEVENT\r\n"));
        assert!(
            ics.contains("UID:oncall-7-3-1774684800@wardline\r\n"),
            "{ics}"
        );
        assert!(ics.contains("DTSTART:20260328T080000Z\r\n"), "{ics}");
        assert!(ics.contains("DTEND:20260329T070000Z\r\n"), "{ics}");
        // Commas and semicolons in text are escaped, as RFC 5545 asks.
        assert!(
            ics.contains("SUMMARY:On call: Gold\\, nights\\; <b>"),
            "{ics}"
        );
        // Long lines are folded (RFC 5545 3.1): read them unfolded. Times on UK clocks,
        // saying which, across the spring change.
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains("Sat 28 Mar 2026 08:00 GMT until Sun 29 Mar 2026 08:00 BST"),
            "{unfolded}"
        );
        assert!(ics.trim_end().ends_with("END:VCALENDAR"));
        // Nothing changes between two renderings but the time stamp.
        let again = to_ical("Ann Example", 3, &shifts);
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !l.starts_with("DTSTAMP"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&ics), strip(&again));
    }
}
