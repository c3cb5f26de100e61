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
                        let broken = rows.iter().filter(|r| !r.whole).count();
                        view! {
                            <p role="status">{if broken == 0 { format!("All {} timelines are whole.", rows.len()) } else { format!("{broken} of {} timelines are broken.", rows.len()) }}</p>
                            <div class="table-wrap">
                                <table class="table">
                                    <caption class="visually-hidden">"Timeline checks"</caption>
                                    <thead><tr><th scope="col">"Incident"</th><th scope="col">"Result"</th></tr></thead>
                                    <tbody>
                                        {rows.into_iter().map(|c| view! {
                                            <tr class:overdue=!c.whole>
                                                <th scope="row"><a href=format!("/incidents/{}", c.reference)>{c.reference.clone()}</a></th>
                                                <td>{if c.whole { c.found } else { format!("Broken: {}", c.found) }}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
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
    let tasks = Resource::new(move || act.version().get(), |_| my_worklist());
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
        <LiveUpdates events="/live/tasks".to_owned()/>
        <ErrorSummary error=act_error/>
        <div id="live-worklist" data-live="">
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tasks.await {
                    Ok(w) if w.is_empty() => view! { <p>"You have no open tasks. When an incident gives you one, it appears here and in your inbox."</p> }.into_any(),
                    Ok(w) => {
                        let open: usize = w.iter().map(|i| i.tasks.len()).sum();
                        let overdue: usize = w.iter().map(|i| i.overdue()).sum();
                        view! {
                            <p>{format!(
                                "{open} open {} in {} {}{}, the most urgent first.",
                                if open == 1 { "task" } else { "tasks" },
                                w.len(),
                                if w.len() == 1 { "incident" } else { "incidents" },
                                if overdue > 0 { format!(" ({overdue} overdue)") } else { String::new() },
                            )}</p>
                            {w.into_iter().map(|item| view! { <WorkItemSection item act/> }).collect_view()}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
        </div>
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
    let page = crate::ui::components::pager::asked_page();
    let list = Resource::new(move || page.get(), |page| list_incidents(Some(page)));
    view! {
        <Title text="Incidents"/>
        <h1>"Incidents"</h1>
        <p><a class="button button--warning" href="/declare">"Declare an incident"</a></p>
        <p><a href="/runbooks">"Runbooks"</a>" · "<a href="/admin/timelines">"Check timeline integrity (admins)"</a></p>
        <Flagged/>
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(l) if l.items.is_empty() => view! { <p>"No incidents."</p> }.into_any(),
                    Ok(l) => view! {
                        <p class="hint">"Yours first (declared by you or with a task of yours), then those still open, the highest level first, then the newest."</p>
                        <div class="table-wrap">
                            <table class="table">
                                <caption class="visually-hidden">"Incidents"</caption>
                                <thead><tr><th scope="col">"Reference"</th><th scope="col">"Kind"</th><th scope="col">"Level"</th><th scope="col">"Organisation"</th><th scope="col">"Status"</th><th scope="col">"Declared"</th></tr></thead>
                                <tbody>
                                    {l.items.into_iter().map(|r| view! {
                                        <tr>
                                            <th scope="row"><a href=format!("/incidents/{}", r.reference)>{r.reference.clone()}</a>{r.mine.then(|| view! { " "<span class="tag">"Yours"</span> })}</th>
                                            <td>{r.title}</td>
                                            <td>{r.level.label()}</td>
                                            <td>{r.org_name}</td>
                                            <td>{r.status.as_str()}</td>
                                            <td>{moment(r.declared_at)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <crate::ui::components::pager::Pager page=l.page pages=l.pages total=l.total path="/incidents" what="incidents"/>
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
                        <div class="table-wrap">
                            <table class="table">
                                <caption class="visually-hidden">"Unacknowledged nationally"</caption>
                                <thead><tr><th scope="col">"Incident"</th><th scope="col">"What"</th><th scope="col">"Organisation"</th><th scope="col">"Since"</th></tr></thead>
                                <tbody>
                                    {r.into_iter().map(|f| view! {
                                        <tr><th scope="row"><a href=format!("/incidents/{}", f.reference)>{f.reference.clone()}</a></th><td>{f.what}</td><td>{f.org_name}</td><td>{moment(f.since)}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    </section>
                })
            })}
        </Suspense>
    }
}

/// One incident in "My tasks": what and where it is, how urgent, and the person's tasks in it.
#[component]
fn WorkItemSection(
    item: crate::domain::incidents::WorkItem,
    act: ServerAction<ActOnTask>,
) -> impl IntoView {
    let heading = format!("work-{}", item.reference);
    let labelled = heading.clone();
    let overdue = item.overdue();
    let late = overdue > 0;
    view! {
        <section class="work-item" class:work-item--overdue=late aria-labelledby=labelled>
            <h2 id=heading>
                <a href=format!("/incidents/{}", item.reference)>{format!("{}: {}", item.reference, item.title)}</a>
            </h2>
            <p class="work-item__meta">
                {item.exercise.then(|| view! { <span class="tag">"Exercise"</span>" " })}
                {late.then(|| view! { <strong class="tag tag--gap">{format!("{overdue} overdue")}</strong>" " })}
                {format!("{} · {} · declared {}", item.level.label(), item.org_name, moment(item.declared_at))}
            </p>
            <TaskTable tasks=item.tasks act caption=format!("Your tasks in {}", item.reference)/>
        </section>
    }
}
