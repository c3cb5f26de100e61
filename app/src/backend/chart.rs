//! The responsibility chart: an organisation's subtree with every role, holder, deputy and
//! gap, at any moment; the national overview of gaps; and their exports.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
};
use time::{Date, OffsetDateTime};

use super::access::{self, User};
use super::assignments::in_force_at;
use super::entity::{assignment, attestation, org_link, organisation, person, person_status, role};
use super::{orgs, settings};
use crate::domain::accountability::{
    Chart, ChartFilter, ChartOrg, ChartRow, HoldingView, OverviewLine,
};
use crate::domain::gaps::{self, Gap, GapCounts, GapKind, HoldingFact, OrgFact, RoleFact, Rules};
use crate::domain::org::{OrgKind, OrgStatus};
use crate::domain::roles::parse_kinds;
use crate::error::AppError;

/// "12 May 2017 14:00 BST": when a chart describes, on UK clocks.
fn fmt_time(t: OffsetDateTime) -> String {
    crate::domain::dates::moment(t)
}

/// Parent links in force on a date.
/// Each organisation's parent on `date` (child id to parent id).
pub(crate) async fn links_on(
    db: &impl ConnectionTrait,
    date: Date,
) -> Result<HashMap<i64, i64>, AppError> {
    Ok(org_link::Entity::find()
        .filter(org_link::Column::ValidFrom.lte(date))
        .filter(
            Condition::any()
                .add(org_link::Column::ValidTo.is_null())
                .add(org_link::Column::ValidTo.gt(date)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.child_id, l.parent_id))
        .collect())
}

/// Sets each holding's confirmation and each person's disabled status to what they were at
/// `at`, from the kept history (migration 001601): the latest attestation made by then
/// (none if there was none yet), and the last status change made by then (before any change,
/// the opposite of the first one; with no change ever, as the person stands now).
async fn as_they_were(
    db: &impl ConnectionTrait,
    at: OffsetDateTime,
    holdings: &mut [Holding],
    disabled: &mut HashSet<i64>,
) -> Result<(), AppError> {
    let ids: Vec<i64> = holdings.iter().map(|h| h.id).collect();
    let mut confirmed: HashMap<i64, OffsetDateTime> = HashMap::new();
    for a in super::db::all_in(
        db,
        attestation::Entity::find(),
        attestation::Column::AssignmentId,
        &ids,
    )
    .await?
    .into_iter()
    .filter(|a| a.confirmed_at <= at)
    {
        let e = confirmed.entry(a.assignment_id).or_insert(a.confirmed_at);
        *e = (*e).max(a.confirmed_at);
    }
    for h in holdings.iter_mut() {
        h.confirmed_at = confirmed.get(&h.id).copied();
    }
    let ids: Vec<i64> = holdings
        .iter()
        .flat_map(|h| [Some(h.person_id), h.deputy_id])
        .flatten()
        .collect::<HashSet<i64>>()
        .into_iter()
        .collect();
    let mut changes = super::db::all_in(
        db,
        person_status::Entity::find(),
        person_status::Column::PersonId,
        &ids,
    )
    .await?;
    changes.sort_by_key(|c| (c.changed_at, c.id));
    let mut then: HashMap<i64, bool> = HashMap::new();
    for c in &changes {
        if c.changed_at <= at {
            then.insert(c.person_id, c.disabled);
        } else {
            then.entry(c.person_id).or_insert(!c.disabled);
        }
    }
    for (id, was) in then {
        if was {
            disabled.insert(id);
        } else {
            disabled.remove(&id);
        }
    }
    Ok(())
}

fn active_on(o: &organisation::Model, date: Date) -> bool {
    o.opened_on.is_none_or(|d| d <= date)
        && o.closed_on.is_none_or(|d| d > date)
        && (o.status != OrgStatus::Closed || o.closed_on.is_some_and(|d| d > date))
}

/// A holding in force, with only what the gap rules read of it: the snapshot of the present
/// holds every one in England, so each column left out is read 27,000 times fewer after a
/// change and kept nowhere. What only a chart's rows show is `Shown`.
#[derive(Clone, Debug, FromQueryResult)]
struct Holding {
    id: i64,
    org_id: i64,
    role_id: i64,
    person_id: i64,
    deputy_id: Option<i64>,
    starts_at: OffsetDateTime,
    confirmed_at: Option<OffsetDateTime>,
}

