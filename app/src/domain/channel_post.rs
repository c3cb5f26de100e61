//! What an organisation's channel (Teams, Slack) is told when a task escalates, and how it is
//! written for each kind of channel.
//!
//! Microsoft retired Office 365 connectors: Teams now takes posts through a Workflows flow
//! ("Post to a channel when a webhook request is received"), which accepts only Adaptive
//! Cards, wrapped as a `message` with one attachment. Slack's incoming webhooks take `text`
//! (the notification) and `blocks` (what is shown). `json` is Wardline's own payload, for
//! receivers that check the signature and read the fields.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How a channel webhook is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ChannelFormat {
    /// An Adaptive Card for a Teams Workflows webhook.
    #[default]
    Teams,
    /// Slack-compatible `text` and `blocks`.
    Slack,
    /// Wardline's own JSON.
    Json,
}

impl ChannelFormat {
    pub const ALL: [ChannelFormat; 3] = [
        ChannelFormat::Teams,
        ChannelFormat::Slack,
        ChannelFormat::Json,
    ];

    /// As stored and as forms send it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelFormat::Teams => "teams",
            ChannelFormat::Slack => "slack",
            ChannelFormat::Json => "json",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelFormat> {
        ChannelFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim())
    }

    /// As an admin chooses it.
    pub fn label(self) -> &'static str {
        match self {
            ChannelFormat::Teams => "Microsoft Teams (Workflows webhook, Adaptive Card)",
            ChannelFormat::Slack => "Slack-compatible (text and blocks)",
            ChannelFormat::Json => "Wardline JSON (for your own receiver)",
        }
    }
}

/// Someone this escalation step tells, and where they acknowledge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Paged {
    pub name: String,
    /// The signed acknowledge page for this person's own notice: it asks them to sign in
    /// and confirm, and works for nobody else.
    pub ack_url: Option<String>,
}

/// One escalation step as a channel is told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChannelPost {
    /// The line the decision wrote ("Wardline: “…” in … is not acknowledged; …").
    pub text: String,
    pub incident: String,
    pub task: String,
    pub level: i32,
    pub round: i32,
    pub exercise: bool,
    pub paged: Vec<Paged>,
    /// The incident's page.
    pub incident_url: String,
}

