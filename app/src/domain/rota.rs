//! On-call rotas as pure rules: rotations, schedules of time rules, overrides, and who is on
//! call at an instant or across a period. Wall-clock times are Europe/London.
//!
//! Instants are `time::OffsetDateTime` (UTC), as elsewhere in Wardline; only the conversion
//! between London wall-clock time and instants goes through `jiff`, whose tz database for
//! this one zone is compiled in, so these rules run the same on the server and in the browser.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, Weekday};

/// Europe/London, compiled in from jiff's bundled tz database.
static LONDON: jiff::tz::TimeZone = jiff::tz::get!("Europe/London");

mod views;
pub use views::*;

/// Longest period [`shifts`] answers for, so a request cannot ask for years of segments.
pub const MAX_SPAN_DAYS: i64 = 62;
/// Most participants a rotation may have.
pub const MAX_PARTICIPANTS: usize = 100;
/// Most rules a schedule may have.
pub const MAX_RULES: usize = 20;

fn to_jiff(t: OffsetDateTime) -> jiff::Timestamp {
    jiff::Timestamp::from_second(t.unix_timestamp()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn from_jiff(t: jiff::Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.as_second()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The London wall-clock date and time at an instant.
pub fn london_local(t: OffsetDateTime) -> PrimitiveDateTime {
    let dt = LONDON.to_datetime(to_jiff(t));
    let date = Date::from_calendar_date(
        i32::from(dt.year()),
        time::Month::try_from(dt.month() as u8).unwrap_or(time::Month::January),
        dt.day() as u8,
    )
    .unwrap_or(Date::MIN);
    let clock = Time::from_hms(dt.hour() as u8, dt.minute() as u8, dt.second() as u8)
        .unwrap_or(Time::MIDNIGHT);
    PrimitiveDateTime::new(date, clock)
}

/// The instant at which London's clocks show `date` `clock`. A time skipped in spring
/// (01:00–02:00) is read on the clock in force before the change, so 01:30 is 02:30 BST; a
/// time shown twice in autumn is the first of the two.
pub fn london_instant(date: Date, clock: Time) -> OffsetDateTime {
    let dt = jiff::civil::DateTime::new(
        date.year() as i16,
        u8::from(date.month()) as i8,
        date.day() as i8,
        clock.hour() as i8,
        clock.minute() as i8,
        clock.second() as i8,
        0,
    );
    match dt {
        Ok(dt) => LONDON
            .to_ambiguous_timestamp(dt)
            .compatible()
            .map(from_jiff)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        Err(_) => OffsetDateTime::UNIX_EPOCH,
    }
}

/// Clock changes in London in `[from, to)`.
fn clock_changes(from: OffsetDateTime, to: OffsetDateTime) -> Vec<OffsetDateTime> {
    let end = to_jiff(to);
    LONDON
        .following(to_jiff(from) - jiff::SignedDuration::from_secs(1))
        .map(|tr| tr.timestamp())
        .take_while(|t| *t < end)
        .map(from_jiff)
        .filter(|t| *t >= from)
        .collect()
}

/// The unit of a rotation's shift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ShiftUnit {
    /// Elapsed hours: a 12-hour shift is always 12 hours long, so its handover moves on the
    /// wall clock when the clocks change.
    Hours,
    /// Calendar days in London: handover stays at the same wall-clock time, so a day across
    /// the spring change is 23 hours long and one across the autumn change 25.
    Days,
    /// Calendar weeks in London, as days.
    Weeks,
}

impl ShiftUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            ShiftUnit::Hours => "hours",
            ShiftUnit::Days => "days",
            ShiftUnit::Weeks => "weeks",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "hours" | "hour" => Ok(ShiftUnit::Hours),
            "days" | "day" => Ok(ShiftUnit::Days),
            "weeks" | "week" => Ok(ShiftUnit::Weeks),
            _ => Err("Choose hours, days or weeks for the shift length.".into()),
        }
    }
}