/// What a chart row shows of a holding beyond the rules' facts.
#[derive(Clone, Debug, FromQueryResult)]
struct Shown {
    id: i64,
    work_phone: Option<String>,
    out_of_hours_phone: Option<String>,
    contact_email: Option<String>,
    ends_at: Option<OffsetDateTime>,
}

/// Names and contact details of the holdings a chart has shown, kept with its snapshot.
#[derive(Default)]
struct Details {
    names: HashMap<i64, Holder>,
    shown: HashMap<i64, Shown>,
}

impl Holding {
    fn fact(&self) -> HoldingFact {
        HoldingFact {
            org_id: self.org_id,
            role_id: self.role_id,
            person_id: self.person_id,
            deputy_id: self.deputy_id,
            confirmed_at: self.confirmed_at,
            starts_at: self.starts_at,
        }
    }
}

/// A holder or deputy as the chart names them.
#[derive(Clone, Debug, FromQueryResult)]
struct Holder {
    id: i64,
    display_name: String,
    email: String,
}

/// Everything the gap rules and the chart need about a set of organisations at a moment.
pub struct Snapshot {
    at: OffsetDateTime,
    /// When the organisation tree was read (which organisations are open, and their links,
    /// depend on the date) and when the holdings were (which are in force depends on the
    /// moment). A snapshot made again keeps the parts nothing has moved, with these moments.
    tree_at: OffsetDateTime,
    holdings_at: OffsetDateTime,
    orgs: Arc<HashMap<i64, organisation::Model>>,
    parent: Arc<HashMap<i64, i64>>,
    roles: Arc<Vec<role::Model>>,
    people: Arc<People>,
    holdings: Arc<Vec<Holding>>,
    /// Holders' and deputies' names and each holding's contact details, read when a chart
    /// first shows them and kept with the snapshot: the overview and the gap rules need none,
    /// and a regional chart only its region's, so a change does not cost reading every holder
    /// in England by name.
    details: tokio::sync::Mutex<Details>,
    gaps: Vec<Gap>,
    rules: Rules,
}

/// What the rules ask of people and settings: who is disabled, who can be paged, and the
/// rules' own settings. A few hundred rows at most, read again on any change that is not to
/// holdings or the organisation tree alone.
struct People {
    disabled: HashSet<i64>,
    reachable: HashSet<i64>,
    attestation_days: i64,
    max_mandatory_roles: usize,
}

impl People {
    fn rules(&self, now: OffsetDateTime) -> Rules {
        Rules {
            now,
            attestation_days: self.attestation_days,
            max_mandatory_roles: self.max_mandatory_roles,
        }
    }
}

impl Snapshot {
    /// The names and contact details of these holdings (of this snapshot), read for those not
    /// yet read and kept with the snapshot.
    async fn details_of(
        &self,
        db: &impl ConnectionTrait,
        holdings: &[&Holding],
    ) -> Result<Details, AppError> {
        let mut kept = self.details.lock().await;
        let people: HashSet<i64> = holdings
            .iter()
            .flat_map(|h| [Some(h.person_id), h.deputy_id])
            .flatten()
            .collect();
        let missing: Vec<i64> = people
            .iter()
            .copied()
            .filter(|id| !kept.names.contains_key(id))
            .collect();
        for part in missing.chunks(super::db::IN_CHUNK) {
            let read = person::Entity::find()
                .select_only()
                .columns([
                    person::Column::Id,
                    person::Column::DisplayName,
                    person::Column::Email,
                ])
                .filter(person::Column::Id.is_in(part.iter().copied()))
                .into_model::<Holder>()
                .all(db)
                .await?;
            kept.names.extend(read.into_iter().map(|p| (p.id, p)));
        }
        let missing: Vec<i64> = holdings
            .iter()
            .map(|h| h.id)
            .filter(|id| !kept.shown.contains_key(id))
            .collect();
        for part in missing.chunks(super::db::IN_CHUNK) {
            let read = assignment::Entity::find()
                .select_only()
                .columns([
                    assignment::Column::Id,
                    assignment::Column::WorkPhone,
                    assignment::Column::OutOfHoursPhone,
                    assignment::Column::ContactEmail,
                    assignment::Column::EndsAt,
                ])
                .filter(assignment::Column::Id.is_in(part.iter().copied()))
                .into_model::<Shown>()
                .all(db)
                .await?;
            kept.shown.extend(read.into_iter().map(|h| (h.id, h)));
        }
        Ok(Details {
            names: people
                .into_iter()
                .filter_map(|id| kept.names.get(&id).map(|p| (id, p.clone())))
                .collect(),
            shown: holdings
                .iter()
                .filter_map(|h| kept.shown.get(&h.id).map(|d| (h.id, d.clone())))
                .collect(),
        })
    }
}

