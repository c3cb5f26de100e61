//! The responsibility chart: every organisation under one, with each role's holder, deputy
//! and contacts, and the gaps marked. Headings nest with the tree, so a screen reader can
//! walk it; each organisation's roles are a table. Filters and "as at" are a plain GET
//! form, so the chart works, prints and links before the WebAssembly loads.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::accountability::{AssignRole, get_chart, list_roles};
use crate::domain::accountability::{Chart, ChartOrg};
use crate::domain::gaps::GapKind;
use crate::domain::org::OrgKind;
use crate::error::AppError;
use crate::ui::components::forms::{ErrorSummary, posted_notice};
use crate::ui::components::tags::KindTag;

#[component]
pub fn ChartPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let q = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let page = crate::ui::components::pager::asked_page();
    let chart = Resource::new(
        move || (code(), q("as_at"), q("kind"), q("gap"), page.get()),
        |(code, as_at, kind, gap, page)| get_chart(code, as_at, kind, gap, Some(page)),
    );
    // The assignment form's role list is made here, outside the part that waits for the
    // chart, which the server may render more than once (see `server/tests/api/rendering.rs`).
    let roles = Resource::new(|| (), |_| list_roles());
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading the chart…"</p> }>
            {move || Suspend::new(async move {
                match chart.await {
                    Ok(c) => view! { <ChartView chart=c roles as_at=q("as_at").unwrap_or_default() kind=q("kind").unwrap_or_default() gap=q("gap").unwrap_or_default()/> }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <Title text="Organisation not found"/>
                        <h1>"Organisation not found"</h1>
                        <p>"No organisation you can see has that code. "<a href="/orgs">"Go to the organisation map"</a>"."</p>
                    }.into_any(),
                    Err(err) => view! {
                        <Title text="Responsibility chart"/>
                        <h1>"Responsibility chart"</h1>
                        <ErrorSummary error=Signal::derive(move || Some(err.to_string()))/>
                        <p><a href=format!("/orgs/{}/chart", code())>"Show the chart as it is now"</a></p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

type RolesResource = Resource<Result<Vec<crate::domain::roles::RoleView>, AppError>>;

fn gap_label(kind: GapKind) -> &'static str {
    kind.label()
}

#[component]
fn ChartView(
    chart: Chart,
    roles: RolesResource,
    as_at: String,
    kind: String,
    gap: String,
) -> impl IntoView {
    let auth = crate::ui::auth::use_auth();
    let administers = move || {
        matches!(
            auth.status.get(),
            Some(Ok(crate::domain::auth::AuthStatus::SignedIn(me))) if me.administers()
        )
    };
    let Chart {
        root,
        as_at: shown_at,
        is_now,
        orgs,
        totals,
        page,
        pages,
        org_total,
        below,
        ..
    } = chart;
    // The page links keep the filters and the moment.
    let page_link = {
        let mut parts = Vec::new();
        for (k, v) in [("as_at", &as_at), ("kind", &kind), ("gap", &gap)] {
            if !v.is_empty() {
                parts.push(format!(
                    "{k}={}",
                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                ));
            }
        }
        let code = root.code.clone();
        move |p: u64| {
            let mut q = parts.clone();
            q.push(format!("page={p}"));
            format!("/orgs/{code}/chart?{}", q.join("&"))
        }
    };
    let pager = (pages > 1).then(|| {
        view! {
            <nav class="pager" aria-label="Pages of the chart">
                <p>{format!("Page {page} of {pages} ({org_total} organisations, {} a page)", crate::domain::accountability::CHART_PAGE)}</p>
                <ul class="plain-list pager__links" role="list">
                    {(page > 1).then(|| view! { <li><a href=page_link(page - 1) rel="prev">"Previous page"</a></li> })}
                    {(page < pages).then(|| view! { <li><a href=page_link(page + 1) rel="next">"Next page"</a></li> })}
                </ul>
            </nav>
        }
    });
    let title = format!("Responsibility chart: {}", root.name);
    let export_query = {
        let mut parts = vec![format!("org={}", root.code)];
        if !as_at.is_empty() {
            parts.push(format!("as_at={}", as_at));
        }
        parts.join("&")
    };
    let code = root.code.clone();
    view! {
        <Title text=title.clone()/>
        <nav aria-label="Breadcrumb" class="breadcrumb">
            <a href="/orgs">"Organisations"</a>" › "<a href=format!("/orgs/{}", root.code)>{root.name.clone()}</a>
        </nav>
        <h1>{title}</h1>
        <p class="lede">{if is_now { format!("As it is now ({shown_at}).") } else { format!("As it was at {shown_at}.") }}</p>
        <form method="get" class="filters" aria-label="Chart filters">
            <div class="form-group">
                <label for="as-at">"As at (UK time)"</label>
                <input id="as-at" name="as_at" type="datetime-local" value=as_at/>
            </div>
            <div class="form-group">
                <label for="kind">"Kind of organisation"</label>
                <select id="kind" name="kind">
                    <option value="" selected=kind.is_empty()>"All kinds"</option>
                    {OrgKind::ALL.into_iter().map(|k| view! { <option value=k.as_str() selected=kind == k.as_str()>{k.label()}</option> }).collect_view()}
                </select>
            </div>
            <div class="form-group">
                <label for="gap">"Gap"</label>
                <select id="gap" name="gap">
                    <option value="" selected=gap.is_empty()>"Any or none"</option>
                    {GapKind::ALL.into_iter().map(|g| view! { <option value=g.as_str() selected=gap == g.as_str()>{g.label()}</option> }).collect_view()}
                </select>
            </div>
            <button type="submit" class="button button--secondary">"Show"</button>
        </form>
        <section aria-labelledby="gaps-heading" class="gap-summary">
            <h2 id="gaps-heading">{format!("Gaps: {}", totals.total())}</h2>
            {if totals.total() == 0 {
                view! { <p>"No accountability gaps."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain-list" role="list">
                        {totals.0.iter().map(|(k, n)| view! { <li>{format!("{}: {n}", gap_label(*k))}</li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <p class="export-links">"Download: "
                <a href=format!("/export/chart.csv?{export_query}") download="">"CSV"</a>" · "
                <a href=format!("/export/chart.json?{export_query}") download="">"JSON"</a>" · "
                "or print this page."
            </p>
        </section>
        {(!below.is_empty()).then(|| view! {
            <section aria-labelledby="below-heading">
                <h2 id="below-heading">{format!("Directly below {}", root.name)}</h2>
                <ul class="plain-list" role="list">
                    {below.into_iter().map(|c| view! {
                        <li>
                            <a href=format!("/orgs/{}/chart", c.org.code)>{c.org.name.clone()}</a>
                            {format!(": {} gaps here and below", c.gaps.total())}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        {pager.clone()}
        {if orgs.is_empty() {
            view! { <p>"No organisation matches these filters."</p> }.into_any()
        } else {
            orgs.into_iter().map(|o| view! { <OrgSection o/> }).collect_view().into_any()
        }}
        // Offered only to admins: others would only be refused (the server decides who may).
        {move || (is_now && administers()).then(|| view! { <AssignForm code=code.clone() roles/> })}
    }
}

#[component]
fn OrgSection(o: ChartOrg) -> impl IntoView {
    let id = format!("chart-{}", o.org.code);
    let labelled = id.clone();
    let level = (o.depth + 2).min(6);
    let heading = format!("{} ({})", o.org.name, o.org.code);
    let heading = match level {
        2 => view! { <h2 id=id>{heading}</h2> }.into_any(),
        3 => view! { <h3 id=id>{heading}</h3> }.into_any(),
        4 => view! { <h4 id=id>{heading}</h4> }.into_any(),
        5 => view! { <h5 id=id>{heading}</h5> }.into_any(),
        _ => view! { <h6 id=id>{heading}</h6> }.into_any(),
    };
    let below = o.rolled_up.total();
    view! {
        <section aria-labelledby=labelled class=format!("chart-org depth-{}", o.depth.min(5))>
            {heading}
            <p><KindTag kind=o.org.kind/>" "
                <a href=format!("/orgs/{}", o.org.code)>"Organisation page"</a>
                {(below > 0).then(|| view! { " · " <span class="gap-count">{format!("{below} gaps here and below")}</span> })}
            </p>
            {if o.rows.is_empty() {
                view! { <p>"No roles apply to this kind of organisation."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table chart-table">
                            <caption class="visually-hidden">{format!("Roles at {}", o.org.name)}</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Role"</th>
                                    <th scope="col">"Holder"</th>
                                    <th scope="col">"Deputy"</th>
                                    <th scope="col">"Phones"</th>
                                    <th scope="col">"Confirmed"</th>
                                    <th scope="col">"Gaps"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {o.rows.into_iter().map(|r| {
                                    let h = r.holding.clone();
                                    let on_call = r.on_call.clone();
                                    view! {
                                        <tr class:has-gap=!r.gaps.is_empty()>
                                            <th scope="row">{r.role_name.clone()}{r.mandatory.then_some(" (mandatory)")}</th>
                                            <td>{on_call.map(|c| view! { <OnCallCell c/> })}{match (&h, r.on_call.is_some()) {
                                                (Some(h), true) => view! { <span class="hint">{format!("Named holder behind the rota: {} ({})", h.holder_name, h.holder_email)}</span> }.into_any(),
                                                (Some(h), false) => view! { {h.holder_name.clone()}<br/><span class="hint">{h.holder_email.clone()}</span> }.into_any(),
                                                (None, true) => ().into_any(),
                                                (None, false) => view! { <span class="vacant">"Vacant"</span> }.into_any(),
                                            }}</td>
                                            <td>{h.as_ref().and_then(|h| h.deputy_name.clone()).unwrap_or_else(|| "None".into())}</td>
                                            <td>{h.as_ref().map(|h| view! {
                                                {h.work_phone.clone().map(|p| { let tel = format!("tel:{}", p.replace(' ', "")); view! { "Work: "<a href=tel>{p}</a><br/> } })}
                                                {h.out_of_hours_phone.clone().map(|p| { let tel = format!("tel:{}", p.replace(' ', "")); view! { "Out of hours: "<a href=tel>{p}</a> } })}
                                            })}</td>
                                            <td>{h.as_ref().map(|h| {
                                                let c = h.confirmed.clone().unwrap_or_else(|| "Never".into());
                                                if h.stale { format!("{c} (overdue)") } else { c }
                                            })}</td>
                                            <td>
                                                {if r.gaps.is_empty() {
                                                    view! { <span class="hint">"None"</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <ul class="gap-list" role="list">
                                                            {r.gaps.iter().map(|g| view! { <li class="tag tag--gap">{g.label()}</li> }).collect_view()}
                                                        </ul>
                                                    }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

/// A role held by an on-call schedule: who is (or was) on call, and who next.
#[component]
fn OnCallCell(c: crate::domain::rota::OnCallHolding) -> impl IntoView {
    let now = if c.now.is_empty() {
        "Nobody".to_string()
    } else {
        c.now.join(", ")
    };
    view! {
        <strong>{format!("On call: {now}")}</strong><br/>
        <span class="hint">{format!("Rota: {}", c.schedule)}</span><br/>
        {c.next.map(|n| view! {
            <span class="hint">{format!(
                "Next: {} from {}",
                if n.people.is_empty() { "nobody".to_string() } else { n.people.join(", ") },
                crate::domain::rota::local_label(n.start)
            )}</span><br/>
        })}
    }
}

/// For admins: give a role to someone in this subtree. The server decides who may.
#[component]
fn AssignForm(code: String, roles: RolesResource) -> impl IntoView {
    let assign = ServerAction::<AssignRole>::new();
    let error = Signal::derive(move || {
        assign
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <details class="admin-panel">
            <summary>"Assign a role (organisation admins)"</summary>
            <ErrorSummary error/>
            {posted_notice::<AssignRole>(|_| "Role assigned.".to_owned())}
            <ActionForm action=assign attr:class="form">
                <div class="form-group">
                    <label for="assign-org">"Organisation code"</label>
                    <input id="assign-org" name="org_code" type="text" value=code required/>
                </div>
                <div class="form-group">
                    <label for="assign-role">"Role"</label>
                    <Suspense fallback=|| view! { <select id="assign-role" name="role_key"></select> }>
                        {move || Suspend::new(async move {
                            let options = roles.await.unwrap_or_default();
                            view! {
                                <select id="assign-role" name="role_key">
                                    {options.into_iter().map(|r| view! { <option value=r.key>{r.name}</option> }).collect_view()}
                                </select>
                            }
                        })}
                    </Suspense>
                </div>
                <div class="form-group">
                    <label for="assign-holder">"Holder's email"</label>
                    <input id="assign-holder" name="holder_email" type="email" required/>
                </div>
                <div class="form-group">
                    <label for="assign-deputy">"Deputy's email (optional)"</label>
                    <input id="assign-deputy" name="deputy_email" type="email"/>
                </div>
                <div class="form-group">
                    <label for="assign-work">"Work phone (optional)"</label>
                    <input id="assign-work" name="work_phone" type="tel"/>
                </div>
                <div class="form-group">
                    <label for="assign-ooh">"Out-of-hours phone (optional)"</label>
                    <input id="assign-ooh" name="out_of_hours_phone" type="tel"/>
                </div>
                <div class="form-group">
                    <label for="assign-contact">"Contact email for the role (optional)"</label>
                    <input id="assign-contact" name="contact_email" type="email"/>
                </div>
                <button type="submit" class="button">"Assign"</button>
            </ActionForm>
        </details>
    }
}