/// A rotation: participants take turns in order, each for one shift, starting with the first
/// at `start` `handover` London time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Rotation {
    pub id: i64,
    pub participants: Vec<i64>,
    pub shift_count: u32,
    pub shift_unit: ShiftUnit,
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub handover: Time,
    pub start: Date,
}

/// One shift of a rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationShift {
    pub index: i64,
    pub person: i64,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

impl Rotation {
    /// When shift `index` (0 the first) begins.
    pub fn shift_start(&self, index: i64) -> OffsetDateTime {
        let count = i64::from(self.shift_count.max(1));
        let first = london_instant(self.start, self.handover);
        match self.shift_unit {
            ShiftUnit::Hours => first + Duration::hours(count * index),
            ShiftUnit::Days | ShiftUnit::Weeks => {
                let per = if self.shift_unit == ShiftUnit::Weeks {
                    7
                } else {
                    1
                };
                let date = self
                    .start
                    .checked_add(Duration::days(count * per * index))
                    .unwrap_or(self.start);
                london_instant(date, self.handover)
            }
        }
    }

    fn rough_index(&self, t: OffsetDateTime) -> i64 {
        let count = i64::from(self.shift_count.max(1));
        match self.shift_unit {
            ShiftUnit::Hours => (t - self.shift_start(0)).whole_hours().div_euclid(count),
            ShiftUnit::Days => (london_local(t).date() - self.start)
                .whole_days()
                .div_euclid(count),
            ShiftUnit::Weeks => (london_local(t).date() - self.start)
                .whole_days()
                .div_euclid(count * 7),
        }
    }

    /// The index of the shift running at `t`, negative before the rotation starts.
    pub fn shift_index(&self, t: OffsetDateTime) -> i64 {
        let mut k = self.rough_index(t);
        while self.shift_start(k) > t {
            k -= 1;
        }
        while self.shift_start(k + 1) <= t {
            k += 1;
        }
        k
    }

    /// The shift running at `t`, if the rotation has started and has participants.
    pub fn shift_at(&self, t: OffsetDateTime) -> Option<RotationShift> {
        let k = self.shift_index(t);
        if k < 0 || self.participants.is_empty() {
            return None;
        }
        let n = self.participants.len() as i64;
        Some(RotationShift {
            index: k,
            person: self.participants[k.rem_euclid(n) as usize],
            start: self.shift_start(k),
            end: self.shift_start(k + 1),
        })
    }

    /// Who is on call in this rotation at `t`.
    pub fn on_call_at(&self, t: OffsetDateTime) -> Option<i64> {
        self.shift_at(t).map(|s| s.person)
    }

    /// Handover instants in `[from, to)`.
    fn handovers(&self, from: OffsetDateTime, to: OffsetDateTime) -> Vec<OffsetDateTime> {
        let mut out = Vec::new();
        let mut k = self.shift_index(from).max(0);
        loop {
            let s = self.shift_start(k);
            if s >= to {
                break;
            }
            if s >= from {
                out.push(s);
            }
            k += 1;
        }
        out
    }
}

/// A set of weekdays, bit 0 Monday … bit 6 Sunday.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Days(pub u8);

