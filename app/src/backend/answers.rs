//! What a plain form post answered, for the page it goes back to.
//!
//! Pages are server-rendered and their forms are plain posts (only a few parts of a page run
//! in the browser), so a server function's answer (a new invitation link, recovery codes, how
//! many rows an import took) would be lost in the redirect back to the page. The API floor
//! keeps each successful answer to a plain post in the person's session, which is held on the
//! server (shown-once secrets never sit in a cookie), and the page takes it when it is next
//! drawn: shown once, then gone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tower_sessions::Session;

use crate::error::AppError;

pub use crate::domain::forms::FORM_HEADER;

/// The largest answer kept; anything bigger is dropped (the page then shows its usual state).
pub const MOST: usize = 64 * 1024;

fn key(endpoint: &str) -> String {
    format!("answer:{endpoint}")
}

/// Keeps the answer (as the server function encoded it) to a plain post to `endpoint`.
pub async fn keep(session: &Session, endpoint: &str, answer: String) -> Result<(), AppError> {
    if answer.len() > MOST {
        return Ok(());
    }
    session
        .insert(&key(endpoint), answer)
        .await
        .map_err(|e| super::errors::internal("session", &e))
}

/// What this request has taken already: the server may draw a part of a page more than once,
/// and the answer must show each time in that one page.
#[derive(Clone, Default)]
pub struct Taken(Arc<Mutex<HashMap<String, Option<String>>>>);

/// Takes the answer to the last plain post to `endpoint`, once per page drawn.
pub async fn take(endpoint: &str) -> Result<Option<String>, AppError> {
    let taken = leptos::prelude::use_context::<Taken>();
    if let Some(t) = &taken
        && let Some(found) = t.0.lock().ok().and_then(|m| m.get(endpoint).cloned())
    {
        return Ok(found);
    }
    let session = super::caller::session().await?;
    let found = session
        .remove::<String>(&key(endpoint))
        .await
        .map_err(|e| super::errors::internal("session", &e))?;
    if let Some(t) = taken
        && let Ok(mut m) = t.0.lock()
    {
        m.insert(endpoint.to_owned(), found.clone());
    }
    Ok(found)
}
