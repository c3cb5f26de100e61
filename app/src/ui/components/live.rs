//! Live refresh: listens to a server-sent event stream and bumps a counter on "changed",
//! so the resources keyed on it fetch again. Only in the browser; the stream closes when
//! the page goes away.

use leptos::prelude::*;

pub fn listen(url: String, tick: RwSignal<u32>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        use leptos::wasm_bindgen::closure::Closure;
        Effect::new(move |started: Option<()>| {
            if started.is_some() {
                return;
            }
            let Ok(source) = web_sys::EventSource::new(&url) else {
                return;
            };
            let on_change =
                Closure::<dyn Fn(web_sys::Event)>::new(move |_| tick.update(|t| *t += 1));
            let _ = source
                .add_event_listener_with_callback("changed", on_change.as_ref().unchecked_ref());
            on_change.forget();
            let stored = StoredValue::new_local(source);
            on_cleanup(move || stored.with_value(|s| s.close()));
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, tick);
}
