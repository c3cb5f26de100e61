//! Organisations: their kinds, validated ODS codes, the parent rules between kinds,
//! and the DTOs the pages show.

use serde::{Deserialize, Serialize};
use time::Date;

/// Every kind of organisation Wardline maps. The order is the order they are listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    National,
    Region,
    Icb,
    SubIcb,
    Trust,
    Site,
    GpPractice,
    Csu,
    Alb,
    Supplier,
}

impl OrgKind {
    pub const ALL: [OrgKind; 10] = [
        OrgKind::National,
        OrgKind::Region,
        OrgKind::Icb,
        OrgKind::SubIcb,
        OrgKind::Trust,
        OrgKind::Site,
        OrgKind::GpPractice,
        OrgKind::Csu,
        OrgKind::Alb,
        OrgKind::Supplier,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::National => "national",
            OrgKind::Region => "region",
            OrgKind::Icb => "icb",
            OrgKind::SubIcb => "sub_icb",
            OrgKind::Trust => "trust",
            OrgKind::Site => "site",
            OrgKind::GpPractice => "gp_practice",
            OrgKind::Csu => "csu",
            OrgKind::Alb => "alb",
            OrgKind::Supplier => "supplier",
        }
    }

    pub fn parse(raw: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            OrgKind::National => "National body",
            OrgKind::Region => "NHS England region",
            OrgKind::Icb => "Integrated care board",
            OrgKind::SubIcb => "Sub-ICB location",
            OrgKind::Trust => "NHS trust",
            OrgKind::Site => "Trust site",
            OrgKind::GpPractice => "GP practice",
            OrgKind::Csu => "Commissioning support unit",
            OrgKind::Alb => "Arm's-length body",
            OrgKind::Supplier => "Supplier",
        }
    }

    /// Whether an organisation of this kind may sit directly under one of `parent`'s kind.
    pub fn may_have_parent(self, parent: OrgKind) -> bool {
        use OrgKind::*;
        matches!(
            (self, parent),
            (Region, National)
                | (Icb, Region)
                | (SubIcb, Icb)
                | (Trust, Icb)
                | (Trust, Region)
                | (Site, Trust)
                | (GpPractice, SubIcb)
                | (GpPractice, Icb)
                | (Csu, National)
                | (Csu, Region)
                | (Alb, National)
        )
    }
}

str_enum!(OrgStatus {
    Active => "active",
    Closed => "closed",
});

/// An organisation code, valid for the kind of organisation it names: an ODS code for NHS
/// bodies, an internal code for suppliers (which ODS does not reliably cover).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OdsCode(String);

