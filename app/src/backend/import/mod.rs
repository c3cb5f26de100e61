//! Imports from outside: the ODS organisation files.

pub mod jobs;
pub mod ods;
