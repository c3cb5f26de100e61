//! The role catalogue as pages see it, and the seed of NHS roles.

use serde::{Deserialize, Serialize};

use super::org::OrgKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RoleView {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub applies_to: Vec<OrgKind>,
    pub mandatory: bool,
    pub system: bool,
}

/// Parses a stored comma-separated list of organisation kinds, ignoring unknown ones.
pub fn parse_kinds(raw: &str) -> Vec<OrgKind> {
    raw.split(',')
        .filter_map(|k| OrgKind::parse(k.trim()))
        .collect()
}

pub fn join_kinds(kinds: &[OrgKind]) -> String {
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

use OrgKind::*;

/// The NHS roles Wardline knows from the start: (key, name, applies to, mandatory, description).
pub const SEED: &[(&str, &str, &[OrgKind], bool, &str)] = &[
    (
        "chief_executive",
        "Chief Executive",
        &[Trust, Icb, Csu, Alb],
        true,
        "Accountable officer for the organisation.",
    ),
    (
        "board_cyber_lead",
        "Executive board member for data and cyber security",
        &[Trust, Icb],
        true,
        "Named board member required since 2017.",
    ),
    (
        "siro",
        "Senior Information Risk Owner (SIRO)",
        &[Trust, Icb, Csu, Alb],
        true,
        "Board level; owns information risk.",
    ),
    (
        "caldicott_guardian",
        "Caldicott Guardian",
        &[Trust, Icb, GpPractice, Csu, Alb],
        true,
        "Protects the confidentiality of patient information.",
    ),
    (
        "dpo",
        "Data Protection Officer",
        &[Trust, Icb, GpPractice, Csu, Alb],
        true,
        "UK GDPR role; at a practice often shared or provided by the ICB.",
    ),
    (
        "ig_lead",
        "Information Governance lead",
        &[Trust, Icb, Csu],
        true,
        "Leads information governance and the DSPT submission.",
    ),
    (
        "data_security_lead",
        "IG and data security lead",
        &[GpPractice],
        true,
        "Often the practice manager.",
    ),
    (
        "cio",
        "CIO / Director of Digital",
        &[Trust, Icb],
        false,
        "Runs digital services.",
    ),
    (
        "head_of_cyber",
        "Head of Cyber Security",
        &[Trust, Icb],
        true,
        "Leads cyber security and the response to cyber incidents.",
    ),
    (
        "regional_cyber_lead",
        "Regional cyber security lead",
        &[Region],
        true,
        "Leads cyber security across the region.",
    ),
    (
        "information_asset_owner",
        "Information Asset Owner",
        &[Trust, Icb, GpPractice],
        false,
        "Owns an information asset; reports to the SIRO.",
    ),
    (
        "eprr_aeo",
        "EPRR Accountable Emergency Officer",
        &[Trust, Icb],
        true,
        "Accountable for emergency preparedness, resilience and response.",
    ),
    (
        "gold_on_call",
        "Gold (strategic) commander on call",
        &[Trust, Icb, Region],
        true,
        "Strategic command during incidents.",
    ),
    (
        "silver_on_call",
        "Silver (tactical) commander on call",
        &[Trust, Icb],
        true,
        "Tactical command during incidents.",
    ),
    (
        "bronze_on_call",
        "Bronze (operational) commander on call",
        &[Trust],
        false,
        "Operational command during incidents.",
    ),
    (
        "loggist",
        "Incident loggist",
        &[Trust, Icb, Region],
        false,
        "Keeps the decision log during incidents.",
    ),
    (
        "comms_lead",
        "Communications lead",
        &[Trust, Icb, Region],
        false,
        "Leads communications during incidents.",
    ),
    (
        "csoc_duty",
        "CSOC duty officer",
        &[National],
        false,
        "NHS England Cyber Security Operations Centre duty officer; the last level of escalation.",
    ),
    (
        "supplier_security_contact",
        "Security incident contact",
        &[Supplier],
        true,
        "The supplier's named contact for security incidents.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seeded_role_has_a_unique_key_and_applies_somewhere() {
        let mut keys: Vec<_> = SEED.iter().map(|r| r.0).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), SEED.len());
        assert!(SEED.iter().all(|r| !r.2.is_empty()));
    }

    #[test]
    fn a_gp_practice_needs_a_caldicott_guardian_a_dpo_and_a_data_security_lead() {
        let mandatory: Vec<_> = SEED
            .iter()
            .filter(|r| r.3 && r.2.contains(&GpPractice))
            .map(|r| r.0)
            .collect();
        assert_eq!(
            mandatory,
            ["caldicott_guardian", "dpo", "data_security_lead"]
        );
    }

    #[test]
    fn kinds_round_trip_through_storage() {
        assert_eq!(
            parse_kinds(&join_kinds(&[Trust, GpPractice])),
            vec![Trust, GpPractice]
        );
        assert_eq!(parse_kinds("trust, nonsense"), vec![Trust]);
    }
}
