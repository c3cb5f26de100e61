//! What pages show of rotas (wire types), and the London wall-clock text people type and
//! read: "08:00", "2026-03-29T08:00", "Mon 30 Mar 2026 08:00 BST".

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, Time};

use super::{ShiftUnit, london_instant, london_local};

/// "08:00": a wall-clock time typed into a form.
pub fn parse_clock(raw: &str) -> Result<Time, String> {
    let raw = raw.trim();
    let bad = || format!("“{raw}” is not a time. Use the 24-hour form, such as 08:00.");
    let (h, m) = raw.split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u8 = h.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    Time::from_hms(h, m, 0).map_err(|_| bad())
}

/// "2026-03-29T08:00" (as a `datetime-local` field sends it) or "2026-03-29 08:00", London
/// time, as an instant.
pub fn parse_local_moment(raw: &str) -> Result<OffsetDateTime, String> {
    let raw = raw.trim();
    let bad = || format!("“{raw}” is not a date and time. Use the form 2026-03-29T08:00.");
    if raw.len() > 20 {
        return Err("Use the form 2026-03-29T08:00 for a date and time.".into());
    }
    let (d, t) = raw.split_once(['T', ' ']).ok_or_else(bad)?;
    let date = parse_date(d).map_err(|_| bad())?;
    let clock = parse_clock(t).map_err(|_| bad())?;
    Ok(london_instant(date, clock))
}

/// "2026-03-29".
pub fn parse_date(raw: &str) -> Result<Date, String> {
    let raw = raw.trim();
    Date::parse(
        raw,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("“{raw}” is not a date. Use the form 2026-03-29."))
}

/// "08:00".
pub fn clock_label(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// "Mon 30 Mar 2026 08:00 BST": an instant as UK clocks show it, saying which.
pub fn local_label(t: OffsetDateTime) -> String {
    let l = london_local(t);
    let wd = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        [l.date().weekday().number_days_from_monday() as usize];
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][u8::from(l.date().month()) as usize - 1];
    format!(
        "{wd} {} {month} {} {} {}",
        l.date().day(),
        l.date().year(),
        clock_label(l.time()),
        crate::domain::dates::uk_zone(t)
    )
}

/// A rotation as pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RotationView {
    pub id: i64,
    pub name: String,
    /// (person id, name) in turn order.
    pub participants: Vec<(i64, String)>,
    pub shift_count: u32,
    pub shift_unit: ShiftUnit,
    pub handover: String,
    pub start: Date,
}

/// A schedule's rule as pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuleView {
    pub days: String,
    pub from: String,
    pub until: String,
    pub rotation: String,
}

/// An override as pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OverrideView {
    pub id: i64,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    /// "Add Ann Example", "Remove …", "Replace … with …".
    pub change: String,
}

/// A shift as pages show it: names rather than ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ShiftView {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub people: Vec<String>,
}

/// A schedule with its rules, overrides, who is on call now and next, and the preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScheduleView {
    pub id: i64,
    pub name: String,
    pub rules: Vec<RuleView>,
    pub overrides: Vec<OverrideView>,
    pub now: Vec<String>,
    /// The next change: when, and who then.
    pub next: Option<ShiftView>,
    pub preview: Vec<ShiftView>,
    /// Hours with nobody on call in the next 14 days.
    pub gap_hours: i64,
}

/// A schedule's "on call now and next", as an organisation's page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OnCallNow {
    pub id: i64,
    pub name: String,
    pub now: Vec<String>,
    /// The next change: when, and who then.
    pub next: Option<ShiftView>,
}

str_enum!(CoverStatus {
    /// Waiting for the colleague asked.
    Open => "open",
    Accepted => "accepted",
    Declined => "declined",
});

/// A request to cover someone's period, as pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CoverView {
    pub id: i64,
    pub schedule: String,
    pub requester: String,
    pub cover: String,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub status: CoverStatus,
    /// Whether the caller is the colleague asked, and may accept.
    pub mine_to_answer: bool,
}

/// A schedule holding a role, as the chart and the break-glass pack show it: who is on call
/// at the moment asked about, and who next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OnCallHolding {
    pub schedule_id: i64,
    pub schedule: String,
    pub now: Vec<String>,
    /// The next change: when, and who then.
    pub next: Option<ShiftView>,
}

/// A schedule's next days, for the break-glass pack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RotaDays {
    pub schedule: String,
    /// The roles it holds ("Gold on call").
    pub roles: Vec<String>,
    pub shifts: Vec<ShiftView>,
}

/// The caller's private calendar feed: whether one is live, since when, and (only in the
/// answer to making it) its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CalendarFeedView {
    pub since: Option<String>,
    pub url: Option<String>,
}

/// An organisation's on-call page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OnCallPage {
    pub org_code: String,
    pub org_name: String,
    pub may_administer: bool,
    pub rotations: Vec<RotationView>,
    pub schedules: Vec<ScheduleView>,
    pub covers: Vec<CoverView>,
    /// (person id, name) of the people a rotation may name.
    pub people: Vec<(i64, String)>,
    /// (role key, role name) of the catalogue, for handing a role to a schedule.
    #[serde(default)]
    pub roles: Vec<(String, String)>,
    /// Roles held here by a schedule: (role key, role name, schedule name).
    #[serde(default)]
    pub held_roles: Vec<(String, String, String)>,
}
