//! One organisation: its code, kind, place in the tree (now and before), what sits under it,
//! and the suppliers on either side.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

use crate::api::orgs::{DesignateEssentialService, get_org_detail};
use crate::domain::dates;
use crate::domain::org::{OrgDetail, OrgKind, OrgSummary, ServiceLink};
use crate::error::AppError;
use crate::ui::components::tags::{KindTag, StatusTag};

#[component]
pub fn OrgPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let designate = ServerAction::<DesignateEssentialService>::new();
    let page = crate::ui::components::pager::asked_page();
    let detail = Resource::new(
        move || (code(), page.get(), designate.version().get()),
        |(c, p, _)| get_org_detail(c, Some(p)),
    );
    // Made here, not inside the part that waits for the detail: the server may run that part
    // more than once while rendering, and a resource made there each time would be fetched
    // twice and numbered differently from the browser's, breaking hydration.
    let on_call = Resource::new(code, crate::api::rotas::on_call_now);

    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Detail d on_call designate/> }.into_any(),
                    Err(AppError::Unauthorized) => view! {
                        <Redirect path=crate::domain::redirect::sign_in_then(&format!("/orgs/{}", code()))/>
                    }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <Title text="Organisation not found"/>
                        <h1>"Organisation not found"</h1>
                        <p>"No organisation has that code. "<a href="/orgs">"Go back to the organisation map"</a>"."</p>
                    }.into_any(),
                    Err(err) => view! { <p class="error-summary" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Who is on call here now and next, schedule by schedule (the rotas themselves are on the
/// on-call page).
type OnCallResource = Resource<Result<Option<Vec<crate::domain::rota::OnCallNow>>, AppError>>;

#[component]
fn OnCallNow(on_call: OnCallResource) -> impl IntoView {
    use crate::domain::rota::local_label;
    let names = |people: &[String]| {
        if people.is_empty() {
            "Nobody".to_owned()
        } else {
            people.join(", ")
        }
    };
    // Shown only to those who may read this organisation's rotas.
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Ok(Some(schedules)) = on_call.await else {
                    return ().into_any();
                };
                view! {
                    <section aria-labelledby="on-call-now-heading">
                        <h2 id="on-call-now-heading">"On call now"</h2>
                        {if schedules.is_empty() {
                            view! { <p>"No on-call rotas here: roles are held by named people."</p> }.into_any()
                        } else {
                            view! {
                                <dl class="summary-list">
                                    {schedules.into_iter().map(|s| view! {
                                        <div>
                                            <dt>{s.name.clone()}</dt>
                                            <dd>
                                                {names(&s.now)}
                                                {s.next.as_ref().map(|n| format!("; next: {} from {}", names(&n.people), local_label(n.start)))}
                                            </dd>
                                        </div>
                                    }).collect_view()}
                                </dl>
                            }.into_any()
                        }}
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

fn org_link(o: &OrgSummary) -> impl IntoView + use<> {
    view! { <a href=format!("/orgs/{}", o.code)>{o.name.clone()}</a>" ("{o.code.clone()}")" }
}

#[component]
fn Detail(
    d: OrgDetail,
    on_call: OnCallResource,
    designate: ServerAction<DesignateEssentialService>,
) -> impl IntoView {
    let OrgDetail {
        org,
        opened_on,
        closed_on,
        postcode,
        parent,
        parent_history,
        children,
        suppliers,
        clients,
        essential_service,
        can_designate,
        page,
        children_total,
        clients_total,
    } = d;
    let pages = children_total
        .max(clients_total)
        .div_ceil(crate::domain::org::ORG_PAGE_SIZE)
        .max(1) as u64;
    let here = format!("/orgs/{}", org.code);
    let by_kind = matches!(org.kind, OrgKind::Trust | OrgKind::Icb);
    let oes = if by_kind {
        "Yes (trusts and ICBs are by law): NIS applies to incidents with a significant impact"
    } else if essential_service {
        "Yes: designated by DHSC, so NIS applies to incidents with a significant impact"
    } else {
        "No: NIS does not apply to its incidents"
    };
    let designate_error = move || {
        designate
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="error-summary" role="alert">{e.to_string()}</p> })
    };
    let title = org.name.clone();
    view! {
        <Title text=title.clone()/>
        <nav aria-label="Breadcrumb" class="breadcrumb">
            <a href="/orgs">"Organisations"</a>
            {parent.as_ref().map(|p| view! { " › " {org_link(p)} })}
        </nav>
        <h1>{title}</h1>
        <p><KindTag kind=org.kind/><StatusTag status=org.status/></p>
        <p class="button-group"><a class="button button--secondary" href=format!("/orgs/{}/chart", org.code)>"Responsibility chart"</a><a class="button button--secondary" href=format!("/orgs/{}/assets", org.code)>"Assets"</a><a class="button button--secondary" href=format!("/orgs/{}/break-glass", org.code)>"Break-glass pack"</a><a class="button button--secondary" href=format!("/orgs/{}/exercises", org.code)>"Exercises"</a><a class="button button--secondary" href=format!("/orgs/{}/caf", org.code)>"CAF readiness"</a><a class="button button--secondary" href=format!("/orgs/{}/on-call", org.code)>"On call"</a><a class="button button--secondary" href=format!("/orgs/{}/integrations", org.code)>"Integrations"</a></p>
        <dl class="summary-list">
            <div><dt>"ODS code"</dt><dd>{org.code.clone()}</dd></div>
            <div><dt>"Kind"</dt><dd>{org.kind.label()}</dd></div>
            <div><dt>"Parent"</dt><dd>{match &parent {
                Some(p) => org_link(p).into_any(),
                None => "None (top level)".into_any(),
            }}</dd></div>
            {opened_on.map(|d| view! { <div><dt>"Opened"</dt><dd>{dates::long(d)}</dd></div> })}
            {closed_on.map(|d| view! { <div><dt>"Closed"</dt><dd>{dates::long(d)}</dd></div> })}
            {postcode.map(|p| view! { <div><dt>"Postcode"</dt><dd>{p}</dd></div> })}
            <div><dt>"Operator of essential services"</dt><dd>{oes}</dd></div>
        </dl>
        {(can_designate && !by_kind).then(|| view! {
            {designate_error}
            <ActionForm action=designate attr:class="form">
                <input type="hidden" name="code" value=org.code.clone()/>
                <div class="checkbox">
                    <input type="checkbox" id="essential-service" name="designated" value="on" checked=essential_service/>
                    <label for="essential-service">"Designated by DHSC as an operator of essential services (an independent provider)"</label>
                </div>
                <button type="submit" class="button button--secondary">"Save designation"</button>
            </ActionForm>
        })}
        <OnCallNow on_call/>
        <OrgList heading="Organisations under this one" empty="None." orgs=children/>
        <ServiceList heading="Suppliers serving this organisation" links=suppliers/>
        <ServiceList heading="Organisations this supplier serves" links=clients/>
        {(pages > 1).then(|| view! {
            <nav class="pager" aria-label="Pages of organisations">
                <p>{format!("Page {page} of {pages} ({} organisations under this one{})", children_total, if clients_total > 0 { format!(", {clients_total} served") } else { String::new() })}</p>
                <ul class="plain-list pager__links" role="list">
                    {(page > 1).then(|| view! { <li><a href=format!("{here}?page={}", page - 1) rel="prev">"Previous page"</a></li> })}
                    {(page < pages).then(|| view! { <li><a href=format!("{here}?page={}", page + 1) rel="next">"Next page"</a></li> })}
                </ul>
            </nav>
        })}
        {(parent_history.len() > 1).then(|| view! {
            <section aria-labelledby="history-heading">
                <h2 id="history-heading">"Where it has sat"</h2>
                <div class="table-wrap">
                    <table class="table">
                        <caption class="visually-hidden">"Parent organisations over time"</caption>
                        <thead><tr><th scope="col">"Parent"</th><th scope="col">"From"</th><th scope="col">"Until"</th></tr></thead>
                        <tbody>
                            {parent_history.into_iter().map(|p| view! {
                                <tr>
                                    <td>{org_link(&p.parent)}</td>
                                    <td>{dates::long(p.from)}</td>
                                    <td>{p.to.map(dates::long).unwrap_or_else(|| "now".into())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
        })}
    }
}

#[component]
fn OrgList(heading: &'static str, empty: &'static str, orgs: Vec<OrgSummary>) -> impl IntoView {
    let id = heading.to_lowercase().replace(' ', "-");
    let labelled_by = id.clone();
    view! {
        <section aria-labelledby=labelled_by>
            <h2 id=id>{heading}</h2>
            {if orgs.is_empty() {
                view! { <p>{empty}</p> }.into_any()
            } else {
                view! {
                    <ul class="plain-list" role="list">
                        {orgs.iter().map(|o| view! { <li>{org_link(o)}" "<KindTag kind=o.kind/></li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn ServiceList(heading: &'static str, links: Vec<ServiceLink>) -> impl IntoView {
    let id = heading.to_lowercase().replace(' ', "-");
    let labelled_by = id.clone();
    (!links.is_empty()).then(|| view! {
        <section aria-labelledby=labelled_by>
            <h2 id=id>{heading}</h2>
            <ul class="plain-list" role="list">
                {links.iter().map(|l| view! { <li>{org_link(&l.org)}" – "{l.service.clone()}</li> }).collect_view()}
            </ul>
        </section>
    })
}
