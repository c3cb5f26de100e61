//! Escalation in plain terms: whom a level tells, how long they have, what happens after the
//! last level, and how a policy reads as a path.

use serde::{Deserialize, Serialize};

/// Whom a level tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// An external contact (the CSOC, a supplier's security desk), by its key: emailed, and
    /// the person who must call is told to phone it.
    External { key: String },
}

/// The external contact the national default's last level names.
pub const CSOC: &str = "csoc";

/// An organisation's channel webhook as its admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookView {
    pub url: String,
    /// The signing secret (`X-Wardline-Signature`).
    pub secret: String,
    pub enabled: bool,
    pub format: crate::domain::channel_post::ChannelFormat,
}

/// One external contact as a list shows it: whose it is (`None`: national), the contact,
/// and whether the person reading may change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ListedContact {
    pub org_code: Option<String>,
    pub contact: Contact,
    pub editable: bool,
}

/// An external contact as a decision needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Contact {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub phone: String,
    /// Empty: no email is sent.
    pub email: String,
    pub reporting_route: String,
}

impl Contact {
    /// What the person who must call is told: "Phone … on 0300 303 5222 now".
    pub fn instruction(&self) -> String {
        if self.phone.trim().is_empty() {
            format!("Contact {} now", self.name)
        } else {
            format!("Phone {} on {} now", self.name, self.phone)
        }
    }
}

/// One level of a policy as stored and edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LevelSpec {
    pub timeout_seconds: i32,
    pub targets: Vec<Target>,
}

/// The national default: the ICB's head of cyber, then the regional cyber lead, then NHS
/// England's CSOC (an external contact: emailed, and the person who must call is told to
/// phone it), fifteen minutes each, the whole path once more, then the task is flagged for
/// national attention.
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
                targets: vec![Target::External { key: CSOC.into() }],
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// The organisation's channel webhook, for its admins.
    pub webhook: Option<WebhookView>,
}

/// A task or command acknowledgement nobody acknowledged along the whole escalation path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FlaggedRow {
    pub reference: String,
    /// The task's title, or the command to acknowledge; marked when it is an exercise.
    pub what: String,
    pub org_name: String,
    /// When it was flagged.
    #[serde(with = "time::serde::rfc3339")]
    pub since: time::OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AckLink {
    pub title: String,
    pub incident_reference: String,
    pub already: bool,
}

str_enum!(NotificationStatus {
    /// Written, waiting to be sent (or to be sent again after a failure).
    Pending => "pending",
    /// Claimed by a delivery pass; seen again only if that pass died.
    Sending => "sending",
    Sent => "sent",
    /// Given up on after the last attempt.
    Failed => "failed",
    /// No longer needed (the task was acknowledged before a delayed page fell due).
    Cancelled => "cancelled",
});

/// How a notification travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The in-app inbox: written already delivered.
    Inbox,
    Email,
    /// The organisation's channel webhook (Teams, Slack).
    Webhook,
    /// A text message to the person's verified mobile (GOV.UK Notify).
    Sms,
    /// A post naming one person in their organisation's Microsoft Teams channel (their own
    /// notification rule; the channel's webhook transport carries it).
    Teams,
}

impl Channel {
    /// As stored in `notification.channel`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Inbox => "inbox",
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::Sms => "sms",
            Channel::Teams => "teams",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        [
            Channel::Inbox,
            Channel::Email,
            Channel::Webhook,
            Channel::Sms,
            Channel::Teams,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// What the engine read about one due escalation, for [`decide_with_rules`].
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    /// Where the escalation stands: the level last told (0: none yet) and the round.
    pub level: i32,
    pub round: i32,
    /// The policy in force.
    pub levels: &'a [LevelSpec],
    pub repeat_count: i32,
    /// What is not acknowledged (marked when it is an exercise), and its incident.
    pub title: &'a str,
    pub reference: &'a str,
    /// The channel webhook of the incident's organisation, if it has one switched on.
    pub webhook: Option<i64>,
    /// Whether email can be sent at all.
    pub email_on: bool,
    /// Where Wardline is reached, for links in messages.
    pub public_url: &'a str,
    /// The external contacts the policy names.
    pub contacts: &'a [Contact],
    /// The person who must phone an external contact: the task's assignee, if any (else
    /// whom the level before reaches).
    pub caller: Option<(i64, &'a str)>,
}

/// One notification to write to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Whom it is for, in the outbox's uniqueness key: `person:<id>` or `webhook:<id>`.
    pub recipient_key: String,
    pub person: Option<i64>,
    pub channel: Channel,
    pub title: String,
    pub body: String,
    /// Sent this long after the decision (a person's later rule); 0: at once.
    pub delay_minutes: i32,
}

/// What to do with one due escalation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Tell a level: move to it, due again after its time-out.
    Notify {
        level: i32,
        round: i32,
        fires_in_seconds: i32,
        /// Everyone told, once each, in the level's order.
        told: Vec<i64>,
        outbox: Vec<Outgoing>,
        /// The incident timeline's line.
        line: String,
    },
    /// Nobody acknowledged along the whole path: flag it for national attention.
    Flag { line: String },
}

