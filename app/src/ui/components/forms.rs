//! Form pieces: the error summary that screen readers announce.

use leptos::prelude::*;

/// Shows an error, announced at once, when there is one.
#[component]
pub fn ErrorSummary(#[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! {
                <div class="error-summary" role="alert" tabindex="-1">
                    <h2 class="error-summary__title">"There is a problem"</h2>
                    <p>{e}</p>
                </div>
            }
        })
    }
}

/// Shows a confirmation, announced politely.
#[component]
pub fn Notice(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message
            .get()
            .map(|m| view! { <div class="notice" role="status"><p>{m}</p></div> })
    }
}
