//! Server functions: the HTTP surface of Wardline, one file per area. Each checks who may
//! call it, calls into `backend`, and returns `domain` types.

pub mod accountability;
pub mod admin;
pub mod assets;
pub mod auth;
pub mod breakglass;
pub mod caf;
pub mod escalation;
pub mod exercises;
pub mod incidents;
pub mod orgs;
pub mod people;
pub mod reviews;
pub mod runbooks;

/// Endpoint prefixes whose functions change shared data. Regulators are refused by all of
/// them (a test walks every registered function under these prefixes).
pub const WRITE_AREAS: &[&str] = &[
    "/api/admin/",
    "/api/manage/",
    "/api/incidents/declare",
    "/api/incidents/change",
    "/api/incidents/lead/",
    "/api/runbooks/save",
    "/api/ack/confirm",
    "/api/inbox/take",
    "/api/tasks/act",
    "/api/reviews/close",
];