/// What is read for `at`: `Moment::Present` takes holdings and people as they stand;
/// `Moment::Past` replays their kept history (attestations, disabled status) to `at`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Moment {
    Present,
    Past,
}

async fn snapshot(
    db: &impl ConnectionTrait,
    at: OffsetDateTime,
    moment: Moment,
    within: Option<&HashSet<i64>>,
) -> Result<Snapshot, AppError> {
    // Three independent reads, each on a connection of its own where the pool has them: on
    // SQLite each runs on its own thread, so the country is read in about the time of its
    // largest part rather than the sum.
    let ((rows, parent, roles), mut holdings, mut people) = futures::try_join!(
        tree_on(db, at.date(), within),
        holdings_at(db, at),
        people_now(db)
    )?;
    if moment == Moment::Past {
        as_they_were(db, at, &mut holdings, &mut people.disabled).await?;
    }
    let base = Snapshot {
        at,
        tree_at: at,
        holdings_at: at,
        orgs: Arc::new(rows.into_iter().map(|o| (o.id, o)).collect()),
        parent: Arc::new(parent),
        roles: Arc::new(roles),
        rules: people.rules(at),
        people: Arc::new(people),
        holdings: Arc::new(holdings),
        details: Default::default(),
        gaps: Vec::new(),
    };
    remade(db, &base, at, None, None, None).await
}

/// The organisation tree on `date`: the organisations (only those `within`, if given),
/// each one's parent, and the roles.
type Tree = (
    Vec<organisation::Model>,
    HashMap<i64, i64>,
    Vec<role::Model>,
);

async fn tree_on(
    db: &impl ConnectionTrait,
    date: Date,
    within: Option<&HashSet<i64>>,
) -> Result<Tree, AppError> {
    let rows = match within {
        Some(ids) => {
            let ids: Vec<i64> = ids.iter().copied().collect();
            super::db::all_in(
                db,
                organisation::Entity::find(),
                organisation::Column::Id,
                &ids,
            )
            .await?
        }
        None => organisation::Entity::find().all(db).await?,
    };
    let parent = links_on(db, date).await?;
    let roles = role::Entity::find().all(db).await?;
    Ok((rows, parent, roles))
}

/// Every holding in force at `at`, with what the gap rules read of it. Every one in England,
/// so a person's roles elsewhere count towards a single point of failure.
async fn holdings_at(
    db: &impl ConnectionTrait,
    at: OffsetDateTime,
) -> Result<Vec<Holding>, AppError> {
    // As a tuple: its columns are taken by position, not looked up by name 190,000 times.
    type Row = (
        i64,
        i64,
        i64,
        i64,
        Option<i64>,
        OffsetDateTime,
        Option<OffsetDateTime>,
    );
    Ok(assignment::Entity::find()
        .select_only()
        .columns([
            assignment::Column::Id,
            assignment::Column::OrgId,
            assignment::Column::RoleId,
            assignment::Column::PersonId,
            assignment::Column::DeputyId,
            assignment::Column::StartsAt,
            assignment::Column::ConfirmedAt,
        ])
        .filter(in_force_at(at))
        .into_tuple::<Row>()
        .all(db)
        .await?
        .into_iter()
        .map(
            |(id, org_id, role_id, person_id, deputy_id, starts_at, confirmed_at)| Holding {
                id,
                org_id,
                role_id,
                person_id,
                deputy_id,
                starts_at,
                confirmed_at,
            },
        )
        .collect())
}

/// Who is disabled and who can be paged now, of everyone, and the rules' settings.
async fn people_now(db: &impl ConnectionTrait) -> Result<People, AppError> {
    let disabled: HashSet<i64> = person::Entity::find()
        .select_only()
        .column(person::Column::Id)
        .filter(person::Column::Disabled.eq(true))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(People {
        disabled,
        reachable: super::paging::reachable_people(db).await?,
        attestation_days: settings::get_i64(db, settings::ATTESTATION_DAYS).await?,
        max_mandatory_roles: settings::get_i64(db, settings::MAX_MANDATORY_ROLES)
            .await?
            .max(1) as usize,
    })
}