impl Decision {
    /// The step taken, as [`next`] names it.
    pub fn step(&self) -> Next {
        match self {
            Decision::Notify { level, round, .. } => Next::Notify {
                level: *level,
                round: *round,
            },
            Decision::Flag { .. } => Next::Flag,
        }
    }
}

/// Decides one due escalation from what was read (`r`): which step comes next, whom its level
/// reaches (`reach`: a target's person and how they were found or named, `None` when nobody
/// holds it), and what each of them and the organisation's channel are sent. Each person
/// told is paged through `rules_of` (their notification rules in force, already narrowed to
/// the channels that reach them): their inbox, then one outbox row per rule, delayed ones
/// due after their delay. An exercise's messages (its title marked `[EXERCISE] `) start
/// with the mark.
pub fn decide_with_rules(
    r: &Reading<'_>,
    reach: impl Fn(&Target) -> Option<(i64, String)>,
    rules_of: impl Fn(i64) -> Vec<crate::domain::paging::Rule>,
) -> Decision {
    let (level, round) = match next(r.level, r.round, r.levels.len(), r.repeat_count) {
        Next::Flag => {
            return Decision::Flag {
                line: format!(
                    "“{}” is still not acknowledged after the whole escalation path: flagged for national attention",
                    r.title
                ),
            };
        }
        Next::Notify { level, round } => (level, round),
    };
    let spec = &r.levels[(level - 1) as usize];
    let people = people_reached(spec, &reach);
    let mut outbox = to_people(r, level, &people, &rules_of);
    let mut names: Vec<String> = people.iter().map(|t| t.1.clone()).collect();
    let mut told: Vec<i64> = people.iter().map(|t| t.0).collect();
    for c in spec.targets.iter().filter_map(|t| match t {
        Target::External { key } => r.contacts.iter().find(|c| c.key == *key),
        _ => None,
    }) {
        let caller = r.caller.map(|(p, n)| (p, n.to_owned())).or_else(|| {
            // Nobody assigned: whom the level before reaches (the last, before the first).
            let before = if level > 1 {
                level - 2
            } else {
                r.levels.len() as i32 - 1
            };
            r.levels
                .get(before as usize)
                .and_then(|l| l.targets.iter().find_map(&reach))
        });
        external(
            r,
            level,
            c,
            caller,
            &rules_of,
            &mut outbox,
            &mut names,
            &mut told,
        );
    }
    if let Some(hook) = r.webhook {
        outbox.push(to_webhook(r, hook, level, round, &names));
    }
    let names = if names.is_empty() {
        "nobody could be found for this level".to_owned()
    } else {
        names.join("; ")
    };
    let repeat = if round > 0 {
        format!(" (repeat {round})")
    } else {
        String::new()
    };
    Decision::Notify {
        level,
        round,
        fires_in_seconds: spec.timeout_seconds,
        told,
        outbox,
        line: format!(
            "“{}” not acknowledged in time: escalated to level {level}{repeat}: {names}",
            r.title
        ),
    }
}

/// The people a level's targets reach, each once, in the policy's order.
fn people_reached(
    spec: &LevelSpec,
    reach: &impl Fn(&Target) -> Option<(i64, String)>,
) -> Vec<(i64, String)> {
    let mut found: Vec<(i64, String)> = Vec::new();
    for f in spec.targets.iter().filter_map(reach) {
        if !found.iter().any(|(id, _)| *id == f.0) {
            found.push(f);
        }
    }
    found
}

