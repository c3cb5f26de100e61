//! Replies to text messages: each text about a task carries a short code, and the person it
//! reached answers `ACK 4821` (or the code alone) to acknowledge the task or `ESC 4821` to
//! escalate it now. Reading a reply is here, so the rule is one and plainly tested.

use serde::{Deserialize, Serialize};

/// Digits in a reply code. Codes are minted with this many unless the space is crowded, when
/// [`LONG_CODE_DIGITS`] are used instead; a reply may carry either.
pub const CODE_DIGITS: usize = 4;
pub const LONG_CODE_DIGITS: usize = 6;

/// Longest message read as a reply; anything longer is not one.
const MAX_REPLY_CHARS: usize = 40;

/// What a reply asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ReplyVerb {
    Acknowledge,
    Escalate,
}

impl ReplyVerb {
    /// As the audit trail and the timeline name it.
    pub fn word(self) -> &'static str {
        match self {
            ReplyVerb::Acknowledge => "ACK",
            ReplyVerb::Escalate => "ESC",
        }
    }
}

/// A reply read: what it asks for and the code it carries. The code is a credential: this
/// type never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    pub verb: ReplyVerb,
    pub code: String,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("verb", &self.verb)
            .field("code", &"[REDACTED]")
            .finish()
    }
}

/// Reads a text message sent back: `ACK 4821`, `ack4821`, `Ack: 4821.`, `4821` alone (an
/// acknowledgement), `ESC 4821`; `ACKNOWLEDGE` and `ESCALATE` spelled out too. Spaces and the
/// punctuation phones add (`:`, `-`, `.`, `!`, `#`) are ignored, case does not matter.
/// Anything else, or a code of the wrong length, is `None`.
pub fn parse_reply(message: &str) -> Option<Reply> {
    if message.chars().count() > MAX_REPLY_CHARS {
        return None;
    }
    let squeezed: String = message
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ':' | '-' | '.' | '!' | '#' | ','))
        .collect::<String>()
        .to_ascii_uppercase();
    let (verb, code) = [
        ("ACKNOWLEDGE", ReplyVerb::Acknowledge),
        ("ACK", ReplyVerb::Acknowledge),
        ("ESCALATE", ReplyVerb::Escalate),
        ("ESC", ReplyVerb::Escalate),
    ]
    .iter()
    .find_map(|(word, verb)| squeezed.strip_prefix(word).map(|rest| (*verb, rest)))
    .unwrap_or((ReplyVerb::Acknowledge, squeezed.as_str()));
    let right_length = code.len() == CODE_DIGITS || code.len() == LONG_CODE_DIGITS;
    if right_length && code.bytes().all(|b| b.is_ascii_digit()) {
        Some(Reply {
            verb,
            code: code.to_owned(),
        })
    } else {
        None
    }
}

/// The line a text about a task ends its first part with.
pub fn reply_line(code: &str) -> String {
    format!("Reply ACK {code} to acknowledge or ESC {code} to escalate.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(message: &str) -> Option<(ReplyVerb, String)> {
        parse_reply(message).map(|r| (r.verb, r.code))
    }

    #[test]
    fn acknowledgements_are_read_however_they_are_typed() {
        for message in [
            "ACK 4821",
            "ack4821",
            "Ack 4821",
            "  ACK  4821 \n",
            "Ack: 4821.",
            "ACK-4821",
            "acknowledge 4821",
            "4821",
            " 4821 ",
            "48 21",
        ] {
            assert_eq!(
                read(message),
                Some((ReplyVerb::Acknowledge, "4821".into())),
                "{message:?}"
            );
        }
    }

    #[test]
    fn escalations_are_read_however_they_are_typed() {
        for message in ["ESC 4821", "esc4821", "Escalate 4821", "ESC: 4821!"] {
            assert_eq!(
                read(message),
                Some((ReplyVerb::Escalate, "4821".into())),
                "{message:?}"
            );
        }
    }

    #[test]
    fn long_codes_are_read_too() {
        assert_eq!(
            read("ACK 482193"),
            Some((ReplyVerb::Acknowledge, "482193".into()))
        );
    }

    #[test]
    fn anything_else_is_not_a_reply() {
        for message in [
            "",
            "ACK",
            "ESC",
            "thanks, on my way",
            "ACK 482",
            "ACK 48211",
            "ACK 4821 4822",
            "ACK 48a1",
            "NO 4821",
            "ACK ４８２１",
            "4821 ACK",
            "ESCACK 4821",
            &format!("ACK 4821{}", " ".repeat(40)),
            &"4".repeat(200_000),
        ] {
            assert_eq!(read(message), None, "{message:?}");
        }
    }

    #[test]
    fn a_reply_never_prints_its_code() {
        let reply = parse_reply("ACK 4821").unwrap();
        assert!(!format!("{reply:?}").contains("4821"));
    }

    #[test]
    fn the_reply_line_names_both_answers() {
        assert_eq!(
            reply_line("4821"),
            "Reply ACK 4821 to acknowledge or ESC 4821 to escalate."
        );
    }
}
