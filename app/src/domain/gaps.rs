//! Accountability gaps as pure rules: a mandatory role with nobody in it, no deputy, a
//! deputy who is the holder, contact details not confirmed in time, one person holding too
//! many mandatory roles, a holder whose account is disabled. Gaps roll up the tree, so an
//! ICB sees its trusts' and practices' counts and a region its ICBs'.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::org::OrgKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    Vacant,
    NoDeputy,
    DeputyIsHolder,
    Unconfirmed,
    SinglePointOfFailure,
    HolderDisabled,
    /// A role held by an on-call schedule that has nobody on call for some of the next 14
    /// days.
    OnCallGap,
    /// A holder Wardline has no verified way to page: no email address proven by accepting
    /// an invitation (or email turned off), and no verified mobile.
    Unreachable,
}

impl GapKind {
    pub const ALL: [GapKind; 8] = [
        GapKind::Vacant,
        GapKind::NoDeputy,
        GapKind::DeputyIsHolder,
        GapKind::Unconfirmed,
        GapKind::SinglePointOfFailure,
        GapKind::HolderDisabled,
        GapKind::OnCallGap,
        GapKind::Unreachable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::Vacant => "vacant",
            GapKind::NoDeputy => "no_deputy",
            GapKind::DeputyIsHolder => "deputy_is_holder",
            GapKind::Unconfirmed => "unconfirmed",
            GapKind::SinglePointOfFailure => "single_point_of_failure",
            GapKind::HolderDisabled => "holder_disabled",
            GapKind::OnCallGap => "on_call_gap",
            GapKind::Unreachable => "unreachable",
        }
    }

    pub fn parse(raw: &str) -> Option<GapKind> {
        GapKind::ALL.into_iter().find(|g| g.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            GapKind::Vacant => "Mandatory role vacant",
            GapKind::NoDeputy => "No deputy",
            GapKind::DeputyIsHolder => "Deputy is the holder",
            GapKind::Unconfirmed => "Details not confirmed in time",
            GapKind::SinglePointOfFailure => "One person holds too many roles",
            GapKind::HolderDisabled => "Holder's account is disabled",
            GapKind::OnCallGap => "Nobody on call for some of the next 14 days",
            GapKind::Unreachable => "Holder has no verified way to be paged",
        }
    }
}

/// The facts the rules read.
#[derive(Debug, Clone)]
pub struct OrgFact {
    pub id: i64,
    pub kind: OrgKind,
    pub parent: Option<i64>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct RoleFact {
    pub id: i64,
    pub applies_to: Vec<OrgKind>,
    pub mandatory: bool,
}

/// A role held in an organisation at the moment being judged.
#[derive(Debug, Clone)]
pub struct HoldingFact {
    pub org_id: i64,
    pub role_id: i64,
    pub person_id: i64,
    pub deputy_id: Option<i64>,
    pub confirmed_at: Option<OffsetDateTime>,
    pub starts_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub now: OffsetDateTime,
    /// Holders confirm their details every this many days.
    pub attestation_days: i64,
    /// Holding more mandatory roles than this (across organisations) is a single point of failure.
    pub max_mandatory_roles: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Gap {
    pub org_id: i64,
    pub role_id: i64,
    pub person_id: Option<i64>,
    pub kind: GapKind,
}

/// Whether a holding's confirmation is overdue.
pub fn is_stale(h: &HoldingFact, rules: &Rules) -> bool {
    let since = h.confirmed_at.unwrap_or(h.starts_at);
    rules.now - since > Duration::days(rules.attestation_days)
}

pub fn find(
    orgs: &[OrgFact],
    roles: &[RoleFact],
    holdings: &[HoldingFact],
    disabled_people: &HashSet<i64>,
    rules: &Rules,
) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let held: HashSet<(i64, i64)> = holdings.iter().map(|h| (h.org_id, h.role_id)).collect();
    let mandatory: HashSet<i64> = roles.iter().filter(|r| r.mandatory).map(|r| r.id).collect();