/// The exercise mark (if any) and the task's title without it.
fn marked(title: &str) -> (&'static str, &str) {
    match title.strip_prefix(EXERCISE_MARK) {
        Some(bare) => (EXERCISE_MARK, bare),
        None => ("", title),
    }
}

/// The title every message of this escalation carries.
fn escalated_title(r: &Reading<'_>) -> String {
    let (mark, bare) = marked(r.title);
    format!(
        "{mark}Escalated to you: “{bare}” ({}) is not acknowledged",
        r.reference
    )
}

/// Each person reached: an inbox notice, and a page through each of their own rules.
fn to_people(
    r: &Reading<'_>,
    level: i32,
    people: &[(i64, String)],
    rules_of: &impl Fn(i64) -> Vec<crate::domain::paging::Rule>,
) -> Vec<Outgoing> {
    let (mark, bare) = marked(r.title);
    let reference = r.reference;
    let title = escalated_title(r);
    let mut outbox = Vec::new();
    for (pid, how) in people {
        let body = format!(
            "{mark}“{bare}” in incident {reference} has not been acknowledged in time. You are at level {level} of the escalation path ({how}). Open {}/incidents/{reference} to act.",
            r.public_url
        );
        outbox.push(Outgoing {
            recipient_key: format!("person:{pid}"),
            person: Some(*pid),
            channel: Channel::Inbox,
            title: title.clone(),
            body: body.clone(),
            delay_minutes: 0,
        });
        for rule in rules_of(*pid) {
            outbox.push(Outgoing {
                recipient_key: crate::domain::paging::page_key(*pid, &rule),
                person: Some(*pid),
                channel: rule.channel.channel(),
                title: title.clone(),
                body: body.clone(),
                delay_minutes: rule.delay_minutes,
            });
        }
    }
    outbox
}

/// The organisation's channel webhook: who the escalation reached, as JSON.
fn to_webhook(r: &Reading<'_>, hook: i64, level: i32, round: i32, names: &[String]) -> Outgoing {
    let (mark, bare) = marked(r.title);
    let body = serde_json::json!({
        "text": format!("{mark}Wardline: “{bare}” in {} is not acknowledged; escalated to level {level}: {}", r.reference, names.join("; ")),
        "incident": r.reference,
        "task": r.title,
        "level": level,
        "round": round,
    })
    .to_string();
    Outgoing {
        recipient_key: format!("webhook:{hook}"),
        person: None,
        channel: Channel::Webhook,
        title: escalated_title(r),
        body,
        delay_minutes: 0,
    }
}

