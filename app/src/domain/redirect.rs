//! Where a "come back to" target (`?next=`, a form's return address) may send a browser:
//! only to a path on this site, judged the way browsers parse URLs, never elsewhere.

use url::Url;

/// The origin relative targets are resolved against. Any fixed origin does: only whether
/// the target stays on it matters, and only its path, query and fragment are kept.
const BASE: &str = "https://wardline.invalid/";

/// `target` as a path on this site (`/orgs/RJ1?x=1`), or `None` if a browser would take it
/// anywhere else.
///
/// The target is parsed as WHATWG URL parsing does in browsers (tabs and newlines dropped,
/// backslashes read as slashes, leading spaces and controls trimmed), so `/\evil.example`,
/// `/\t/evil.example` and `//evil.example` are all seen for what they are. What comes back is
/// the parsed URL re-serialised: ASCII only, percent-encoded, no control characters, so it is
/// always a valid `Location` header value and always means the same thing to every browser.
pub fn safe_next(target: &str) -> Option<String> {
    // Anything with a scheme of its own (`https:evil.example`, `javascript:…`) is absolute:
    // what it means depends on the page's own scheme, and a return address never needs one.
    if Url::parse(target).is_ok() {
        return None;
    }
    let base = Url::parse(BASE).ok()?;
    let url = base.join(target).ok()?;
    if url.origin() != base.origin() || url.username() != "" || url.password().is_some() {
        return None;
    }
    let path = url.path();
    // A path like `//evil.example` (from `/.//evil.example`) would be read as another host.
    if !path.starts_with('/') || path.starts_with("//") {
        return None;
    }
    let mut out = path.to_owned();
    if let Some(query) = url.query() {
        out.push('?');
        out.push_str(query);
    }
    if let Some(fragment) = url.fragment() {
        out.push('#');
        out.push_str(fragment);
    }
    Some(out)
}

/// Where to go after signing in: the requested page when it is on this site, else the map.
pub fn after_sign_in(next: Option<&str>) -> String {
    next.and_then(safe_next)
        .unwrap_or_else(|| "/orgs".to_owned())
}

/// `text` encoded for a query string's value.
pub fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The sign-in page, set to come back to `path` afterwards.
pub fn sign_in_then(path: &str) -> String {
    let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    format!("/sign-in?next={next}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_targets_only_ever_stay_on_site() {
        let hostile = [
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            " //evil.example",
            "\u{0}//evil.example",
            "https://evil.example",
            "https:evil.example",
            "https:/evil.example",
            "HTTPS://evil.example/orgs",
            "ftp://evil.example",
            "//evil.example/%2f..",
            "/.//evil.example",
            "/..//evil.example",
            "/x/..//evil.example",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "https://wardline.invalid@evil.example/",
            "//user@evil.example",
        ];
        for target in hostile {
            let kept = safe_next(target);
            if let Some(path) = &kept {
                // Whatever survives is a plain local path a browser cannot read as a host.
                let reparsed = Url::parse(BASE).unwrap().join(path).unwrap();
                assert_eq!(
                    reparsed.host_str(),
                    Some("wardline.invalid"),
                    "{target:?} -> {path:?}"
                );
                assert!(path.starts_with('/') && !path.starts_with("//"));
                assert!(!path.contains('\\'), "{target:?} -> {path:?}");
            }
            assert!(
                kept.as_deref()
                    .is_none_or(|p| !p.contains("evil.example") || p.starts_with("/evil")),
                "{target:?} kept as {kept:?}"
            );
        }
        assert_eq!(safe_next("//evil.example"), None);
        assert_eq!(safe_next("/\\evil.example"), None);
        assert_eq!(safe_next("/\t/evil.example"), None);
        assert_eq!(safe_next("https:evil.example"), None);
        assert_eq!(safe_next("javascript:alert(1)"), None);
        assert_eq!(safe_next("/.//evil.example"), None);
    }

    #[test]
    fn local_paths_are_kept_in_their_normal_form() {
        assert_eq!(safe_next("/orgs/RJ1").as_deref(), Some("/orgs/RJ1"));
        assert_eq!(
            safe_next("/orgs/RJ1/chart?as_at=2024-01-01#roles").as_deref(),
            Some("/orgs/RJ1/chart?as_at=2024-01-01#roles")
        );
        // Encoded slashes stay encoded: a browser does not decode them into a host.
        assert_eq!(
            safe_next("%2f%2fevil.example").as_deref(),
            Some("/%2f%2fevil.example")
        );
        assert_eq!(safe_next("/%0a/x").as_deref(), Some("/%0a/x"));
        assert_eq!(safe_next("/a/../orgs").as_deref(), Some("/orgs"));
        assert_eq!(
            safe_next("/orgs/Ré ñ").as_deref(),
            Some("/orgs/R%C3%A9%20%C3%B1")
        );
    }

    #[test]
    fn what_comes_back_is_always_a_valid_header_value() {
        for target in ["/a\u{7f}b", "/ä?q=\u{1}", "/\u{0}x", "/x\ry", "/x?\n=1"] {
            if let Some(path) = safe_next(target) {
                assert!(
                    path.bytes().all(|b| (0x21..0x7f).contains(&b)),
                    "{target:?} -> {path:?}"
                );
            }
        }
    }

    #[test]
    fn signing_in_returns_to_the_page_or_the_map() {
        assert_eq!(after_sign_in(Some("/orgs/RJ1")), "/orgs/RJ1");
        assert_eq!(after_sign_in(Some("//evil.example")), "/orgs");
        assert_eq!(after_sign_in(None), "/orgs");
        assert_eq!(
            sign_in_then("/orgs/RJ1?x=1&y=\n"),
            "/sign-in?next=%2Forgs%2FRJ1%3Fx%3D1%26y%3D%0A"
        );
    }
}
