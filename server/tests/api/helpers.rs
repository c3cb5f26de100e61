//! `spawn_app`: the real application, on a temp-file database and a free port.

use app::domain::auth::MfaEnrolment;
use app::domain::incidents::{IncidentRow, IncidentView, TaskView};
use sea_orm::DatabaseConnection;
use server::Application;
use server::config::Settings;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub database_url: String,
    /// This app's own secret key file (beside its database).
    pub key_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The app with its settings adjusted first (shorter time-outs, say).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    // Errors the app logs show up in a failing test's output (`WARDLINE_TEST_LOG` widens
    // it, e.g. `sqlx::query=debug` to see each statement).
    let filter = std::env::var("WARDLINE_TEST_LOG").unwrap_or_else(|_| "error".into());
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(filter)
        .try_init();
    let dir = tempfile::tempdir().expect("temp dir");
    // SQLite in the temp dir, or a database of its own on the PostgreSQL server the second
    // run of the suite names (`WARDLINE_TEST_POSTGRES`).
    let database_url = app::backend::db::scratch(&format!(
        "sqlite://{}",
        dir.path().join("wardline.db").display()
    ))
    .await;
    spawn_on(dir, database_url, adjust).await
}

/// The app on SQLite in a temp dir whichever engine the suite runs on (for what only
/// SQLite has: its backups, and copying a deployment from it).
pub async fn spawn_sqlite_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("wardline.db").display());
    spawn_on(dir, database_url, |_| {}).await
}

/// The app on `database_url`, keeping its key in `dir`.
pub async fn spawn_on(
    dir: tempfile::TempDir,
    database_url: String,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    let filter = std::env::var("WARDLINE_TEST_LOG").unwrap_or_else(|_| "error".into());
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(filter)
        .try_init();
    let mut settings = Settings::for_tests(&database_url);
    // Its own key, in its temp dir, whichever database it runs on.
    settings.secret_key_file = dir.path().join("secret.key");
    adjust(&mut settings);
    let key_file = settings.secret_key_file.clone();
    let app = Application::build(settings).await.expect("app builds");
    let address = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let db = app::backend::db::connect(&database_url)
        .await
        .expect("second connection");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        db,
        database_url,
        key_file,
        _dir: dir,
    }
}

impl TestApp {
    /// Another instance of the app on this one's database, with the same secret key, as a
    /// deployment of several instances runs: its own address and its own memory (plan
    /// caches, callers, rate limits), sessions shared through the database.
    pub async fn another_instance(&self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::for_tests(&self.database_url);
        settings.secret_key_file = self.key_file.clone();
        let app = Application::build(settings)
            .await
            .expect("a second instance builds");
        let address = format!("http://{}", app.local_addr());
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .unwrap(),
            db: self.db.clone(),
            database_url: self.database_url.clone(),
            key_file: self.key_file.clone(),
            _dir: dir,
        }
    }

    /// Whether this run of the suite is on PostgreSQL, for the few tests of SQLite's own
    /// settings (which say why they do not apply there).
    pub fn on_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }

    /// The same state the server runs with, for calling services directly.
    pub fn state(&self) -> app::backend::state::AppState {
        app::backend::state::AppState {
            leptos_options: leptos::prelude::LeptosOptions::builder()
                .output_name("wardline")
                .build(),
            db: self.db.clone(),
            auth: std::sync::Arc::new(app::backend::state::AuthSettings::default()),
            limits: std::sync::Arc::new(app::backend::limits::Limits::default()),
            live: tokio::sync::broadcast::channel(16).0,
            declarations: app::backend::incidents::Declarations::start(self.db.clone()),
            texts: None,
            callers: Default::default(),
            charts: Default::default(),
        }
    }
}

pub const DEMO_PASSWORD: &str = app::backend::demo::DEMO_PASSWORD;

