//! The organisation map: the NHS hierarchy and the suppliers beside it, with a search that
//! filters as you type once the page is live (and on submit before that).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::orgs::get_org_tree;
use crate::domain::org::OrgTree;
use crate::domain::tree;
use crate::error::AppError;
use crate::ui::components::live::{ExpandAll, SearchAsYouType};
use crate::ui::components::org_tree::OrgTreeView;
use crate::ui::components::tags::KindTag;
use leptos_router::components::Redirect;

#[component]
pub fn OrgTreePage() -> impl IntoView {
    let query = use_query_map();
    let search = query.read_untracked().get("q").unwrap_or_default();
    // The server searches (a national map is never sent whole). Once the page is live each
    // change of the text asks it again, and the map on screen stays until the answer comes.
    let asked = search.clone();
    let map = Resource::new(|| (), move |_| get_org_tree(Some(asked.clone())));

    view! {
        <Title text="Organisations"/>
        <h1>"Organisations"</h1>
        <p class="lede">"Every organisation Wardline maps, from the region down to each trust site and GP practice, with the suppliers they depend on."</p>
        <form method="get" action="/orgs" class="search" role="search">
            <label for="org-search">"Find an organisation by name or ODS code"</label>
            <div class="search__row">
                <input
                    id="org-search"
                    name="q"
                    type="search"
                    autocomplete="off"
                    spellcheck="false"
                    value=search.clone()
                />
                <button type="submit" class="button button--secondary">"Search"</button>
            </div>
        </form>
        <SearchAsYouType input="org-search".to_owned()/>
        <div id="live-org-map" data-live="">
        <Suspense fallback=|| view! { <p role="status">"Loading organisations…"</p> }>
            {move || {
                let search = search.clone();
                Suspend::new(async move {
                    match map.await {
                        Ok(map) => view! { <MapView map search/> }.into_any(),
                        Err(AppError::Unauthorized) => view! { <Redirect path="/sign-in?next=/orgs"/> }.into_any(),
                        Err(err) => view! { <p class="error-summary" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
        </div>
    }
}

#[component]
fn MapView(map: OrgTree, search: String) -> impl IntoView {
    let shown = tree::count(&map.roots);
    let q = search.trim().to_owned();
    let status = match map.matched {
        _ if q.is_empty() && shown < map.total => format!(
            "{} organisations; the top {shown} are shown, the rest are on each organisation's page",
            map.total
        ),
        None => format!("{} organisations", map.total),
        Some(0) => format!("No organisation matches “{q}”"),
        Some(n) => format!(
            "{n} of {} organisations match, {shown} shown for “{q}”",
            map.total
        ),
    };
    let open_depth = if q.is_empty() { 4 } else { usize::MAX };
    let roots = map.roots;
    let suppliers = map.suppliers;

    view! {
        <section aria-labelledby="hierarchy-heading">
            <div class="section-head">
                <h2 id="hierarchy-heading">"NHS hierarchy"</h2>
                <ExpandAll target="org-hierarchy".to_owned()/>
            </div>
            <div id="org-hierarchy">
                <p role="status" class="hint">{status}</p>
                <OrgTreeView nodes=roots open_depth/>
            </div>
        </section>
        <section aria-labelledby="suppliers-heading">
            <h2 id="suppliers-heading">"Suppliers"</h2>
            {if suppliers.is_empty() {
                view! { <p>"No suppliers recorded yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="supplier-list" role="list">
                        {suppliers.into_iter().map(|s| view! {
                            <li>
                                <a href=format!("/orgs/{}", s.supplier.code)>{s.supplier.name.clone()}</a>
                                " "<KindTag kind=s.supplier.kind/>
                                <ul role="list">
                                    {s.serves.into_iter().map(|l| view! {
                                        <li>
                                            {format!("{} for ", l.service)}
                                            <a href=format!("/orgs/{}", l.org.code)>{l.org.name.clone()}</a>
                                        </li>
                                    }).collect_view()}
                                    {(s.more > 0).then(|| view! {
                                        <li><a href=format!("/orgs/{}", s.supplier.code)>{format!("and {} more", s.more)}</a></li>
                                    })}
                                </ul>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
