//! Server functions: the HTTP surface of Wardline, one file per area. Each checks who may
//! call it, calls into `backend`, and returns `domain` types.

pub mod accountability;
pub mod admin;
pub mod assets;
pub mod auth;
pub mod breakglass;
pub mod caf;
pub mod contacts;
pub mod escalation;
pub mod exercises;
pub mod external_contacts;
pub mod incidents;
pub mod orgs;
pub mod people;
pub mod reviews;
pub mod rotas;
pub mod runbooks;
pub mod tokens;

/// Server functions that change nothing: anyone signed in may call them, regulators too.
pub const READ_ENDPOINTS: &[&str] = &[
    "/api/ack/info",
    "/api/assets/catalogue",
    "/api/assets/get",
    "/api/auth/grant_requests",
    "/api/auth/mfa_pending",
    "/api/auth/sessions",
    "/api/auth/sso_providers",
    "/api/auth/status",
    "/api/breakglass/pack",
    "/api/caf/readiness",
    "/api/chart/get",
    "/api/chart/overview",
    "/api/contacts/mine",
    "/api/contacts/of_person",
    "/api/contacts/rules",
    "/api/escalation/flagged",
    "/api/escalation/policy",
    "/api/exercises/list",
    "/api/exercises/report",
    "/api/external_contacts/list",
    "/api/imports/status",
    "/api/inbox/list",
    "/api/inbox/unread",
    "/api/incidents/declare_options",
    "/api/incidents/get",
    "/api/incidents/list",
    "/api/incidents/verify",
    "/api/integrations/get",
    "/api/me/holdings",
    "/api/me/prefs",
    "/api/orgs/detail",
    "/api/orgs/tree",
    "/api/people/get",
    "/api/people/list",
    "/api/reviews/get",
    "/api/reviews/mine",
    "/api/roles/list",
    "/api/rotas/calendar",
    "/api/rotas/now",
    "/api/rotas/page",
    "/api/rotas/who",
    "/api/runbooks/get",
    "/api/runbooks/index",
    "/api/tasks/mine",
    "/api/tokens/mine",
];

/// Server functions that change only the caller's own sign-in, session, inbox or contact
/// methods: read-only callers need them as much as anyone.
pub const OWN_ACCOUNT_ENDPOINTS: &[&str] = &[
    "/api/auth/accept_grant_request",
    "/api/auth/accept_invite",
    "/api/auth/change_password",
    "/api/auth/mfa_begin",
    "/api/auth/mfa_confirm",
    "/api/auth/refuse_grant_request",
    "/api/auth/second_factor",
    "/api/auth/sign_in",
    "/api/auth/sign_out",
    "/api/auth/sign_out_everywhere",
    "/api/contacts/add_mobile",
    "/api/contacts/add_rule",
    "/api/contacts/remove_mobile",
    "/api/contacts/remove_rule",
    "/api/contacts/resend_code",
    "/api/contacts/test_text",
    "/api/contacts/verify_mobile",
    "/api/inbox/read",
    "/api/me/set_prefs",
    "/api/rotas/calendar_create",
    "/api/rotas/calendar_revoke",
    "/api/tokens/create",
    "/api/tokens/revoke",
];

/// Whether a server function changes shared data. Deny by default: every function not
/// declared above is a write, so regulators are refused a new one until it is declared
/// (a test walks every registered function and holds each to its declaration).
pub fn is_write(path: &str) -> bool {
    !READ_ENDPOINTS.contains(&path) && !OWN_ACCOUNT_ENDPOINTS.contains(&path)
}