/// An external contact at a level: an email to it (when it has an address and email is on),
/// and the person who must call told to phone it, in the inbox and through their own rules;
/// the timeline names both. An exercise's messages start with its mark.
#[allow(clippy::too_many_arguments)]
fn external(
    r: &Reading<'_>,
    level: i32,
    c: &Contact,
    caller: Option<(i64, String)>,
    rules_of: &impl Fn(i64) -> Vec<crate::domain::paging::Rule>,
    outbox: &mut Vec<Outgoing>,
    names: &mut Vec<String>,
    told: &mut Vec<i64>,
) {
    let reference = r.reference;
    let (mark, title) = marked(r.title);
    let instruction = c.instruction();
    let route = if c.reporting_route.trim().is_empty() {
        String::new()
    } else {
        format!(" Reporting route: {}.", c.reporting_route.trim())
    };
    let emailed = r.email_on && !c.email.trim().is_empty();
    if emailed {
        let who = caller
            .as_ref()
            .map(|(_, n)| format!("{n} has been asked to phone you"))
            .unwrap_or_else(|| "Nobody could be found to phone you".into());
        outbox.push(Outgoing {
            recipient_key: format!("external:{}", c.id),
            person: None,
            channel: Channel::Email,
            title: format!("{mark}Cyber incident {reference}: “{title}” is not acknowledged (Wardline)"),
            body: format!(
                "{mark}Wardline escalation, level {level}: “{title}” in incident {reference} has not been acknowledged in time. {who} on {}. This is a request for support unless they say otherwise.",
                if c.phone.trim().is_empty() { "your reporting route" } else { c.phone.as_str() }
            ),
            delay_minutes: 0,
        });
    }
    let email_note = if emailed {
        format!("email queued to {}", c.email.trim())
    } else {
        "no email sent".to_owned()
    };
    match caller {
        Some((pid, name)) => {
            let body = format!(
                "{mark}{instruction}: “{title}” in incident {reference} reached level {level} of the escalation path without acknowledgement.{route} Say whether the report is for information or a request for support. Open {}/incidents/{reference}.",
                r.public_url
            );
            let title = format!("{mark}{instruction} ({reference})");
            outbox.push(Outgoing {
                recipient_key: format!("person:{pid}"),
                person: Some(pid),
                channel: Channel::Inbox,
                title: title.clone(),
                body: body.clone(),
                delay_minutes: 0,
            });
            // Paged through their own rules, as everyone a level tells is.
            for rule in rules_of(pid) {
                outbox.push(Outgoing {
                    recipient_key: crate::domain::paging::page_key(pid, &rule),
                    person: Some(pid),
                    channel: rule.channel.channel(),
                    title: title.clone(),
                    body: body.clone(),
                    delay_minutes: rule.delay_minutes,
                });
            }
            if !told.contains(&pid) {
                told.push(pid);
            }
            names.push(format!("{} ({email_note}); {name}: {instruction}", c.name));
        }
        None => names.push(format!(
            "{} ({email_note}); nobody found to make the call: {instruction}",
            c.name
        )),
    }
}

/// How an exercise's titles and messages begin.
pub const EXERCISE_MARK: &str = "[EXERCISE] ";

#[cfg(test)]
mod tests {
    use super::*;

    /// The default notification rules (email when escalation email is on and the person
    /// takes it, and nothing else), as most tests below page people.
    fn decide(
        r: &Reading<'_>,
        reach: impl Fn(&Target) -> Option<(i64, String)>,
        takes_email: impl Fn(i64) -> bool,
    ) -> Decision {
        decide_paging(r, reach, takes_email, |_| false)
    }

    /// As [`decide`], also texting each person for whom `takes_text` holds (the default
    /// rules of someone with a verified mobile).
    fn decide_paging(
        r: &Reading<'_>,
        reach: impl Fn(&Target) -> Option<(i64, String)>,
        takes_email: impl Fn(i64) -> bool,
        takes_text: impl Fn(i64) -> bool,
    ) -> Decision {
        decide_with_rules(r, reach, |p| {
            let reach = crate::domain::paging::Reach {
                email: r.email_on && takes_email(p),
                sms: takes_text(p),
                teams: false,
            };
            crate::domain::paging::effective(&[], reach)
        })
    }

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

    fn role(key: &str) -> Target {
        Target::Role {
            key: key.into(),
            above: false,
            org: None,
        }
    }

    fn two_levels() -> Vec<LevelSpec> {
        vec![
            LevelSpec {
                timeout_seconds: 600,
                targets: vec![role("lead"), Target::Person { id: 7 }],
            },
            LevelSpec {
                timeout_seconds: 900,
                targets: vec![role("head")],
            },
        ]
    }