impl Days {
    pub const WEEKDAYS: Days = Days(0b001_1111);
    pub const WEEKEND: Days = Days(0b110_0000);
    pub const EVERY_DAY: Days = Days(0b111_1111);

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.number_days_from_monday()) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 & 0b111_1111 == 0
    }

    /// "Mon Tue Fri" or "mon,tue" (any separator), or the words weekdays, weekends, every day.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim().to_ascii_lowercase();
        match raw.as_str() {
            "weekdays" => return Ok(Days::WEEKDAYS),
            "weekends" | "weekend" => return Ok(Days::WEEKEND),
            "every day" | "daily" | "all" => return Ok(Days::EVERY_DAY),
            _ => {}
        }
        let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let mut bits = 0u8;
        for word in raw.split(|c: char| !c.is_ascii_alphabetic()) {
            if word.is_empty() {
                continue;
            }
            let i = names
                .iter()
                .position(|n| word.starts_with(n))
                .ok_or_else(|| "Name days as Mon, Tue … Sun, or say weekdays.".to_string())?;
            bits |= 1 << i;
        }
        if bits == 0 {
            return Err("Name at least one day.".into());
        }
        Ok(Days(bits))
    }

    pub fn label(self) -> String {
        match self {
            Days::WEEKDAYS => return "Weekdays".into(),
            Days::WEEKEND => return "Weekends".into(),
            Days::EVERY_DAY => return "Every day".into(),
            _ => {}
        }
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        (0..7)
            .filter(|i| self.0 & (1 << i) != 0)
            .map(|i| names[i])
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A schedule's time rule: on the days named, from `from` London time until `until` (the next
/// day when `until` is not after `from`; `from == until` is the whole day), the rotation is
/// on call. Days name the day the period begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Rule {
    pub days: Days,
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub from: Time,
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub until: Time,
    pub rotation_id: i64,
}

impl Rule {
    fn spans_midnight(&self) -> bool {
        self.until <= self.from
    }

    /// Whether the rule covers the London wall-clock moment `local`.
    pub fn covers(&self, local: PrimitiveDateTime) -> bool {
        let (day, clock) = (local.date(), local.time());
        let yesterday = day.previous_day().map(|d| d.weekday());
        if self.spans_midnight() {
            (self.days.contains(day.weekday()) && clock >= self.from)
                || (yesterday.is_some_and(|y| self.days.contains(y)) && clock < self.until)
        } else {
            self.days.contains(day.weekday()) && clock >= self.from && clock < self.until
        }
    }
}

/// What an override does for its period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Change {
    /// This person is on call as well.
    Add(i64),
    /// This person is not on call.
    Remove(i64),
    /// Whenever the first person would be on call, the second is instead.
    Replace { from: i64, to: i64 },
}

/// A change to a schedule for `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Override {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub change: Change,
}

/// A schedule: the first rule covering a moment names the rotation on call; overrides then
/// apply in order.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Schedule {
    pub rules: Vec<Rule>,
    pub rotations: Vec<Rotation>,
    pub overrides: Vec<Override>,
}

/// An organisation's rotas as they stood from some moment: each schedule (its id, name and
/// definition, with the overrides not yet over) and the roles the schedules held. Kept after
/// every change, so a past moment is answered by the rotas of that moment.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RotaSnapshot {
    pub schedules: Vec<SnapshotSchedule>,
    /// (role id, schedule id) for every role a schedule held.
    pub roles: Vec<(i64, i64)>,
}

/// One schedule in a [`RotaSnapshot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SnapshotSchedule {
    pub id: i64,
    pub name: String,
    pub schedule: Schedule,
}

impl RotaSnapshot {
    pub fn schedule(&self, id: i64) -> Option<&SnapshotSchedule> {
        self.schedules.iter().find(|s| s.id == id)
    }
}

/// A period in which the same people are on call; nobody is a gap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Shift {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub people: Vec<i64>,
}

impl Schedule {
    fn rotation(&self, id: i64) -> Option<&Rotation> {
        self.rotations.iter().find(|r| r.id == id)
    }

    /// Who is on call at `t`, in a stable order (sorted, no repeats).
    pub fn on_call_at(&self, t: OffsetDateTime) -> Vec<i64> {
        let local = london_local(t);
        let mut people: Vec<i64> = self
            .rules
            .iter()
            .find(|r| r.covers(local))
            .and_then(|r| self.rotation(r.rotation_id))
            .and_then(|r| r.on_call_at(t))
            .into_iter()
            .collect();
        for o in self.overrides.iter().filter(|o| o.start <= t && t < o.end) {
            match o.change {
                Change::Add(p) => people.push(p),
                Change::Remove(p) => people.retain(|x| *x != p),
                Change::Replace { from, to } => {
                    if people.contains(&from) {
                        people.retain(|x| *x != from);
                        people.push(to);
                    }
                }
            }
        }
        people.sort_unstable();
        people.dedup();
        people
    }

