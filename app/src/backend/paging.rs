//! Notification rules: each person's own ("text and email at once; text again after 5
//! minutes"), read, added and removed by them (audited), and read for many people at once
//! by whatever pages them (a declaration's plan, the escalation engine). The rules
//! themselves, the default and which channels reach someone are `domain::paging`.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::access::User;
use super::audit::{self, Event};
use super::entity::{
    access_grant, account, contact_method, notification_pref, notification_rule, person, webhook,
};
use super::{contacts, timeline};
use crate::domain::channel_post::ChannelFormat;
use crate::domain::paging::{
    MAX_RULES, PageChannel, Reach, Rule, RulesView, effective, parse_rule,
};
use crate::error::AppError;

/// Which channels this Wardline can send at all (set at start-up): email when mail is
/// configured, text messages when GOV.UK Notify is connected, Teams posts when it sends
/// webhooks (a server always does; an organisation still needs a Teams channel).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Channels {
    pub email: bool,
    pub sms: bool,
    pub teams: bool,
}

/// What pages each of a set of people, read at once: their own rules and what reaches them
/// (their email preference, a verified mobile), before the channels this Wardline sends.
#[derive(Debug, Default, Clone)]
pub struct Known {
    stored: HashMap<i64, Vec<Rule>>,
    reach: HashMap<i64, Reach>,
}

impl Known {
    /// Reads it for `ids`.
    pub async fn load(db: &impl ConnectionTrait, ids: &HashSet<i64>) -> Result<Known, AppError> {
        if ids.is_empty() {
            return Ok(Known::default());
        }
        let list: Vec<i64> = ids.iter().copied().collect();
        let mut stored: HashMap<i64, Vec<Rule>> = HashMap::new();
        for r in notification_rule::Entity::find()
            .filter(notification_rule::Column::PersonId.is_in(list.clone()))
            .order_by_asc(notification_rule::Column::DelayMinutes)
            .order_by_asc(notification_rule::Column::Id)
            .all(db)
            .await?
        {
            if let Some(rule) = rule_of(&r) {
                stored.entry(r.person_id).or_default().push(rule);
            }
        }
        let no_email: HashSet<i64> = notification_pref::Entity::find()
            .filter(notification_pref::Column::PersonId.is_in(list))
            .filter(notification_pref::Column::Email.eq(false))
            .all(db)
            .await?
            .into_iter()
            .map(|p| p.person_id)
            .collect();
        let mobiles = contacts::verified_among(db, ids).await?;
        let teams = with_teams_channel(db, ids).await?;
        let reach = ids
            .iter()
            .map(|p| {
                (
                    *p,
                    Reach {
                        email: !no_email.contains(p),
                        sms: mobiles.contains(p),
                        teams: teams.contains(p),
                    },
                )
            })
            .collect();
        Ok(Known { stored, reach })
    }

    /// The rules that page `person` now, soonest first, on the channels this Wardline sends.
    pub fn rules(&self, person: i64, channels: Channels) -> Vec<Rule> {
        let theirs = self.reach.get(&person).copied().unwrap_or_default();
        let reach = Reach {
            email: channels.email && theirs.email,
            sms: channels.sms && theirs.sms,
            teams: channels.teams && theirs.teams,
        };
        effective(
            self.stored.get(&person).map(Vec::as_slice).unwrap_or(&[]),
            reach,
        )
    }
}

