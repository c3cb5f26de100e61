//! Escalation in plain terms: whom a level tells, how long they have, what happens after the
//! last level, and how a policy reads as a path.

use serde::{Deserialize, Serialize};

/// Whom a level tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Target {
    /// The holder of a role, found from the organisation of the task upwards (`above`:
    /// starting from its parent), or at one named organisation (`org`, an ODS code).
    Role {
        key: String,
        #[serde(default)]
        above: bool,
        #[serde(default)]
        org: Option<String>,
    },
    /// A named person.
    Person { id: i64 },
}

/// One level of a policy as stored and edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelSpec {
    pub timeout_seconds: i32,
    pub targets: Vec<Target>,
}

/// The national default: the ICB's head of cyber, then the regional cyber lead, then the
/// national CSOC duty officer, fifteen minutes each, the whole path once more, then the task
/// is flagged for national attention.
pub fn national_default() -> (i32, Vec<LevelSpec>) {
    let role = |key: &str, above: bool| Target::Role {
        key: key.into(),
        above,
        org: None,
    };
    (
        1,
        vec![
            LevelSpec {
                timeout_seconds: 15 * 60,
                targets: vec![role("head_of_cyber", true)],
            },
            LevelSpec {
                timeout_seconds: 15 * 60,
                targets: vec![role("regional_cyber_lead", true)],
            },
            LevelSpec {
                timeout_seconds: 15 * 60,
                targets: vec![role("csoc_duty", true)],
            },
        ],
    )
}

/// What happens when an escalation's deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Tell this level's targets, in this round.
    Notify { level: i32, round: i32 },
    /// Nobody acknowledged along the whole path, repeats included.
    Flag,
}

/// From (level, round), with `levels` levels and `repeats` extra passes.
pub fn next(level: i32, round: i32, levels: usize, repeats: i32) -> Next {
    if levels == 0 {
        return Next::Flag;
    }
    if (level as usize) < levels {
        Next::Notify {
            level: level + 1,
            round,
        }
    } else if round < repeats {
        Next::Notify {
            level: 1,
            round: round + 1,
        }
    } else {
        Next::Flag
    }
}

/// Waiting before the next delivery attempt after `attempts` failures: 10 s doubling, at most
/// 15 minutes.
pub fn backoff_seconds(attempts: i32) -> i64 {
    let n = attempts.clamp(1, 12) as u32 - 1;
    (10_i64 << n).min(15 * 60)
}

/// Delivery gives up after this many attempts.
pub const MAX_ATTEMPTS: i32 = 8;

/// One level as an editor sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelInput {
    pub timeout_minutes: String,
    /// A role key, or empty.
    #[serde(default)]
    pub role: String,
    /// here (the organisation or the nearest above), above (from the parent up), or an ODS code.
    #[serde(default)]
    pub scope: String,
    /// A named person to tell as well (or instead), by email.
    #[serde(default)]
    pub person_email: String,
    #[serde(default)]
    pub remove: Option<String>,
}

/// A policy as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyView {
    pub org_code: String,
    pub org_name: String,
    /// Where the policy in force comes from: the organisation itself, an ancestor, or the
    /// national default.
    pub source: String,
    pub own: bool,
    pub repeat_count: i32,
    pub levels: Vec<LevelView>,
    /// "Stockwell Group Practice → South East London ICB → London → CSOC"
    pub path: String,
    pub editable: bool,
    /// The organisation's channel webhook, for its admins: (url, signing secret, on).
    pub webhook: Option<(String, String, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelView {
    pub timeout_minutes: i32,
    /// Each target in words, with whom it reaches now: ("ICB head of cyber", "Gareth Lloyd at …").
    pub targets: Vec<(String, String)>,
    /// The raw targets, for the editor.
    pub specs: Vec<Target>,
    /// The email of the level's named person, if any, for the editor.
    pub person_email: Option<String>,
}

/// One notification in a person's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub incident_reference: String,
    pub at: String,
    pub read: bool,
}

/// What a signed acknowledgement link is about, for the confirmation page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckLink {
    pub title: String,
    pub incident_reference: String,
    pub already: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_runs_level_by_level_then_repeats_then_flags() {
        let mut at = (0, 0);
        let mut seen = Vec::new();
        while let Next::Notify { level, round } = next(at.0, at.1, 3, 1) {
            seen.push((level, round));
            at = (level, round);
        }
        assert_eq!(seen, [(1, 0), (2, 0), (3, 0), (1, 1), (2, 1), (3, 1)]);
        assert_eq!(next(0, 0, 0, 5), Next::Flag, "no levels: flag at once");
    }

    #[test]
    fn retries_back_off_to_a_ceiling() {
        assert_eq!(backoff_seconds(1), 10);
        assert_eq!(backoff_seconds(2), 20);
        assert_eq!(backoff_seconds(4), 80);
        assert_eq!(backoff_seconds(MAX_ATTEMPTS + 4), 900);
    }

    #[test]
    fn targets_round_trip_as_stored() {
        let (_, levels) = national_default();
        let json = serde_json::to_string(&levels[0].targets).unwrap();
        assert_eq!(
            json,
            r#"[{"type":"role","key":"head_of_cyber","above":true,"org":null}]"#
        );
        let back: Vec<Target> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, levels[0].targets);
    }
}
