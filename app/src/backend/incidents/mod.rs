//! Incidents: declaring one instantiates the runbook version in force into tasks, in one
//! transaction; each task goes to the current holder of its role in the organisation, else
//! the deputy, else up the tree, and every fallback is written down. Task changes are
//! conditional updates, so two people acting at once get one outcome.
//!
//! - `declaring/`: plan, prepare and write a declaration (the group-commit writer);
//! - `view`: the incident page;
//! - `lists`: the incident list, a page at a time, and a person's tasks as a worklist;
//! - `tasks`: the task state machine;
//! - `replies`: acknowledging or escalating a task by replying to its text;
//! - `lifecycle`: level and status, awareness, command roles;
//! - `obligations`: the reporting obligations ledger and its decisions;
//! - `linked`: affected organisations, linked assets, supplier-linked incidents;
//! - `access`: who may read or lead an incident;
//! - `export`: the timeline for export.
//!
//! The runbook in force for a declaration is `backend::runbooks`'s.

mod access;
pub(crate) mod declaring;
mod export;
mod lifecycle;
mod linked;
mod lists;
mod obligations;
mod replies;
mod tasks;
mod view;

pub use crate::domain::incidents::TaskAction;
pub use declaring::{Declarations, DeclareInput, Declared};
pub use export::{export, verify_timelines};
pub use lifecycle::{acknowledge_command, assign_command, change, set_awareness};
pub use linked::{add_affected, link_asset, open_linked};
pub use lists::{IncidentFilter, list, list_where, my_tasks, my_worklist};
pub use obligations::{Decision, Report, decide, designate, record_report};
pub use replies::{ReplyOutcome, reply_by_text};
pub use tasks::{Taken, act, act_paging, take_escalated};
pub use view::view;

pub(crate) use access::{find_readable, find_readable_by_id, may_lead, people_of, touch};
pub(crate) use declaring::bounded;
pub(crate) use lifecycle::finish;
pub(crate) use obligations::tally;
pub(crate) use view::command_candidates;