/// Which of `ids` belong to an organisation (their own, or one they have access to) whose
/// Microsoft Teams channel is connected and on.
pub async fn with_teams_channel(
    db: &impl ConnectionTrait,
    ids: &HashSet<i64>,
) -> Result<HashSet<i64>, AppError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    // The organisations with a Teams channel, as a subquery: the database matches them to
    // the people, rather than every channel in the country being read here.
    let with_teams = || {
        sea_orm::sea_query::Query::select()
            .column(webhook::Column::OrgId)
            .from(webhook::Entity)
            .and_where(webhook::Column::Enabled.eq(true))
            .and_where(webhook::Column::Format.eq(ChannelFormat::Teams.as_str()))
            .to_owned()
    };
    let list: Vec<i64> = ids.iter().copied().collect();
    let mut found: HashSet<i64> = person::Entity::find()
        .filter(person::Column::Id.is_in(list.clone()))
        .filter(person::Column::OrgId.in_subquery(with_teams()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    found.extend(
        access_grant::Entity::find()
            .filter(access_grant::Column::PersonId.is_in(list))
            .filter(access_grant::Column::OrgId.in_subquery(with_teams()))
            .all(db)
            .await?
            .into_iter()
            .map(|g| g.person_id),
    );
    Ok(found)
}

/// The connected, switched-on Teams channels of the organisations `orgs`, by organisation.
pub async fn teams_channels_of(
    db: &impl ConnectionTrait,
    orgs: &[i64],
) -> Result<HashMap<i64, webhook::Model>, AppError> {
    Ok(webhook::Entity::find()
        .filter(webhook::Column::Enabled.eq(true))
        .filter(webhook::Column::Format.eq(ChannelFormat::Teams.as_str()))
        .filter(webhook::Column::OrgId.is_in(orgs.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.org_id, h))
        .collect())
}

/// Which of `ids` Wardline has a verified way to page: a verified mobile, or an email address
/// proven by accepting an invitation (a password was set through it) and not turned off.
/// The others are accountability gaps (`domain::gaps::unreachable`).
pub async fn reachable_among(
    db: &impl ConnectionTrait,
    ids: &HashSet<i64>,
) -> Result<HashSet<i64>, AppError> {
    let mut reachable = contacts::verified_among(db, ids).await?;
    let list: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|p| !reachable.contains(p))
        .collect();
    // In slices, so a national chart's thousands of holders stay within any engine's limit
    // on bound parameters.
    // Only the person ids: a national chart asks about tens of thousands of holders, and
    // their whole account rows (hashes, sealed secrets) are not needed to know this.
    let no_email: HashSet<i64> = super::db::all_in(
        db,
        notification_pref::Entity::find().filter(notification_pref::Column::Email.eq(false)),
        notification_pref::Column::PersonId,
        &list,
    )
    .await?
    .into_iter()
    .map(|p| p.person_id)
    .collect();
    for part in list.chunks(super::db::IN_CHUNK) {
        let with_password: Vec<i64> = account::Entity::find()
            .select_only()
            .column(account::Column::PersonId)
            .filter(account::Column::PersonId.is_in(part.iter().copied()))
            .filter(account::Column::PasswordHash.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        reachable.extend(with_password.into_iter().filter(|p| !no_email.contains(p)));
    }
    Ok(reachable)
}

/// Everyone `reachable_among` would call reachable, read whole and by id alone: the present's
/// national chart asks it about every holder in England, and sending their ids to the
/// database (in slices, or as a subquery it indexes afresh each time) cost more than reading
/// the few columns of everyone who can be paged.
pub async fn reachable_people(db: &impl ConnectionTrait) -> Result<HashSet<i64>, AppError> {
    let mut reachable: HashSet<i64> = contact_method::Entity::find()
        .select_only()
        .column(contact_method::Column::PersonId)
        .filter(contact_method::Column::Kind.eq(contacts::SMS))
        .filter(contact_method::Column::VerifiedAt.is_not_null())
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let no_email: HashSet<i64> = notification_pref::Entity::find()
        .select_only()
        .column(notification_pref::Column::PersonId)
        .filter(notification_pref::Column::Email.eq(false))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    reachable.extend(
        account::Entity::find()
            .select_only()
            .column(account::Column::PersonId)
            .filter(account::Column::PasswordHash.is_not_null())
            .into_tuple::<i64>()
            .all(db)
            .await?
            .into_iter()
            .filter(|p| !no_email.contains(p)),
    );
    Ok(reachable)
}

fn rule_of(r: &notification_rule::Model) -> Option<Rule> {
    Some(Rule {
        channel: PageChannel::parse(&r.channel)?,
        delay_minutes: r.delay_minutes,
    })
}

/// The caller's own rules, as their account page shows them.
pub async fn mine(db: &impl ConnectionTrait, user: &User) -> Result<RulesView, AppError> {
    let rows = own_rows(db, user.person_id).await?;
    let ids = HashSet::from([user.person_id]);
    let known = Known::load(db, &ids).await?;
    let has_mobile = known.reach.get(&user.person_id).is_some_and(|r| r.sms);
    let has_teams = known.reach.get(&user.person_id).is_some_and(|r| r.teams);
    // What pages them, as far as they control it (the channels connected are the
    // administrator's).
    let in_force = known
        .rules(
            user.person_id,
            Channels {
                email: true,
                sms: true,
                teams: true,
            },
        )
        .iter()
        .map(Rule::describe)
        .collect();
    Ok(RulesView {
        own: rows
            .iter()
            .filter_map(|r| Some((r.id, rule_of(r)?)))
            .collect(),
        in_force,
        has_mobile,
        has_teams,
    })
}

async fn own_rows(
    db: &impl ConnectionTrait,
    person_id: i64,
) -> Result<Vec<notification_rule::Model>, AppError> {
    Ok(notification_rule::Entity::find()
        .filter(notification_rule::Column::PersonId.eq(person_id))
        .order_by_asc(notification_rule::Column::DelayMinutes)
        .order_by_asc(notification_rule::Column::Id)
        .all(db)
        .await?)
}

/// Adds a rule for the caller. A text rule needs a verified mobile; the same rule twice and
/// more than [`MAX_RULES`] are refused.
#[tracing::instrument(skip_all, err)]
pub async fn add(
    db: &impl ConnectionTrait,
    user: &User,
    channel: &str,
    delay_minutes: &str,
    client: Option<IpAddr>,
) -> Result<(), AppError> {
    let rule = parse_rule(channel, delay_minutes).map_err(AppError::Invalid)?;
    if rule.channel == PageChannel::Sms
        && contacts::verified_mobile(db, user.person_id)
            .await?
            .is_none()
    {
        return Err(AppError::Conflict(
            "Verify your mobile number first: a text message rule needs one.".into(),
        ));
    }
    if rule.channel == PageChannel::Teams
        && with_teams_channel(db, &HashSet::from([user.person_id]))
            .await?
            .is_empty()
    {
        return Err(AppError::Conflict(
            "None of your organisations has a Microsoft Teams channel connected: ask an administrator to connect one on the escalation page first."
                .into(),
        ));
    }
    let rows = own_rows(db, user.person_id).await?;
    if rows.iter().filter_map(rule_of).any(|r| r == rule) {
        return Err(AppError::Conflict("You already have that rule.".into()));
    }
    if rows.len() >= MAX_RULES {
        return Err(AppError::Conflict(format!(
            "Keep to {MAX_RULES} rules: remove one first."
        )));
    }
    let added = notification_rule::Entity::insert(notification_rule::ActiveModel {
        person_id: Set(user.person_id),
        channel: Set(rule.channel.as_str().to_owned()),
        delay_minutes: Set(rule.delay_minutes),
        created_at: Set(timeline::now()),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([
        notification_rule::Column::PersonId,
        notification_rule::Column::Channel,
        notification_rule::Column::DelayMinutes,
    ])
    .exec_without_returning(db)
    .await?;
    if !matches!(added, sea_orm::TryInsertResult::Inserted(1)) {
        return Err(AppError::Conflict("You already have that rule.".into()));
    }
    audit::record(
        db,
        Event {
            actor: Some(user.person_id),
            action: "notification_rule_added",
            subject: Some(format!("person:{}", user.person_id)),
            detail: Some(rule.describe()),
            client: client.map(|c| c.to_string()),
            ..Default::default()
        },
    )
    .await
}

/// Removes one of the caller's rules (someone else's is as if it did not exist).
#[tracing::instrument(skip_all, err)]
pub async fn remove(
    db: &impl ConnectionTrait,
    user: &User,
    rule_id: i64,
    client: Option<IpAddr>,
) -> Result<(), AppError> {
    let Some(row) = notification_rule::Entity::find_by_id(rule_id)
        .filter(notification_rule::Column::PersonId.eq(user.person_id))
        .one(db)
        .await?
    else {
        return Err(AppError::NotFound);
    };
    let removed = notification_rule::Entity::delete_many()
        .filter(notification_rule::Column::Id.eq(row.id))
        .filter(notification_rule::Column::PersonId.eq(user.person_id))
        .exec(db)
        .await?
        .rows_affected;
    if removed != 1 {
        return Err(AppError::NotFound);
    }
    audit::record(
        db,
        Event {
            actor: Some(user.person_id),
            action: "notification_rule_removed",
            subject: Some(format!("person:{}", user.person_id)),
            detail: rule_of(&row).map(|r| r.describe()),
            client: client.map(|c| c.to_string()),
            ..Default::default()
        },
    )
    .await
}
