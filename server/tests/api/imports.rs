//! ODS imports: from the CLI and through the admin upload with progress.

use app::domain::imports::{ImportStatus, ImportView};

use crate::helpers::{TestApp, spawn_app};

fn practice(code: &str, name: &str, commissioner: &str) -> String {
    format!(
        "\"{code}\",\"{name}\",\"Y56\",\"QKK\",\"1 THE STREET, LAMBETH\",\"\",\"LONDON\",\"\",\"\",\"SW9 9AB\",\"19740401\",\"\",\"A\",\"B\",\"{commissioner}\",\"20220701\",\"\",\"02071234567\",\"\",\"\",\"\",\"0\",\"\",\"4\",\"\",\"4\",\"\"\r\n"
    )
}

async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    kind: &str,
    body: String,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("kind", kind.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::text(body).file_name("epraccur.csv"),
        );
    client
        .post(format!("{}/admin/import/ods", app.address))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn wait_for(app: &TestApp, client: &reqwest::Client, id: &str) -> ImportView {
    for _ in 0..100 {
        let v: ImportView = app
            .post_with(client, "/api/imports/status", &[("id", id)])
            .await
            .json()
            .await
            .unwrap();
        if v.status != ImportStatus::Running {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not finish");
}

#[tokio::test]
async fn a_national_admin_uploads_a_file_and_watches_it_import() {
    let app = spawn_app().await.with_demo().await;
    let dana = app.enrolled("dana.whitlock@demo.wardline.test").await;
    let file = practice("G85028", "STOCKWELL GROUP PRACTICE", "72Q")
        + &practice("G85999", "NEW PRACTICE, LAMBETH", "72Q")
        + "\"BROKEN\"\r\n";
    let res = upload(&app, &dana, "practices", file.clone()).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    let done = wait_for(&app, &dana, &id).await;
    assert_eq!(done.status, ImportStatus::Finished, "{done:?}");
    assert_eq!(done.done, 2);
    assert_eq!(done.rejected[0].line, 3);
    assert!(
        done.summary.as_deref().unwrap().contains("1 created"),
        "{done:?}"
    );
    let page = dana
        .get(format!("{}{location}", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Import finished"));

    let again = upload(
        &app,
        &dana,
        "practices",
        practice("G85999", "NEW PRACTICE, LAMBETH", "72Q"),
    )
    .await;
    let id = again.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let v = wait_for(&app, &dana, &id).await;
    assert!(
        v.summary.as_deref().unwrap().starts_with("No changes"),
        "{v:?}"
    );
}

#[tokio::test]
async fn only_national_admins_import() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled("gareth.lloyd@demo.wardline.test").await;
    assert_eq!(
        upload(&app, &gareth, "practices", practice("G85999", "X", "72Q"))
            .await
            .status(),
        403
    );
    let anonymous = app.new_client();
    assert_eq!(
        upload(
            &app,
            &anonymous,
            "practices",
            practice("G85999", "X", "72Q")
        )
        .await
        .status(),
        401
    );
}

#[tokio::test]
async fn the_cli_import_reports_what_it_did() {
    let app = spawn_app().await.with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("epraccur.csv");
    std::fs::write(
        &path,
        practice("G85777", "ANOTHER PRACTICE", "72Q") + &practice("G85888", "ORPHAN", "99Z"),
    )
    .unwrap();
    let report = server::admin::import_ods(&app.db, "practices", &path)
        .await
        .unwrap();
    assert_eq!(report.created, 2);
    assert_eq!(report.parents_unknown.len(), 1);
    let again = server::admin::import_ods(&app.db, "practices", &path)
        .await
        .unwrap();
    assert!(again.changed_nothing());
}
