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
    /// Refuses a database holding anything but demo data.
    Demo {
        /// Also build a synthetic England of the real shape (7 regions, 42 ICBs, about 210
        /// trusts with sites, about 6,300 practices, suppliers, some 60,000 holdings).
        #[arg(long)]
        national: bool,
    },
    /// Administration from the server's own shell.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Import organisations from outside.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Single sign-on: the OpenID Connect identity providers people may sign in with.
    #[command(subcommand)]
    Sso(SsoCommand),
    /// Check every incident timeline's hash chain and signed head (or one incident's), and
    /// say for each broken one what happened: an entry altered or removed, the timeline
    /// truncated, its hashes recomputed or cleared, its head removed or forged, or the
    /// incident's facts edited outside it. Exits non-zero if any is broken.
    VerifyTimeline {
        /// An incident reference, such as WL-20261128-AB12CD34.
        reference: Option<String>,
    },
    /// The secret key (WARDLINE_SECRET_KEY_FILE).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Take an online, consistent copy of the SQLite database into FILE (which must not
    /// exist) while the server runs. The secret key file is not in it: back that up apart.
    Backup { file: std::path::PathBuf },
    /// Move this SQLite deployment's data into an empty PostgreSQL database, in one
    /// transaction, then check row counts and every timeline on the copy.
    Copy {
        /// The target, postgres://user:password@host:port/database (a new, empty database).
        #[arg(long)]
        to: String,
    },
    /// Receive one alert email on standard input, as a mail server pipes it (for example a
    /// Postfix alias `alerts-…: "|wardline alert-mail"`): the alerts-… recipient decides the
    /// alert source, and it is taken as an alert sent with that source's key would be.
    AlertMail {
        /// The envelope recipient, when the mail server passes it (else read from the message).
        #[arg(long)]
        to: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new key, re-encrypt every stored secret and re-sign every timeline head under
    /// it in one transaction, then drop the old key from the file. Back the file up after.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import an ODS file (headerless CSV as published): etr.csv, eccg.csv or epraccur.csv.
    /// Safe to run again: unchanged rows are left alone and the report says so.
    Ods {
        #[arg(long, value_parser = ["trusts", "icbs", "practices"])]
        kind: String,
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Add an identity provider (or replace the one with this short name). Register
    /// Wardline with the provider first, with the redirect address
    /// {WARDLINE_PUBLIC_URL}/sso/{short name}/callback.
    Add {
        /// Its short name, in addresses: letters, digits and hyphens (nhsmail).
        #[arg(long)]
        slug: String,
        /// Its name on the sign-in button ("NHSmail").
        #[arg(long)]
        name: String,
        /// The issuer URL (for Entra ID, https://login.microsoftonline.com/{tenant}/v2.0).
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
        /// A file holding the client secret (read at each sign-in; never stored).
        #[arg(long)]
        client_secret_file: String,
        /// Email domains it may sign in, comma-separated (nhs.net).
        #[arg(long, value_delimiter = ',')]
        domains: Vec<String>,
        /// A claim holding the ODS code of the person's organisation, which must be theirs.
        #[arg(long)]
        org_claim: Option<String>,
        /// Count the provider's multi-factor sign-in (its amr claim) as Wardline's second step.
        #[arg(long)]
        trust_mfa: bool,
    },
    /// List the identity providers.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a national admin. Everyone else joins by invitation. The password is read from
    /// the terminal (or standard input), never from the command line.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// The national body the admin belongs to (created if missing).
        #[arg(long, default_value = "X24")]
        org: String,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn help_lists_every_subcommand_and_variable() {
        let help = Cli::command().render_long_help().to_string();
        for word in [
            "serve",
            "migrate",
            "demo",
            "import",
            "admin",
            "WARDLINE_DATABASE_URL",
            "WARDLINE_ADDR",
            "WARDLINE_COOKIE_SECURE",
            "WARDLINE_SECRET_KEY_FILE",
            "keys",
            "backup",
            "copy",
        ] {
            assert!(help.contains(word), "--help lacks {word}");
        }
    }

    #[test]
    fn the_subcommands_parse() {
        use clap::Parser;
        assert!(Cli::try_parse_from(["wardline", "serve"]).is_ok());
        assert!(Cli::try_parse_from(["wardline", "keys", "rotate"]).is_ok());
        assert!(Cli::try_parse_from(["wardline", "backup", "w.db"]).is_ok());
        assert!(Cli::try_parse_from(["wardline", "backup"]).is_err());
        assert!(Cli::try_parse_from(["wardline", "copy", "--to", "postgres://h/db"]).is_ok());
        assert!(Cli::try_parse_from(["wardline", "copy"]).is_err());
        assert!(
            Cli::try_parse_from([
                "wardline",
                "import",
                "ods",
                "--kind",
                "practices",
                "epraccur.csv"
            ])
            .is_ok()
        );
        assert!(
            Cli::try_parse_from(["wardline", "import", "ods", "--kind", "hospitals", "x.csv"])
                .is_err()
        );
        assert!(
            Cli::try_parse_from([
                "wardline",
                "admin",
                "create-user",
                "--email",
                "a@b.nhs.uk",
                "--name",
                "A"
            ])
            .is_ok()
        );
    }
}
