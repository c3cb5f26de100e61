//! One module per page.

pub mod not_found;
pub mod org_page;
pub mod org_tree;
