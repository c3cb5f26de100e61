//! The interactive parts of the pages: the only code sent to the browser (Leptos islands).
//!
//! Pages are server-rendered HTML whose forms are plain posts, so they work before and
//! without the WebAssembly. A page stays live without re-rendering in the browser: the parts
//! of it marked `data-live` (each with an `id`) are fetched again from the server when its
//! event stream says something changed, and each part that differs is put in, except one
//! holding something the person is typing or has focused.

use leptos::prelude::*;

/// Sends the page's forms for it once the page is live, so a refused form keeps everything
/// typed into it and says what is wrong beside it, and a form cannot be sent twice by a
/// second press. What works is shown by loading the page again (or the page the server sends
/// the browser to). Before the WebAssembly loads, and without it, the same forms are plain
/// posts that the server answers with the page.
#[island]
pub fn SendFormsInPlace() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    browser::send_forms_in_place();
}

/// Keeps the page's live parts current from the server-sent event stream at `events`.
#[island]
pub fn LiveUpdates(events: String) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    browser::follow_events(events);
    #[cfg(not(feature = "hydrate"))]
    let _ = events;
}

/// Keeps the page's live parts current by asking again every `every_ms` while the page has
/// an element marked `data-live-poll` (a long import, say); stops when it has none.
#[island]
pub fn LivePoll(every_ms: u32) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    browser::poll(every_ms);
    #[cfg(not(feature = "hydrate"))]
    let _ = every_ms;
}

/// Searches as the person types in the search box `input` (inside a GET form): the page's
/// live parts are fetched for the words typed, and the address follows, so a reload or a
/// link shows the same. Without the WebAssembly the form's button does the same.
#[island]
pub fn SearchAsYouType(input: String) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    browser::search_as_you_type(input);
    #[cfg(not(feature = "hydrate"))]
    let _ = input;
}

/// "Expand all" and "Collapse all" for the `<details>` inside the element `target`; shown
/// only once they can work.
#[island]
pub fn ExpandAll(target: String) -> impl IntoView {
    let ready = RwSignal::new(false);
    // Effects run only in the browser.
    Effect::new(move |_| ready.set(true));
    let set_all = move |open: bool| {
        #[cfg(feature = "hydrate")]
        browser::set_details_open(&target, open);
        #[cfg(not(feature = "hydrate"))]
        let _ = (&target, open);
    };
    let set_all_closed = set_all.clone();
    view! {
        <div class="button-group" hidden=move || !ready.get()>
            <button type="button" class="button button--secondary" on:click=move |_| set_all(true)>"Expand all"</button>
            <button type="button" class="button button--secondary" on:click=move |_| set_all_closed(false)>"Collapse all"</button>
        </div>
    }
}

/// "Inbox", with the unread count kept live. The count is asked for in the browser only
/// (the server renders plain "Inbox"), and not through a local resource: one read on the
/// server would make the header's wait for who is signed in give up.
#[island]
pub fn InboxLink() -> impl IntoView {
    let unread = RwSignal::new(0u64);
    #[cfg(feature = "hydrate")]
    {
        let ask = move || {
            leptos::task::spawn_local(async move {
                if let Ok(n) = crate::api::escalation::unread().await {
                    unread.set(n);
                }
            })
        };
        ask();
        browser::on_event("/live/tasks", ask);
    }
    view! {
        <a href="/inbox">
            {move || match unread.get() {
                0 => "Inbox".to_owned(),
                n => format!("Inbox ({n} unread)"),
            }}
        </a>
    }
}

/// Prints the page.
#[island]
pub fn PrintButton(label: String) -> impl IntoView {
    view! {
        <button type="button" class="button button--secondary" on:click=move |_| {
            let _ = window().print();
        }>{label}</button>
    }
}

