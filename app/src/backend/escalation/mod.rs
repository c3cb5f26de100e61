//! Escalation and delivery. Every task (and every commander's acknowledgement) has a row in
//! `escalation` saying when its next step is due. The engine wakes for the earliest
//! deadline, and decides each due row with one conditional update (still unacknowledged,
//! still at this level, still due) in a transaction that also writes the notifications to
//! the outbox under a uniqueness key (subject, level, round, recipient, channel). So two
//! engines on one database, or one restarted after a crash, never fire a step twice, and a
//! decision is never lost between being made and being delivered. Delivery is at least once,
//! with retries and back-off; every attempt is recorded and put on the incident timeline.
//!
//! Time comes from a [`Clock`], so tests move it.
//!
//! - `engine.rs`: the loop; reads due rows, decides, takes each step, writes, wakes.
//! - `reading.rs`: what the engine reads before deciding; the decision itself is the pure
//!   `domain::escalation::decide_with_rules`.
//! - `deliver.rs`: claims outbox rows, addresses them, sends, records each attempt.
//! - `outbox.rs`: notification rows and the one idempotent insert everyone writes them with.
//! - The transports themselves (email, webhook, text messages through GOV.UK Notify) are
//!   `backend::transport`, shared with `contacts`, which texts verification codes.
//! - `tracking.rs`: starting, acknowledging and restarting a subject's escalation.
//! - `policies.rs`: the policy in force, editing it, reading it as a path.
//! - `links.rs`: signed acknowledgement links.
//! - `channel.rs`: a channel webhook's post (Teams card, Slack, JSON), written at sending.
//! - `inbox.rs`, `preferences.rs`, `webhooks.rs`, `flagged.rs`: a person's inbox, their
//!   email preference, an organisation's channel webhook, the flagged list.

mod channel;
mod clock;
mod deliver;
mod engine;
pub mod fallthrough;
mod flagged;
mod inbox;
mod links;
pub mod outbox;
mod policies;
mod preferences;
mod reading;
mod tracking;
mod webhooks;

pub use crate::backend::transport::{
    Delivery, MailSettings, NotifySettings, Sms, webhook_signature,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::Engine;
pub use flagged::flagged;
pub use inbox::{inbox, mark_read, unread};
pub use links::{link_info, sign_link, signing_key, verify_link};
pub use outbox::{assigned, assigned_all};
pub use policies::{
    Policy, levels_from, policy_along, policy_for, policy_view, save_policy, save_policy_for,
    seed_policy,
};
pub use preferences::{set_wants_email, wants_email};
pub use tracking::{COMMAND, TASK, acknowledge, first_deadline, restart, tracking};
pub use webhooks::set_webhook;
