//! Date formatting shared by server rendering and the browser, so both print the same text.

use time::Date;
use time::macros::format_description;

/// "3 Jun 2024 10:00 BST": a moment as pages, reports and messages print it, on UK clocks and
/// saying which (GMT or BST). Exports and the API keep UTC (RFC 3339).
pub fn moment(t: time::OffsetDateTime) -> String {
    let local = super::rota::london_local(t);
    let shown = local
        .format(format_description!(
            "[day padding:none] [month repr:short] [year] [hour]:[minute]"
        ))
        .unwrap_or_default();
    format!("{shown} {}", uk_zone(t))
}

/// "GMT" or "BST": which of the UK's clocks is in force at `t`.
pub fn uk_zone(t: time::OffsetDateTime) -> &'static str {
    let local = super::rota::london_local(t).assume_utc();
    if (local - t.to_offset(time::UtcOffset::UTC)).whole_minutes() == 0 {
        "GMT"
    } else {
        "BST"
    }
}

/// "12 May 2017": the form NHS content uses.
pub fn long(date: Date) -> String {
    date.format(format_description!(
        "[day padding:none] [month repr:long] [year]"
    ))
    .unwrap_or_else(|_| date.to_string())
}

/// ODS files write dates as YYYYMMDD.
pub fn parse_ods(raw: &str) -> Option<Date> {
    let raw = raw.trim();
    if raw.len() != 8 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Date::parse(raw, format_description!("[year][month][day]")).ok()
}

/// A moment typed by a person: empty for now, `YYYY-MM-DD` (end of that day) or
/// `YYYY-MM-DDTHH:MM`, on UK clocks (GMT or BST, whichever was in force).
pub fn parse_moment(raw: &str) -> Result<Option<time::OffsetDateTime>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || format!("“{raw}” is not a date. Use the form 2017-05-12 or 2017-05-12T14:00.");
    if let Ok(d) = Date::parse(raw, format_description!("[year]-[month]-[day]")) {
        let end = time::Time::from_hms(23, 59, 59).map_err(|_| bad())?;
        return Ok(Some(super::rota::london_instant(d, end)));
    }
    let t = time::PrimitiveDateTime::parse(
        raw,
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    )
    .map_err(|_| bad())?;
    Ok(Some(super::rota::london_instant(t.date(), t.time())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn long_dates_read_as_people_write_them() {
        assert_eq!(long(date!(2017 - 05 - 12)), "12 May 2017");
    }

    #[test]
    fn moments_parse_as_days_or_minutes_on_uk_clocks() {
        use time::macros::datetime;
        assert_eq!(parse_moment("").unwrap(), None);
        // WannaCry, Friday 12 May 2017: BST, an hour ahead of UTC.
        assert_eq!(
            parse_moment("2017-05-12T14:00").unwrap(),
            Some(datetime!(2017-05-12 13:00 UTC))
        );
        assert_eq!(
            parse_moment("2017-05-12").unwrap(),
            Some(datetime!(2017-05-12 22:59:59 UTC))
        );
        // In winter UK time is UTC.
        assert_eq!(
            parse_moment("2026-11-30T09:15").unwrap(),
            Some(datetime!(2026-11-30 09:15 UTC))
        );
        assert!(parse_moment("12/05/2017").is_err());
    }

    #[test]
    fn moments_print_on_uk_clocks_saying_which() {
        use time::macros::datetime;
        assert_eq!(
            moment(datetime!(2017-05-12 13:00 UTC)),
            "12 May 2017 14:00 BST"
        );
        assert_eq!(
            moment(datetime!(2026-11-30 09:15 UTC)),
            "30 Nov 2026 09:15 GMT"
        );
        // Across the autumn change: 00:30 UTC is 01:30 BST, 01:30 UTC is 01:30 GMT.
        assert_eq!(
            moment(datetime!(2026-10-25 00:30 UTC)),
            "25 Oct 2026 01:30 BST"
        );
        assert_eq!(
            moment(datetime!(2026-10-25 01:30 UTC)),
            "25 Oct 2026 01:30 GMT"
        );
    }

    #[test]
    fn ods_dates_parse_and_nonsense_does_not() {
        assert_eq!(parse_ods("20170512"), Some(date!(2017 - 05 - 12)));
        assert_eq!(parse_ods(" 20170512 "), Some(date!(2017 - 05 - 12)));
        assert_eq!(parse_ods("20171332"), None);
        assert_eq!(parse_ods("2017-05-12"), None);
        assert_eq!(parse_ods(""), None);
    }
}
