//! `spawn_app`: the real application, on a temp-file database and a free port.

use sea_orm::DatabaseConnection;
use server::Application;
use server::config::Settings;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub database_url: String,
    _dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("wardline.db").display());
    let app = Application::build(Settings::for_tests(&database_url))
        .await
        .expect("app builds");
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
        _dir: dir,
    }
}

impl TestApp {
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