/// `base` made again at `at`, with the tree, the holdings and the people where they were
/// read anew (each with when it was read), and the gaps the rules find in it.
async fn remade(
    db: &impl ConnectionTrait,
    base: &Snapshot,
    at: OffsetDateTime,
    tree: Option<(OffsetDateTime, Tree)>,
    holdings: Option<(OffsetDateTime, Vec<Holding>)>,
    people: Option<People>,
) -> Result<Snapshot, AppError> {
    let (tree_at, orgs, parent, roles) = match tree {
        Some((read_at, (rows, parent, roles))) => (
            read_at,
            Arc::new(rows.into_iter().map(|o| (o.id, o)).collect()),
            Arc::new(parent),
            Arc::new(roles),
        ),
        None => (
            base.tree_at,
            base.orgs.clone(),
            base.parent.clone(),
            base.roles.clone(),
        ),
    };
    let (holdings_at, holdings) = match holdings {
        Some((read_at, h)) => (read_at, Arc::new(h)),
        None => (base.holdings_at, base.holdings.clone()),
    };
    let people = people.map_or_else(|| base.people.clone(), Arc::new);
    let rules = people.rules(at);
    let date = tree_at.date();
    let org_facts: Vec<OrgFact> = orgs
        .values()
        .map(|o| OrgFact {
            id: o.id,
            kind: o.kind(),
            parent: parent.get(&o.id).copied(),
            active: active_on(o, date),
        })
        .collect();
    let role_facts: Vec<RoleFact> = roles
        .iter()
        .map(|r| RoleFact {
            id: r.id,
            applies_to: parse_kinds(&r.applies_to),
            mandatory: r.mandatory,
        })
        .collect();
    let holding_facts: Vec<HoldingFact> = holdings.iter().map(Holding::fact).collect();
    let mut gaps = gaps::find(
        &org_facts,
        &role_facts,
        &holding_facts,
        &people.disabled,
        &rules,
    );
    gaps.extend(gaps::unreachable(
        &holding_facts,
        &people.reachable,
        &people.disabled,
    ));
    let gaps = gaps
        .into_iter()
        .filter(|g| orgs.contains_key(&g.org_id))
        .collect();
    let gaps = super::rotas::with_on_call_gaps(db, gaps, at, |o| orgs.contains_key(&o)).await?;
    Ok(Snapshot {
        at,
        tree_at,
        holdings_at,
        orgs,
        parent,
        roles,
        people,
        holdings,
        details: Default::default(),
        gaps,
        rules,
    })
}

/// How long the present's snapshot is reused while nothing it reads has changed. What
/// changes with the clock alone (a confirmation falling due, a holding's end, a rota's next
/// shift) shows within this long; every write shows at once, since it moves the change
/// generation.
const FRESH_FOR: time::Duration = time::Duration::seconds(30);

/// The whole country's chart of the present, read once per change and shared by every
/// chart, overview and readiness request for now. It is tagged with the change generation
/// (migration 000010 and the triggers after it: organisations, links, people, roles,
/// holdings, rotas, contact methods, preferences, accounts and settings move it), so a
/// change made by any instance is seen by the next request; requests that arrive while it
/// is being read wait for that one read instead of each reading the country.
///
/// Only what changed is read again, by the generation's parts (migration 001901): the
/// holdings when they moved (or once they are `FRESH_FOR` old: which are in force moves with
/// the clock), people and settings when anything but holdings and the tree moved, the tree
/// when it moved (or the date did). So a change, or the clock, does not cost reading every
/// organisation and holding in England again, only the part it touched.
#[derive(Default)]
pub struct Cache {
    kept: tokio::sync::Mutex<Option<Kept>>,
}

/// The snapshot kept, with the generation's parts it was read at.
struct Kept {
    parts: super::generation::Parts,
    snapshot: Arc<Snapshot>,
}

