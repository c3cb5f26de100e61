//! Who holds which role where, and the responsibility chart built from it.

use serde::{Deserialize, Serialize};

use super::gaps::{GapCounts, GapKind};
use super::org::{OrgKind, OrgSummary};

/// A role held in an organisation, with the details people need to reach the holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldingView {
    pub id: i64,
    pub holder_name: String,
    pub holder_email: String,
    pub deputy_name: Option<String>,
    pub work_phone: Option<String>,
    pub out_of_hours_phone: Option<String>,
    pub contact_email: Option<String>,
    /// On UK clocks, for pages ("12 May 2017 14:00 BST").
    pub since: String,
    pub until: Option<String>,
    pub confirmed: Option<String>,
    /// The same moments in UTC, for exports.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ends_at: Option<time::OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub confirmed_at: Option<time::OffsetDateTime>,
    pub stale: bool,
}

/// One role's line in an organisation's part of the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartRow {
    pub role_key: String,
    pub role_name: String,
    pub mandatory: bool,
    pub holding: Option<HoldingView>,
    pub gaps: Vec<GapKind>,
    /// When an on-call schedule holds the role: who was on call at the chart's moment, and
    /// next (the named holder, if any, stands behind them).
    #[serde(default)]
    pub on_call: Option<super::rota::OnCallHolding>,
}

/// One organisation in the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartOrg {
    pub org: OrgSummary,
    pub depth: usize,
    pub parent_code: Option<String>,
    pub rows: Vec<ChartRow>,
    /// Gaps here and everywhere below.
    pub rolled_up: GapCounts,
}

/// The responsibility chart of a subtree at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chart {
    pub root: OrgSummary,
    /// The moment described, on UK clocks.
    pub as_at: String,
    /// The same moment in UTC, for exports.
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    pub is_now: bool,
    pub orgs: Vec<ChartOrg>,
    pub totals: GapCounts,
}

/// Narrowing the chart.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartFilter {
    pub kind: Option<OrgKind>,
    pub gap: Option<GapKind>,
}

impl ChartFilter {
    /// Keeps an organisation if it is of the kind asked for and, when a gap is asked for,
    /// has that gap itself.
    pub fn keeps(&self, o: &ChartOrg) -> bool {
        self.kind.is_none_or(|k| o.org.kind == k)
            && self
                .gap
                .is_none_or(|g| o.rows.iter().any(|r| r.gaps.contains(&g)))
    }
}

/// A line of the national overview: gap counts under one region or ICB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewLine {
    pub org: OrgSummary,
    pub parent_code: Option<String>,
    pub organisations: usize,
    pub gaps: GapCounts,
    /// Reporting obligations overdue on real incidents below it.
    #[serde(default)]
    pub obligations_missed: usize,
    /// Reporting obligations decided (reported, or found not reportable) after their
    /// deadline on real incidents below it.
    #[serde(default)]
    pub obligations_late: usize,
}