    /// Every moment in `[from, to)` at which who is on call might change.
    fn boundaries(&self, from: OffsetDateTime, to: OffsetDateTime) -> Vec<OffsetDateTime> {
        let mut out = vec![from];
        let first = london_local(from)
            .date()
            .previous_day()
            .unwrap_or(Date::MIN);
        let last = london_local(to).date().next_day().unwrap_or(Date::MAX);
        let mut day = first;
        while day <= last {
            for r in &self.rules {
                out.push(london_instant(day, r.from));
                out.push(london_instant(day, r.until));
            }
            match day.next_day() {
                Some(d) => day = d,
                None => break,
            }
        }
        for r in &self.rotations {
            if self.rules.iter().any(|rule| rule.rotation_id == r.id) {
                out.extend(r.handovers(from, to));
            }
        }
        for o in &self.overrides {
            out.push(o.start);
            out.push(o.end);
        }
        out.extend(clock_changes(from, to));
        out.retain(|t| *t >= from && *t < to);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The shifts between `from` and `to` (at most [`MAX_SPAN_DAYS`] days from `from`),
    /// consecutive periods with the same people merged; a period with nobody is a gap.
    pub fn shifts(&self, from: OffsetDateTime, to: OffsetDateTime) -> Vec<Shift> {
        let to = to.min(from + Duration::days(MAX_SPAN_DAYS));
        if to <= from {
            return Vec::new();
        }
        let points = self.boundaries(from, to);
        let mut out: Vec<Shift> = Vec::new();
        for (i, start) in points.iter().enumerate() {
            let end = points.get(i + 1).copied().unwrap_or(to);
            let people = self.on_call_at(*start);
            match out.last_mut() {
                Some(last) if last.people == people => last.end = end,
                _ => out.push(Shift {
                    start: *start,
                    end,
                    people,
                }),
            }
        }
        out
    }

    /// The periods in `[from, to)` with nobody on call.
    pub fn gaps(&self, from: OffsetDateTime, to: OffsetDateTime) -> Vec<Shift> {
        self.shifts(from, to)
            .into_iter()
            .filter(|s| s.people.is_empty())
            .collect()
    }

    /// The periods in `[from, to)` in which `person` is on call, touching periods joined (so
    /// a colleague added alongside for an hour does not split a shift in two).
    pub fn shifts_of(
        &self,
        person: i64,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Vec<(OffsetDateTime, OffsetDateTime)> {
        let mut out: Vec<(OffsetDateTime, OffsetDateTime)> = Vec::new();
        for s in self
            .shifts(from, to)
            .into_iter()
            .filter(|s| s.people.contains(&person))
        {
            match out.last_mut() {
                Some(last) if last.1 == s.start => last.1 = s.end,
                _ => out.push((s.start, s.end)),
            }
        }
        out
    }

    /// The handovers in `[from, to)`: each moment who is on call changes, with who comes on
    /// and who goes off. `from` itself counts when who is on call changes exactly then.
    pub fn handovers(&self, from: OffsetDateTime, to: OffsetDateTime) -> Vec<Handover> {
        let shifts = self.shifts(from - Duration::seconds(1), to);
        shifts
            .windows(2)
            .filter(|w| w[1].start >= from)
            .map(|w| Handover {
                at: w[1].start,
                incoming: w[1]
                    .people
                    .iter()
                    .filter(|p| !w[0].people.contains(p))
                    .copied()
                    .collect(),
                outgoing: w[0]
                    .people
                    .iter()
                    .filter(|p| !w[1].people.contains(p))
                    .copied()
                    .collect(),
                next: w[1].people.clone(),
            })
            .collect()
    }
}

/// A moment who is on call changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handover {
    pub at: OffsetDateTime,
    /// On call from `at`, and not just before.
    pub incoming: Vec<i64>,
    /// On call just before `at`, and not from it.
    pub outgoing: Vec<i64>,
    /// Everyone on call from `at`.
    pub next: Vec<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, time};