impl TestApp {
    /// A second, independent browser (its own cookie jar) on the same app.
    pub fn new_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap()
    }

    pub async fn sign_in_with(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(format!("{}/api/auth/sign_in", self.address))
            .header("Accept", "application/json")
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .expect("request")
    }

    /// Signs this app's client in as a demo person.
    pub async fn sign_in(&self, email: &str) {
        let res = self.sign_in_with(&self.client, email, DEMO_PASSWORD).await;
        assert_eq!(
            res.status(),
            200,
            "sign in as {email}: {}",
            res.text().await.unwrap_or_default()
        );
    }

    /// A browser of its own in which the demo person `email` has signed in with the demo
    /// password (no second step: people who need one are `enrolled`).
    pub async fn signed_in_as(&self, email: &str) -> reqwest::Client {
        let client = self.new_client();
        let res = self.sign_in_with(&client, email, DEMO_PASSWORD).await;
        assert_eq!(
            res.status(),
            200,
            "sign in as {email}: {}",
            res.text().await.unwrap_or_default()
        );
        client
    }

    /// Signs a demo person in on a client of their own and turns on their two-step
    /// verification, as admins and regulators must before anything else answers.
    pub async fn enrolled(&self, email: &str) -> reqwest::Client {
        let client = self.signed_in_as(email).await;
        self.enrol_on(&client).await;
        client
    }

    pub async fn post_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(format!("{}{path}", self.address))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request")
    }

    pub async fn with_demo(self) -> Self {
        app::backend::demo::load(&self.db)
            .await
            .expect("demo loads");
        self
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    /// The HTML of the page at `path` as the browser `client` gets it (asserting it is there).
    pub async fn page_text(&self, client: &reqwest::Client, path: &str) -> String {
        let res = client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200, "{path}");
        res.text().await.expect("page text")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request")
    }
}

