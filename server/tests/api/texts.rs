//! Text messages through GOV.UK Notify, against a local Notify-compatible server that checks
//! every request as Notify's public documentation describes (a JWT signed HS256 with the
//! key's secret, `iss` the service id, `iat` within 30 seconds of its clock; the
//! `/v2/notifications/sms` body) and keeps each text it accepts: verifying a mobile number,
//! paging a verified number on escalation, riding out a Notify failure, delivery receipts.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use app::backend::entity::{contact_method, notification, text_message};
use app::backend::escalation::{Delivery, Engine, MailSettings, ManualClock, NotifySettings, Sms};
use app::domain::contacts::MobileView;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use time::{Duration, OffsetDateTime};

use crate::helpers::people::{GARETH, NADIA};
use crate::helpers::{TestApp, spawn_app_with};

pub(crate) const SERVICE_ID: &str = "26785a09-ab16-4eb0-8407-a37497a57506";
pub(crate) const SECRET: &str = "3d844edf-8d35-48ac-975b-e847b4f122b0";
pub(crate) const TEMPLATE: &str = "f33517ff-2a88-4f6e-b855-c550268ce08a";
pub(crate) const CALLBACK_TOKEN: &str = "receipts-token-7c1e0d2b9f";

/// One text the fake Notify accepted.
#[derive(Debug, Clone)]
pub(crate) struct Text {
    pub(crate) phone: String,
    pub(crate) message: String,
    pub(crate) reference: String,
}

#[derive(Clone, Default)]
pub(crate) struct Fake {
    pub(crate) texts: Arc<Mutex<Vec<Text>>>,
    /// Requests refused for a bad token or body: none, in a passing test.
    pub(crate) refused: Arc<Mutex<Vec<String>>>,
    /// Answer this many requests with 500 before accepting again.
    pub(crate) failing: Arc<AtomicUsize>,
    /// While set, requests get no answer (as an unresponsive Notify) and nothing is sent.
    pub(crate) hanging: Arc<AtomicBool>,
    /// While set, a text is accepted (and kept in `texts`) but the answer never comes: the
    /// moment a crash of the sender would fall between Notify taking it and Wardline
    /// recording that.
    pub(crate) holding: Arc<AtomicBool>,
}

#[derive(serde::Deserialize)]
struct Claims {
    iss: String,
    iat: i64,
}

fn error(
    fake: &Fake,
    status: StatusCode,
    kind: &str,
    why: &str,
) -> (StatusCode, Json<serde_json::Value>) {
    fake.refused.lock().unwrap().push(why.to_owned());
    (
        status,
        Json(serde_json::json!({
            "status_code": status.as_u16(),
            "errors": [{ "error": kind, "message": why }],
        })),
    )
}