    fn weekly(participants: Vec<i64>, start: Date) -> Rotation {
        Rotation {
            id: 1,
            participants,
            shift_count: 1,
            shift_unit: ShiftUnit::Weeks,
            handover: time!(08:00),
            start,
        }
    }

    fn daily(participants: Vec<i64>, start: Date) -> Rotation {
        Rotation {
            shift_count: 1,
            shift_unit: ShiftUnit::Days,
            ..weekly(participants, start)
        }
    }

    fn always(rotation_id: i64) -> Rule {
        Rule {
            days: Days::EVERY_DAY,
            from: time!(00:00),
            until: time!(00:00),
            rotation_id,
        }
    }

    #[test]
    fn london_is_gmt_in_winter_and_bst_in_summer() {
        assert_eq!(
            london_instant(date!(2026 - 01 - 05), time!(08:00)),
            datetime!(2026-01-05 08:00 UTC)
        );
        assert_eq!(
            london_instant(date!(2026 - 07 - 06), time!(08:00)),
            datetime!(2026-07-06 07:00 UTC)
        );
    }

    #[test]
    fn a_weekly_rotation_hands_over_in_turn() {
        let r = weekly(vec![10, 20, 30], date!(2026 - 01 - 05));
        assert_eq!(r.on_call_at(datetime!(2026-01-05 07:59 UTC)), None);
        assert_eq!(r.on_call_at(datetime!(2026-01-05 08:00 UTC)), Some(10));
        assert_eq!(r.on_call_at(datetime!(2026-01-12 07:59 UTC)), Some(10));
        assert_eq!(r.on_call_at(datetime!(2026-01-12 08:00 UTC)), Some(20));
        assert_eq!(r.on_call_at(datetime!(2026-01-19 09:00 UTC)), Some(30));
        assert_eq!(r.on_call_at(datetime!(2026-01-26 09:00 UTC)), Some(10));
    }

    #[test]
    fn a_day_across_the_march_clock_change_is_23_hours_and_handover_stays_at_8_local() {
        // Clocks go forward at 01:00 UTC on Sunday 29 March 2026.
        let r = daily(vec![1, 2], date!(2026 - 03 - 27));
        let s = r.shift_at(datetime!(2026-03-28 12:00 UTC)).unwrap();
        assert_eq!(s.start, datetime!(2026-03-28 08:00 UTC));
        assert_eq!(s.end, datetime!(2026-03-29 07:00 UTC));
        assert_eq!(s.end - s.start, Duration::hours(23));
        assert_eq!(london_local(s.end).time(), time!(08:00));
        let after = r.shift_at(datetime!(2026-03-29 07:00 UTC)).unwrap();
        assert_eq!(after.end - after.start, Duration::hours(24));
    }

    #[test]
    fn a_day_across_the_october_clock_change_is_25_hours() {
        // Clocks go back at 01:00 UTC on Sunday 25 October 2026.
        let r = daily(vec![1, 2], date!(2026 - 10 - 20));
        let s = r.shift_at(datetime!(2026-10-24 12:00 UTC)).unwrap();
        assert_eq!(s.start, datetime!(2026-10-24 07:00 UTC));
        assert_eq!(s.end, datetime!(2026-10-25 08:00 UTC));
        assert_eq!(s.end - s.start, Duration::hours(25));
        assert_eq!(london_local(s.end).time(), time!(08:00));
    }

    #[test]
    fn a_weekly_handover_stays_at_8_local_across_both_changes() {
        let r = weekly(vec![1, 2, 3], date!(2026 - 03 - 23));
        assert_eq!(r.shift_start(0), datetime!(2026-03-23 08:00 UTC));
        assert_eq!(r.shift_start(1), datetime!(2026-03-30 07:00 UTC));
        let autumn = weekly(vec![1, 2], date!(2026 - 10 - 19));
        assert_eq!(autumn.shift_start(1), datetime!(2026-10-26 08:00 UTC));
    }