/// Adaptive Card text takes a small Markdown subset (emphasis, links, code): what people
/// typed is shown as typed, its `*`, `_`, brackets and backticks escaped (CommonMark
/// backslash escapes), so a title cannot become a link.
fn card_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\*_[]`".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Slack's mrkdwn needs only `&`, `<` and `>` escaped.
fn slack_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl ChannelPost {
    fn headline(&self) -> String {
        let mark = if self.exercise { "[EXERCISE] " } else { "" };
        format!(
            "{mark}Not acknowledged: “{}” ({})",
            self.task, self.incident
        )
    }

    fn who(&self) -> String {
        if self.paged.is_empty() {
            "Nobody could be found for this level".into()
        } else {
            self.paged
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        }
    }

    fn step(&self) -> String {
        if self.round > 0 {
            format!("Level {} (repeat {})", self.level, self.round)
        } else {
            format!("Level {}", self.level)
        }
    }

    /// The body to post, in `format`.
    pub fn render(&self, format: ChannelFormat) -> Value {
        match format {
            ChannelFormat::Teams => self.adaptive_card(),
            ChannelFormat::Slack => self.slack(),
            ChannelFormat::Json => json!({
                "headline": self.headline(),
                "text": self.text,
                "incident": self.incident,
                "task": self.task,
                "level": self.level,
                "round": self.round,
                "exercise": self.exercise,
                "paged": self.paged,
                "incident_url": self.incident_url,
            }),
        }
    }

    /// A `message` carrying one Adaptive Card (version 1.4, which Teams renders): the
    /// headline, the facts, and a button per person to their signed acknowledge page.
    fn adaptive_card(&self) -> Value {
        let mut actions: Vec<Value> = self
            .paged
            .iter()
            .filter_map(|p| {
                Some(json!({
                    "type": "Action.OpenUrl",
                    "title": format!("Acknowledge ({})", p.name),
                    "url": p.ack_url.as_ref()?,
                }))
            })
            .collect();
        actions.push(json!({
            "type": "Action.OpenUrl",
            "title": "Open the incident",
            "url": self.incident_url,
        }));
        let mut body = vec![json!({
            "type": "TextBlock",
            "text": card_text(&self.headline()),
            "weight": "Bolder",
            "size": "Medium",
            "color": "Attention",
            "wrap": true,
        })];
        body.push(json!({
            "type": "FactSet",
            "facts": [
                { "title": "Incident", "value": card_text(&self.incident) },
                { "title": "Task", "value": card_text(&self.task) },
                { "title": "Escalation", "value": self.step() },
                { "title": "Paged now", "value": card_text(&self.who()) },
            ],
        }));
        if self.exercise {
            body.push(json!({
                "type": "TextBlock",
                "text": "This is an exercise.",
                "isSubtle": true,
                "wrap": true,
            }));
        }
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                    "actions": actions,
                },
            }],
        })
    }

    /// Slack-compatible: `text` for the notification, `blocks` for what is shown, with a
    /// link per person to their acknowledge page.
    fn slack(&self) -> Value {
        let mut lines = vec![
            format!("*{}*", slack_text(&self.headline())),
            format!("{} · paged now: {}", self.step(), slack_text(&self.who())),
        ];
        for p in &self.paged {
            if let Some(url) = &p.ack_url {
                lines.push(format!("<{url}|Acknowledge ({})>", slack_text(&p.name)));
            }
        }
        lines.push(format!("<{}|Open the incident>", self.incident_url));
        json!({
            "text": slack_text(&self.headline()),
            "blocks": [{
                "type": "section",
                "text": { "type": "mrkdwn", "text": lines.join("\n") },
            }],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(exercise: bool) -> ChannelPost {
        ChannelPost {
            text: "Wardline: “Isolate” in INC-1 is not acknowledged".into(),
            incident: "INC-1".into(),
            task: "Isolate affected machines [now](https://evil.test)".into(),
            level: 2,
            round: 1,
            exercise,
            paged: vec![
                Paged {
                    name: "Sam Whitfield".into(),
                    ack_url: Some("https://wardline.test/ack/1.2.ab".into()),
                },
                Paged {
                    name: "CSOC".into(),
                    ack_url: None,
                },
            ],
            incident_url: "https://wardline.test/incidents/INC-1".into(),
        }
    }

    #[test]
    fn teams_gets_one_adaptive_card_with_the_facts_and_a_button_per_person_paged() {
        let v = post(false).render(ChannelFormat::Teams);
        assert_eq!(v["type"], "message");
        let a = &v["attachments"][0];
        assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
        let card = &a["content"];
        assert_eq!(
            (card["type"].as_str(), card["version"].as_str()),
            (Some("AdaptiveCard"), Some("1.4"))
        );
        let facts: Vec<(&str, &str)> = card["body"][1]["facts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["title"].as_str().unwrap(), f["value"].as_str().unwrap()))
            .collect();
        assert_eq!(facts[0], ("Incident", "INC-1"));
        assert_eq!(facts[2], ("Escalation", "Level 2 (repeat 1)"));
        assert_eq!(facts[3], ("Paged now", "Sam Whitfield; CSOC"));
        // What was typed shows as typed: no link made of a task's title.
        assert!(facts[1].1.contains("\\[now\\](https://evil.test)"));
        let actions = card["actions"].as_array().unwrap();
        assert_eq!(
            actions.len(),
            2,
            "one for Sam (CSOC has no page), one for the incident"
        );
        assert_eq!(actions[0]["title"], "Acknowledge (Sam Whitfield)");
        assert_eq!(actions[0]["url"], "https://wardline.test/ack/1.2.ab");
        assert_eq!(actions[1]["url"], "https://wardline.test/incidents/INC-1");
    }

    #[test]
    fn an_exercise_says_so_in_every_format() {
        for format in ChannelFormat::ALL {
            let body = post(true).render(format).to_string();
            assert!(body.contains("EXERCISE"), "{format:?}: {body}");
            let body = post(false).render(format).to_string();
            assert!(!body.contains("EXERCISE"), "{format:?}: {body}");
        }
    }

    #[test]
    fn slack_gets_text_and_a_section_with_links_escaped_as_slack_reads_them() {
        let mut p = post(false);
        p.paged[0].name = "<!channel> & co".into();
        let v = p.render(ChannelFormat::Slack);
        assert!(
            v["text"]
                .as_str()
                .unwrap()
                .starts_with("Not acknowledged: “Isolate")
        );
        let section = v["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(section.contains("&lt;!channel&gt; &amp; co"), "{section}");
        assert!(!section.contains("<!channel>"));
        assert!(section.contains(
            "<https://wardline.test/ack/1.2.ab|Acknowledge (&lt;!channel&gt; &amp; co)>"
        ));
    }

    #[test]
    fn formats_read_back_from_what_is_stored() {
        for f in ChannelFormat::ALL {
            assert_eq!(ChannelFormat::parse(f.as_str()), Some(f));
        }
        assert_eq!(ChannelFormat::parse("msteams"), None);
    }
}