impl OdsCode {
    pub fn parse(kind: OrgKind, raw: &str) -> Result<OdsCode, String> {
        let code = raw.trim().to_ascii_uppercase();
        let b = code.as_bytes();
        let alnum = |s: &[u8]| s.iter().all(|c| c.is_ascii_alphanumeric());
        let ok = match kind {
            OrgKind::Region => {
                b.len() == 3 && b[0] == b'Y' && b[1..].iter().all(u8::is_ascii_digit)
            }
            OrgKind::Icb => b.len() == 3 && b[0] == b'Q' && alnum(b),
            OrgKind::Trust => b.len() == 3 && b[0].is_ascii_alphabetic() && alnum(b),
            OrgKind::Site => b.len() == 5 && b[0].is_ascii_alphabetic() && alnum(b),
            OrgKind::GpPractice => {
                (b.len() == 6
                    && b[0].is_ascii_alphabetic()
                    && b[1..].iter().all(u8::is_ascii_digit))
                    || (b.len() == 5 && alnum(b))
            }
            OrgKind::SubIcb | OrgKind::Csu | OrgKind::National | OrgKind::Alb => {
                (b.len() == 3 || b.len() == 5) && alnum(b)
            }
            OrgKind::Supplier => {
                (3..=16).contains(&b.len())
                    && b[0].is_ascii_alphabetic()
                    && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            }
        };
        if ok {
            Ok(OdsCode(code))
        } else {
            Err(format!(
                "“{}” is not a valid code for a {}.",
                raw.trim(),
                kind.label().to_lowercase()
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for OdsCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a list or tree shows of an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrgSummary {
    pub code: String,
    pub name: String,
    pub kind: OrgKind,
    pub status: OrgStatus,
}

/// One organisation in the tree, with the organisations currently under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrgNode {
    pub org: OrgSummary,
    pub children: Vec<OrgNode>,
    /// Organisations below this one left out of the map to keep it small (they are on the
    /// organisation's own page).
    #[serde(default)]
    pub hidden: usize,
}

/// A supplier relationship seen from either end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceLink {
    pub org: OrgSummary,
    pub service: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SupplierEntry {
    pub supplier: OrgSummary,
    pub serves: Vec<ServiceLink>,
    /// Organisations served beyond those listed (the supplier's page lists them all).
    #[serde(default)]
    pub more: usize,
}

/// The whole map: the NHS hierarchy and, beside it, the suppliers and whom they serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrgTree {
    pub roots: Vec<OrgNode>,
    pub suppliers: Vec<SupplierEntry>,
    /// Organisations in the hierarchy, all of them.
    #[serde(default)]
    pub total: usize,
    /// With a search: how many organisations match it.
    #[serde(default)]
    pub matched: Option<usize>,
}

/// A period during which an organisation sat under a parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ParentPeriod {
    pub parent: OrgSummary,
    pub from: Date,
    pub to: Option<Date>,
}

/// Everything the organisation page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrgDetail {
    pub org: OrgSummary,
    pub opened_on: Option<Date>,
    pub closed_on: Option<Date>,
    pub postcode: Option<String>,
    pub parent: Option<OrgSummary>,
    pub parent_history: Vec<ParentPeriod>,
    pub children: Vec<OrgSummary>,
    pub suppliers: Vec<ServiceLink>,
    pub clients: Vec<ServiceLink>,
    /// DHSC designated it an operator of essential services (trusts and ICBs are one by kind).
    #[serde(default)]
    pub essential_service: bool,
    /// The viewer may record that designation (national admins).
    #[serde(default)]
    pub can_designate: bool,
    /// Which page of the children and clients this is (from 1), and how many there are in
    /// all: an ICB with thousands of practices shows them a page at a time.
    #[serde(default)]
    pub page: u64,
    #[serde(default)]
    pub children_total: usize,
    #[serde(default)]
    pub clients_total: usize,
}

/// How many children (or clients) an organisation's page lists at once.
pub const ORG_PAGE_SIZE: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_codes_parse_for_their_kind() {
        for (kind, code) in [
            (OrgKind::Region, "Y56"),
            (OrgKind::Icb, "QKK"),
            (OrgKind::SubIcb, "72Q"),
            (OrgKind::SubIcb, "D9Y0V"),
            (OrgKind::Trust, "RJ1"),
            (OrgKind::Site, "RJZ30"),
            (OrgKind::GpPractice, "G85028"),
            (OrgKind::Supplier, "SUP-SYNNOVIS"),
        ] {
            assert_eq!(
                OdsCode::parse(kind, code).unwrap().as_str(),
                code,
                "{kind:?} {code}"
            );
        }
    }

    #[test]
    fn codes_are_trimmed_and_uppercased() {
        assert_eq!(
            OdsCode::parse(OrgKind::Trust, " rj1 ").unwrap().as_str(),
            "RJ1"
        );
    }

    #[test]
    fn codes_of_the_wrong_shape_are_refused_with_a_reason() {
        for (kind, code) in [
            (OrgKind::Region, "Q56"),
            (OrgKind::Icb, "RJ1"),
            (OrgKind::Trust, "RJZ30"),
            (OrgKind::Site, "RJ1"),
            (OrgKind::GpPractice, "G850"),
            (OrgKind::GpPractice, "G85O28X"),
            (OrgKind::Supplier, "-X"),
            (OrgKind::Trust, "R J"),
            (OrgKind::Trust, ""),
        ] {
            let err = OdsCode::parse(kind, code).unwrap_err();
            assert!(err.contains("not a valid code"), "{kind:?} {code}: {err}");
        }
    }

    #[test]
    fn kinds_round_trip_through_their_stored_names() {
        for kind in OrgKind::ALL {
            assert_eq!(OrgKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(OrgKind::parse("hospital"), None);
    }

    #[test]
    fn the_hierarchy_only_allows_sensible_parents() {
        assert!(OrgKind::Icb.may_have_parent(OrgKind::Region));
        assert!(OrgKind::GpPractice.may_have_parent(OrgKind::SubIcb));
        assert!(OrgKind::Site.may_have_parent(OrgKind::Trust));
        assert!(!OrgKind::Region.may_have_parent(OrgKind::Icb));
        assert!(!OrgKind::Supplier.may_have_parent(OrgKind::Icb));
        assert!(!OrgKind::Trust.may_have_parent(OrgKind::Trust));
    }
}
