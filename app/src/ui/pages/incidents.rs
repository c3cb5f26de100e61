//! Declaring an incident, the incident page with its runbook tasks, the list of incidents
//! and "my tasks". Every form is a plain form post, so a phone without the WebAssembly
//! (or with it still loading) can declare and act.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::incidents::{
    ActOnTask, ChangeIncident, DeclareIncident, get_incident, list_incidents, my_tasks,
};
use crate::domain::incidents::{
    IncidentKind, IncidentLevel, IncidentStatus, IncidentView, PatientsAffected, TaskState,
    TaskView,
};
use crate::ui::components::forms::ErrorSummary;

#[component]
pub fn DeclarePage() -> impl IntoView {
    let declare = ServerAction::<DeclareIncident>::new();
    let error = Signal::derive(move || {
        declare
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <Title text="Declare an incident"/>
        <h1>"Declare an incident"</h1>
        <p class="lede">"Tell us what you can see. You do not need to be sure it is a cyber attack. The right people will be told at once."</p>
        <ErrorSummary error/>
        <ActionForm action=declare attr:class="form declare-form">
            <fieldset class="fieldset">
                <legend>"What is happening?"</legend>
                {IncidentKind::ALL.iter().enumerate().map(|(i, k)| {
                    let id = format!("kind-{}", k.as_str());
                    view! {
                        <div class="radio">
                            <input type="radio" id=id.clone() name="kind" value=k.as_str() required=i == 0/>
                            <label for=id>{k.plain()}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <div class="form-group">
                <label for="location">"Where is it happening?"</label>
                <p class="hint" id="location-hint">"For example: reception, Ward 7, the pharmacy computer."</p>
                <input id="location" name="location" type="text" autocomplete="off" aria-describedby="location-hint" required/>
            </div>
            <fieldset class="fieldset">
                <legend>"Are patients affected right now?"</legend>
                {PatientsAffected::ALL.iter().map(|p| {
                    let id = format!("patients-{}", p.as_str());
                    let label = match p { PatientsAffected::Yes => "Yes", PatientsAffected::No => "No", PatientsAffected::Unknown => "I don't know" };
                    view! {
                        <div class="radio">
                            <input type="radio" id=id.clone() name="patients_affected" value=p.as_str() checked=*p == PatientsAffected::Unknown/>
                            <label for=id>{label}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <div class="form-group">
                <label for="systems">"Which systems? (optional)"</label>
                <input id="systems" name="systems" type="text" autocomplete="off"/>
            </div>
            <div class="checkbox">
                <input type="checkbox" id="personal-data" name="personal_data" value="yes"/>
                <label for="personal-data">"Patient or staff personal data may be involved"</label>
            </div>
            <div class="form-group">
                <label for="summary">"Anything else we should know? (optional)"</label>
                <textarea id="summary" name="summary" rows="3"></textarea>
            </div>
            <button type="submit" class="button button--warning">"Declare incident"</button>
        </ActionForm>
    }
}

#[component]
pub fn IncidentPage() -> impl IntoView {
    let params = use_params_map();
    let reference = move || params.read().get("reference").unwrap_or_default();
    let act = ServerAction::<ActOnTask>::new();
    let tick = RwSignal::new(0u32);
    crate::ui::components::live::listen(format!("/live/incidents/{}", reference()), tick);
    let incident = Resource::new(
        move || (reference(), act.version().get(), tick.get()),
        |(r, _, _)| get_incident(r),
    );
    let act_error = Signal::derive(move || {
        act.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading the incident…"</p> }>
            {move || Suspend::new(async move {
                match incident.await {
                    Ok(i) => view! { <ErrorSummary error=act_error/><Incident i act/> }.into_any(),
                    Err(e) => view! {
                        <Title text="Incident not found"/>
                        <h1>"Incident not found"</h1>
                        <p>{e.to_string()}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Incident(i: IncidentView, act: ServerAction<ActOnTask>) -> impl IntoView {
    let title = format!("{}: {}", i.reference, i.kind.title());
    view! {
        <Title text=title.clone()/>
        <h1>{title}</h1>
        <p class="lede">{format!("{} at {}. {}.", i.level.label(), i.org_name, i.status.as_str().replace('_', " "))}</p>
        <section aria-labelledby="now-heading" class="do-now">
            <h2 id="now-heading">"Do this now"</h2>
            <ol>{i.first_steps.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ol>
        </section>
        <section aria-labelledby="told-heading">
            <h2 id="told-heading">"Who has been told"</h2>
            {if i.told.is_empty() {
                view! { <p>"Nobody could be found for these tasks. The national team has been flagged."</p> }.into_any()
            } else {
                view! { <ul class="plain-list" role="list">{i.told.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul> }.into_any()
            }}
        </section>
        <dl class="summary-list">
            <div><dt>"Where"</dt><dd>{i.location.clone()}</dd></div>
            <div><dt>"Patients affected now"</dt><dd>{i.patients_affected.as_str()}</dd></div>
            <div><dt>"Personal data"</dt><dd>{if i.personal_data { "May be involved" } else { "Not reported" }}</dd></div>
            <div><dt>"Systems"</dt><dd>{if i.systems.is_empty() { "Not given".to_string() } else { i.systems.clone() }}</dd></div>
            <div><dt>"Declared"</dt><dd>{format!("{} by {}", i.declared_at, i.declared_by)}</dd></div>
            <div><dt>"Runbook"</dt><dd>{i.runbook.clone()}</dd></div>
            {(!i.summary.is_empty()).then(|| view! { <div><dt>"Details"</dt><dd>{i.summary.clone()}</dd></div> })}
        </dl>
        <section aria-labelledby="clocks-heading">
            <h2 id="clocks-heading">"Reporting clocks"</h2>
            <table class="table">
                <caption class="visually-hidden">"Reporting deadlines"</caption>
                <thead><tr><th scope="col">"Report to"</th><th scope="col">"Due"</th><th scope="col">"Status"</th></tr></thead>
                <tbody>
                    {i.clocks.iter().map(|c| view! {
                        <tr>
                            <th scope="row">{c.label.clone()}</th>
                            <td>{if c.applies { c.due_at.clone() } else { "Does not apply".into() }}</td>
                            <td>{if !c.applies { String::new() } else if c.overdue { "Overdue".into() } else { format!("{} h {} min left", c.minutes_left / 60, c.minutes_left % 60) }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section aria-labelledby="tasks-heading">
            <h2 id="tasks-heading">"Tasks"</h2>
            <TaskTable tasks=i.tasks act/>
        </section>
        <ChangeForm reference=i.reference.clone()/>
        <section aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Timeline"</h2>
            <ol class="timeline">{i.timeline.iter().map(|(at, what)| view! { <li><span class="hint">{at.clone()}</span>" "{what.clone()}</li> }).collect_view()}</ol>
        </section>
    }
}

#[component]
fn TaskTable(tasks: Vec<TaskView>, act: ServerAction<ActOnTask>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table tasks">
                <caption class="visually-hidden">"Runbook tasks"</caption>
                <thead><tr><th scope="col">"Task"</th><th scope="col">"Owner"</th><th scope="col">"State"</th><th scope="col">"Due"</th><th scope="col">"Action"</th></tr></thead>
                <tbody>
                    {tasks.into_iter().map(|t| view! { <TaskRow t act/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn TaskRow(t: TaskView, act: ServerAction<ActOnTask>) -> impl IntoView {
    let id = t.id.to_string();
    let button = |action: &'static str, label: String, id: String| {
        view! {
            <ActionForm action=act attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="action" value=action/>
                <button type="submit" class="button button--secondary">{label}</button>
            </ActionForm>
        }
    };
    let live = matches!(
        t.state,
        TaskState::Open | TaskState::Acknowledged | TaskState::InProgress
    );
    view! {
        <tr class:overdue=t.overdue>
            <th scope="row">
                {format!("{}. {}", t.position, t.title)}
                <details class="task-detail"><summary>"How"</summary><p>{t.instructions.clone()}</p><p class="hint">{format!("Routed: {}", t.routing)}</p></details>
                {t.note.clone().map(|n| view! { <p class="hint">{n}</p> })}
            </th>
            <td>{t.assignee.clone().unwrap_or_else(|| "Nobody found".into())}</td>
            <td>{t.state.label()}{t.overdue.then_some(" (overdue)")}</td>
            <td>{t.due_at.clone()}</td>
            <td>
                {(t.mine && t.state == TaskState::Open).then(|| button("acknowledge", format!("Acknowledge: {}", t.title), id.clone()))}
                {(t.mine && matches!(t.state, TaskState::Open | TaskState::Acknowledged)).then(|| button("start", format!("Start: {}", t.title), id.clone()))}
                {(t.mine && live).then(|| {
                    let field = format!("note-{}", t.id);
                    view! {
                        <ActionForm action=act attr:class="complete-form">
                            <input type="hidden" name="id" value=id.clone()/>
                            <input type="hidden" name="action" value="complete"/>
                            <label for=field.clone()>{format!("What was done for “{}”", t.title)}</label>
                            <input id=field name="note" type="text" required/>
                            <button type="submit" class="button">{format!("Complete: {}", t.title)}</button>
                        </ActionForm>
                    }
                })}
            </td>
        </tr>
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
    }
}

#[component]
pub fn IncidentsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| list_incidents());
    view! {
        <Title text="Incidents"/>
        <h1>"Incidents"</h1>
        <p><a class="button button--warning" href="/declare">"Declare an incident"</a></p>
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) if rows.is_empty() => view! { <p>"No incidents."</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="table">
                            <caption class="visually-hidden">"Incidents"</caption>
                            <thead><tr><th scope="col">"Reference"</th><th scope="col">"Kind"</th><th scope="col">"Organisation"</th><th scope="col">"Status"</th><th scope="col">"Declared"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|(r, k, o, s, d)| view! {
                                    <tr><th scope="row"><a href=format!("/incidents/{r}")>{r.clone()}</a></th><td>{k}</td><td>{o}</td><td>{s}</td><td>{d}</td></tr>
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

/// Leads and admins change the level or status, always with a reason (the server decides
/// who may).
#[component]
fn ChangeForm(reference: String) -> impl IntoView {
    let change = ServerAction::<ChangeIncident>::new();
    let error = Signal::derive(move || {
        change
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <details class="admin-panel">
            <summary>"Change the level or status (leads)"</summary>
            <ErrorSummary error/>
            <ActionForm action=change attr:class="form">
                <input type="hidden" name="reference" value=reference/>
                <div class="form-group">
                    <label for="change-level">"Level"</label>
                    <select id="change-level" name="level">
                        <option value="">"Keep the level"</option>
                        {IncidentLevel::ALL.iter().map(|l| view! { <option value=l.as_str()>{l.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="form-group">
                    <label for="change-status">"Status"</label>
                    <select id="change-status" name="status">
                        <option value="">"Keep the status"</option>
                        {IncidentStatus::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str().replace('_', " ")}</option> }).collect_view()}
                    </select>
                </div>
                <div class="form-group">
                    <label for="change-reason">"Reason"</label>
                    <input id="change-reason" name="reason" type="text" required/>
                </div>
                <button type="submit" class="button">"Change"</button>
            </ActionForm>
        </details>
    }
}