    #[test]
    fn hour_shifts_are_elapsed_hours_across_a_clock_change() {
        let r = Rotation {
            shift_count: 12,
            shift_unit: ShiftUnit::Hours,
            ..weekly(vec![1, 2], date!(2026 - 03 - 28))
        };
        // 08:00 GMT Saturday, +12 h, +24 h: the second handover shows 09:00 BST.
        assert_eq!(r.shift_start(2), datetime!(2026-03-29 08:00 UTC));
        assert_eq!(london_local(r.shift_start(2)).time(), time!(09:00));
        assert_eq!(r.on_call_at(datetime!(2026-03-28 21:00 UTC)), Some(2));
    }

    #[test]
    fn a_handover_in_the_skipped_hour_happens_when_the_clocks_jump() {
        let r = Rotation {
            handover: time!(01:30),
            ..daily(vec![1, 2], date!(2026 - 03 - 28))
        };
        // 01:30 does not exist on 29 March; it is read as 01:30 GMT = 02:30 BST.
        assert_eq!(r.shift_start(1), datetime!(2026-03-29 01:30 UTC));
    }

    fn office_and_out_of_hours() -> Schedule {
        let days = Rotation {
            id: 1,
            ..weekly(vec![10, 11], date!(2026 - 01 - 05))
        };
        let nights = Rotation {
            id: 2,
            ..weekly(vec![20, 21], date!(2026 - 01 - 05))
        };
        Schedule {
            rules: vec![
                Rule {
                    days: Days::WEEKDAYS,
                    from: time!(08:00),
                    until: time!(18:00),
                    rotation_id: 1,
                },
                always(2),
            ],
            rotations: vec![days, nights],
            overrides: vec![],
        }
    }

    #[test]
    fn the_first_matching_rule_wins() {
        let s = office_and_out_of_hours();
        // Tuesday 13 January 2026, 10:00 GMT: office hours, second week of rotation 1.
        assert_eq!(s.on_call_at(datetime!(2026-01-13 10:00 UTC)), vec![11]);
        // Tuesday evening: nights.
        assert_eq!(s.on_call_at(datetime!(2026-01-13 19:00 UTC)), vec![21]);
        // Saturday midday: weekends are nights' too.
        assert_eq!(s.on_call_at(datetime!(2026-01-17 12:00 UTC)), vec![21]);
    }

    #[test]
    fn a_rule_spanning_midnight_covers_the_early_hours_of_the_next_day() {
        let nights = Rule {
            days: Days(1), // Monday nights only
            from: time!(18:00),
            until: time!(08:00),
            rotation_id: 2,
        };
        let s = Schedule {
            rules: vec![nights],
            rotations: vec![Rotation {
                id: 2,
                ..weekly(vec![20], date!(2026 - 01 - 05))
            }],
            overrides: vec![],
        };
        assert_eq!(
            s.on_call_at(datetime!(2026-01-12 17:59 UTC)),
            Vec::<i64>::new()
        );
        assert_eq!(s.on_call_at(datetime!(2026-01-12 23:00 UTC)), vec![20]);
        assert_eq!(s.on_call_at(datetime!(2026-01-13 03:00 UTC)), vec![20]);
        assert_eq!(
            s.on_call_at(datetime!(2026-01-13 08:00 UTC)),
            Vec::<i64>::new()
        );
        assert_eq!(
            s.on_call_at(datetime!(2026-01-13 23:00 UTC)),
            Vec::<i64>::new()
        );
    }

