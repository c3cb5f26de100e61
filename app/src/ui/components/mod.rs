//! Components shared by several pages.

pub mod layout;
pub mod org_tree;
pub mod tags;
