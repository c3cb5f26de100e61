//! Database entities. They stay on the server and convert into `domain` types.

pub mod org_link;
pub mod organisation;
pub mod person;
pub mod supplier_service;
