//! Date formatting shared by server rendering and the browser, so both print the same text.

use time::Date;
use time::macros::format_description;

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

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn long_dates_read_as_people_write_them() {
        assert_eq!(long(date!(2017 - 05 - 12)), "12 May 2017");
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
