use anyhow::Context;
use clap::Parser;
use secrecy::ExposeSecret;
use server::cli::{AdminCommand, Cli, Command, ImportCommand, KeysCommand, SsoCommand};
use server::config::Settings;
use server::{Application, open_database};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's options, read from the environment when the process starts (and only then):
/// freed memory goes back to the system at once instead of after a second, and only from a
/// thread still allocating (an idle server kept what a national page had used), and no
/// transparent huge pages (with them the kernel backed mimalloc's arenas in 2 MiB pages, 27
/// MB more resident once serving England). Measured in docs/BENCHMARKS.md.
const ALLOCATOR_SETTINGS: [(&str, &str); 2] =
    [("MIMALLOC_PURGE_DELAY", "0"), ("MIMALLOC_ALLOW_THP", "0")];

/// Starts this binary again with `ALLOCATOR_SETTINGS` when none of them is set (an operator
/// who sets any of them chooses for themselves). Returns only if that cannot be done, and
/// then Wardline runs as it is.
fn with_allocator_settings() {
    if ALLOCATOR_SETTINGS
        .iter()
        .any(|(k, _)| std::env::var_os(k).is_some())
    {
        return;
    }
    #[cfg(unix)]
    if let Ok(exe) = std::env::current_exe() {
        use std::os::unix::process::CommandExt;
        let e = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .envs(ALLOCATOR_SETTINGS)
            .exec();
        eprintln!("Could not apply the allocator's settings ({e}); going on without them.");
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    with_allocator_settings();
    // Everything Wardline writes (the SQLite database and its journal, backups, the secret
    // key file) is for its own user alone: the database holds password hashes and sealed
    // secrets, so other users on the machine may not read it.
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The message and its causes, in words: an operator's mistake is not a crash,
            // so no backtrace, whatever RUST_BACKTRACE says.
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let settings = Settings::from_env()?;
    match cli.command {
        Command::Serve => {
            let app = Application::build(settings).await?;
            println!("Wardline is serving on http://{}", app.local_addr());
            app.run_until_stopped().await
        }
        Command::Migrate => {
            open_database(&settings).await?;
            println!("Migrations are up to date.");
            Ok(())
        }
        Command::Demo { national } => demo(&settings, national).await,
        Command::Import(ImportCommand::Ods { kind, file }) => {
            import_ods(&settings, &kind, &file).await
        }
        Command::VerifyTimeline { reference } => {
            let db = open_database(&settings).await?;
            let broken = server::admin::verify_timelines(&db, reference.as_deref()).await?;
            if broken > 0 {
                anyhow::bail!("{broken} timeline(s) failed verification");
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => rotate_keys(&settings).await,
        Command::Backup { file } => {
            let db = app::backend::db::connect(settings.database_url.expose_secret()).await?;
            let incidents = server::moving::backup(&db, &file).await?;
            println!(
                "Backed up to {} ({incidents} incidents); it passed SQLite's integrity check. \
                 Keep the secret key file ({}) backed up apart from it: restoring needs both.",
                file.display(),
                settings.secret_key_file.display()
            );
            Ok(())
        }
        Command::Copy { to } => copy(&settings, &to).await,
        Command::AlertMail { to } => alert_mail(&settings, to.as_deref()).await,
        Command::Sso(SsoCommand::Add {
            slug,
            name,
            issuer,
            client_id,
            client_secret_file,
            domains,
            org_claim,
            trust_mfa,
        }) => {
            let db = open_database(&settings).await?;
            let p = app::backend::sso::add_provider(
                &db,
                &app::backend::sso::NewProvider {
                    slug,
                    name,
                    issuer,
                    client_id,
                    client_secret_file,
                    allowed_domains: domains,
                    org_claim,
                    trust_mfa,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "Added {} ({}). Its redirect address: {}/sso/{}/callback",
                p.name,
                p.issuer,
                settings.auth.public_url.trim_end_matches('/'),
                p.slug
            );
            Ok(())
        }
        Command::Sso(SsoCommand::List) => {
            let db = open_database(&settings).await?;
            for (slug, name) in app::backend::sso::providers(&db)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                println!("{slug}\t{name}");
            }
            Ok(())
        }
        Command::Admin(AdminCommand::CreateUser { email, name, org }) => {
            let db = open_database(&settings).await?;
            let password = rpassword::prompt_password("Password for the new national admin: ")?;
            server::admin::create_national_admin(&db, &email, &name, &org, password).await?;
            println!(
                "Created national admin {email}. They must set up two-step verification at first sign-in."
            );
            Ok(())
        }
    }
}

/// `wardline alert-mail`: one alert email from standard input.
async fn alert_mail(settings: &Settings, to: Option<&str>) -> anyhow::Result<()> {
    use std::io::Read;
    let mut raw = Vec::new();
    std::io::stdin()
        .take(1024 * 1024)
        .read_to_end(&mut raw)
        .context("reading the message")?;
    let db = open_database(settings).await?;
    let state = app::backend::state::AppState {
        leptos_options: settings.leptos.clone(),
        db: db.clone(),
        auth: std::sync::Arc::new(settings.auth.clone()),
        limits: std::sync::Arc::new(app::backend::limits::Limits::for_database(&db)),
        live: tokio::sync::broadcast::channel(16).0,
        declarations: app::backend::incidents::Declarations::start(db),
        texts: None,
        callers: Default::default(),
        charts: Default::default(),
    };
    let outcome = server::alert_mail::receive(&state, &raw, to).await?;
    println!(
        "{}{}",
        outcome.outcome,
        outcome
            .reference
            .map(|r| format!(" {r}"))
            .unwrap_or_default()
    );
    Ok(())
}

/// `wardline copy --to postgres://…`: the data into PostgreSQL, then the checks.
async fn copy(settings: &Settings, to: &str) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    println!("Copying into the target database:");
    let report = server::moving::copy_to(&db, to).await?;
    let mismatched: Vec<_> = report
        .tables
        .iter()
        .filter(|(_, source, target)| source != target)
        .collect();
    let rows: u64 = report.tables.iter().map(|(_, s, _)| s).sum();
    println!(
        "Copied {rows} rows in {} tables; row counts match on {} of {}. \
         {} timeline(s) checked on the copy, {} broken.",
        report.tables.len(),
        report.tables.len() - mismatched.len(),
        report.tables.len(),
        report.timelines_checked,
        report.timelines_broken
    );
    if !mismatched.is_empty() || report.timelines_broken > 0 {
        anyhow::bail!("the copy does not match: {mismatched:?}");
    }
    println!(
        "Point WARDLINE_DATABASE_URL at the new database (with the same WARDLINE_SECRET_KEY_FILE) \
         to serve from it."
    );
    Ok(())
}

/// `wardline demo`: loads the demo data and lists its sign-ins.
async fn demo(settings: &Settings, national: bool) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    let r = app::backend::demo::load(&db).await?;
    println!(
        "Demo data loaded: {} organisations, {} links, {} people and {} role holdings created (0 means already there).",
        r.organisations_created, r.links_created, r.people_created, r.holdings_created
    );
    if national {
        let started = std::time::Instant::now();
        let b = app::backend::demo_national::load(&db, app::backend::demo_national::Shape::ENGLAND)
            .await?;
        println!(
            "Synthetic England built in {:.1} s: {} organisations, {} supplier services, {} people and {} role holdings created (0 means already there).",
            started.elapsed().as_secs_f64(),
            b.organisations,
            b.services,
            b.people,
            b.holdings
        );
    }
    println!(
        "\nDemo sign-ins (fictional people; password for all: {}):",
        app::backend::demo::DEMO_PASSWORD
    );
    for (name, email, _, org, access) in app::backend::demo::PEOPLE {
        println!("  {:<15} {email:<38} {name}, {org}", access.label());
    }
    println!(
        "Organisation admins, regulators and national admins set up two-step verification\n\
         (an authenticator app) at their first sign-in."
    );
    Ok(())
}

/// `wardline import ods KIND FILE`: imports an ODS file and reports what it did.
async fn import_ods(settings: &Settings, kind: &str, file: &std::path::Path) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    let report = server::admin::import_ods(&db, kind, file).await?;
    println!("{}", report.summary());
    for r in &report.rejected {
        println!("  line {}: rejected: {}", r.line, r.reason);
    }
    for (line, child, parent) in &report.parents_unknown {
        println!(
            "  line {line}: {child} names parent {parent}, not known yet; import it and run again"
        );
    }
    Ok(())
}

/// `wardline keys rotate`: a new secret key, every secret and timeline head moved to it.
async fn rotate_keys(settings: &Settings) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    let r = server::admin::rotate_keys(&db, &settings.secret_key_file).await?;
    println!(
        "Key {} replaces {}: {} secrets re-encrypted, {} timeline heads signed again.\n\
         Back up {} now; the old key is gone from it.",
        r.new_key,
        r.old_keys.join(", "),
        r.secrets,
        r.heads,
        settings.secret_key_file.display()
    );
    Ok(())
}
