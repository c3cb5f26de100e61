//! CAF readiness: an organisation's five outcomes with the reason and evidence for each,
//! and the same for every organisation below it, rolled up.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::caf::get_readiness;
use crate::domain::caf::{OUTCOMES, Status, levels};

fn tag(s: Status) -> &'static str {
    match s {
        Status::Not => "tag tag--gap",
        Status::Partially => "tag tag--warn",
        Status::Achieved => "tag tag--ok",
    }
}

#[component]
pub fn CafPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let page = crate::ui::components::pager::asked_page();
    let readiness = Resource::new(
        move || (code(), page.get()),
        |(code, page)| get_readiness(code, Some(page)),
    );
    view! {
        <Suspense fallback=|| view! { <p role="status">"Working out readiness…"</p> }>
            {move || Suspend::new(async move {
                match readiness.await {
                    Ok(r) => {
                        let root = r.orgs.first().cloned();
                        let pager = view! {
                            <crate::ui::components::pager::Pager page=r.page pages=r.pages total=r.below_total as u64 path=format!("/orgs/{}/caf", r.root_code) what="organisations below"/>
                        };
                        view! {
                            <Title text=format!("CAF readiness: {}", r.root_name)/>
                            <h1>{format!("CAF readiness: {}", r.root_name)}</h1>
                            <p class="lede">{format!("The NHS CAF contributing outcomes Wardline's records evidence, judged at {}: board-level and other roles with their deputies, the asset catalogue, suppliers and their security contacts, runbooks and who they reach, Gold and Silver command, exercises, and reviews.", r.generated_at)}</p>
                            <p class="actions-row"><a href=format!("/export/caf.csv?org={}", r.root_code) rel="external" download="">"Download as CSV"</a></p>
                            {root.map(|o| view! {
                                {o.outcomes.into_iter().map(|x| {
                                    let id = format!("outcome-{}", x.id.replace('.', "-"));
                                    let labelled = id.clone();
                                    view! {
                                        <section aria-labelledby=labelled class="caf-outcome">
                                            <h2 id=id>{format!("{} {}", x.id, x.title)}" "<span class=tag(x.status)>{x.status.label()}</span></h2>
                                            <p>{x.reason}</p>
                                            {(levels(&x.id).len() == 2).then(|| view! { <p class="hint">"The NHS CAF allows no partial achievement of this outcome: it is achieved or not."</p> })}
                                            <ul>{x.evidence.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                                        </section>
                                    }
                                }).collect_view()}
                            })}
                            {(r.orgs.len() > 1).then(|| view! {
                                <h2 id="rollup-heading">"Across the organisations below"</h2>
                                {pager}
                                <div class="table-wrap">
                                    <table class="table" aria-labelledby="rollup-heading">
                                        <thead><tr>
                                            <th scope="col">"Organisation"</th>
                                            {OUTCOMES.iter().map(|(id, title)| view! { <th scope="col"><abbr title=*title>{*id}</abbr></th> }).collect_view()}
                                        </tr></thead>
                                        <tbody>
                                            {r.orgs.iter().map(|o| view! {
                                                <tr>
                                                    <th scope="row" style:padding-left=format!("{}em", o.depth)>
                                                        <a href=format!("/orgs/{}/caf", o.code)>{o.name.clone()}</a>
                                                    </th>
                                                    {o.outcomes.iter().zip(o.rollup.iter()).map(|(x, (_, n, p, a))| view! {
                                                        <td>
                                                            <span class=tag(x.status)>{x.status.label()}</span>
                                                            {(n + p + a > 1).then(|| format!(" (below: {a} achieved, {p} partially, {n} not)"))}
                                                        </td>
                                                    }).collect_view()}
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            })}
                        }.into_any()
                    }
                    Err(e) => view! { <Title text="CAF readiness"/><h1>"CAF readiness"</h1><p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
