//! The asset catalogue in plain terms: kinds of asset, whether one is still supported (the
//! WannaCry lesson: unsupported Windows), and one CSV row checked.

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

/// Kinds of asset, as stored and as written in CSV.
pub const KINDS: &[(&str, &str)] = &[
    ("hardware", "Hardware"),
    ("software", "Software"),
    ("medical_device", "Connected medical device"),
    ("network", "Network service"),
    ("cloud", "Cloud service"),
];

/// How an asset stands on support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Support {
    Supported,
    /// Support ends within six months.
    EndingSoon,
    Unsupported,
    Unknown,
}

impl Support {
    pub fn label(self) -> &'static str {
        match self {
            Support::Supported => "Supported",
            Support::EndingSoon => "Support ends within 6 months",
            Support::Unsupported => "Out of support",
            Support::Unknown => "End of support not recorded",
        }
    }
}

/// Where an asset stands on `today`.
pub fn support(end: Option<Date>, today: Date) -> Support {
    match end {
        None => Support::Unknown,
        Some(d) if d < today => Support::Unsupported,
        Some(d) if d <= today + Duration::days(183) => Support::EndingSoon,
        Some(_) => Support::Supported,
    }
}

/// The CSV columns, in order (import and export).
pub const COLUMNS: &[&str] = &[
    "name",
    "kind",
    "owner_email",
    "supplier_code",
    "clinical_service",
    "patient_safety_critical",
    "os",
    "os_version",
    "end_of_support",
    "site_code",
    "depends_on",
];

/// One CSV row, checked: everything that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRow {
    pub name: String,
    pub kind: String,
    pub owner_email: Option<String>,
    pub supplier_code: Option<String>,
    pub clinical_service: String,
    pub patient_safety_critical: bool,
    pub os: String,
    pub os_version: String,
    pub end_of_support: Option<Date>,
    pub site_code: Option<String>,
    pub depends_on: Vec<String>,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Checks one row's fields (in `COLUMNS` order).
pub fn parse_row(fields: &[String]) -> Result<AssetRow, String> {
    if fields.len() != COLUMNS.len() {
        return Err(format!(
            "expected {} columns ({}), found {}",
            COLUMNS.len(),
            COLUMNS.join(", "),
            fields.len()
        ));
    }
    let f = |i: usize| fields[i].trim();
    let name = f(0);
    if name.is_empty() || name.chars().count() > 200 {
        return Err("name: give a name of up to 200 characters".into());
    }
    let kind = f(1).to_ascii_lowercase().replace([' ', '-'], "_");
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(format!(
            "kind: “{}” is not one of {}",
            f(1),
            KINDS.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
        ));
    }
    let critical = match f(5).to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => true,
        "no" | "n" | "false" | "0" | "" => false,
        other => {
            return Err(format!(
                "patient_safety_critical: “{other}” is not yes or no"
            ));
        }
    };
    let end = match f(8) {
        "" => None,
        raw => Some(
            Date::parse(
                raw,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| format!("end_of_support: “{raw}” is not a date like 2025-10-14"))?,
        ),
    };
    for (i, max) in [(4, 200), (6, 100), (7, 100)] {
        if f(i).chars().count() > max {
            return Err(format!("{}: keep it to {max} characters", COLUMNS[i]));
        }
    }
    Ok(AssetRow {
        name: name.to_owned(),
        kind,
        owner_email: opt(f(2)),
        supplier_code: opt(f(3)),
        clinical_service: f(4).to_owned(),
        patient_safety_critical: critical,
        os: f(6).to_owned(),
        os_version: f(7).to_owned(),
        end_of_support: end,
        site_code: opt(f(9)),
        depends_on: f(10)
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// An asset as a link or a choice: enough to name it, say whose it is and flag it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AssetRef {
    pub id: i64,
    pub name: String,
    pub org_code: String,
    pub org_name: String,
    pub patient_safety_critical: bool,
    pub support: Support,
}

/// What the declaration form offers: the declaring organisation's catalogued assets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeclareOptions {
    pub org_name: String,
    pub assets: Vec<AssetRef>,
}

/// An incident that affected an asset, as the asset's page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AssetIncident {
    pub reference: String,
    pub kind: String,
    pub status: String,
    pub declared_at: String,
}

/// One asset's page: what it is, what it depends on and what depends on it, and the
/// incidents that affected it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AssetDetail {
    pub org_code: String,
    pub org_name: String,
    pub asset: AssetView,
    pub depends_on: Vec<AssetRef>,
    pub needed_by: Vec<AssetRef>,
    pub incidents: Vec<AssetIncident>,
}

/// An asset as the catalogue page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AssetView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub owner: Option<String>,
    pub supplier: Option<String>,
    pub clinical_service: String,
    pub patient_safety_critical: bool,
    pub os: String,
    pub end_of_support: Option<String>,
    pub support: Support,
    pub site: Option<String>,
    pub depends_on: Vec<String>,
}

/// One organisation's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Catalogue {
    pub org_code: String,
    pub org_name: String,
    pub assets: Vec<AssetView>,
    pub editable: bool,
    /// For a supplier: assets elsewhere that it supplies (those the viewer may see).
    pub supplied: Vec<AssetRef>,
}

/// What an import did: rows added or changed, unchanged, and each rejected line with why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AssetImportReport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: Vec<(usize, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn support_is_flagged_past_and_within_six_months() {
        let today = date!(2026 - 11 - 28);
        assert_eq!(
            support(Some(date!(2025 - 10 - 14)), today),
            Support::Unsupported
        );
        assert_eq!(
            support(Some(date!(2027 - 03 - 01)), today),
            Support::EndingSoon
        );
        assert_eq!(
            support(Some(date!(2029 - 01 - 01)), today),
            Support::Supported
        );
        assert_eq!(support(None, today), Support::Unknown);
    }

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn rows_are_checked_with_a_reason_for_each_problem() {
        let ok = parse_row(&row(&[
            "Reception PC 3",
            "Hardware",
            "nadia@x.test",
            "",
            "Appointments",
            "yes",
            "Windows",
            "7",
            "2020-01-14",
            "",
            "EMIS Web; Practice network",
        ]))
        .unwrap();
        assert_eq!(ok.kind, "hardware");
        assert!(ok.patient_safety_critical);
        assert_eq!(ok.depends_on, ["EMIS Web", "Practice network"]);
        let bad = |i: usize, v: &str| {
            let mut r = row(&["A", "software", "", "", "", "no", "", "", "", "", ""]);
            r[i] = v.to_owned();
            parse_row(&r).unwrap_err()
        };
        assert!(bad(1, "toaster").starts_with("kind:"));
        assert!(bad(5, "maybe").starts_with("patient_safety_critical:"));
        assert!(bad(8, "14/01/2020").starts_with("end_of_support:"));
        assert!(bad(0, " ").starts_with("name:"));
        assert!(
            parse_row(&row(&["only", "two"]))
                .unwrap_err()
                .contains("expected 11 columns")
        );
    }
}