    #[test]
    fn overrides_add_remove_and_replace_for_their_period_only() {
        let mut s = office_and_out_of_hours();
        let at = datetime!(2026-01-13 10:00 UTC);
        s.overrides = vec![Override {
            start: datetime!(2026-01-13 09:00 UTC),
            end: datetime!(2026-01-13 12:00 UTC),
            change: Change::Replace { from: 11, to: 99 },
        }];
        assert_eq!(s.on_call_at(at), vec![99]);
        assert_eq!(s.on_call_at(datetime!(2026-01-13 12:00 UTC)), vec![11]);
        s.overrides[0].change = Change::Add(50);
        assert_eq!(s.on_call_at(at), vec![11, 50]);
        s.overrides[0].change = Change::Remove(11);
        assert_eq!(s.on_call_at(at), Vec::<i64>::new());
        // Replacing someone not on call changes nothing.
        s.overrides[0].change = Change::Replace { from: 21, to: 99 };
        assert_eq!(s.on_call_at(at), vec![11]);
    }

    #[test]
    fn shifts_merge_and_follow_rule_and_handover_boundaries() {
        let s = office_and_out_of_hours();
        let shifts = s.shifts(
            datetime!(2026-01-12 00:00 UTC),
            datetime!(2026-01-13 00:00 UTC),
        );
        let got: Vec<_> = shifts.iter().map(|x| (x.start, x.people.clone())).collect();
        assert_eq!(
            got,
            vec![
                (datetime!(2026-01-12 00:00 UTC), vec![20]),
                (datetime!(2026-01-12 08:00 UTC), vec![11]),
                (datetime!(2026-01-12 18:00 UTC), vec![21]),
            ]
        );
        assert_eq!(shifts[2].end, datetime!(2026-01-13 00:00 UTC));
    }

    #[test]
    fn a_gap_is_found_when_no_rule_covers_a_period() {
        let mut s = office_and_out_of_hours();
        s.rules.truncate(1); // office hours only
        s.overrides = vec![Override {
            start: datetime!(2026-01-12 18:00 UTC),
            end: datetime!(2026-01-12 20:00 UTC),
            change: Change::Add(7),
        }];
        let gaps = s.gaps(
            datetime!(2026-01-12 00:00 UTC),
            datetime!(2026-01-13 00:00 UTC),
        );
        let got: Vec<_> = gaps.iter().map(|g| (g.start, g.end)).collect();
        assert_eq!(
            got,
            vec![
                (
                    datetime!(2026-01-12 00:00 UTC),
                    datetime!(2026-01-12 08:00 UTC)
                ),
                (
                    datetime!(2026-01-12 20:00 UTC),
                    datetime!(2026-01-13 00:00 UTC)
                ),
            ]
        );
    }

    #[test]
    fn a_rule_boundary_in_the_skipped_hour_is_found_when_the_clocks_jump() {
        let s = Schedule {
            rules: vec![Rule {
                days: Days::EVERY_DAY,
                from: time!(01:30),
                until: time!(06:00),
                rotation_id: 1,
            }],
            rotations: vec![daily(vec![5], date!(2026 - 03 - 01))],
            overrides: vec![],
        };
        let shifts = s.shifts(
            datetime!(2026-03-29 00:00 UTC),
            datetime!(2026-03-29 06:00 UTC),
        );
        // The clocks jump from 01:00 GMT to 02:00 BST, past 01:30, at 01:00 UTC.
        assert_eq!(shifts[1].start, datetime!(2026-03-29 01:00 UTC));
        assert_eq!(shifts[1].people, vec![5]);
        assert_eq!(shifts[1].end, datetime!(2026-03-29 05:00 UTC));
    }

    #[test]
    fn the_spring_day_shift_in_a_preview_is_23_hours() {
        let s = Schedule {
            rules: vec![always(1)],
            rotations: vec![daily(vec![1, 2], date!(2026 - 03 - 27))],
            overrides: vec![],
        };
        let shifts = s.shifts(
            datetime!(2026-03-28 08:00 UTC),
            datetime!(2026-03-30 07:00 UTC),
        );
        let lengths: Vec<_> = shifts
            .iter()
            .map(|x| (x.end - x.start).whole_hours())
            .collect();
        assert_eq!(lengths, vec![23, 24]);
    }