impl Cache {
    /// The snapshot of the present: the one kept, if nothing has changed since it was read
    /// and it is fresh; else the one kept with what changed (or what the clock moved) read
    /// again; the first time, a new one.
    async fn now(&self, db: &impl ConnectionTrait) -> Result<Arc<Snapshot>, AppError> {
        let mut kept = self.kept.lock().await;
        // Read before what they guard, so the snapshot is at least as new as its tags.
        let parts = super::generation::read_parts(db).await?;
        let now = OffsetDateTime::now_utc();
        let s = match kept.take() {
            Some(k) if parts.all >= k.parts.all => {
                let base = &k.snapshot;
                if parts.all == k.parts.all && now - base.at < FRESH_FOR {
                    let s = base.clone();
                    *kept = Some(k);
                    return Ok(s);
                }
                // What a change or the clock has moved is read again, the rest kept.
                let tree = parts.tree != k.parts.tree || now.date() != base.tree_at.date();
                let holdings =
                    parts.holdings != k.parts.holdings || now - base.holdings_at >= FRESH_FOR;
                let people = k.parts.more_than_holdings_and_tree(&parts);
                let (tree, holdings, people) = futures::try_join!(
                    async {
                        match tree {
                            true => tree_on(db, now.date(), None).await.map(|t| Some((now, t))),
                            false => Ok(None),
                        }
                    },
                    async {
                        match holdings {
                            true => holdings_at(db, now).await.map(|h| Some((now, h))),
                            false => Ok(None),
                        }
                    },
                    async {
                        match people {
                            true => people_now(db).await.map(Some),
                            false => Ok(None),
                        }
                    }
                )?;
                remade(db, base, now, tree, holdings, people).await?
            }
            _ => snapshot(db, now, Moment::Present, None).await?,
        };
        let s = Arc::new(s);
        *kept = Some(Kept {
            parts,
            snapshot: s.clone(),
        });
        Ok(s)
    }
}

/// The organisation facts of `s`, only those in `within`.
fn org_facts_within(s: &Snapshot, within: &HashSet<i64>) -> Vec<OrgFact> {
    s.orgs
        .values()
        .filter(|o| within.contains(&o.id))
        .map(|o| OrgFact {
            id: o.id,
            kind: o.kind(),
            parent: s.parent.get(&o.id).copied(),
            active: true,
        })
        .collect()
}

/// The gaps of `s` in organisations in `within`.
fn gaps_within(s: &Snapshot, within: &HashSet<i64>) -> Vec<Gap> {
    s.gaps
        .iter()
        .filter(|g| within.contains(&g.org_id))
        .cloned()
        .collect()
}

/// The chart of `org_code`'s subtree at `at` (now if `None`), narrowed by `filter`. The
/// present comes from `cache`; a past moment is read for the subtree alone.
#[tracing::instrument(skip_all, err)]
pub async fn chart(
    db: &impl ConnectionTrait,
    cache: &Cache,
    user: &User,
    org_code: &str,
    at: Option<OffsetDateTime>,
    filter: &ChartFilter,
) -> Result<Chart, AppError> {
    Ok(
        chart_of(db, cache, user, org_code, at, filter, Shows::People)
            .await?
            .0,
    )
}

/// Page `page` of the chart (`Chart::paged`), with people and contact details read for the
/// organisations on that page alone.
#[tracing::instrument(skip_all, err)]
pub async fn chart_page(
    db: &impl ConnectionTrait,
    cache: &Cache,
    user: &User,
    org_code: &str,
    at: Option<OffsetDateTime>,
    filter: &ChartFilter,
    page: u64,
) -> Result<Chart, AppError> {
    let (chart, s) = chart_of(db, cache, user, org_code, at, filter, Shows::GapsOnly).await?;
    let mut chart = chart.paged(page);
    let on_page: HashSet<i64> = chart
        .orgs
        .iter()
        .flat_map(|o| o.rows.iter())
        .filter_map(|r| r.holding.as_ref().map(|h| h.id))
        .collect();
    let holdings: HashMap<i64, &Holding> = s
        .holdings
        .iter()
        .filter(|h| on_page.contains(&h.id))
        .map(|h| (h.id, h))
        .collect();
    let details = s
        .details_of(db, &holdings.values().copied().collect::<Vec<_>>())
        .await?;
    for row in chart.orgs.iter_mut().flat_map(|o| o.rows.iter_mut()) {
        if let Some(view) = row.holding.as_mut()
            && let Some(h) = holdings.get(&view.id)
        {
            *view = holding_view(h, &s, &details);
        }
    }
    Ok(chart)
}

/// The present's chart of `org_code`'s subtree for its roles and gaps alone: each holding's
/// holder, deputy and contact details are left empty (CAF readiness judges from the gaps,
/// and naming every holder in England for it cost time and memory).
pub async fn gaps_chart(
    db: &impl ConnectionTrait,
    cache: &Cache,
    user: &User,
    org_code: &str,
) -> Result<Chart, AppError> {
    let all = ChartFilter::default();
    Ok(
        chart_of(db, cache, user, org_code, None, &all, Shows::GapsOnly)
            .await?
            .0,
    )
}

