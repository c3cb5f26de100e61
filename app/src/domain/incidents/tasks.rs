//! Tasks: their states, the actions people take on them, and the state machine between.

use serde::{Deserialize, Serialize};

str_enum!(TaskState {
    Open => "open",
    Acknowledged => "acknowledged",
    InProgress => "in_progress",
    Done => "done",
    NotApplicable => "not_applicable",
});

impl TaskState {
    pub fn label(self) -> &'static str {
        match self {
            TaskState::Open => "Waiting for acknowledgement",
            TaskState::Acknowledged => "Acknowledged",
            TaskState::InProgress => "In progress",
            TaskState::Done => "Done",
            TaskState::NotApplicable => "Not applicable",
        }
    }
}

str_enum!(TaskAction {
    Acknowledge => "acknowledge",
    Start => "start",
    Complete => "complete",
    NotApplicable => "not_applicable",
    Reassign => "reassign",
});

/// Why an action does not apply to a task where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The task is done or marked not applicable; nothing more can happen to it.
    Finished,
    /// The task has moved past the point where this action makes sense (starting or
    /// acknowledging a task already under way).
    MovedOn,
}

/// The task state machine: where a task in state `from` goes when `action` is taken, or why
/// it cannot be. Reassigning hands the task to someone new, who must acknowledge it again.
pub fn transition(from: TaskState, action: TaskAction) -> Result<TaskState, Refused> {
    use TaskAction as A;
    use TaskState as S;
    match (from, action) {
        (S::Done | S::NotApplicable, _) => Err(Refused::Finished),
        (S::Open, A::Acknowledge) => Ok(S::Acknowledged),
        (S::Open | S::Acknowledged, A::Start) => Ok(S::InProgress),
        (_, A::Acknowledge | A::Start) => Err(Refused::MovedOn),
        (_, A::Complete) => Ok(S::Done),
        (_, A::NotApplicable) => Ok(S::NotApplicable),
        (_, A::Reassign) => Ok(S::Open),
    }
}

impl TaskAction {
    /// The states a task may be in for this action to apply.
    pub fn applies_from(self) -> Vec<TaskState> {
        TaskState::ALL
            .iter()
            .copied()
            .filter(|s| transition(*s, self).is_ok())
            .collect()
    }
}
