//! Live events: what changed, for the pages open on it. A leaf: it names nothing else in
//! `backend`, so anything may publish or hear one without importing the rest.

/// Something changed on an incident: its page and the task lists of these people refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEvent {
    pub reference: String,
    pub people: Vec<i64>,
}

/// Where live events are sent within this process. (Several instances would relay these
/// through PostgreSQL LISTEN/NOTIFY; not built yet.)
pub type Sender = tokio::sync::broadcast::Sender<LiveEvent>;