/// Whether a chart's holdings name their people.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shows {
    People,
    GapsOnly,
}

async fn chart_of(
    db: &impl ConnectionTrait,
    cache: &Cache,
    user: &User,
    org_code: &str,
    at: Option<OffsetDateTime>,
    filter: &ChartFilter,
    shows: Shows,
) -> Result<(Chart, Arc<Snapshot>), AppError> {
    let now = OffsetDateTime::now_utc();
    if at.is_some_and(|at| at > now) {
        return Err(AppError::Invalid(
            "The chart can show the present or the past, not the future.".into(),
        ));
    }
    let root = orgs::find_by_code(db, org_code)
        .await?
        .ok_or(AppError::NotFound)?;
    // Only what the caller reaches both over the tree of that moment and over today's.
    let date = at.unwrap_or(now).date();
    let scope = access::scope_then_and_now(db, user, access::Action::Read, date).await?;
    if !scope.contains(root.id) {
        return Err(AppError::NotFound);
    }
    // The subtree as it stood at that moment.
    let (s, seen) = match at {
        None => {
            let s = cache.now(db).await?;
            let seen = reachable_below(root.id, &children_of(&s.parent), |c| scope.contains(c));
            (s, seen)
        }
        Some(at) => {
            let parent = links_on(db, at.date()).await?;
            let seen = reachable_below(root.id, &children_of(&parent), |c| scope.contains(c));
            let s = snapshot(db, at, Moment::Past, Some(&seen)).await?;
            (Arc::new(s), seen)
        }
    };
    let children = children_of(&s.parent);
    // Depth-first, siblings by kind then name.
    let mut ordered = Vec::new();
    walk(root.id, 0, &s, &seen, &children, &mut ordered);

    let rolled = gaps::roll_up(&org_facts_within(&s, &seen), &gaps_within(&s, &seen));
    // Roles held by an on-call schedule, resolved at the chart's moment.
    let on_call =
        super::rotas::on_call_views(db, &seen.iter().copied().collect::<Vec<_>>(), s.at).await?;
    let rows = RowSource::new(db, &s, &seen, on_call, shows).await?;

    let mut out = Vec::new();
    for (id, depth) in ordered {
        let Some(o) = s.orgs.get(&id) else { continue };
        let rows = rows.of(id, o.kind());
        out.push(ChartOrg {
            org: o.summary(),
            depth,
            parent_code: s
                .parent
                .get(&id)
                .and_then(|p| s.orgs.get(p))
                .map(|p| p.code.clone()),
            rows,
            rolled_up: rolled.get(&id).cloned().unwrap_or_default(),
        });
    }
    let totals = rolled.get(&root.id).cloned().unwrap_or_default();
    let orgs = out.into_iter().filter(|o| filter.keeps(o)).collect();
    let chart = Chart {
        root: root.summary(),
        as_at: fmt_time(s.at),
        at: s.at,
        is_now: at.is_none(),
        orgs,
        totals,
        // Whole: the pages ask for one page of it (`Chart::paged`); exports take it all.
        page: 1,
        pages: 1,
        org_total: 0,
        below: Vec::new(),
    };
    Ok((chart, s))
}

/// Each organisation's children under `parent` (child to parent).
fn children_of(parent: &HashMap<i64, i64>) -> HashMap<i64, Vec<i64>> {
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for (c, p) in parent {
        children.entry(*p).or_default().push(*c);
    }
    children
}

/// What a chart's rows are made from: each (organisation, role)'s holding, gaps and on-call
/// schedule at the chart's moment.
struct RowSource<'a> {
    s: &'a Snapshot,
    holding_of: HashMap<(i64, i64), &'a Holding>,
    gaps: HashMap<(i64, i64), Vec<GapKind>>,
    on_call: HashMap<(i64, i64), crate::domain::rota::OnCallHolding>,
    details: Details,
    /// Each role's organisation kinds, parsed once rather than for every organisation.
    applies_to: HashMap<i64, Vec<OrgKind>>,
}

