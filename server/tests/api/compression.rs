//! Pages and `/pkg` files go out compressed as the browser asks; `/pkg` files carry content
//! hashes in their names and are cached for good, pages never; live streams are not
//! compressed (which would hold their events back).

use std::path::Path;

use crate::helpers::{TestApp, spawn_app_with};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The built front end: extension, content hash, and a line its (compressible) body repeats.
const FILES: [(&str, &str, &str); 3] = [
    (
        "js",
        "Js0123456789abcdefghij",
        "export function hydrate() {}\n",
    ),
    (
        "wasm",
        "Wa0123456789abcdefgh-_",
        "\0asm wardline front end\n",
    ),
    (
        "css",
        "Cs0123456789abcdefghij",
        "body { margin: 0; padding: 0 }\n",
    ),
];

/// A site as `cargo leptos build` with `hash-files = true` leaves it: hashed names under
/// `pkg/` and the hash file listing them.
fn built_site(root: &Path) -> std::path::PathBuf {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let mut hashes = String::new();
    for (ext, hash, line) in FILES {
        std::fs::write(pkg.join(format!("wardline.{hash}.{ext}")), line.repeat(200)).unwrap();
        hashes.push_str(&format!("{ext}: {hash}\n"));
    }
    let hash_file = root.join("hash.txt");
    std::fs::write(&hash_file, hashes).unwrap();
    hash_file
}

async fn app_with_built_site(root: &Path) -> TestApp {
    let hash_file = built_site(root);
    let site_root = root.to_str().unwrap().to_owned();
    spawn_app_with(move |s| {
        s.leptos.site_root = site_root.into();
        s.leptos.hash_files = true;
        // Leptos looks for the hash file beside the running binary; an absolute name
        // points it here instead.
        s.leptos.hash_file = hash_file.to_str().unwrap().into();
    })
    .await
}

async fn get(app: &TestApp, path: &str, accept_encoding: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{path}", app.address));
    if let Some(encodings) = accept_encoding {
        req = req.header("Accept-Encoding", encodings);
    }
    req.send().await.unwrap()
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The `/pkg/…` addresses a page's HTML refers to.
fn pkg_urls(html: &str) -> Vec<String> {
    html.split(['"', '\''])
        .filter(|s| s.starts_with("/pkg/") && !s.contains(['<', '>', ' ']))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn pages_are_compressed_and_never_stored_while_hashed_pkg_files_are_cached_for_good() {
    let site = tempfile::tempdir().unwrap();
    let app = app_with_built_site(site.path()).await;

    // The page: compressed, never stored.
    let page = get(&app, "/sign-in", Some("br, gzip")).await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-encoding"), Some("br"));
    assert_eq!(header(&page, "cache-control"), Some("no-store"));

    // Its HTML, read plainly, names the hashed files.
    let plain = get(&app, "/sign-in", None).await;
    assert_eq!(header(&plain, "content-encoding"), None);
    let html = plain.text().await.unwrap();
    let urls = pkg_urls(&html);
    for (ext, hash, _) in FILES {
        let wanted = format!("/pkg/wardline.{hash}.{ext}");
        assert!(urls.contains(&wanted), "{wanted} not among {urls:?}");
    }

    for url in &urls {
        let original = get(&app, url, None).await;
        assert_eq!(original.status(), 200, "{url}");
        assert_eq!(header(&original, "content-encoding"), None, "{url}");
        assert_eq!(header(&original, "cache-control"), Some(IMMUTABLE), "{url}");
        let size = original.bytes().await.unwrap().len();

        for encoding in ["br", "gzip"] {
            let res = get(&app, url, Some(encoding)).await;
            assert_eq!(res.status(), 200, "{url} {encoding}");
            assert_eq!(header(&res, "content-encoding"), Some(encoding), "{url}");
            assert_eq!(header(&res, "cache-control"), Some(IMMUTABLE), "{url}");
            let sent = res.bytes().await.unwrap().len();
            assert!(sent < size / 4, "{url} {encoding}: {sent} of {size} bytes");
        }
    }
}

#[tokio::test]
async fn files_without_a_hash_in_their_name_are_never_cached_for_good() {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    std::fs::write(site.path().join("pkg/wardline.css"), "body {}\n".repeat(50)).unwrap();
    std::fs::write(
        site.path().join("break-glass-sw.js"),
        "self.x = 1;\n".repeat(50),
    )
    .unwrap();
    let root = site.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(move |s| s.leptos.site_root = root.into()).await;

    let css = get(&app, "/pkg/wardline.css", Some("br")).await;
    assert_eq!(css.status(), 200);
    assert_eq!(header(&css, "cache-control"), Some("no-cache"));
    let worker = get(&app, "/break-glass-sw.js", Some("br")).await;
    assert_eq!(worker.status(), 200);
    assert_eq!(header(&worker, "cache-control"), Some("no-store"));
}

#[tokio::test]
async fn live_streams_are_not_compressed() {
    let app = spawn_app_with(|_| {}).await.with_demo().await;
    app.sign_in("nadia.kowalski@demo.wardline.test").await;
    let res = get(&app, "/live/tasks", Some("br, gzip")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), Some("text/event-stream"));
    assert_eq!(header(&res, "content-encoding"), None);
}
