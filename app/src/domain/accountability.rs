//! Who holds which role where, and the responsibility chart built from it.

use serde::{Deserialize, Serialize};

use super::gaps::{GapCounts, GapKind};
use super::org::{OrgKind, OrgSummary};

/// A role held in an organisation, with the details people need to reach the holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// Which page of the organisations this is (from 1), of how many, and how many
    /// organisations the chart covers in all: a region's chart is shown a page at a time.
    #[serde(default)]
    pub page: u64,
    #[serde(default)]
    pub pages: u64,
    #[serde(default)]
    pub org_total: usize,
    /// When the chart is paged: the organisations directly below the root, each with the
    /// gaps there and below, so the first screen is a summary.
    #[serde(default)]
    pub below: Vec<ChartChild>,
}

/// An organisation directly below a chart's root, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChartChild {
    pub org: OrgSummary,
    pub gaps: GapCounts,
}

/// How many organisations a chart page shows.
pub const CHART_PAGE: usize = 100;

impl Chart {
    /// Keeps page `page` of the organisations (clamped to the pages there are), with the
    /// summary of what sits directly below the root when there is more than one page.
    pub fn paged(mut self, page: u64) -> Chart {
        self.org_total = self.orgs.len();
        self.pages = self.org_total.div_ceil(CHART_PAGE).max(1) as u64;
        self.page = page.clamp(1, self.pages);
        if self.pages > 1 {
            self.below = self
                .orgs
                .iter()
                .filter(|o| o.depth == 1)
                .map(|o| ChartChild {
                    org: o.org.clone(),
                    gaps: o.rolled_up.clone(),
                })
                .collect();
        }
        let skip = (self.page as usize - 1) * CHART_PAGE;
        self.orgs = self.orgs.drain(..).skip(skip).take(CHART_PAGE).collect();
        self
    }
}

/// Narrowing the chart.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