/// Deletes the break-glass copy this browser keeps (the cache `public/break-glass-sw.js`
/// fills), on pages shown to someone signed out, whether or not the worker is running.
#[island]
pub fn ForgetBreakGlassCopy() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    if let Some(caches) = web_sys::window().and_then(|w| w.caches().ok()) {
        let _ = caches.delete("wardline-break-glass-v1");
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::Cell;
    use std::rc::Rc;

    use leptos::prelude::*;
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    /// Takes over the submission of every form on the page that posts to a server function.
    pub fn send_forms_in_place() {
        let on_submit = Closure::<dyn Fn(web_sys::SubmitEvent)>::new(|ev: web_sys::SubmitEvent| {
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            let action = form.get_attribute("action").unwrap_or_default();
            if !action.starts_with("/api/")
                || !form.method().eq_ignore_ascii_case("post")
                || form.enctype() == "multipart/form-data"
            {
                return;
            }
            ev.prevent_default();
            if form.get_attribute("aria-busy").as_deref() == Some("true") {
                return;
            }
            leptos::task::spawn_local(send_form(form, action, ev.submitter()));
        });
        let _ = document()
            .add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
        on_submit.forget();
    }

    async fn send_form(
        form: web_sys::HtmlFormElement,
        action: String,
        submitter: Option<web_sys::HtmlElement>,
    ) {
        let Ok(data) = web_sys::FormData::new_with_form(&form) else {
            let _ = form.submit();
            return;
        };
        // The pressed button's own name and value go too, as in a plain post.
        if let Some(button) = submitter
            .as_ref()
            .and_then(|s| s.dyn_ref::<web_sys::HtmlButtonElement>())
            && !button.name().is_empty()
        {
            let _ = data.append_with_str(&button.name(), &button.value());
        }
        let Ok(body) = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data) else {
            let _ = form.submit();
            return;
        };
        let _ = form.set_attribute("aria-busy", "true");
        let headers = web_sys::Headers::new().ok();
        if let Some(h) = &headers {
            let _ = h.set("Accept", "application/json");
            let _ = h.set("Content-Type", "application/x-www-form-urlencoded");
            let _ = h.set(crate::domain::forms::FORM_HEADER, "1");
        }
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&JsValue::from(String::from(body.to_string())));
        if let Some(h) = &headers {
            init.set_headers(h);
        }
        let sent = JsFuture::from(window().fetch_with_str_and_init(&action, &init))
            .await
            .ok()
            .and_then(|r| r.dyn_into::<web_sys::Response>().ok());
        let _ = form.remove_attribute("aria-busy");
        let Some(response) = sent else {
            show_error(
                &form,
                "Wardline could not be reached. Check your connection and try again: what you typed is still here.",
            );
            return;
        };
        let location = response.headers().get("location").ok().flatten();
        let redirect = response.headers().has("serverfnredirect").unwrap_or(false);
        if response.ok() {
            match location.filter(|_| redirect) {
                Some(to) => {
                    let _ = window().location().assign(&to);
                }
                None => show_what_changed(&form).await,
            }
            return;
        }
        let text = match response.text() {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()),
            Err(_) => None,
        };
        let message = text
            .and_then(|t| serde_json::from_str::<crate::error::AppError>(&t).ok())
            .map(|e| e.to_string())
            .unwrap_or_else(|| match response.status() {
                413 => crate::error::AppError::TooLarge.to_string(),
                429 => crate::error::AppError::TooManyRequests.to_string(),
                _ => "That could not be done. Nothing was changed; please try again.".to_owned(),
            });
        show_error(&form, &message);
    }

    /// Shows what the form did: on a page with live parts those are fetched again (the form,
    /// done with, emptied first so its part is put in too); any other page is loaded again.
    async fn show_what_changed(form: &web_sys::HtmlFormElement) {
        let doc = document();
        let live = doc
            .query_selector("[data-live][id]")
            .ok()
            .flatten()
            .is_some();
        if live
            && !window()
                .location()
                .search()
                .unwrap_or_default()
                .contains("__err=")
        {
            form.reset();
            if let Some(summary) = form
                .previous_element_sibling()
                .filter(|e| e.class_list().contains("error-summary--form"))
            {
                summary.remove();
            }
            if refresh_from(&here()).await.is_some() {
                return;
            }
        }
        reload_without_error();
    }

    /// Loads the page again to show what the form did, keeping the place on the page; an
    /// error a plain post left in the address goes.
    fn reload_without_error() {
        let location = window().location();
        let search = location.search().unwrap_or_default();
        if search.contains("__err=") {
            let kept: Vec<&str> = search
                .trim_start_matches('?')
                .split('&')
                .filter(|p| !p.starts_with("__err=") && !p.starts_with("__path="))
                .collect();
            let path = location.pathname().unwrap_or_default();
            let to = if kept.is_empty() {
                path
            } else {
                format!("{path}?{}", kept.join("&"))
            };
            let _ = location.replace(&to);
        } else {
            let _ = location.reload();
        }
    }

    /// Says what is wrong just above the form, announced at once, and moves to it.
    fn show_error(form: &web_sys::HtmlFormElement, message: &str) {
        let doc = document();
        let existing = form
            .previous_element_sibling()
            .filter(|e| e.class_list().contains("error-summary--form"));
        let summary = match existing {
            Some(e) => e,
            None => {
                let Ok(e) = doc.create_element("div") else {
                    return;
                };
                e.set_class_name("error-summary error-summary--form");
                let _ = e.set_attribute("role", "alert");
                let _ = e.set_attribute("tabindex", "-1");
                let _ = form.before_with_node_1(&e);
                e
            }
        };
        summary.set_inner_html("");
        if let (Ok(title), Ok(p)) = (doc.create_element("h2"), doc.create_element("p")) {
            title.set_class_name("error-summary__title");
            title.set_text_content(Some("There is a problem"));
            p.set_text_content(Some(message));
            let _ = summary.append_child(&title);
            let _ = summary.append_child(&p);
        }
        if let Some(e) = summary.dyn_ref::<web_sys::HtmlElement>() {
            let _ = e.focus();
        }
    }

    /// Calls `f` on each "changed" event from the stream at `url`.
    pub fn on_event(url: &str, f: impl Fn() + 'static) {
        let Ok(source) = web_sys::EventSource::new(url) else {
            return;
        };
        let on_change = Closure::<dyn Fn(web_sys::Event)>::new(move |_| f());
        let _ =
            source.add_event_listener_with_callback("changed", on_change.as_ref().unchecked_ref());
        on_change.forget();
        // The stream closes with the page.
        std::mem::forget(source);
    }

    /// Refreshes the page's live parts on each event; events arriving during a refresh make
    /// one more refresh after it, not one each.
    pub fn follow_events(url: String) {
        let state = Rc::new(Cell::new(Refresh::Idle));
        on_event(&url, move || refresh_soon(state.clone()));
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Refresh {
        Idle,
        Running,
        Again,
    }

    fn refresh_soon(state: Rc<Cell<Refresh>>) {
        match state.get() {
            Refresh::Running | Refresh::Again => state.set(Refresh::Again),
            Refresh::Idle => {
                state.set(Refresh::Running);
                leptos::task::spawn_local(async move {
                    loop {
                        let _ = refresh_from(&here()).await;
                        if state.get() == Refresh::Again {
                            state.set(Refresh::Running);
                        } else {
                            state.set(Refresh::Idle);
                            break;
                        }
                    }
                });
            }
        }
    }

    pub fn poll(every_ms: u32) {
        if !page_asks_to_poll(&document()) {
            return;
        }
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    if refresh_from(&here()).await != Some(false) {
                        poll(every_ms);
                    }
                })
            },
            std::time::Duration::from_millis(u64::from(every_ms)),
        );
    }

    pub fn search_as_you_type(input: String) {
        let Some(field) = document()
            .get_element_by_id(&input)
            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        // Only the latest words count: an answer for earlier ones is dropped.
        let typed = Rc::new(Cell::new(0u32));
        let target = field.clone();
        let on_input = Closure::<dyn Fn(web_sys::Event)>::new(move |_| {
            let n = typed.get().wrapping_add(1);
            typed.set(n);
            let typed = typed.clone();
            let field = target.clone();
            set_timeout(
                move || {
                    if typed.get() != n {
                        return;
                    }
                    let Some(form) = field.form() else { return };
                    let query = format!(
                        "?{}={}",
                        field.name(),
                        String::from(js_sys::encode_uri_component(&field.value()))
                    );
                    let url = format!("{}{}", form.action(), query);
                    leptos::task::spawn_local(async move {
                        if refresh_from(&url).await.is_some()
                            && typed.get() == n
                            && let Ok(history) = window().history()
                        {
                            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
                        }
                    });
                },
                std::time::Duration::from_millis(250),
            );
        });
        let _ = field.add_event_listener_with_callback("input", on_input.as_ref().unchecked_ref());
        on_input.forget();
    }

    pub fn set_details_open(target: &str, open: bool) {
        let Some(root) = document().get_element_by_id(target) else {
            return;
        };
        let Ok(list) = root.query_selector_all("details") else {
            return;
        };
        for i in 0..list.length() {
            if let Some(d) = list
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::HtmlDetailsElement>().ok())
            {
                d.set_open(open);
            }
        }
    }

    fn here() -> String {
        window().location().href().unwrap_or_default()
    }

    fn page_asks_to_poll(doc: &web_sys::Document) -> bool {
        doc.query_selector("[data-live-poll]")
            .ok()
            .flatten()
            .is_some()
    }

    /// Fetches `url` and puts each of its live parts that differs into the page. `None` when
    /// the page could not be had (offline, signed out); otherwise whether it asks to be
    /// polled again.
    async fn refresh_from(url: &str) -> Option<bool> {
        let response: web_sys::Response = JsFuture::from(window().fetch_with_str(url))
            .await
            .ok()?
            .dyn_into()
            .ok()?;
        // Signed out meanwhile: the sign-in page is not this page.
        if !response.ok() || response.redirected() {
            return None;
        }
        let text = JsFuture::from(response.text().ok()?)
            .await
            .ok()?
            .as_string()?;
        let fresh = web_sys::DomParser::new()
            .ok()?
            .parse_from_string(&text, web_sys::SupportedType::TextHtml)
            .ok()?;
        let doc = document();
        let parts = fresh.query_selector_all("[data-live][id]").ok()?;
        for i in 0..parts.length() {
            let Some(new) = parts
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            let Some(old) = doc.get_element_by_id(&new.id()) else {
                continue;
            };
            let html = new.outer_html();
            if old.outer_html() != html && !being_edited(&doc, &old) {
                old.set_outer_html(&html);
                if let Some(put) = doc.get_element_by_id(&new.id()) {
                    hydrate_islands_in(&put);
                }
            }
        }
        Some(page_asks_to_poll(&fresh))
    }

    /// Wakes the islands inside a part just put in, as the page's script did on load.
    fn hydrate_islands_in(part: &web_sys::Element) {
        let Ok(hydrate) = js_sys::Reflect::get(&window(), &JsValue::from_str("__hydrateIsland"))
        else {
            return;
        };
        let Ok(hydrate) = hydrate.dyn_into::<js_sys::Function>() else {
            return;
        };
        let Ok(islands) = part.query_selector_all("leptos-island") else {
            return;
        };
        for i in 0..islands.length() {
            if let Some(island) = islands
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                let id = island.get_attribute("data-component").unwrap_or_default();
                let _ = hydrate.call2(&JsValue::NULL, &island, &JsValue::from_str(&id));
            }
        }
    }

    /// Whether the person is in the middle of something inside `part`: focused on one of its
    /// fields, or has typed or chosen something there not yet sent.
    fn being_edited(doc: &web_sys::Document, part: &web_sys::Element) -> bool {
        if let Some(active) = doc.active_element() {
            let tag = active.tag_name();
            if part.contains(Some(&active))
                && matches!(tag.as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            {
                return true;
            }
        }
        let Ok(fields) = part.query_selector_all("input, textarea, select") else {
            return false;
        };
        (0..fields.length())
            .filter_map(|i| fields.item(i))
            .any(|node| {
                if let Some(t) = node.dyn_ref::<web_sys::HtmlTextAreaElement>() {
                    return t.default_value().is_ok_and(|d| t.value() != d);
                }
                if let Some(input) = node.dyn_ref::<web_sys::HtmlInputElement>() {
                    return match input.type_().as_str() {
                        "hidden" | "submit" | "button" => false,
                        "checkbox" | "radio" => input.checked() != input.default_checked(),
                        _ => input.value() != input.default_value(),
                    };
                }
                if let Some(select) = node.dyn_ref::<web_sys::HtmlSelectElement>() {
                    let options = select.options();
                    return (0..options.length())
                        .filter_map(|i| options.item(i))
                        .filter_map(|o| o.dyn_into::<web_sys::HtmlOptionElement>().ok())
                        .any(|o| o.selected() != o.default_selected());
                }
                false
            })
    }
}