/// `POST /v2/notifications/sms`, as Notify answers it.
async fn send_sms(
    State(fake): State<Fake>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, Json<serde_json::Value>) {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
    let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return error(
            &fake,
            StatusCode::UNAUTHORIZED,
            "AuthError",
            "Unauthorized: authentication token must be provided",
        );
    };
    // HS256 only, signed with the secret half of the key; `iss` and `iat` checked by hand
    // (Notify's tokens carry no `exp`).
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let key = DecodingKey::from_secret(SECRET.as_bytes()).expect("an HMAC key");
    let claims = match decode::<Claims>(token, &key, &validation) {
        Ok(data) => data.claims,
        Err(_) => {
            return error(
                &fake,
                StatusCode::FORBIDDEN,
                "AuthError",
                "Invalid token: signature, api token not found",
            );
        }
    };
    if claims.iss != SERVICE_ID {
        return error(
            &fake,
            StatusCode::FORBIDDEN,
            "AuthError",
            "Invalid token: service not found",
        );
    }
    if (OffsetDateTime::now_utc().unix_timestamp() - claims.iat).abs() > 30 {
        return error(
            &fake,
            StatusCode::FORBIDDEN,
            "AuthError",
            "Error: Your system clock must be accurate to within 30 seconds",
        );
    }
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
        return error(
            &fake,
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            "content type",
        );
    }
    let Ok(serde_json::Value::Object(req)) = serde_json::from_str::<serde_json::Value>(&body)
    else {
        return error(
            &fake,
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            "Invalid JSON supplied in POST data",
        );
    };
    let known = [
        "phone_number",
        "template_id",
        "personalisation",
        "reference",
        "sms_sender_id",
    ];
    if let Some(k) = req.keys().find(|k| !known.contains(&k.as_str())) {
        return error(
            &fake,
            StatusCode::BAD_REQUEST,
            "ValidationError",
            &format!("Additional properties are not allowed ({k})"),
        );
    }
    let (Some(phone), Some(template)) = (
        req.get("phone_number").and_then(|v| v.as_str()),
        req.get("template_id").and_then(|v| v.as_str()),
    ) else {
        return error(
            &fake,
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "phone_number and template_id are required",
        );
    };
    if template != TEMPLATE {
        return error(
            &fake,
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            "Template not found",
        );
    }
    let Some(message) = req
        .get("personalisation")
        .and_then(|p| p.as_object())
        .and_then(|p| p.get("message"))
        .and_then(|m| m.as_str())
    else {
        return error(
            &fake,
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            "Missing personalisation: message",
        );
    };
    let reference = req
        .get("reference")
        .and_then(|r| r.as_str())
        .unwrap_or_default();
    if fake.hanging.load(Ordering::SeqCst) {
        // Longer than any sender waits; nothing is kept, so nothing was sent.
        tokio::time::sleep(std::time::Duration::from_secs(120)).await;
        return (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({})));
    }
    if fake
        .failing
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(
                serde_json::json!({"status_code": 500, "errors": [{"error": "Exception", "message": "Internal server error"}]}),
            ),
        );
    }
    let id = format!(
        "740e5834-3a29-46b4-9a6f-16142fde{:04}",
        fake.texts.lock().unwrap().len()
    );
    fake.texts.lock().unwrap().push(Text {
        phone: phone.to_owned(),
        message: message.to_owned(),
        reference: reference.to_owned(),
    });
    if fake.holding.load(Ordering::SeqCst) {
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    }
    (
        StatusCode::CREATED,
        Json(serde_json::json!({
            "id": id,
            "reference": reference,
            "content": { "body": message, "from_number": "GOVUK" },
            "uri": format!("https://api.notifications.service.gov.uk/v2/notifications/{id}"),
            "template": { "id": TEMPLATE, "version": 1, "uri": "" },
        })),
    )
}

/// A Notify-compatible server on a free loopback port: its base URL and what it saw.
pub(crate) async fn fake_notify() -> (String, Fake) {
    let fake = Fake::default();
    let router = axum::Router::new()
        .route("/v2/notifications/sms", axum::routing::post(send_sms))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, fake)
}

pub(crate) fn notify_settings(base_url: &str) -> NotifySettings {
    NotifySettings {
        api_key: format!("wardline_test-{SERVICE_ID}-{SECRET}").into(),
        base_url: base_url.to_owned(),
        sms_template_id: TEMPLATE.into(),
    }
}

/// The app connected to the fake Notify, with the demo loaded.
pub(crate) async fn app_with_notify(base_url: &str) -> TestApp {
    let settings = notify_settings(base_url);
    spawn_app_with(move |s| {
        s.notify = Some(settings);
        s.notify_callback_token = Some(CALLBACK_TOKEN.to_owned().into());
    })
    .await
    .with_demo()
    .await
}

/// The 6-digit code in the last text sent to `phone`.
fn last_code(fake: &Fake, phone: &str) -> String {
    let texts = fake.texts.lock().unwrap();
    let text = texts
        .iter()
        .rev()
        .find(|t| t.phone == phone)
        .unwrap_or_else(|| panic!("no text to {phone}: {texts:?}"));
    text.message
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {:?}", text.message))
        .to_owned()
}

