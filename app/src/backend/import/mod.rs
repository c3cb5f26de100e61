//! Imports from outside: the ODS organisation files.

pub mod ods;
