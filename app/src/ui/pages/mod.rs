//! One module per page.

pub mod account;
mod account_reach;
pub mod assets;
pub mod breakglass;
pub mod caf;
pub mod chart;
pub mod contacts;
pub mod escalation;
pub mod exercises;
pub mod import;
pub mod incidents;
pub mod integrations;
pub mod invite;
pub mod not_found;
pub mod on_call;
pub mod on_call_calendar;
pub mod org_page;
pub mod org_tree;
pub mod overview;
pub mod reviews;
pub mod runbooks;
pub mod sign_in;