    for org in orgs.iter().filter(|o| o.active) {
        for role in roles
            .iter()
            .filter(|r| r.mandatory && r.applies_to.contains(&org.kind))
        {
            if !held.contains(&(org.id, role.id)) {
                gaps.push(Gap {
                    org_id: org.id,
                    role_id: role.id,
                    person_id: None,
                    kind: GapKind::Vacant,
                });
            }
        }
    }

    let mut mandatory_count: HashMap<i64, usize> = HashMap::new();
    for h in holdings.iter().filter(|h| mandatory.contains(&h.role_id)) {
        *mandatory_count.entry(h.person_id).or_default() += 1;
    }

    for h in holdings {
        let gap = |kind| Gap {
            org_id: h.org_id,
            role_id: h.role_id,
            person_id: Some(h.person_id),
            kind,
        };
        match h.deputy_id {
            None => gaps.push(gap(GapKind::NoDeputy)),
            Some(d) if d == h.person_id => gaps.push(gap(GapKind::DeputyIsHolder)),
            Some(_) => {}
        }
        if is_stale(h, rules) {
            gaps.push(gap(GapKind::Unconfirmed));
        }
        if mandatory.contains(&h.role_id)
            && mandatory_count.get(&h.person_id).copied().unwrap_or(0) > rules.max_mandatory_roles
        {
            gaps.push(gap(GapKind::SinglePointOfFailure));
        }
        if disabled_people.contains(&h.person_id) {
            gaps.push(gap(GapKind::HolderDisabled));
        }
    }
    gaps
}

/// Holdings whose holder Wardline cannot page: `reachable` are the people with a verified
/// method (an email address proven by accepting an invitation and not turned off, or a
/// verified mobile). A disabled holder is already a gap of its own and is not counted again.
pub fn unreachable(
    holdings: &[HoldingFact],
    reachable: &HashSet<i64>,
    disabled_people: &HashSet<i64>,
) -> Vec<Gap> {
    holdings
        .iter()
        .filter(|h| !reachable.contains(&h.person_id) && !disabled_people.contains(&h.person_id))
        .map(|h| Gap {
            org_id: h.org_id,
            role_id: h.role_id,
            person_id: Some(h.person_id),
            kind: GapKind::Unreachable,
        })
        .collect()
}

/// Gap counts by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GapCounts(pub Vec<(GapKind, usize)>);

impl GapCounts {
    pub fn total(&self) -> usize {
        self.0.iter().map(|(_, n)| n).sum()
    }

    pub fn get(&self, kind: GapKind) -> usize {
        self.0
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n)
    }
}