impl<'a> RowSource<'a> {
    async fn new(
        db: &impl ConnectionTrait,
        s: &'a Snapshot,
        within: &HashSet<i64>,
        on_call: HashMap<(i64, i64), crate::domain::rota::OnCallHolding>,
        shows: Shows,
    ) -> Result<Self, AppError> {
        let mut gaps: HashMap<(i64, i64), Vec<GapKind>> = HashMap::new();
        for g in s.gaps.iter().filter(|g| within.contains(&g.org_id)) {
            gaps.entry((g.org_id, g.role_id)).or_default().push(g.kind);
        }
        let holding_of: HashMap<(i64, i64), &Holding> = s
            .holdings
            .iter()
            .filter(|h| within.contains(&h.org_id))
            .map(|h| ((h.org_id, h.role_id), h))
            .collect();
        let shown: Vec<&Holding> = holding_of.values().copied().collect();
        let details = match shows {
            Shows::People => s.details_of(db, &shown).await?,
            Shows::GapsOnly => Details::default(),
        };
        Ok(Self {
            s,
            holding_of,
            gaps,
            on_call,
            details,
            applies_to: s
                .roles
                .iter()
                .map(|r| (r.id, parse_kinds(&r.applies_to)))
                .collect(),
        })
    }

    /// An organisation's rows: the roles for its kind and any other it holds, mandatory
    /// ones first.
    fn of(&self, id: i64, kind: OrgKind) -> Vec<ChartRow> {
        let mut rows: Vec<ChartRow> = self
            .s
            .roles
            .iter()
            .filter(|r| {
                self.applies_to
                    .get(&r.id)
                    .is_some_and(|kinds| kinds.contains(&kind))
                    || self.holding_of.contains_key(&(id, r.id))
                    || self.on_call.contains_key(&(id, r.id))
            })
            .map(|r| {
                let mut gaps = self.gaps.get(&(id, r.id)).cloned().unwrap_or_default();
                gaps.sort();
                ChartRow {
                    role_key: r.key.clone(),
                    role_name: r.name.clone(),
                    mandatory: r.mandatory,
                    holding: self
                        .holding_of
                        .get(&(id, r.id))
                        .map(|h| holding_view(h, self.s, &self.details)),
                    gaps,
                    on_call: self.on_call.get(&(id, r.id)).cloned(),
                }
            })
            .collect();
        rows.sort_by_key(|r| !r.mandatory);
        rows
    }
}

/// `root` and everything below it that `keep` keeps (with what is below those).
fn reachable_below(
    root: i64,
    children: &HashMap<i64, Vec<i64>>,
    keep: impl Fn(i64) -> bool,
) -> HashSet<i64> {
    let mut stack = vec![root];
    let mut seen = HashSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        for c in children.get(&id).into_iter().flatten() {
            if keep(*c) {
                stack.push(*c);
            }
        }
    }
    seen
}

/// Lists `id` and what is below it in `s`, depth-first, siblings by kind then name.
fn walk(
    id: i64,
    depth: usize,
    s: &Snapshot,
    within: &HashSet<i64>,
    children: &HashMap<i64, Vec<i64>>,
    out: &mut Vec<(i64, usize)>,
) {
    out.push((id, depth));
    let mut kids: Vec<&organisation::Model> = children
        .get(&id)
        .into_iter()
        .flatten()
        .filter(|c| within.contains(c))
        .filter_map(|c| s.orgs.get(c))
        .collect();
    kids.sort_by_cached_key(|o| (o.kind(), o.name.to_lowercase()));
    for k in kids {
        walk(k.id, depth + 1, s, within, children, out);
    }
}

/// A role holding as the chart shows it, with whether it is due for confirmation.
fn holding_view(h: &Holding, s: &Snapshot, details: &Details) -> HoldingView {
    let name = |id: i64| details.names.get(&id).map(|p| p.display_name.clone());
    let shown = details.shown.get(&h.id);
    let ends_at = shown.and_then(|d| d.ends_at);
    HoldingView {
        id: h.id,
        holder_name: name(h.person_id).unwrap_or_default(),
        holder_email: details
            .names
            .get(&h.person_id)
            .map(|p| p.email.clone())
            .unwrap_or_default(),
        deputy_name: h.deputy_id.and_then(name),
        work_phone: shown.and_then(|d| d.work_phone.clone()),
        out_of_hours_phone: shown.and_then(|d| d.out_of_hours_phone.clone()),
        contact_email: shown.and_then(|d| d.contact_email.clone()),
        since: fmt_time(h.starts_at),
        until: ends_at.map(fmt_time),
        confirmed: h.confirmed_at.map(fmt_time),
        starts_at: h.starts_at,
        ends_at,
        confirmed_at: h.confirmed_at,
        stale: gaps::is_stale(&h.fact(), &s.rules),
    }
}

