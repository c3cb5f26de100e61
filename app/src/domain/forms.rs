//! How a page's forms reach the server.

/// The header the page's script sends with a form it sends for the page, instead of letting
/// the browser post it: the server keeps the answer for the page (as for a plain post) and
/// the script reloads the page to show it.
pub const FORM_HEADER: &str = "x-wardline-form";
