//! Paging a person: their notification rules ("text and email at once; text again after 5
//! minutes"), as ordered (channel, delay) pairs, the default for someone who set none, and
//! which of them can reach the person now. The same parsing runs in the browser and on the
//! server.

use serde::{Deserialize, Serialize};

use super::escalation::Channel;

/// The longest a rule may wait after the person is first told.
pub const MAX_DELAY_MINUTES: i32 = 120;

/// Most rules one person may keep.
pub const MAX_RULES: usize = 10;

/// A channel a rule pages on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PageChannel {
    Email,
    Sms,
    /// A post naming the person, with their own acknowledge button, in their organisation's
    /// Microsoft Teams channel.
    Teams,
}

impl PageChannel {
    /// As stored (`notification_rule.channel`), the same as the outbox's channel.
    pub fn as_str(self) -> &'static str {
        self.channel().as_str()
    }

    pub fn channel(self) -> Channel {
        match self {
            PageChannel::Email => Channel::Email,
            PageChannel::Sms => Channel::Sms,
            PageChannel::Teams => Channel::Teams,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PageChannel::Email => "Email",
            PageChannel::Sms => "Text message",
            PageChannel::Teams => "Microsoft Teams",
        }
    }

    pub fn parse(s: &str) -> Option<PageChannel> {
        match s.trim() {
            "email" => Some(PageChannel::Email),
            "sms" | "text" => Some(PageChannel::Sms),
            "teams" => Some(PageChannel::Teams),
            _ => None,
        }
    }
}

/// One rule: page on `channel`, `delay_minutes` after the person is first told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Rule {
    pub channel: PageChannel,
    pub delay_minutes: i32,
}

impl Rule {
    pub fn at_once(channel: PageChannel) -> Rule {
        Rule {
            channel,
            delay_minutes: 0,
        }
    }

    /// "Text message at once", "Email after 5 minutes".
    pub fn describe(&self) -> String {
        match self.delay_minutes {
            0 => format!("{} at once", self.channel.label()),
            1 => format!("{} after 1 minute", self.channel.label()),
            n => format!("{} after {n} minutes", self.channel.label()),
        }
    }
}

/// Reads a rule as a form sends it: a channel (`email`, `sms`, `teams`) and a delay in whole minutes
/// from 0 to [`MAX_DELAY_MINUTES`] (empty: at once).
pub fn parse_rule(channel: &str, delay_minutes: &str) -> Result<Rule, String> {
    let channel = PageChannel::parse(channel).ok_or_else(|| {
        "Choose how to reach you: email, text message or Microsoft Teams.".to_owned()
    })?;
    let delay = delay_minutes.trim();
    let out_of_range =
        || format!("Enter the delay in whole minutes, from 0 to {MAX_DELAY_MINUTES}.");
    let delay_minutes = if delay.is_empty() {
        0
    } else {
        delay
            .parse::<i32>()
            .map_err(|_| out_of_range())
            .and_then(|d| {
                if (0..=MAX_DELAY_MINUTES).contains(&d) {
                    Ok(d)
                } else {
                    Err(out_of_range())
                }
            })?
    };
    Ok(Rule {
        channel,
        delay_minutes,
    })
}

/// What can reach a person now: email (sent at all, and not turned off by them), text
/// messages (connected, and a verified mobile) and Microsoft Teams (one of their
/// organisations has a Teams channel connected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reach {
    pub email: bool,
    pub sms: bool,
    pub teams: bool,
}

/// The rules of someone who set none: email at once, and a text at once when they have a
/// verified mobile.
pub fn default_rules() -> Vec<Rule> {
    vec![
        Rule::at_once(PageChannel::Email),
        Rule::at_once(PageChannel::Sms),
    ]
}

/// The rules that page a person: their own (the default when they set none), those that can
/// reach them now, soonest first (ties keep their order), each once.
pub fn effective(stored: &[Rule], reach: Reach) -> Vec<Rule> {
    let mut rules: Vec<Rule> = if stored.is_empty() {
        default_rules()
    } else {
        stored.to_vec()
    };
    rules.retain(|r| match r.channel {
        PageChannel::Email => reach.email,
        PageChannel::Sms => reach.sms,
        PageChannel::Teams => reach.teams,
    });
    let mut seen = Vec::with_capacity(rules.len());
    rules.retain(|r| {
        let new = !seen.contains(r);
        seen.push(*r);
        new
    });
    rules.sort_by_key(|r| r.delay_minutes);
    rules
}

