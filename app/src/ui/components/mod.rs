//! Components shared by several pages.

pub mod forms;
pub mod layout;
pub mod live;
pub mod org_tree;
pub mod pager;
pub mod raw_text;
pub mod tags;
