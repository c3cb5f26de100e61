//! Links between the pages of a long list: plain links, so they work without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The page a list's `?page=` asks for (the first when it asks for nothing sensible).
pub fn asked_page() -> Memo<u64> {
    let query = use_query_map();
    Memo::new(move |_| crate::domain::listing::asked_page(query.read().get("page").as_deref()))
}

/// "Page 2 of 5", with links to the pages either side; nothing when there is one page.
#[component]
pub fn Pager(
    page: u64,
    pages: u64,
    total: u64,
    #[prop(into)] path: String,
    what: &'static str,
) -> impl IntoView {
    (pages > 1).then(|| {
        view! {
            <nav class="pager" aria-label=format!("Pages of {what}")>
                <p>{format!("Page {page} of {pages} ({total} {what})")}</p>
                <ul class="plain-list pager__links" role="list">
                    {(page > 1).then(|| view! { <li><a href=format!("{path}?page={}", page - 1) rel="prev">"Previous page"</a></li> })}
                    {(page < pages).then(|| view! { <li><a href=format!("{path}?page={}", page + 1) rel="next">"Next page"</a></li> })}
                </ul>
            </nav>
        }
    })
}