    fn reading(levels: &[LevelSpec], level: i32, round: i32) -> Reading<'_> {
        Reading {
            level,
            round,
            levels,
            repeat_count: 1,
            title: "Isolate the server",
            reference: "INC-1",
            webhook: None,
            email_on: true,
            public_url: "https://wardline.test",
            contacts: &[],
            caller: None,
        }
    }

    /// lead → person 3 by route, person 7 by name; head → nobody.
    fn reach(t: &Target) -> Option<(i64, String)> {
        match t {
            Target::Role { key, .. } if key == "lead" => Some((3, "holder at Trust".into())),
            Target::Person { id } => Some((*id, "Ann".into())),
            _ => None,
        }
    }

    #[test]
    fn a_due_escalation_tells_the_next_level_in_the_inbox_and_by_email() {
        let levels = two_levels();
        let d = decide(&reading(&levels, 0, 0), reach, |_| true);
        let Decision::Notify {
            level,
            round,
            fires_in_seconds,
            told,
            outbox,
            line,
        } = d
        else {
            panic!("expected a notification, got {d:?}");
        };
        assert_eq!((level, round, fires_in_seconds), (1, 0, 600));
        assert_eq!(told, [3, 7]);
        let sent: Vec<(&str, Channel)> = outbox
            .iter()
            .map(|o| (o.recipient_key.as_str(), o.channel))
            .collect();
        assert_eq!(
            sent,
            [
                ("person:3", Channel::Inbox),
                ("person:3", Channel::Email),
                ("person:7", Channel::Inbox),
                ("person:7", Channel::Email),
            ]
        );
        assert_eq!(
            outbox[0].title,
            "Escalated to you: “Isolate the server” (INC-1) is not acknowledged"
        );
        assert!(
            outbox[0]
                .body
                .contains("level 1 of the escalation path (holder at Trust)")
                && outbox[0]
                    .body
                    .contains("https://wardline.test/incidents/INC-1"),
            "{}",
            outbox[0].body
        );
        assert_eq!(
            line,
            "“Isolate the server” not acknowledged in time: escalated to level 1: holder at Trust; Ann"
        );
    }

    #[test]
    fn a_person_reached_twice_in_one_level_is_told_once() {
        let levels = vec![LevelSpec {
            timeout_seconds: 60,
            targets: vec![
                Target::Person { id: 7 },
                role("lead"),
                Target::Person { id: 7 },
            ],
        }];
        let d = decide(&reading(&levels, 0, 0), reach, |_| false);
        let Decision::Notify { told, outbox, .. } = d else {
            panic!("expected a notification");
        };
        assert_eq!(told, [7, 3]);
        assert_eq!(outbox.len(), 2, "inbox only, once each: {outbox:?}");
    }

    #[test]
    fn email_goes_only_when_it_is_on_and_the_person_takes_it() {
        let levels = two_levels();
        let emails = |d: Decision| match d {
            Decision::Notify { outbox, .. } => outbox
                .into_iter()
                .filter(|o| o.channel == Channel::Email)
                .filter_map(|o| o.person)
                .collect::<Vec<_>>(),
            Decision::Flag { .. } => panic!("expected a notification"),
        };
        assert_eq!(
            emails(decide(&reading(&levels, 0, 0), reach, |p| p == 7)),
            [7]
        );
        let off = Reading {
            email_on: false,
            ..reading(&levels, 0, 0)
        };
        assert!(emails(decide(&off, reach, |_| true)).is_empty());
    }

    #[test]
    fn a_level_nobody_holds_is_written_down_and_still_moves_on() {
        let levels = two_levels();
        let d = decide(&reading(&levels, 1, 0), reach, |_| true);
        assert_eq!(
            d,
            Decision::Notify {
                level: 2,
                round: 0,
                fires_in_seconds: 900,
                told: vec![],
                outbox: vec![],
                line: "“Isolate the server” not acknowledged in time: escalated to level 2: nobody could be found for this level".into(),
            }
        );
    }

    #[test]
    fn the_organisations_webhook_hears_every_step_with_the_names_told() {
        let levels = two_levels();
        let r = Reading {
            webhook: Some(42),
            ..reading(&levels, 2, 0)
        };
        let Decision::Notify { outbox, line, .. } = decide(&r, reach, |_| true) else {
            panic!("expected a notification");
        };
        let hook = outbox.last().expect("a webhook row");
        assert_eq!(
            (hook.recipient_key.as_str(), hook.person, hook.channel),
            ("webhook:42", None, Channel::Webhook)
        );
        let body: serde_json::Value = serde_json::from_str(&hook.body).unwrap();
        assert_eq!(body["incident"], "INC-1");
        assert_eq!(
            (body["level"].as_i64(), body["round"].as_i64()),
            (Some(1), Some(1))
        );
        assert_eq!(
            body["text"],
            "Wardline: “Isolate the server” in INC-1 is not acknowledged; escalated to level 1: holder at Trust; Ann"
        );
        assert!(line.contains("escalated to level 1 (repeat 1):"), "{line}");
    }

    #[test]
    fn people_with_a_verified_mobile_are_texted_as_well_as_emailed() {
        let levels = two_levels();
        let Decision::Notify { outbox, .. } =
            decide_paging(&reading(&levels, 0, 0), reach, |_| true, |p| p == 3)
        else {
            panic!("expected a notification");
        };
        let sent: Vec<(&str, Channel)> = outbox
            .iter()
            .map(|o| (o.recipient_key.as_str(), o.channel))
            .collect();
        assert_eq!(
            sent,
            [
                ("person:3", Channel::Inbox),
                ("person:3", Channel::Email),
                ("person:3", Channel::Sms),
                ("person:7", Channel::Inbox),
                ("person:7", Channel::Email),
            ]
        );
    }

    #[test]
    fn after_the_last_repeat_the_escalation_is_flagged() {
        let levels = two_levels();
        let d = decide(&reading(&levels, 2, 1), reach, |_| true);
        assert_eq!(d.step(), Next::Flag);
        assert_eq!(
            d,
            Decision::Flag {
                line: "“Isolate the server” is still not acknowledged after the whole escalation path: flagged for national attention".into()
            }
        );
    }

    #[test]
    fn channels_read_back_as_stored() {
        for c in [
            Channel::Inbox,
            Channel::Email,
            Channel::Webhook,
            Channel::Sms,
        ] {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!(Channel::parse("pager"), None);
    }
    #[test]
    fn each_person_told_is_paged_through_their_own_rules_delayed_ones_later() {
        use crate::domain::paging::{PageChannel, Rule};
        let levels = two_levels();
        let again = Rule {
            channel: PageChannel::Sms,
            delay_minutes: 5,
        };
        let rules = |p: i64| {
            if p == 3 {
                vec![Rule::at_once(PageChannel::Sms), again]
            } else {
                vec![]
            }
        };
        let Decision::Notify { outbox, .. } =
            decide_with_rules(&reading(&levels, 0, 0), reach, rules)
        else {
            panic!("expected a notification");
        };
        let sent: Vec<(&str, Channel, i32)> = outbox
            .iter()
            .map(|o| (o.recipient_key.as_str(), o.channel, o.delay_minutes))
            .collect();
        assert_eq!(
            sent,
            [
                ("person:3", Channel::Inbox, 0),
                ("person:3", Channel::Sms, 0),
                ("person:3+5m", Channel::Sms, 5),
                ("person:7", Channel::Inbox, 0),
            ],
            "the inbox always; person 7 set rules that reach them nowhere else"
        );
    }

    #[test]
    fn every_message_of_an_exercise_starts_with_its_mark() {
        let levels = two_levels();
        let r = Reading {
            title: "[EXERCISE] Isolate the server",
            webhook: Some(1),
            ..reading(&levels, 0, 0)
        };
        let Decision::Notify { outbox, line, .. } = decide_paging(&r, reach, |_| true, |_| true)
        else {
            panic!("expected a notification");
        };
        for o in &outbox {
            assert!(o.title.starts_with("[EXERCISE] "), "{}", o.title);
            let text = if o.channel == Channel::Webhook {
                let v: serde_json::Value = serde_json::from_str(&o.body).unwrap();
                v["text"].as_str().unwrap().to_owned()
            } else {
                o.body.clone()
            };
            assert!(text.starts_with("[EXERCISE] "), "{text}");
            assert_eq!(text.matches("[EXERCISE]").count(), 1, "{text}");
        }
        assert!(line.contains("[EXERCISE] Isolate the server"), "{line}");
    }

    fn csoc(email: &str) -> Contact {
        Contact {
            id: 5,
            key: CSOC.into(),
            name: "NHS England Cyber Security Operations Centre (CSOC)".into(),
            phone: "0300 303 5222".into(),
            email: email.into(),
            reporting_route: "NHS England's cyber incident reporting form".into(),
        }
    }

    #[test]
    fn the_national_default_ends_at_the_csoc_as_an_external_contact() {
        let (_, levels) = national_default();
        let last = &levels.last().unwrap().targets;
        assert_eq!(last, &[Target::External { key: CSOC.into() }]);
        assert_eq!(
            serde_json::to_string(last).unwrap(),
            r#"[{"type":"external","key":"csoc"}]"#
        );
    }

    #[test]
    fn the_csoc_level_emails_the_csoc_and_tells_the_assignee_to_phone_it() {
        let (repeat_count, levels) = national_default();
        let contacts = [csoc("csoc@example.test")];
        let r = Reading {
            contacts: &contacts,
            caller: Some((9, "Nadia Hussain")),
            repeat_count,
            ..reading(&levels, 2, 0)
        };
        let Decision::Notify {
            level,
            told,
            outbox,
            line,
            ..
        } = decide(&r, |_| None, |_| false)
        else {
            panic!("expected a notification");
        };
        assert_eq!((level, told), (3, vec![9]));
        let sent: Vec<(&str, Option<i64>, Channel)> = outbox
            .iter()
            .map(|o| (o.recipient_key.as_str(), o.person, o.channel))
            .collect();
        assert_eq!(
            sent,
            [
                ("external:5", None, Channel::Email),
                ("person:9", Some(9), Channel::Inbox)
            ]
        );
        assert!(
            outbox[0]
                .body
                .contains("Nadia Hussain has been asked to phone you on 0300 303 5222"),
            "{}",
            outbox[0].body
        );
        assert_eq!(
            outbox[1].title,
            "Phone NHS England Cyber Security Operations Centre (CSOC) on 0300 303 5222 now (INC-1)"
        );
        assert!(
            outbox[1]
                .body
                .contains("Reporting route: NHS England's cyber incident reporting form."),
            "{}",
            outbox[1].body
        );
        assert_eq!(
            line,
            "“Isolate the server” not acknowledged in time: escalated to level 3: NHS England Cyber Security Operations Centre (CSOC) (email queued to csoc@example.test); Nadia Hussain: Phone NHS England Cyber Security Operations Centre (CSOC) on 0300 303 5222 now"
        );
    }

    #[test]
    fn without_an_assignee_whom_the_level_before_reached_must_call_and_no_address_sends_no_email() {
        let levels = vec![
            LevelSpec {
                timeout_seconds: 600,
                targets: vec![role("lead")],
            },
            LevelSpec {
                timeout_seconds: 600,
                targets: vec![Target::External { key: CSOC.into() }],
            },
        ];
        let contacts = [csoc("")];
        let r = Reading {
            contacts: &contacts,
            ..reading(&levels, 1, 0)
        };
        let Decision::Notify {
            told, outbox, line, ..
        } = decide(&r, reach, |p| p == 3)
        else {
            panic!("expected a notification");
        };
        assert_eq!(told, [3]);
        let sent: Vec<(&str, Channel)> = outbox
            .iter()
            .map(|o| (o.recipient_key.as_str(), o.channel))
            .collect();
        assert_eq!(
            sent,
            [("person:3", Channel::Inbox), ("person:3", Channel::Email)]
        );
        assert!(
            line.ends_with(
                "level 2: NHS England Cyber Security Operations Centre (CSOC) (no email sent); holder at Trust: Phone NHS England Cyber Security Operations Centre (CSOC) on 0300 303 5222 now"
            ),
            "{line}"
        );
    }

    #[test]
    fn an_external_contact_nobody_can_phone_is_still_emailed_and_written_down() {
        let levels = vec![LevelSpec {
            timeout_seconds: 600,
            targets: vec![Target::External { key: CSOC.into() }],
        }];
        let contacts = [csoc("csoc@example.test")];
        let r = Reading {
            contacts: &contacts,
            ..reading(&levels, 0, 0)
        };
        let Decision::Notify {
            told, outbox, line, ..
        } = decide(&r, reach, |_| true)
        else {
            panic!("expected a notification");
        };
        assert!(told.is_empty());
        assert_eq!(outbox.len(), 1);
        assert!(
            outbox[0]
                .body
                .contains("Nobody could be found to phone you")
        );
        assert!(
            line.ends_with("nobody found to make the call: Phone NHS England Cyber Security Operations Centre (CSOC) on 0300 303 5222 now"),
            "{line}"
        );
        // A contact the policy names but nobody has set up reaches nobody, and says so.
        let none = Reading { contacts: &[], ..r };
        let Decision::Notify { line, outbox, .. } = decide(&none, reach, |_| true) else {
            panic!("expected a notification");
        };
        assert!(outbox.is_empty());
        assert!(
            line.ends_with("nobody could be found for this level"),
            "{line}"
        );
    }
}