    #[test]
    fn spans_are_capped() {
        let s = Schedule {
            rules: vec![always(1)],
            rotations: vec![daily(vec![1], date!(2026 - 01 - 01))],
            overrides: vec![],
        };
        let shifts = s.shifts(
            datetime!(2026-01-01 08:00 UTC),
            datetime!(2030-01-01 00:00 UTC),
        );
        assert_eq!(
            shifts.last().unwrap().end,
            datetime!(2026-01-01 08:00 UTC) + Duration::days(MAX_SPAN_DAYS)
        );
    }

    #[test]
    fn a_persons_shifts_join_across_a_colleague_added_alongside() {
        let mut s = office_and_out_of_hours();
        s.overrides = vec![Override {
            start: datetime!(2026-01-12 10:00 UTC),
            end: datetime!(2026-01-12 11:00 UTC),
            change: Change::Add(50),
        }];
        let mine = s.shifts_of(
            11,
            datetime!(2026-01-12 00:00 UTC),
            datetime!(2026-01-14 00:00 UTC),
        );
        assert_eq!(
            mine,
            vec![
                (
                    datetime!(2026-01-12 08:00 UTC),
                    datetime!(2026-01-12 18:00 UTC)
                ),
                (
                    datetime!(2026-01-13 08:00 UTC),
                    datetime!(2026-01-13 18:00 UTC)
                ),
            ]
        );
        assert_eq!(
            s.shifts_of(
                50,
                datetime!(2026-01-12 00:00 UTC),
                datetime!(2026-01-14 00:00 UTC)
            ),
            vec![(
                datetime!(2026-01-12 10:00 UTC),
                datetime!(2026-01-12 11:00 UTC)
            )]
        );
        assert!(
            s.shifts_of(
                99,
                datetime!(2026-01-12 00:00 UTC),
                datetime!(2026-01-14 00:00 UTC)
            )
            .is_empty()
        );
    }

    #[test]
    fn handovers_name_who_comes_on_and_who_goes_off() {
        let s = office_and_out_of_hours();
        let h = s.handovers(
            datetime!(2026-01-12 08:00 UTC),
            datetime!(2026-01-12 18:30 UTC),
        );
        assert_eq!(
            h,
            vec![
                Handover {
                    at: datetime!(2026-01-12 08:00 UTC),
                    incoming: vec![11],
                    outgoing: vec![20],
                    next: vec![11],
                },
                Handover {
                    at: datetime!(2026-01-12 18:00 UTC),
                    incoming: vec![21],
                    outgoing: vec![11],
                    next: vec![21],
                },
            ]
        );
        // A window with no change in it has no handover, however it is cut.
        assert!(
            s.handovers(
                datetime!(2026-01-12 08:00:01 UTC),
                datetime!(2026-01-12 17:59 UTC)
            )
            .is_empty()
        );
    }

    #[test]
    fn a_handover_into_a_gap_has_nobody_incoming() {
        let mut s = office_and_out_of_hours();
        s.rules.truncate(1);
        let h = s.handovers(
            datetime!(2026-01-12 17:00 UTC),
            datetime!(2026-01-12 19:00 UTC),
        );
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].outgoing, vec![11]);
        assert!(h[0].incoming.is_empty() && h[0].next.is_empty());
    }

    #[test]
    fn days_and_clocks_parse_as_people_type_them() {
        assert_eq!(Days::parse("weekdays"), Ok(Days::WEEKDAYS));
        assert_eq!(Days::parse("Sat, Sun"), Ok(Days::WEEKEND));
        assert!(Days::parse("Funday").is_err());
        assert_eq!(parse_clock("8:00"), Ok(time!(08:00)));
        assert!(parse_clock("25:00").is_err());
        assert!(parse_clock("<b>").is_err());
        assert_eq!(
            local_label(datetime!(2026-07-06 07:00 UTC)),
            "Mon 6 Jul 2026 08:00 BST"
        );
        assert_eq!(
            local_label(datetime!(2026-11-30 08:00 UTC)),
            "Mon 30 Nov 2026 08:00 GMT"
        );
    }
}
