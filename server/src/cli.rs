//! The `wardline` command line.

use clap::{Parser, Subcommand};

use crate::config::ENV_HELP;

#[derive(Debug, Parser)]
#[command(name = "wardline", version, about = "Wardline: NHS cyber accountability and incident response", after_help = ENV_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, then serve the web app.
    Serve,
    /// Run database migrations only.
    Migrate,
    /// Load the demo data (South East London and fictional people); safe to run again.
    Demo,
}
