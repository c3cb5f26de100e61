//! Whatever a visitor sends: return addresses never leave the site and never panic the
//! server, typed text stays text on every page that shows it, and requests that do not
//! decode answer 4xx in plain words.

use std::collections::BTreeMap;

use crate::helpers::{DEMO_PASSWORD, TestApp, spawn_app};

const NADIA: &str = "nadia.kowalski@demo.wardline.test";
const GARETH: &str = "gareth.lloyd@demo.wardline.test";
const DANA: &str = "dana.whitlock@demo.wardline.test";

// ---------------------------------------------------------------------------------------
// Return addresses

/// `next` values as a query string would carry them (already percent-encoded).
const HOSTILE_NEXT: &[&str] = &[
    "/%0a/x",
    "/%0d%0aSet-Cookie:%20x=1",
    "%2f%2fevil.example",
    "//evil.example",
    "/%5Cevil.example",
    "/%09/evil.example",
    "/%0A/evil.example",
    "https:evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "/.//evil.example",
    "/%C3%A9%FF",
    "%00",
];

/// A `Location` a browser would keep on this site.
fn stays_on_site(app: &TestApp, location: &str) -> bool {
    let base = reqwest::Url::parse(&format!("{}/", app.address)).unwrap();
    let Ok(target) = base.join(location) else {
        return false;
    };
    target.origin() == base.origin()
}

fn location(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("location")
        .map(|l| l.to_str().expect("a Location is visible ASCII").to_owned())
}

#[tokio::test]
async fn a_newline_in_next_does_not_panic() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.new_client();
    // Before signing in: the page renders; once signed in: it redirects, on site.
    for next in HOSTILE_NEXT {
        let res = nadia
            .get(format!("{}/sign-in?next={next}", app.address))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{next}: no answer ({e})"));
        assert_eq!(res.status(), 200, "{next}");
    }
    assert_eq!(
        app.sign_in_with(&nadia, NADIA, DEMO_PASSWORD)
            .await
            .status(),
        200
    );
    for next in HOSTILE_NEXT {
        let res = nadia
            .get(format!("{}/sign-in?next={next}", app.address))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{next}: no answer ({e})"));
        assert!(res.status().is_redirection(), "{next}: {}", res.status());
        let to = location(&res).unwrap();
        assert!(stays_on_site(&app, &to), "{next} -> {to}");
    }
    // A page that sends a visitor to sign in carries its own address safely.
    let anonymous = app.new_client();
    let res = anonymous
        .get(format!("{}/orgs/%0a%0d", app.address))
        .send()
        .await
        .expect("an answer, not a dropped connection");
    assert!(res.status().as_u16() < 500, "{}", res.status());
    if let Some(to) = location(&res) {
        assert!(stays_on_site(&app, &to), "{to}");
    }
}