/// For every organisation, the gaps in it and everything under it. Each organisation's own
/// gaps are counted first and then added to it and its ancestors: one walk up the tree per
/// organisation with gaps, not one per gap (England has tens of thousands of gaps).
pub fn roll_up(orgs: &[OrgFact], gaps: &[Gap]) -> HashMap<i64, GapCounts> {
    const KINDS: usize = GapKind::ALL.len();
    let index = |kind: GapKind| GapKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    let parent: HashMap<i64, Option<i64>> = orgs.iter().map(|o| (o.id, o.parent)).collect();
    let mut own: HashMap<i64, [usize; KINDS]> = HashMap::new();
    for g in gaps {
        own.entry(g.org_id).or_insert([0; KINDS])[index(g.kind)] += 1;
    }
    let mut out: HashMap<i64, [usize; KINDS]> = HashMap::new();
    let mut seen = HashSet::new();
    for (org, counts) in &own {
        seen.clear();
        let mut at = Some(*org);
        while let Some(id) = at {
            if !seen.insert(id) {
                break; // a corrupt cycle must not loop
            }
            let sum = out.entry(id).or_insert([0; KINDS]);
            for (total, n) in sum.iter_mut().zip(counts) {
                *total += n;
            }
            at = parent.get(&id).copied().flatten();
        }
    }
    out.into_iter()
        .map(|(id, counts)| {
            let mut c = GapCounts(
                GapKind::ALL
                    .into_iter()
                    .zip(counts)
                    .filter(|(_, n)| *n > 0)
                    .collect(),
            );
            c.0.sort();
            (id, c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-28 12:00 UTC);
    const RULES: Rules = Rules {
        now: NOW,
        attestation_days: 90,
        max_mandatory_roles: 3,
    };

    fn org(id: i64, kind: OrgKind, parent: Option<i64>) -> OrgFact {
        OrgFact {
            id,
            kind,
            parent,
            active: true,
        }
    }

    fn role(id: i64, mandatory: bool, kinds: &[OrgKind]) -> RoleFact {
        RoleFact {
            id,
            applies_to: kinds.to_vec(),
            mandatory,
        }
    }

    fn holding(org_id: i64, role_id: i64, person_id: i64, deputy_id: Option<i64>) -> HoldingFact {
        HoldingFact {
            org_id,
            role_id,
            person_id,
            deputy_id,
            confirmed_at: Some(NOW - Duration::days(10)),
            starts_at: NOW - Duration::days(400),
        }
    }

    fn kinds(gaps: &[Gap]) -> Vec<GapKind> {
        let mut k: Vec<_> = gaps.iter().map(|g| g.kind).collect();
        k.sort();
        k
    }

    #[test]
    fn a_mandatory_role_nobody_holds_is_vacant_but_only_where_it_applies() {
        let orgs = [
            org(1, OrgKind::Trust, None),
            org(2, OrgKind::GpPractice, None),
        ];
        let roles = [
            role(10, true, &[OrgKind::Trust]),
            role(11, false, &[OrgKind::Trust]),
        ];
        let gaps = find(&orgs, &roles, &[], &HashSet::new(), &RULES);
        assert_eq!(
            gaps,
            vec![Gap {
                org_id: 1,
                role_id: 10,
                person_id: None,
                kind: GapKind::Vacant
            }]
        );
    }

    #[test]
    fn a_closed_organisation_has_no_vacancies() {
        let orgs = [OrgFact {
            active: false,
            ..org(1, OrgKind::Trust, None)
        }];
        assert!(
            find(
                &orgs,
                &[role(10, true, &[OrgKind::Trust])],
                &[],
                &HashSet::new(),
                &RULES
            )
            .is_empty()
        );
    }

    #[test]
    fn no_deputy_and_a_deputy_who_is_the_holder_are_gaps() {
        let orgs = [org(1, OrgKind::Trust, None)];
        let roles = [
            role(10, true, &[OrgKind::Trust]),
            role(11, true, &[OrgKind::Trust]),
            role(12, true, &[OrgKind::Trust]),
        ];
        let holdings = [
            holding(1, 10, 5, None),
            holding(1, 11, 5, Some(5)),
            holding(1, 12, 6, Some(7)),
        ];
        assert_eq!(
            kinds(&find(&orgs, &roles, &holdings, &HashSet::new(), &RULES)),
            [GapKind::NoDeputy, GapKind::DeputyIsHolder]
        );
    }

    #[test]
    fn details_unconfirmed_for_longer_than_the_period_are_stale() {
        let orgs = [org(1, OrgKind::Trust, None)];
        let roles = [role(10, false, &[OrgKind::Trust])];
        let mut h = holding(1, 10, 5, Some(6));
        h.confirmed_at = Some(NOW - Duration::days(91));
        assert_eq!(
            kinds(&find(&orgs, &roles, &[h.clone()], &HashSet::new(), &RULES)),
            [GapKind::Unconfirmed]
        );
        h.confirmed_at = None;
        h.starts_at = NOW - Duration::days(30);
        assert!(
            find(&orgs, &roles, &[h], &HashSet::new(), &RULES).is_empty(),
            "a new holder has time to confirm"
        );
    }

    #[test]
    fn one_person_holding_more_than_k_mandatory_roles_is_a_single_point_of_failure() {
        let orgs = [org(1, OrgKind::Trust, None), org(2, OrgKind::Trust, None)];
        let roles: Vec<_> = (10..14)
            .map(|id| role(id, true, &[OrgKind::Trust]))
            .collect();
        let mut holdings: Vec<_> = (10..14).map(|r| holding(1, r, 5, Some(6))).collect();
        holdings.push(holding(2, 10, 6, Some(5)));
        let gaps = find(&orgs, &roles, &holdings, &HashSet::new(), &RULES);
        let spof: Vec<_> = gaps
            .iter()
            .filter(|g| g.kind == GapKind::SinglePointOfFailure)
            .collect();
        assert_eq!(spof.len(), 4, "each of person 5's holdings is marked");
        assert!(spof.iter().all(|g| g.person_id == Some(5)));
    }

    #[test]
    fn a_disabled_holder_is_a_gap() {
        let orgs = [org(1, OrgKind::Trust, None)];
        let roles = [role(10, true, &[OrgKind::Trust])];
        let gaps = find(
            &orgs,
            &roles,
            &[holding(1, 10, 5, Some(6))],
            &HashSet::from([5]),
            &RULES,
        );
        assert_eq!(kinds(&gaps), [GapKind::HolderDisabled]);
    }

    #[test]
    fn gaps_roll_up_to_every_ancestor() {
        let orgs = [
            org(1, OrgKind::Region, None),
            org(2, OrgKind::Icb, Some(1)),
            org(3, OrgKind::Trust, Some(2)),
            org(4, OrgKind::GpPractice, Some(2)),
        ];
        let roles = [role(10, true, &[OrgKind::Trust, OrgKind::GpPractice])];
        let gaps = find(&orgs, &roles, &[], &HashSet::new(), &RULES);
        let up = roll_up(&orgs, &gaps);
        assert_eq!(up[&3].get(GapKind::Vacant), 1);
        assert_eq!(up[&2].get(GapKind::Vacant), 2);
        assert_eq!(up[&1].total(), 2);
    }

    #[test]
    fn each_kind_is_counted_in_the_organisation_and_above_it() {
        let orgs = [
            org(1, OrgKind::Region, None),
            org(2, OrgKind::Icb, Some(1)),
            org(3, OrgKind::Trust, Some(2)),
            org(4, OrgKind::GpPractice, Some(2)),
        ];
        let gap = |org_id, kind| Gap {
            org_id,
            role_id: 1,
            person_id: None,
            kind,
        };
        let gaps = [
            gap(3, GapKind::NoDeputy),
            gap(3, GapKind::NoDeputy),
            gap(3, GapKind::Unreachable),
            gap(4, GapKind::NoDeputy),
            gap(2, GapKind::Vacant),
        ];
        let up = roll_up(&orgs, &gaps);
        assert_eq!(
            up[&3].0,
            [(GapKind::NoDeputy, 2), (GapKind::Unreachable, 1)]
        );
        assert_eq!(up[&4].0, [(GapKind::NoDeputy, 1)]);
        assert_eq!(
            up[&2].0,
            [
                (GapKind::Vacant, 1),
                (GapKind::NoDeputy, 3),
                (GapKind::Unreachable, 1)
            ]
        );
        assert_eq!(up[&1], up[&2]);
        assert_eq!(up[&1].total(), 5);
    }

    #[test]
    fn a_cycle_in_the_tree_does_not_loop() {
        let orgs = [
            org(1, OrgKind::Trust, Some(2)),
            org(2, OrgKind::Trust, Some(1)),
        ];
        let gaps = [Gap {
            org_id: 1,
            role_id: 1,
            person_id: None,
            kind: GapKind::Vacant,
        }];
        assert_eq!(roll_up(&orgs, &gaps)[&2].total(), 1);
    }

    #[test]
    fn a_holder_with_no_verified_way_to_be_paged_is_a_gap_once_per_holding() {
        let holdings = [
            holding(1, 10, 100, Some(101)),
            holding(1, 11, 100, Some(101)),
            holding(1, 12, 102, Some(101)),
            holding(1, 13, 103, Some(101)),
        ];
        let reachable = HashSet::from([102]);
        let disabled = HashSet::from([103]);
        let gaps = unreachable(&holdings, &reachable, &disabled);
        let got: Vec<(i64, Option<i64>, GapKind)> = gaps
            .iter()
            .map(|g| (g.role_id, g.person_id, g.kind))
            .collect();
        assert_eq!(
            got,
            [
                (10, Some(100), GapKind::Unreachable),
                (11, Some(100), GapKind::Unreachable)
            ]
        );
        assert!(unreachable(&holdings, &HashSet::from([100, 102, 103]), &disabled).is_empty());
    }
}
