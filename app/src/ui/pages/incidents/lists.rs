//! Lists: incidents, my tasks, what escalation flagged, and the timeline check.

use super::*;

/// Admins check that no timeline entry was altered or removed.
#[component]
pub fn TimelinesPage() -> impl IntoView {
    let checks = Resource::new(|| (), |_| verify_timelines());
    view! {
        <Title text="Timeline integrity"/>
        <h1>"Timeline integrity"</h1>
        <p class="lede">"Each timeline entry carries the hash of the one before it. An entry changed or removed in the database after it was written breaks the chain, and shows here."</p>
        <Suspense fallback=|| view! { <p role="status">"Checking every timeline…"</p> }>
            {move || Suspend::new(async move {
                match checks.await {
                    Ok(rows) if rows.is_empty() => view! { <p>"No incidents to check."</p> }.into_any(),
                    Ok(rows) => {
                        let broken = rows.iter().filter(|r| !r.1).count();
                        view! {
                            <p role="status">{if broken == 0 { format!("All {} timelines are whole.", rows.len()) } else { format!("{broken} of {} timelines are broken.", rows.len()) }}</p>
                            <table class="table">
                                <caption class="visually-hidden">"Timeline checks"</caption>
                                <thead><tr><th scope="col">"Incident"</th><th scope="col">"Result"</th></tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|(r, ok, what)| view! {
                                        <tr class:overdue=!ok>
                                            <th scope="row"><a href=format!("/incidents/{r}")>{r.clone()}</a></th>
                                            <td>{if ok { what } else { format!("Broken: {what}") }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn MyTasksPage() -> impl IntoView {
    let act = ServerAction::<ActOnTask>::new();
    let tick = RwSignal::new(0u32);
    crate::ui::components::live::listen("/live/tasks".into(), tick);
    let tasks = Resource::new(move || (act.version().get(), tick.get()), |_| my_tasks());
    let act_error = Signal::derive(move || {
        act.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    let close = ServerAction::<crate::api::reviews::CloseReviewAction>::new();
    let actions = Resource::new(
        move || close.version().get(),
        |_| crate::api::reviews::my_review_actions(),
    );
    let close_error = Signal::derive(move || {
        close
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <Title text="My tasks"/>
        <h1>"My tasks"</h1>
        <ErrorSummary error=act_error/>
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tasks.await {
                    Ok(t) if t.is_empty() => view! { <p>"You have no open tasks."</p> }.into_any(),
                    Ok(t) => view! {
                        <ul class="plain-list" role="list">
                            {t.iter().map(|x| view! { <li><a href=format!("/incidents/{}", x.incident_reference)>{x.incident_reference.clone()}</a></li> }).collect_view()}
                        </ul>
                        <TaskTable tasks=t act/>
                    }.into_any(),
                    Err(e) => view! { <p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
        <h2 id="review-actions-heading">"Actions from reviews"</h2>
        <ErrorSummary error=close_error/>
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match actions.await {
                    Ok(a) => view! { <crate::ui::pages::reviews::Actions list=a close/> }.into_any(),
                    Err(e) => view! { <p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn IncidentsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| list_incidents());
    view! {
        <Title text="Incidents"/>
        <h1>"Incidents"</h1>
        <p><a class="button button--warning" href="/declare">"Declare an incident"</a></p>
        <p><a href="/runbooks">"Runbooks"</a>" · "<a href="/admin/timelines">"Check timeline integrity (admins)"</a></p>
        <Flagged/>
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) if rows.is_empty() => view! { <p>"No incidents."</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="table">
                            <caption class="visually-hidden">"Incidents"</caption>
                            <thead><tr><th scope="col">"Reference"</th><th scope="col">"Kind"</th><th scope="col">"Organisation"</th><th scope="col">"Status"</th><th scope="col">"Declared"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|r| view! {
                                    <tr><th scope="row"><a href=format!("/incidents/{}", r.reference)>{r.reference.clone()}</a></th><td>{r.title}</td><td>{r.org_name}</td><td>{r.status.as_str()}</td><td>{moment(r.declared_at)}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What nobody acknowledged along the whole escalation path: shown to everyone who can see
/// those organisations, national teams included.
#[component]
fn Flagged() -> impl IntoView {
    let rows = Resource::new(|| (), |_| crate::api::escalation::flagged());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                rows.await.ok().filter(|r| !r.is_empty()).map(|r| view! {
                    <section aria-labelledby="flagged-heading" class="do-now">
                        <h2 id="flagged-heading">"Not acknowledged after the whole escalation path"</h2>
                        <table class="table">
                            <caption class="visually-hidden">"Unacknowledged nationally"</caption>
                            <thead><tr><th scope="col">"Incident"</th><th scope="col">"What"</th><th scope="col">"Organisation"</th><th scope="col">"Since"</th></tr></thead>
                            <tbody>
                                {r.into_iter().map(|f| view! {
                                    <tr><th scope="row"><a href=format!("/incidents/{}", f.reference)>{f.reference.clone()}</a></th><td>{f.what}</td><td>{f.org_name}</td><td>{moment(f.since)}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                })
            })}
        </Suspense>
    }
}
