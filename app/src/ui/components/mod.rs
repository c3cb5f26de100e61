//! Components shared by several pages.

pub mod forms;
pub mod layout;
pub mod org_tree;
pub mod tags;
