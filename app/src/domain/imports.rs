//! An import as the admin page shows it.

use serde::{Deserialize, Serialize};

str_enum!(ImportStatus {
    Running => "running",
    Finished => "finished",
    Failed => "failed",
});

/// A row that was refused, with its line in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RejectedLine {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportView {
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    pub status: ImportStatus,
    pub done: i64,
    pub total: i64,
    pub summary: Option<String>,
    pub rejected: Vec<RejectedLine>,
    pub parents_unknown: Vec<String>,
}