/// The outbox's recipient key for a page by `rule`: `person:<id>` at once (the key
/// escalations have always used), `person:<id>+<n>m` after `n` minutes, so each (person,
/// channel, rule) is one row however often it is decided.
pub fn page_key(person: i64, rule: &Rule) -> String {
    match rule.delay_minutes {
        0 => format!("person:{person}"),
        n => format!("person:{person}+{n}m"),
    }
}

/// Whether an outbox key is a delayed page (one that is not sent once its task is
/// acknowledged).
pub fn is_delayed_key(key: &str) -> bool {
    key.starts_with("person:") && key.ends_with('m') && key.contains('+')
}

/// A person's rules as their account page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RulesView {
    /// The rules they set, with their ids, soonest first; empty when they use the default.
    pub own: Vec<(i64, Rule)>,
    /// In words, what pages them now ("Email at once; Text message at once").
    pub in_force: Vec<String>,
    /// Whether they have a verified mobile (text rules need one).
    pub has_mobile: bool,
    /// Whether one of their organisations has a Microsoft Teams channel (Teams rules need
    /// one).
    pub has_teams: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_read_from_forms_and_bad_ones_refused_with_a_reason() {
        assert_eq!(
            parse_rule("sms", " 5 "),
            Ok(Rule {
                channel: PageChannel::Sms,
                delay_minutes: 5
            })
        );
        assert_eq!(
            parse_rule("email", ""),
            Ok(Rule::at_once(PageChannel::Email))
        );
        assert_eq!(parse_rule("email", "120").map(|r| r.delay_minutes), Ok(120));
        assert!(
            parse_rule("pager", "0")
                .unwrap_err()
                .contains("email, text message or Microsoft Teams")
        );
        for bad in ["121", "-1", "five", "1.5", "99999999999"] {
            assert!(
                parse_rule("sms", bad)
                    .unwrap_err()
                    .contains("from 0 to 120"),
                "{bad}"
            );
        }
    }

    #[test]
    fn without_rules_a_person_is_emailed_and_texted_at_once_when_they_can_be() {
        let both = Reach {
            email: true,
            sms: true,
            teams: false,
        };
        assert_eq!(effective(&[], both), default_rules());
        let no_mobile = Reach {
            email: true,
            sms: false,
            teams: false,
        };
        assert_eq!(
            effective(&[], no_mobile),
            [Rule::at_once(PageChannel::Email)]
        );
        assert!(effective(&[], Reach::default()).is_empty());
    }

    #[test]
    fn own_rules_run_soonest_first_and_only_on_channels_that_reach() {
        let again = Rule {
            channel: PageChannel::Sms,
            delay_minutes: 5,
        };
        let stored = [again, Rule::at_once(PageChannel::Sms), again];
        let both = Reach {
            email: true,
            sms: true,
            teams: false,
        };
        assert_eq!(
            effective(&stored, both),
            [Rule::at_once(PageChannel::Sms), again]
        );
        let no_mobile = Reach {
            email: true,
            sms: false,
            teams: false,
        };
        assert!(
            effective(&stored, no_mobile).is_empty(),
            "no email rule set"
        );
    }

    #[test]
    fn each_rule_has_its_own_key_and_only_delayed_ones_read_as_delayed() {
        let now = page_key(7, &Rule::at_once(PageChannel::Sms));
        let later = page_key(
            7,
            &Rule {
                channel: PageChannel::Sms,
                delay_minutes: 5,
            },
        );
        assert_eq!((now.as_str(), later.as_str()), ("person:7", "person:7+5m"));
        assert!(!is_delayed_key(&now) && is_delayed_key(&later));
        assert!(!is_delayed_key("webhook:3"));
    }

    #[test]
    fn a_teams_rule_pages_only_someone_whose_organisation_has_a_teams_channel() {
        assert_eq!(
            parse_rule("teams", "2"),
            Ok(Rule {
                channel: PageChannel::Teams,
                delay_minutes: 2
            })
        );
        let stored = [
            Rule::at_once(PageChannel::Teams),
            Rule::at_once(PageChannel::Email),
        ];
        let with_teams = Reach {
            email: true,
            sms: false,
            teams: true,
        };
        assert_eq!(effective(&stored, with_teams), stored);
        let without = Reach {
            teams: false,
            ..with_teams
        };
        assert_eq!(
            effective(&stored, without),
            [Rule::at_once(PageChannel::Email)]
        );
        assert_eq!(PageChannel::Teams.channel().as_str(), "teams");
        assert_eq!(
            Rule::at_once(PageChannel::Teams).describe(),
            "Microsoft Teams at once"
        );
    }
}
