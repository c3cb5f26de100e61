//! Date formatting shared by server rendering and the browser, so both print the same text.

use time::Date;
use time::macros::format_description;

/// "3 Jun 2024 09:00 UTC": a moment as pages, reports and exports print it.
pub fn moment(t: time::OffsetDateTime) -> String {
    t.format(format_description!(
        "[day padding:none] [month repr:short] [year] [hour]:[minute] UTC"
    ))
    .unwrap_or_default()
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
/// `YYYY-MM-DDTHH:MM`, in UTC.
pub fn parse_moment(raw: &str) -> Result<Option<time::OffsetDateTime>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || format!("“{raw}” is not a date. Use the form 2017-05-12 or 2017-05-12T14:00.");
    if let Ok(d) = Date::parse(raw, format_description!("[year]-[month]-[day]")) {
        return Ok(Some(
            d.with_hms(23, 59, 59).map_err(|_| bad())?.assume_utc(),
        ));
    }
    let t = time::PrimitiveDateTime::parse(
        raw,
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    )
    .map_err(|_| bad())?;
    Ok(Some(t.assume_utc()))
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
    fn moments_parse_as_days_or_minutes_in_utc() {
        use time::macros::datetime;
        assert_eq!(parse_moment("").unwrap(), None);
        assert_eq!(
            parse_moment("2017-05-12T14:00").unwrap(),
            Some(datetime!(2017-05-12 14:00 UTC))
        );
        assert_eq!(
            parse_moment("2017-05-12").unwrap(),
            Some(datetime!(2017-05-12 23:59:59 UTC))
        );
        assert!(parse_moment("12/05/2017").is_err());
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