async fn my_mobile(app: &TestApp, client: &reqwest::Client) -> Option<MobileView> {
    let res = app.post_with(client, "/api/contacts/mine", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Adds a number for the person signed in on `client` and types back the code it was sent.
pub(crate) async fn verified(app: &TestApp, fake: &Fake, client: &reqwest::Client, number: &str) {
    let res = app
        .post_with(client, "/api/contacts/add_mobile", &[("mobile", number)])
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let phone = app::domain::contacts::UkMobile::parse(number).unwrap();
    let code = last_code(fake, phone.as_str());
    let res = app
        .post_with(client, "/api/contacts/verify_mobile", &[("code", &code)])
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
}

fn wrong(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[tokio::test]
async fn a_mobile_is_verified_by_the_code_texted_to_it_and_not_by_a_wrong_one() {
    let (url, fake) = fake_notify().await;
    let app = app_with_notify(&url).await;
    let nadia = app.signed_in_as(NADIA).await;

    let bad = app
        .post_with(
            &nadia,
            "/api/contacts/add_mobile",
            &[("mobile", "020 7946 0000")],
        )
        .await;
    assert_eq!(bad.status(), 422, "a landline is not a mobile");
    let res = app
        .post_with(
            &nadia,
            "/api/contacts/add_mobile",
            &[("mobile", "07700 900123")],
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    // The code went to the number in international form, through Notify's real API.
    let code = last_code(&fake, "+447700900123");
    assert!(
        fake.refused.lock().unwrap().is_empty(),
        "{:?}",
        fake.refused
    );
    let waiting = my_mobile(&app, &nadia).await.expect("a number");
    assert_eq!(
        (waiting.number.as_str(), waiting.verified),
        ("07700 900123", false)
    );
    // Stored only as a keyed hash.
    let row = contact_method::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.code_hash.clone().unwrap().contains(&code));

    // Nothing may be texted to it before it is verified.
    let test = app.post_with(&nadia, "/api/contacts/test_text", &[]).await;
    assert_eq!(test.status(), 409);

    let res = app
        .post_with(
            &nadia,
            "/api/contacts/verify_mobile",
            &[("code", &wrong(&code))],
        )
        .await;
    assert_eq!(res.status(), 422, "a wrong code is refused");
    assert!(!my_mobile(&app, &nadia).await.unwrap().verified);

    let res = app
        .post_with(&nadia, "/api/contacts/verify_mobile", &[("code", &code)])
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert!(my_mobile(&app, &nadia).await.unwrap().verified);
    // The code works once.
    let again = app
        .post_with(&nadia, "/api/contacts/verify_mobile", &[("code", &code)])
        .await;
    assert_eq!(again.status(), 409);

    // Verified: a test message now goes.
    let before = fake.texts.lock().unwrap().len();
    let test = app.post_with(&nadia, "/api/contacts/test_text", &[]).await;
    assert_eq!(test.status(), 200);
    assert_eq!(fake.texts.lock().unwrap().len(), before + 1);

    let outcomes: Vec<String> = app
        .audit_rows("contact_mobile_verified")
        .await
        .into_iter()
        .map(|r| r.outcome)
        .collect();
    assert_eq!(outcomes[..2], ["failure", "success"]);
    assert_eq!(app.audit_rows("contact_mobile_added").await.len(), 1);
    assert_eq!(app.audit_rows("contact_test_sent").await.len(), 1);

    // Removed: gone, and audited.
    let res = app
        .post_with(&nadia, "/api/contacts/remove_mobile", &[])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(my_mobile(&app, &nadia).await, None);
    assert_eq!(app.audit_rows("contact_mobile_removed").await.len(), 1);
}

#[tokio::test]
async fn after_five_wrong_codes_even_the_right_one_is_refused() {
    let (url, fake) = fake_notify().await;
    let app = app_with_notify(&url).await;
    let nadia = app.signed_in_as(NADIA).await;
    let res = app
        .post_with(
            &nadia,
            "/api/contacts/add_mobile",
            &[("mobile", "+44 7700 900456")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let code = last_code(&fake, "+447700900456");
    for attempt in 1..=5 {
        let res = app
            .post_with(
                &nadia,
                "/api/contacts/verify_mobile",
                &[("code", &wrong(&code))],
            )
            .await;
        assert_eq!(res.status(), 422, "wrong code, attempt {attempt}");
    }
    let sixth = app
        .post_with(&nadia, "/api/contacts/verify_mobile", &[("code", &code)])
        .await;
    assert_eq!(
        sixth.status(),
        409,
        "the sixth try is refused, right or not"
    );
    assert!(!my_mobile(&app, &nadia).await.unwrap().verified);
    assert!(
        app.audit_rows("contact_mobile_verified")
            .await
            .iter()
            .any(|r| r.outcome == "refused")
    );
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let (url, fake) = fake_notify().await;
    let app = app_with_notify(&url).await;
    let nadia = app.signed_in_as(NADIA).await;
    let res = app
        .post_with(
            &nadia,
            "/api/contacts/add_mobile",
            &[("mobile", "07700900789")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let code = last_code(&fake, "+447700900789");
    // Eleven minutes pass (moved in the database, as the server reads the real clock).
    let row = contact_method::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let sent_at = row.code_expires_at.unwrap() - Duration::minutes(10);
    let mut aged = row.into_active_model();
    aged.code_expires_at = Set(Some(
        sent_at + Duration::minutes(10) - Duration::minutes(11),
    ));
    aged.update(&app.db).await.unwrap();
    let res = app
        .post_with(&nadia, "/api/contacts/verify_mobile", &[("code", &code)])
        .await;
    assert_eq!(
        res.status(),
        409,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert!(!my_mobile(&app, &nadia).await.unwrap().verified);
}

/// The engine a test drives with a moved clock, texting through the fake Notify.
pub(crate) async fn engine(app: &TestApp, notify_url: &str, clock: Arc<ManualClock>) -> Engine {
    let db = app::backend::db::connect(&app.database_url).await.unwrap();
    let delivery = Delivery::new(&MailSettings::default(), &app.address)
        .unwrap()
        .with_sms(Some(Sms::new(&notify_settings(notify_url)).unwrap()));
    Engine::new(db, clock, delivery, false)
}

pub(crate) async fn timeline(app: &TestApp, reference: &str) -> Vec<String> {
    use app::backend::entity::incident_event;
    incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(app.incident_id(reference).await))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect()
}

async fn sms_rows(app: &TestApp) -> Vec<notification::Model> {
    notification::Entity::find()
        .filter(notification::Column::Channel.eq("sms"))
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_escalation_reaches_a_verified_mobile_by_text() {
    let (url, fake) = fake_notify().await;
    let app = app_with_notify(&url).await;
    // Gareth, the ICB's head of cyber (level 1 for a practice's incident), verifies his mobile.
    let gareth = app.enrolled(GARETH).await;
    verified(&app, &fake, &gareth, "07700 900111").await;
    let before = fake.texts.lock().unwrap().len();

    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = engine(&app, &url, clock.clone()).await;
    clock.advance(Duration::minutes(16));
    assert!(e.decide_due().await.unwrap() >= 1);
    let pages = sms_rows(&app).await;
    let gareth_id = app.person_id(GARETH).await;
    assert!(!pages.is_empty());
    assert!(
        pages.iter().all(|n| n.person_id == Some(gareth_id)),
        "only the verified number is texted"
    );
    assert!(e.deliver_due().await.unwrap() >= 1);

    let texts = fake.texts.lock().unwrap()[before..].to_vec();
    assert_eq!(texts.len(), pages.len(), "one text per page: {texts:?}");
    assert!(texts.iter().all(|t| t.phone == "+447700900111"));
    // Gareth also holds tasks of the incident, so his page from the declaration is among
    // them: the escalation's text is the one that says so.
    let escalated = texts
        .iter()
        .find(|t| t.message.contains("Escalated to you"))
        .unwrap_or_else(|| panic!("no escalation text: {texts:?}"));
    assert!(
        escalated.message.contains(&reference),
        "{}",
        escalated.message
    );
    assert!(
        fake.refused.lock().unwrap().is_empty(),
        "{:?}",
        fake.refused
    );
    let lines = timeline(&app, &reference).await;
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Text message to Gareth Lloyd delivered (attempt 1)")),
        "{lines:?}"
    );
    // Each text is recorded under the reference Notify was given.
    let recorded = text_message::Entity::find()
        .filter(text_message::Column::Reference.eq(escalated.reference.clone()))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the page's text is recorded");
    assert_eq!(
        (recorded.purpose.as_str(), recorded.status.as_str()),
        ("page", "accepted")
    );
    assert_eq!(e.deliver_due().await.unwrap(), 0, "nothing is sent twice");
}

#[tokio::test]
async fn notify_answering_500_is_retried_and_the_text_is_delivered_once() {
    let (url, fake) = fake_notify().await;
    let app = app_with_notify(&url).await;
    let gareth = app.enrolled(GARETH).await;
    verified(&app, &fake, &gareth, "07700 900222").await;
    let before = fake.texts.lock().unwrap().len();
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = engine(&app, &url, clock.clone()).await;
    clock.advance(Duration::minutes(16));
    e.decide_due().await.unwrap();
    let pages = sms_rows(&app).await.len();
    assert!(pages >= 1);

    // Notify is down for the first attempt of every page.
    fake.failing.store(pages, Ordering::SeqCst);
    e.deliver_due().await.unwrap();
    assert_eq!(
        fake.texts.lock().unwrap().len(),
        before,
        "nothing accepted while down"
    );
    assert!(sms_rows(&app).await.iter().all(|n| n.status
        == app::domain::escalation::NotificationStatus::Pending
        && n.attempts == 1));
    assert_eq!(e.deliver_due().await.unwrap(), 0, "not before the back-off");

    // Back up: after the back-off each page goes, once.
    clock.advance(Duration::seconds(11));
    assert!(e.deliver_due().await.unwrap() >= 1);
    clock.advance(Duration::minutes(5));
    e.deliver_due().await.unwrap();
    let texts = fake.texts.lock().unwrap()[before..].to_vec();
    assert_eq!(
        texts.len(),
        pages,
        "each page delivered exactly once: {texts:?}"
    );
    assert!(
        sms_rows(&app).await.iter().all(|n| n.status
            == app::domain::escalation::NotificationStatus::Sent
            && n.attempts == 2)
    );
    let lines = timeline(&app, &reference).await;
    assert!(
        lines.iter().any(|l| l.contains(
            "Text message to Gareth Lloyd failed (attempt 1): GOV.UK Notify answered 500; retrying in 10 s"
        )),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Text message to Gareth Lloyd delivered (attempt 2)"))
    );
}

async fn post_receipt(app: &TestApp, token: Option<&str>, reference: &str) -> reqwest::StatusCode {
    let mut req = app
        .new_client()
        .post(format!("{}/notify/receipts", app.address))
        .json(&serde_json::json!({
            "id": "740e5834-3a29-46b4-9a6f-16142fde0000",
            "reference": reference,
            "to": "07700900123",
            "status": "delivered",
            "created_at": "2026-11-29T03:00:00.000000Z",
            "completed_at": "2026-11-29T03:00:05.000000Z",
            "sent_at": "2026-11-29T03:00:01.000000Z",
            "notification_type": "sms",
            "template_id": TEMPLATE,
            "template_version": 1,
        }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn delivery_receipts_are_recorded_only_with_the_right_token() {
    let (url, fake) = fake_notify().await;
    let app = app_with_notify(&url).await;
    let nadia = app.signed_in_as(NADIA).await;
    let res = app
        .post_with(
            &nadia,
            "/api/contacts/add_mobile",
            &[("mobile", "07700 900123")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let reference = fake.texts.lock().unwrap()[0].reference.clone();
    let status = || async {
        text_message::Entity::find()
            .filter(text_message::Column::Reference.eq(reference.clone()))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .status
    };
    assert_eq!(status().await, "accepted");

    let before = app.fingerprint().await;
    assert_eq!(
        post_receipt(&app, Some("not-the-token"), &reference).await,
        401
    );
    assert_eq!(post_receipt(&app, None, &reference).await, 401);
    assert_eq!(
        app.fingerprint().await,
        before,
        "a refused receipt changes nothing"
    );
    let refusals = app.audit_rows("notify_receipt").await;
    assert_eq!(refusals.len(), 2);
    assert!(refusals.iter().all(|r| r.outcome == "refused"));
    assert_eq!(status().await, "accepted");

    assert_eq!(
        post_receipt(&app, Some(CALLBACK_TOKEN), &reference).await,
        204
    );
    assert_eq!(status().await, "delivered");
}