impl TestApp {
    /// The audit rows of one action, oldest first.
    pub async fn audit_rows(&self, action: &str) -> Vec<app::backend::entity::audit_event::Model> {
        use app::backend::entity::audit_event;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(action))
            .order_by_asc(audit_event::Column::Id)
            .all(&self.db)
            .await
            .unwrap()
    }

    pub async fn person_id(&self, email: &str) -> i64 {
        app::backend::people::find_by_email(&self.db, email)
            .await
            .unwrap()
            .expect("a person with that email")
            .id
    }

    /// Turns on two-step verification for the person signed in on `client`; returns the
    /// secret and the recovery codes.
    pub async fn enrol_on(&self, client: &reqwest::Client) -> (String, Vec<String>) {
        let enrolment: MfaEnrolment = self
            .post_with(client, "/api/auth/mfa_begin", &[])
            .await
            .json()
            .await
            .unwrap();
        let code = app::backend::mfa::code_now(&enrolment.secret).unwrap();
        let res = self
            .post_with(client, "/api/auth/mfa_confirm", &[("code", &code)])
            .await;
        assert_eq!(res.status(), 200);
        (enrolment.secret, res.json().await.unwrap())
    }

    /// An invitation made over HTTP by the admin signed in on `admin`; returns the link.
    pub async fn invite(
        &self,
        admin: &reqwest::Client,
        email: &str,
        org_code: &str,
        role: &str,
    ) -> String {
        let res = self
            .post_with(
                admin,
                "/api/admin/invite",
                &[
                    ("email", email),
                    ("name", "Invited Person"),
                    ("org_code", org_code),
                    ("role", role),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "invite {email}");
        res.json().await.unwrap()
    }

    /// Every row of every table but the audit trail, the session store (which any request
    /// touches) and PostgreSQL's shared rate limits (a refused request still spends
    /// allowance, as it does in memory on SQLite), for asserting that a refused request
    /// changed nothing.
    pub async fn fingerprint(&self) -> Vec<(String, Option<String>)> {
        use sea_orm::{ConnectionTrait, Statement};
        let backend = self.db.get_database_backend();
        let raw = |sql: String| Statement::from_string(backend, sql);
        if self.on_postgres() {
            return self.fingerprint_postgres().await;
        }
        let tables = self
            .db
            .query_all_raw(raw("SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name"
                .into()))
            .await
            .unwrap();
        let mut out = Vec::new();
        for t in tables {
            let name: String = t.try_get("", "name").unwrap();
            if matches!(name.as_str(), "audit_event" | "session" | "rate_limit") {
                continue;
            }
            let columns: Vec<String> = self
                .db
                .query_all_raw(raw(format!("SELECT name FROM pragma_table_info('{name}')")))
                .await
                .unwrap()
                .iter()
                .map(|c| c.try_get::<String>("", "name").unwrap())
                .collect();
            let row = columns
                .iter()
                .map(|c| format!("quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let all = self
                .db
                .query_one_raw(raw(format!(
                    "SELECT group_concat(r, ';') AS v FROM \
                     (SELECT {row} AS r FROM \"{name}\" ORDER BY rowid)"
                )))
                .await
                .unwrap()
                .unwrap();
            out.push((name, all.try_get::<Option<String>>("", "v").unwrap()));
        }
        out
    }
}

impl TestApp {
    /// `fingerprint` on PostgreSQL: each row as its text form, rows in order.
    async fn fingerprint_postgres(&self) -> Vec<(String, Option<String>)> {
        use sea_orm::{ConnectionTrait, Statement};
        let raw = |sql: String| Statement::from_string(sea_orm::DbBackend::Postgres, sql);
        let tables = self
            .db
            .query_all_raw(raw(
                "SELECT table_name::text AS name FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY name"
                    .into(),
            ))
            .await
            .unwrap();
        let mut out = Vec::new();
        for t in tables {
            let name: String = t.try_get("", "name").unwrap();
            if matches!(name.as_str(), "audit_event" | "session" | "rate_limit") {
                continue;
            }
            let all = self
                .db
                .query_one_raw(raw(format!(
                    "SELECT string_agg(r::text, ';' ORDER BY r::text) AS v FROM \"{name}\" r"
                )))
                .await
                .unwrap()
                .unwrap();
            out.push((name, all.try_get::<Option<String>>("", "v").unwrap()));
        }
        out
    }
}

/// The demo people the tests act as (see `backend::demo`).
pub mod people {
    /// Practice Manager (staff) at Stockwell Group Practice, G85028.
    pub const NADIA: &str = "nadia.kowalski@demo.wardline.test";
    /// GP Partner (lead) at Stockwell Group Practice.
    pub const OWEN: &str = "owen.fraser@demo.wardline.test";
    /// ICB cyber security lead (org admin) at South East London ICB, QKK.
    pub const GARETH: &str = "gareth.lloyd@demo.wardline.test";
    /// Head of Cyber Security (org admin) at Guy's and St Thomas', RJ1.
    pub const PRIYA: &str = "priya.raman@demo.wardline.test";
    /// Chief Digital Information Officer (lead) at Guy's and St Thomas'.
    pub const TOM: &str = "tom.okafor@demo.wardline.test";
    /// Head of Cyber Security (lead) at King's, RJZ.
    pub const SAM: &str = "sam.whitfield@demo.wardline.test";
    /// Ward Sister (staff) at King's.
    pub const AISHA: &str = "aisha.bello@demo.wardline.test";
    /// Information Security Manager (staff) at a supplier, SUP-SYNNOVIS.
    pub const CHRIS: &str = "chris.doyle@demo.wardline.test";
    /// National Wardline administrator.
    pub const DANA: &str = "dana.whitlock@demo.wardline.test";
    /// Regional cyber assurance lead (regulator).
    pub const RUTH: &str = "ruth.adeyemi@demo.wardline.test";
}

/// Incidents and their tasks, as people work them over HTTP.
impl TestApp {
    /// Declares an incident of `kind` at the organisation of the person signed in on
    /// `client`, from the reception PC; returns its reference.
    pub async fn declare(&self, client: &reqwest::Client, kind: &str) -> String {
        self.declare_form(client, &[("kind", kind)]).await
    }

    /// Declares an incident of `kind` at `org_code` (someone with reach over several
    /// organisations chooses one); returns its reference.
    pub async fn declare_at(&self, client: &reqwest::Client, kind: &str, org_code: &str) -> String {
        self.declare_form(client, &[("kind", kind), ("org_code", org_code)])
            .await
    }

    async fn declare_form(&self, client: &reqwest::Client, fields: &[(&str, &str)]) -> String {
        let mut form = vec![
            ("location", "Reception PC"),
            ("patients_affected", "unknown"),
            ("systems", "EMIS"),
            ("summary", "Ransom note on screen"),
        ];
        form.extend_from_slice(fields);
        let res = self
            .post_with(client, "/api/incidents/declare", &form)
            .await;
        assert_eq!(
            res.status(),
            200,
            "declare {fields:?}: {}",
            res.text().await.unwrap_or_default()
        );
        res.json().await.unwrap()
    }

    /// The incident as the person signed in on `client` sees it.
    pub async fn incident(&self, client: &reqwest::Client, reference: &str) -> IncidentView {
        let res = self
            .post_with(client, "/api/incidents/get", &[("reference", reference)])
            .await;
        assert_eq!(
            res.status(),
            200,
            "{reference}: {}",
            res.text().await.unwrap_or_default()
        );
        res.json().await.unwrap()
    }

    /// The incidents the person signed in on `client` may see.
    pub async fn incident_list(&self, client: &reqwest::Client) -> Vec<IncidentRow> {
        self.incident_page(client, 1).await.items
    }

    /// One page of the incidents the person signed in on `client` may see.
    pub async fn incident_page(
        &self,
        client: &reqwest::Client,
        page: u64,
    ) -> app::domain::listing::Listing<IncidentRow> {
        let page = page.to_string();
        let res = self
            .post_with(client, "/api/incidents/list", &[("page", &page)])
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// One page of the inbox of the person signed in on `client`.
    pub async fn inbox_page(
        &self,
        client: &reqwest::Client,
        page: u64,
    ) -> app::domain::listing::Listing<app::domain::escalation::InboxItem> {
        let page = page.to_string();
        let res = self
            .post_with(client, "/api/inbox/list", &[("page", &page)])
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// "My tasks" as the page lists it: grouped by incident, the most urgent first.
    pub async fn my_worklist(
        &self,
        client: &reqwest::Client,
    ) -> Vec<app::domain::incidents::WorkItem> {
        let res = self.post_with(client, "/api/tasks/worklist", &[]).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// The tasks assigned to the person signed in on `client`.
    pub async fn my_tasks(&self, client: &reqwest::Client) -> Vec<TaskView> {
        let res = self.post_with(client, "/api/tasks/mine", &[]).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Presses `action` (acknowledge, start, complete …) on task `id`; the answer is the
    /// test's to judge.
    pub async fn act_on_task(
        &self,
        client: &reqwest::Client,
        id: i64,
        action: &str,
    ) -> reqwest::Response {
        let id = id.to_string();
        self.post_with(
            client,
            "/api/tasks/act",
            &[("id", id.as_str()), ("action", action)],
        )
        .await
    }

    /// The incident's row, for reaching into it as someone with database access would.
    pub async fn incident_row(&self, reference: &str) -> app::backend::entity::incident::Model {
        use app::backend::entity::incident;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        incident::Entity::find()
            .filter(incident::Column::Reference.eq(reference))
            .one(&self.db)
            .await
            .unwrap()
            .expect("an incident with that reference")
    }

    pub async fn incident_id(&self, reference: &str) -> i64 {
        self.incident_row(reference).await.id
    }
}

/// A moment as a person types it in a `datetime-local` field: UK clocks, to the minute.
pub fn typed(t: time::OffsetDateTime) -> String {
    let local = app::domain::rota::london_local(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute()
    )
}