/// Gap counts under each region and ICB the user may read.
#[tracing::instrument(skip_all, err)]
pub async fn overview(
    db: &impl ConnectionTrait,
    cache: &Cache,
    user: &User,
) -> Result<Vec<OverviewLine>, AppError> {
    let scope = access::readable_orgs(db, user).await?;
    let s = cache.now(db).await?;
    let within: HashSet<i64> = match scope {
        Some(ids) => ids
            .into_iter()
            .filter(|id| s.orgs.contains_key(id))
            .collect(),
        None => s.orgs.keys().copied().collect(),
    };
    let facts = org_facts_within(&s, &within);
    let rolled = gaps::roll_up(&facts, &gaps_within(&s, &within));
    let now = OffsetDateTime::now_utc();
    let tally = crate::backend::incidents::tally(db, &s.orgs, &within, &s.parent, now).await?;
    let mut below: HashMap<i64, usize> = HashMap::new();
    let mut obligations: HashMap<i64, (usize, usize)> = HashMap::new();
    for f in &facts {
        let own = tally.get(&f.id).copied().unwrap_or_default();
        let mut at = f.parent;
        let mut guard = 0;
        while let Some(p) = at {
            *below.entry(p).or_default() += 1;
            let e = obligations.entry(p).or_default();
            e.0 += own.0;
            e.1 += own.1;
            at = s.parent.get(&p).copied();
            guard += 1;
            if guard > 16 {
                break;
            }
        }
    }
    let mut lines: Vec<OverviewLine> = s
        .orgs
        .values()
        .filter(|o| within.contains(&o.id))
        .filter(|o| matches!(o.kind(), OrgKind::Region | OrgKind::Icb))
        .map(|o| OverviewLine {
            org: o.summary(),
            parent_code: s
                .parent
                .get(&o.id)
                .and_then(|p| s.orgs.get(p))
                .map(|p| p.code.clone()),
            organisations: below.get(&o.id).copied().unwrap_or(0),
            gaps: rolled
                .get(&o.id)
                .cloned()
                .unwrap_or_else(GapCounts::default),
            obligations_missed: obligations.get(&o.id).map_or(0, |o| o.0)
                + tally.get(&o.id).map_or(0, |t| t.0),
            obligations_late: obligations.get(&o.id).map_or(0, |o| o.1)
                + tally.get(&o.id).map_or(0, |t| t.1),
        })
        .collect();
    lines.sort_by(|a, b| (a.org.kind, &a.org.name).cmp(&(b.org.kind, &b.org.name)));
    Ok(lines)
}

/// A moment as exports write it: RFC 3339, UTC.
fn utc(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The chart as CSV, one line per organisation and role (moments in UTC, RFC 3339).
pub fn to_csv(chart: &Chart) -> Result<String, AppError> {
    let header = [
        "org_code",
        "org_name",
        "kind",
        "parent_code",
        "role",
        "mandatory",
        "holder",
        "holder_email",
        "deputy",
        "work_phone",
        "out_of_hours_phone",
        "contact_email",
        "since",
        "confirmed",
        "gaps",
        "as_at",
    ];
    let mut sheet = super::csv::Sheet::new(header)?;
    for o in &chart.orgs {
        for r in &o.rows {
            let h = r.holding.as_ref();
            let gaps: Vec<&str> = r.gaps.iter().map(|g| g.as_str()).collect();
            let record = [
                o.org.code.clone(),
                o.org.name.clone(),
                o.org.kind.as_str().to_owned(),
                o.parent_code.clone().unwrap_or_default(),
                r.role_name.clone(),
                r.mandatory.to_string(),
                h.map(|h| h.holder_name.clone()).unwrap_or_default(),
                h.map(|h| h.holder_email.clone()).unwrap_or_default(),
                h.and_then(|h| h.deputy_name.clone()).unwrap_or_default(),
                h.and_then(|h| h.work_phone.clone()).unwrap_or_default(),
                h.and_then(|h| h.out_of_hours_phone.clone())
                    .unwrap_or_default(),
                h.and_then(|h| h.contact_email.clone()).unwrap_or_default(),
                h.map(|h| utc(h.starts_at)).unwrap_or_default(),
                h.and_then(|h| h.confirmed_at).map(utc).unwrap_or_default(),
                gaps.join(" "),
                utc(chart.at),
            ];
            sheet.safe_row(&record)?;
        }
    }
    sheet.finish()
}
