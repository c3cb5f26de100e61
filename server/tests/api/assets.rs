//! The asset catalogue: CSV import with a report of every refused line, support flags, the
//! export that imports back unchanged, and who may do what.

use crate::helpers::{DEMO_PASSWORD, spawn_app};

const GARETH: &str = "gareth.lloyd@demo.wardline.test";
const NADIA: &str = "nadia.kowalski@demo.wardline.test";
const SAM: &str = "sam.whitfield@demo.wardline.test";

const CSV: &str = "name,kind,owner_email,supplier_code,clinical_service,patient_safety_critical,os,os_version,end_of_support,site_code,depends_on\r
Reception PC 3,hardware,nadia.kowalski@demo.wardline.test,,Appointments,no,Windows,7,2020-01-14,,EMIS Web\r
EMIS Web,software,owen.fraser@demo.wardline.test,,GP clinical record,yes,,,,,\r
Pathology link,cloud,,SUP-SYNNOVIS,Blood results,yes,,,2099-01-01,,EMIS Web; Nonexistent\r
Toaster,appliance,,,,no,,,,,\r
Server,hardware,sam.whitfield@demo.wardline.test,,,no,,,,,\r
Fridge monitor,medical_device,,RJ1,Vaccines,yes,,,,,\r
";

#[tokio::test]
async fn a_csv_import_keeps_good_rows_reports_each_bad_one_and_flags_unsupported_systems() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let nadia = app.new_client();
    app.sign_in_with(&nadia, NADIA, DEMO_PASSWORD).await;
    let form = [("org_code", "G85028"), ("csv", CSV)];
    assert_eq!(
        app.post_with(&nadia, "/api/manage/assets/import", &form)
            .await
            .status(),
        403,
        "staff read the catalogue; admins keep it"
    );
    let res = app
        .post_with(&gareth, "/api/manage/assets/import", &form)
        .await;
    assert_eq!(res.status(), 200);
    let report: serde_json::Value = res.json().await.unwrap();
    assert_eq!(report["added"], 3);
    let rejected: Vec<(u64, String)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_u64().unwrap(), r[1].as_str().unwrap().to_owned()))
        .collect();
    assert!(
        rejected
            .iter()
            .any(|(l, w)| *l == 4 && w.contains("no asset called “Nonexistent”")),
        "{rejected:?}"
    );
    assert!(
        rejected
            .iter()
            .any(|(l, w)| *l == 5 && w.starts_with("kind:"))
    );
    assert!(
        rejected
            .iter()
            .any(|(l, w)| *l == 6 && w.contains("holds no role"))
    );
    assert!(
        rejected
            .iter()
            .any(|(l, w)| *l == 7 && w.contains("RJ1 is not a supplier"))
    );

    let c: serde_json::Value = app
        .post_with(&nadia, "/api/assets/catalogue", &[("org_code", "G85028")])
        .await
        .json()
        .await
        .unwrap();
    let assets = c["assets"].as_array().unwrap();
    assert_eq!(assets.len(), 3);
    let pc = assets
        .iter()
        .find(|a| a["name"] == "Reception PC 3")
        .unwrap();
    assert_eq!(
        pc["support"], "unsupported",
        "Windows 7 out of support since 2020"
    );
    assert_eq!(pc["depends_on"][0], "EMIS Web");
    assert_eq!(pc["owner"], "Nadia Kowalski");
    let link = assets
        .iter()
        .find(|a| a["name"] == "Pathology link")
        .unwrap();
    assert_eq!(link["supplier"], "Synnovis");
    assert_eq!(
        link["depends_on"].as_array().unwrap().len(),
        1,
        "the unknown one left out"
    );

    // The export imports back with nothing to change.
    let exported = nadia
        .get(format!("{}/export/assets.csv?org=G85028", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(exported.starts_with("name,kind,owner_email"));
    let again: serde_json::Value = app
        .post_with(
            &gareth,
            "/api/manage/assets/import",
            &[("org_code", "G85028"), ("csv", exported.as_str())],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            again["added"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(3))
    );

    // A wrong header changes nothing; another organisation sees nothing.
    let bad = app
        .post_with(
            &gareth,
            "/api/manage/assets/import",
            &[("org_code", "G85028"), ("csv", "a,b\n1,2\n")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let sam = app.new_client();
    app.sign_in_with(&sam, SAM, DEMO_PASSWORD).await;
    assert_eq!(
        app.post_with(&sam, "/api/assets/catalogue", &[("org_code", "G85028")])
            .await
            .status(),
        404
    );
    assert_eq!(
        sam.get(format!("{}/export/assets.csv?org=G85028", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}
