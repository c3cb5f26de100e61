//! Contact methods a person adds for being reached: a UK mobile number for text messages,
//! parsed and normalised here so the browser and the server apply the same rule.

use serde::{Deserialize, Serialize};

/// A UK mobile number in international form, `+447…` and ten digits after the 44.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UkMobile(String);

impl UkMobile {
    /// Reads a number as people write it (`07700 900123`, `+44 7700 900123`,
    /// `0044 (0)7700-900123`): spaces, dashes, dots and brackets are ignored, a leading `0`,
    /// `44`, `+44` or `0044` is accepted, and what is left must be a mobile number (`7`
    /// and nine more digits).
    pub fn parse(raw: &str) -> Result<UkMobile, String> {
        const WRONG: &str = "Enter a UK mobile number, like 07700 900123 or +44 7700 900123.";
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("Enter your mobile number.".into());
        }
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, trimmed),
        };
        let mut digits = String::new();
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(WRONG.into()),
            }
        }
        // "(0)" after the country code is a common way of writing the trunk prefix.
        let national = if plus {
            digits
                .strip_prefix("44")
                .map(|d| d.strip_prefix('0').unwrap_or(d))
        } else if let Some(d) = digits.strip_prefix("0044") {
            Some(d.strip_prefix('0').unwrap_or(d))
        } else if let Some(d) = digits.strip_prefix("44").filter(|d| d.len() >= 10) {
            Some(d.strip_prefix('0').unwrap_or(d))
        } else {
            digits.strip_prefix('0')
        };
        match national {
            Some(n) if n.len() == 10 && n.starts_with('7') => Ok(UkMobile(format!("+44{n}"))),
            _ => Err(WRONG.into()),
        }
    }

    /// `+447700900123`: as stored and as sent to the text message service.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but its last three digits hidden, for lists and logs.
    pub fn masked(&self) -> String {
        let tail = &self.0[self.0.len() - 3..];
        format!("07••• •••{tail}")
    }

    /// As people read it: `07700 900123`.
    pub fn national(&self) -> String {
        let n = &self.0[3..];
        format!("0{} {}", &n[..4], &n[4..])
    }
}

impl std::fmt::Display for UkMobile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.national())
    }
}

/// How long a verification code works, in seconds.
pub const CODE_TTL_SECONDS: i64 = 10 * 60;
/// Wrong codes allowed before a code stops working.
pub const MAX_CODE_TRIES: i32 = 5;
/// Codes that may be sent to one person in [`CODE_WINDOW_SECONDS`].
pub const MAX_CODES_PER_WINDOW: i32 = 3;
pub const CODE_WINDOW_SECONDS: i64 = 60 * 60;

/// A person's mobile number as their account page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MobileView {
    /// `07700 900123`.
    pub number: String,
    /// Verified, so escalations and tests are sent to it.
    pub verified: bool,
    /// When it was verified, in words.
    pub verified_at: Option<String>,
}

/// Whether an answer to a verification code is well formed: six digits, spaces ignored.
pub fn parse_code(raw: &str) -> Result<String, String> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
        Ok(code)
    } else {
        Err("Enter the 6-digit code from the text message.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uk_mobiles_written_every_usual_way_normalise_to_one_form() {
        for raw in [
            "07700 900123",
            "07700900123",
            "+44 7700 900123",
            "+447700900123",
            "+44 (0)7700 900123",
            "0044 7700 900123",
            "447700900123",
            " 07700-900-123 ",
        ] {
            assert_eq!(
                UkMobile::parse(raw).map(|m| m.as_str().to_owned()),
                Ok("+447700900123".to_owned()),
                "{raw}"
            );
        }
    }

    #[test]
    fn landlines_foreign_numbers_and_junk_are_refused() {
        for raw in [
            "",
            "020 7946 0000",
            "+33 6 12 34 56 78",
            "0770090012",
            "077009001234",
            "07700 90012x",
            "+44 7700 9001234",
            "7700900123",
        ] {
            assert!(UkMobile::parse(raw).is_err(), "{raw} was accepted");
        }
    }

    #[test]
    fn a_mobile_reads_back_nationally_and_masked() {
        let m = UkMobile::parse("+447700900123").unwrap();
        assert_eq!(m.national(), "07700 900123");
        assert_eq!(m.masked(), "07••• •••123");
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(parse_code(" 123 456 "), Ok("123456".into()));
        assert!(parse_code("12345").is_err());
        assert!(parse_code("12345a").is_err());
    }
}
