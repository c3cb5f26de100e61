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

/// The answer of the last plain form post to the server function `S` that brought the person
/// back to this page, if any: shown once (see `backend::answers`). Drawn on the server only;
/// in the browser it is never asked for.
pub fn posted<S>() -> Resource<Option<S::Output>>
where
    S: leptos::server_fn::ServerFn,
    S::Output: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    Resource::new(
        || (),
        |_| async {
            #[cfg(feature = "ssr")]
            {
                crate::backend::answers::take(S::PATH)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|json| serde_json::from_str(&json).ok())
            }
            #[cfg(not(feature = "ssr"))]
            {
                None
            }
        },
    )
}

/// A confirmation made from the answer of the last plain post to `S`, announced politely.
pub fn posted_notice<S>(
    message: impl Fn(S::Output) -> String + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    S: leptos::server_fn::ServerFn,
    S::Output: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    let answer = posted::<S>();
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let message = message.clone();
                Suspend::new(async move {
                    answer.await.map(|a| view! { <div class="notice" role="status"><p>{message(a)}</p></div> })
                })
            }}
        </Suspense>
    }
}