#[tokio::test]
async fn signing_in_without_script_never_lands_off_site() {
    let app = spawn_app().await.with_demo().await;
    for next in HOSTILE_NEXT {
        let client = app.new_client();
        let page = format!("{}/sign-in?next={next}", app.address);
        // The plain form post, as a browser without script sends it.
        let res = client
            .post(format!("{}/api/auth/sign_in", app.address))
            .header("Accept", "text/html")
            .header("Referer", &page)
            .form(&[("email", NADIA), ("password", DEMO_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_redirection(), "{next}: {}", res.status());
        let mut to = location(&res).unwrap();
        // Follow the redirects by hand, checking each hop.
        for _ in 0..3 {
            assert!(stays_on_site(&app, &to), "{next} -> {to}");
            let url = reqwest::Url::parse(&app.address)
                .unwrap()
                .join(&to)
                .unwrap();
            let res = client
                .get(url)
                .header("Accept", "text/html")
                .send()
                .await
                .unwrap_or_else(|e| panic!("{next}: no answer at {to} ({e})"));
            assert!(
                res.status().as_u16() < 500,
                "{next} at {to}: {}",
                res.status()
            );
            match location(&res) {
                Some(next_hop) => to = next_hop,
                None => break,
            }
        }
    }
}

#[tokio::test]
async fn a_referer_off_site_is_not_followed_after_a_form_post() {
    let app = spawn_app().await.with_demo().await;
    let client = app.new_client();
    for referer in [
        "https://evil.example/x".to_owned(),
        format!("{}//evil.example", app.address),
        format!("{}/\\evil.example", app.address),
    ] {
        let res = client
            .post(format!("{}/api/auth/sign_in", app.address))
            .header("Accept", "text/html")
            .header("Referer", &referer)
            .form(&[("email", NADIA), ("password", "wrong")])
            .send()
            .await
            .unwrap();
        let to = location(&res).unwrap_or_else(|| "/".into());
        assert!(stays_on_site(&app, &to), "{referer} -> {to}");
        assert!(!to.contains("evil"), "{referer} -> {to}");
    }
}

// ---------------------------------------------------------------------------------------
// Raw-text elements

const HOSTILE_TEXT: &str = "</textarea><img src=x onerror=alert(1)></title><script>alert(1)</script></noscript><b>x</b> &lt;b&gt; \"q\" 'q' &amp;";

/// Tags the hostile text would inject if it ever became markup.
const INJECTED: &[&str] = &["<img src=x", "<script>alert(1)", "<b>x</b>"];

/// The text of each raw-text element named `tag` in `html`, as an HTML parser reads it:
/// everything up to the first `</tag` (any case), with character references decoded.
fn raw_text_elements(html: &str, tag: &str) -> Vec<(String, String)> {
    let lower = html.to_ascii_lowercase();
    let (open, close) = (format!("<{tag}"), format!("</{tag}"));
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find(&open).map(|i| i + at) {
        let after = start + open.len();
        // `<titlex` is another element.
        if !lower[after..].starts_with(['>', ' ', '\t', '\n', '/']) {
            at = after;
            continue;
        }
        let tag_end = after + lower[after..].find('>').expect("a start tag ends");
        let attrs = html[after..tag_end].to_owned();
        let body_end = tag_end + 1 + lower[tag_end + 1..].find(&close).expect("an end tag");
        let mut text = decode(&html[tag_end + 1..body_end]);
        // The parser drops one newline straight after `<textarea>`.
        if tag == "textarea" && text.starts_with('\n') {
            text.remove(0);
        }
        found.push((attrs, text));
        at = body_end + close.len();
    }
    found
}

/// Decodes the character references Leptos and the escaping here produce.
fn decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e < 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let decoded = match &rest[1..end] {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            n if n.starts_with("#x") => u32::from_str_radix(&n[2..], 16)
                .ok()
                .and_then(char::from_u32),
            n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn the_raw_text_reader_reads_as_a_parser_does() {
    let html = "<title>a &lt;/title&gt; &amp;lt;</title><textarea id=\"t\">\n&lt;/textarea&gt;<b></TEXTAREA>";
    assert_eq!(
        raw_text_elements(html, "title"),
        vec![(String::new(), "a </title> &lt;".to_owned())]
    );
    assert_eq!(
        raw_text_elements(html, "textarea"),
        vec![(" id=\"t\"".to_owned(), "</textarea><b>".to_owned())]
    );
}

/// The page shows no markup made from typed text.
fn assert_text_stays_text(html: &str, path: &str) {
    for injected in INJECTED {
        assert!(
            !html.contains(injected),
            "{path}: typed text became markup ({injected})"
        );
    }
    // Typed text inside a raw-text element is escaped, so no end tag comes from it: one end
    // tag per start tag.
    for tag in ["textarea", "title", "noscript", "style"] {
        let lower = html.to_ascii_lowercase();
        let (open, close) = (
            lower.matches(&format!("<{tag}")).count(),
            lower.matches(&format!("</{tag}")).count(),
        );
        assert_eq!(open, close, "{path}: <{tag}> ended early by typed text");
    }
}

fn textarea<'a>(elements: &'a [(String, String)], id: &str) -> &'a str {
    let attr = format!("id=\"{id}\"");
    &elements
        .iter()
        .find(|(attrs, _)| attrs.contains(&attr))
        .unwrap_or_else(|| panic!("no textarea {id}"))
        .1
}

#[tokio::test]
async fn hostile_declaration_text_stays_text_on_every_page() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.new_client();
    app.sign_in_with(&nadia, NADIA, DEMO_PASSWORD).await;
    let gareth = app.enrolled(GARETH).await;

    // A declaration with hostile text in every free-text field.
    let res = app
        .post_with(
            &nadia,
            "/api/incidents/declare",
            &[
                ("kind", "ransomware"),
                ("location", HOSTILE_TEXT),
                ("patients_affected", "unknown"),
                ("summary", HOSTILE_TEXT),
                ("systems", HOSTILE_TEXT),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let reference: String = res.json().await.unwrap();

    // The review's three texts.
    let review = [
        ("reference", reference.as_str()),
        ("what_happened", HOSTILE_TEXT),
        ("went_well", HOSTILE_TEXT),
        ("lessons", HOSTILE_TEXT),
    ];
    let res = app
        .post_with(&gareth, "/api/incidents/lead/review", &review)
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // A runbook whose title and step text are hostile (shown in the title and a textarea).
    let mut runbook: Vec<(String, String)> = vec![
        ("kind".into(), "ransomware".into()),
        ("org_code".into(), "QKK".into()),
        (
            "title".into(),
            "Plan </title><script>alert(1)</script>".into(),
        ),
    ];
    for (k, v) in [
        ("phase", "contain"),
        ("title", "Isolate </textarea><b>x</b>"),
        ("owner_role", "head_of_cyber"),
        ("due_minutes", "15"),
        ("instructions", HOSTILE_TEXT),
        ("required", "on"),
        ("depends_on", ""),
    ] {
        runbook.push((format!("steps[0][{k}]"), v.into()));
    }
    let res = gareth
        .post(format!("{}/api/runbooks/save", app.address))
        .header("Accept", "application/json")
        .form(&runbook)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // An asset whose name is hostile (it is the asset page's title).
    let csv = "name,kind,owner_email,supplier_code,clinical_service,patient_safety_critical,os,os_version,end_of_support,site_code,depends_on\r\n</title><script>alert(1)</script> & </textarea><b>x</b>,hardware,,,,no,,,,,\r\n";
    let res = app
        .post_with(
            &gareth,
            "/api/manage/assets/import",
            &[("org_code", "G85028"), ("csv", csv)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let report: serde_json::Value = res.json().await.unwrap();
    assert_eq!(report["added"], 1, "{report}");
    let catalogue: serde_json::Value = app
        .post_with(&gareth, "/api/assets/catalogue", &[("org_code", "G85028")])
        .await
        .json()
        .await
        .unwrap();
    let asset_id = find_id_named(
        &catalogue,
        "</title><script>alert(1)</script> & </textarea><b>x</b>",
    )
    .expect("the asset is listed");

    // The incident page: the DSPT text holds the declaration's words exactly.
    let path = format!("/incidents/{reference}");
    let html = app.page_text(&gareth, &path).await;
    assert_text_stays_text(&html, &path);
    let areas = raw_text_elements(&html, "textarea");
    let dspt = textarea(&areas, "dspt-text");
    assert!(
        dspt.contains(HOSTILE_TEXT),
        "the DSPT text keeps the words: {dspt}"
    );

    let path = format!("/incidents/{reference}/review");
    let html = app.page_text(&gareth, &path).await;
    assert_text_stays_text(&html, &path);
    let areas = raw_text_elements(&html, "textarea");
    for id in ["what-happened", "went-well", "lessons"] {
        assert_eq!(textarea(&areas, id), HOSTILE_TEXT, "{id}");
    }

    let path = "/runbooks/ransomware?org=QKK";
    let html = app.page_text(&gareth, path).await;
    assert_text_stays_text(&html, path);
    let areas = raw_text_elements(&html, "textarea");
    assert_eq!(textarea(&areas, "step-1-instructions"), HOSTILE_TEXT);
    let titles = raw_text_elements(&html, "title");
    assert!(
        titles[0]
            .1
            .contains("Plan </title><script>alert(1)</script>"),
        "the title shows the runbook's title as text: {}",
        titles[0].1
    );

    let path = format!("/assets/{asset_id}");
    let html = app.page_text(&gareth, &path).await;
    assert_text_stays_text(&html, &path);
    let titles = raw_text_elements(&html, "title");
    assert!(
        titles[0]
            .1
            .starts_with("</title><script>alert(1)</script> & </textarea><b>x</b> ("),
        "{}",
        titles[0].1
    );

    for path in [
        format!("/incidents/{reference}/print"),
        "/orgs/G85028/break-glass".to_owned(),
        "/orgs/G85028/assets".to_owned(),
        "/incidents".to_owned(),
        "/tasks".to_owned(),
    ] {
        let html = app.page_text(&gareth, &path).await;
        assert_text_stays_text(&html, &path);
    }
}

fn find_id_named(v: &serde_json::Value, name: &str) -> Option<i64> {
    match v {
        serde_json::Value::Object(o) => {
            if o.get("name").and_then(|n| n.as_str()) == Some(name) {
                return o.get("id").and_then(|i| i.as_i64());
            }
            o.values().find_map(|v| find_id_named(v, name))
        }
        serde_json::Value::Array(a) => a.iter().find_map(|v| find_id_named(v, name)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Malformed requests

/// One server function's arguments, read from its declaration in `app/src/api`.
#[derive(Debug)]
struct Arg {
    name: String,
    ty: String,
}

/// Every `#[server(endpoint = "…")]` function in `app/src/api` with its arguments, so that
/// a function added later is covered without touching this test.
fn declared_server_functions() -> BTreeMap<String, Vec<Arg>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../app/src/api");
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for chunk in source.split("#[server(endpoint = \"").skip(1) {
            let endpoint = &chunk[..chunk.find('"').unwrap()];
            let open = chunk.find("fn ").unwrap();
            let params_start = open + chunk[open..].find('(').unwrap() + 1;
            let params_end = params_start + chunk[params_start..].find(") ->").unwrap();
            let mut args = Vec::new();
            let (mut depth, mut current) = (0, String::new());
            for c in chunk[params_start..params_end].chars().chain([',']) {
                match c {
                    '<' | '(' => depth += 1,
                    '>' | ')' => depth -= 1,
                    _ => {}
                }
                if c == ',' && depth == 0 {
                    if let Some((name, ty)) = current.split_once(':') {
                        args.push(Arg {
                            name: name.trim().to_owned(),
                            ty: ty.split_whitespace().collect(),
                        });
                    }
                    current.clear();
                } else {
                    current.push(c);
                }
            }
            found.insert(format!("/api/{endpoint}"), args);
        }
    }
    found
}

/// A value of the wrong type for an argument of type `ty`, as a form field.
fn wrong_type(name: &str, ty: &str) -> Vec<(String, String)> {
    let inner = ty
        .strip_prefix("Option<")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(ty);
    let numeric = ["i32", "i64", "u32", "u64", "usize", "u16", "f64"];
    if numeric.contains(&inner) {
        vec![(name.to_owned(), "not-a-number".to_owned())]
    } else if inner == "bool" {
        vec![(name.to_owned(), "perhaps".to_owned())]
    } else if inner.starts_with("Vec<") {
        // A map where a list is expected.
        vec![(format!("{name}[x][y]"), "1".to_owned())]
    } else {
        // A map where text is expected.
        vec![(format!("{name}[x]"), "1".to_owned())]
    }
}

/// What an answer to a malformed request may never show.
const INTERNALS: &[&str] = &[
    "ServerFnError",
    "Deserializ",
    "serde",
    "utf-8",
    "UTF-8",
    "invalid digit",
    "missing field",
    "::",
    "sqlx",
    "SELECT",
    "panicked",
];

#[tokio::test]
async fn every_server_function_answers_malformed_bodies_with_4xx() {
    let app = spawn_app().await.with_demo().await;
    let dana = app.enrolled(DANA).await;

    let declared = declared_server_functions();
    let registered: BTreeMap<String, http::Method> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| (path.to_owned(), method))
        .collect();
    assert_eq!(
        declared.keys().collect::<Vec<_>>(),
        registered.keys().collect::<Vec<_>>(),
        "every registered server function is read from its declaration"
    );
    assert!(registered.len() > 40, "{} functions", registered.len());

    let big = "a".repeat(300 * 1024);
    let mut failures = Vec::new();
    for (path, args) in &declared {
        let required = args.iter().any(|a| !a.ty.starts_with("Option<"));
        let mut cases: Vec<(&str, reqwest::RequestBuilder, bool)> = Vec::new();
        let post = |body: reqwest::Body| {
            dana.post(format!("{}{path}", app.address))
                .header("Accept", "application/json")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
        };
        let first = args.first().map_or("x", |a| a.name.as_str());
        let mut invalid_utf8 = format!("{first}=").into_bytes();
        invalid_utf8.extend_from_slice(b"\xff\xfe\xc3(");
        cases.push(("invalid UTF-8", post(invalid_utf8.into()), true));
        cases.push((
            "a 300 KB field",
            post(format!("{first}={big}").into()),
            true,
        ));
        if required {
            cases.push(("a missing field", post(reqwest::Body::from("")), true));
            let wrong: Vec<(String, String)> = args
                .iter()
                .flat_map(|a| wrong_type(&a.name, &a.ty))
                .collect();
            let body = serde_urlencoded_pairs(&wrong);
            cases.push(("a wrong type", post(body.into()), true));
        }
        for (case, request, must_be_4xx) in cases {
            let res = request.send().await.unwrap();
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            let shows_internals = INTERNALS.iter().find(|i| body.contains(*i));
            if (must_be_4xx && !status.is_client_error())
                || status.is_server_error()
                || shows_internals.is_some()
            {
                failures.push(format!("{path} with {case}: {status} {body:.200}"));
            }
        }
    }
    // Dana was never signed out by any of it: the floor did not answer for the functions.
    let still: app::domain::auth::AuthStatus = app
        .post_with(&dana, "/api/auth/status", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(
        matches!(still, app::domain::auth::AuthStatus::SignedIn(_)),
        "{still:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn serde_urlencoded_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let k: String = url_encode(k);
            let v: String = url_encode(v);
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn url_encode(s: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", &[("v", s)])
        .unwrap()
        .query()
        .unwrap()[2..]
        .to_owned()
}

#[tokio::test]
async fn the_other_routes_answer_bad_input_with_4xx_in_plain_words() {
    let app = spawn_app().await.with_demo().await;
    let dana = app.enrolled(DANA).await;
    for path in [
        "/export/chart.csv",
        "/export/chart.csv?org=%FF",
        "/export/chart.json?as_at=x",
        "/export/assets.csv?org[x]=1",
        "/export/caf.csv",
        "/export/incident.json",
        "/export/chart.csv?org=QKK&as_at=not-a-date",
        "/live/incidents/%FF%FE",
    ] {
        let res = dana
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(status.is_client_error(), "{path}: {status} {body}");
        for internal in INTERNALS {
            assert!(!body.contains(internal), "{path}: {body}");
        }
    }
    for (content_type, body) in [
        ("multipart/form-data", b"not multipart".to_vec()),
        ("text/plain", b"x".to_vec()),
        (
            "multipart/form-data; boundary=B",
            b"--B\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n\xff\xfe\r\n--B--\r\n"
                .to_vec(),
        ),
    ] {
        let res = dana
            .post(format!("{}/admin/import/ods", app.address))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(status.is_client_error(), "{content_type}: {status} {text}");
        for internal in INTERNALS {
            assert!(!text.contains(internal), "{content_type}: {text}");
        }
    }
}
