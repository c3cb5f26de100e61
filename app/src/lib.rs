//! Wardline: who is accountable for cyber security across NHS organisations, and what
//! happens when an incident is declared.

#![recursion_limit = "256"]

pub mod api;
pub mod domain;
pub mod error;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod backend;

pub use ui::{App, shell};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // Marks the page interactive, for people's tools and for browser tests that must not
    // click before the WebAssembly has taken over.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
