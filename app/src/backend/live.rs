//! Live events: what changed, for the pages open on it. A leaf: it names nothing else in
//! `backend`, so anything may publish or hear one without importing the rest.

/// Something changed on an incident: its page and the task lists of these people refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEvent {
    pub reference: String,
    pub people: Vec<i64>,
    /// Sent here by another instance (through PostgreSQL), so not sent on again.
    pub relayed: bool,
}

/// Where live events are sent within this process. On PostgreSQL the server's relay also
/// carries them to and from other instances (LISTEN/NOTIFY).
pub type Sender = tokio::sync::broadcast::Sender<LiveEvent>;
