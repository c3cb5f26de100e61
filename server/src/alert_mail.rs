//! Alerts by email, for security tools that can only send mail: the mail server pipes each
//! message for `alerts-…@` to `wardline alert-mail`, and the address decides the alert
//! source (it is as secret as the source's key). The subject is the alert's title and its
//! key (so the same alert mailed again joins the open incident); a subject starting
//! "RESOLVED" says it is over; the text of the body is the description.

use anyhow::{Context, anyhow};
use app::backend::api_access::alerts::{self, Alert, AlertOutcome, AlertStatus};
use app::backend::state::AppState;

/// The first recipient whose address is an alert source's, from `To`, `Cc` and
/// `Delivered-To` (the last is what a mail server adds when it delivers to an alias).
fn recipient(msg: &mail_parser::Message<'_>) -> Option<String> {
    let mut found = Vec::new();
    for list in [msg.to(), msg.cc()].into_iter().flatten() {
        for a in list.iter() {
            if let Some(addr) = a.address() {
                found.push(addr.to_owned());
            }
        }
    }
    if let Some(d) = msg.header_raw("Delivered-To") {
        found.push(d.trim().to_owned());
    }
    found
        .into_iter()
        .find(|a| a.to_ascii_lowercase().starts_with("alerts-"))
}

/// The subject without reply and forward marks, and whether it says the alert resolved.
fn title_of(subject: &str) -> (String, bool) {
    let mut s = subject.trim();
    let mut resolved = false;
    loop {
        let lower = s.to_ascii_lowercase();
        let cut = [
            "re:",
            "fwd:",
            "fw:",
            "resolved:",
            "[resolved]",
            "resolved -",
        ]
        .into_iter()
        .find(|p| lower.starts_with(p));
        match cut {
            Some(p) => {
                resolved |= p.contains("resolved");
                s = s[p.len()..].trim_start();
            }
            None => break,
        }
    }
    let title: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (title, resolved)
}

/// Receives one alert email (`raw`, as the mail server hands it over). `to` overrides the
/// recipient read from the message (a pipe that knows the envelope recipient passes it).
pub async fn receive(
    state: &AppState,
    raw: &[u8],
    to: Option<&str>,
) -> anyhow::Result<AlertOutcome> {
    let msg = mail_parser::MessageParser::default()
        .parse(raw)
        .ok_or_else(|| anyhow!("this is not an email message"))?;
    let address = match to {
        Some(t) => t.to_owned(),
        None => recipient(&msg).context("no alerts-… address among the recipients")?,
    };
    let local = address.split('@').next().unwrap_or_default();
    let source = alerts::by_email(state, local)
        .await
        .map_err(|_| anyhow!("{address} is not an alert source's address (or it was revoked)"))?;
    let (title, resolved) = title_of(msg.subject().unwrap_or("Alert by email"));
    let title: String = if title.is_empty() {
        "Alert by email".into()
    } else {
        title
    };
    let title: String = title.chars().take(200).collect();
    let description: String = msg
        .body_text(0)
        .map(|b| b.trim().chars().take(1800).collect())
        .unwrap_or_default();
    let alert = Alert {
        alert_key: title.to_lowercase(),
        title,
        status: if resolved {
            AlertStatus::Resolved
        } else {
            AlertStatus::Firing
        },
        kind: None,
        description: Some(description),
        systems: None,
        location: None,
    };
    Ok(alerts::receive(state, &source, alert).await?)
}

#[cfg(test)]
mod tests {
    use super::title_of;

    #[test]
    fn a_subject_gives_the_title_and_whether_it_resolved() {
        assert_eq!(
            title_of("  Ransomware   on WS-0231 "),
            ("Ransomware on WS-0231".into(), false)
        );
        assert_eq!(
            title_of("RESOLVED: Ransomware on WS-0231"),
            ("Ransomware on WS-0231".into(), true)
        );
        assert_eq!(
            title_of("Fwd: [Resolved] Ransomware on WS-0231"),
            ("Ransomware on WS-0231".into(), true)
        );
        assert_eq!(
            title_of("Re: Resolved alerts summary"),
            ("Resolved alerts summary".into(), false)
        );
    }
}
