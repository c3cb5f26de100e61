//! Exercises: an organisation's EPRR cadence with what is overdue, starting an exercise of
//! any runbook, and the report after one.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::exercises::{StartExercise, get_exercise_report, get_exercises};
use crate::domain::incidents::{CadenceRow, ExerciseKind, IncidentKind};
use crate::ui::components::forms::ErrorSummary;

#[component]
pub fn ExercisesPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let start = ServerAction::<StartExercise>::new();
    let exercises = Resource::new(code, get_exercises);
    let error = Signal::derive(move || {
        start
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading exercises…"</p> }>
            {move || Suspend::new(async move {
                match exercises.await {
                    Ok(x) => view! {
                        <Title text=format!("Exercises: {}", x.org_name)/>
                        <h1>{format!("Exercises: {}", x.org_name)}</h1>
                        <p class="lede">"NHS EPRR asks for a communications test every 6 months, a table-top exercise every 12 and a live exercise every 36. An exercise runs a runbook for real (tasks, acknowledgements, escalations) and is marked as an exercise everywhere; it starts no reporting clocks."</p>
                        <Cadence cadence=x.cadence.clone()/>
                        {x.can_start.then(|| view! {
                            <h2 id="start-heading">"Start an exercise"</h2>
                            <ErrorSummary error/>
                            <ActionForm action=start attr:class="form" attr:aria-labelledby="start-heading">
                                <input type="hidden" name="org_code" value=x.org_code.clone()/>
                                <fieldset class="fieldset">
                                    <legend>"Kind of exercise"</legend>
                                    {ExerciseKind::ALL.iter().enumerate().map(|(i, e)| {
                                        let id = format!("exercise-{}", e.as_str());
                                        view! {
                                            <div class="radio">
                                                <input type="radio" id=id.clone() name="exercise" value=e.as_str() checked=i == 0/>
                                                <label for=id>{e.label()}</label>
                                            </div>
                                        }
                                    }).collect_view()}
                                </fieldset>
                                <div class="form-group">
                                    <label for="exercise-kind">"Runbook to exercise"</label>
                                    <select id="exercise-kind" name="kind">
                                        {IncidentKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.title()}</option> }).collect_view()}
                                    </select>
                                </div>
                                <div class="form-group">
                                    <label for="exercise-scenario">"Scenario (optional)"</label>
                                    <textarea id="exercise-scenario" name="scenario" rows="3"></textarea>
                                </div>
                                <button type="submit" class="button">"Start the exercise"</button>
                            </ActionForm>
                        })}
                        <h2 id="held-heading">"Exercises held"</h2>
                        {if x.held.is_empty() {
                            view! { <p>"None yet."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="plain-list" role="list" aria-labelledby="held-heading">
                                    {x.held.iter().map(|(r, e, k, at, status)| view! {
                                        <li><a href=format!("/incidents/{r}")>{format!("{e}: {k}")}</a>{format!(", {at}, {status}. ")}<a href=format!("/incidents/{r}/exercise-report")>{format!("Report on {r}")}</a></li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    }.into_any(),
                    Err(e) => view! { <Title text="Exercises"/><h1>"Exercises"</h1><p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Each kind of exercise: how often it is due, when it was last held, when it is due next.
#[component]
fn Cadence(cadence: Vec<CadenceRow>) -> impl IntoView {
    view! {
    <div class="table-wrap">
        <table class="table">
            <caption class="visually-hidden">"Exercise cadence"</caption>
            <thead><tr><th scope="col">"Exercise"</th><th scope="col">"Every"</th><th scope="col">"Last held"</th><th scope="col">"Next due"</th></tr></thead>
            <tbody>
                {cadence.iter().map(|c| view! {
                    <tr class:overdue=c.overdue>
                        <th scope="row">{c.kind.label()}</th>
                        <td>{format!("{} months", c.every_months)}</td>
                        <td>{match &c.last {
                            Some((r, at)) => view! { <a href=format!("/incidents/{r}/exercise-report")>{at.clone()}</a> }.into_any(),
                            None => view! { "Never" }.into_any(),
                        }}</td>
                        <td>{c.due.clone()}{c.overdue.then(|| view! { " " <span class="tag tag--gap">"Overdue"</span> })}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    </div>
    }
}

#[component]
pub fn ExerciseReportPage() -> impl IntoView {
    let params = use_params_map();
    let reference = move || params.read().get("reference").unwrap_or_default();
    let report = Resource::new(reference, get_exercise_report);
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading the report…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(r) => view! {
                        <Title text=format!("Exercise report {}", r.reference)/>
                        <p class="exercise-banner" role="note">"EXERCISE: not a real incident"</p>
                        <h1>{format!("Exercise report: {}", r.kind)}</h1>
                        <p class="lede">{format!("{} at {}, started {}. ", r.exercise, r.org_name, r.started)}<a href=format!("/incidents/{}", r.reference)>{format!("Open {}", r.reference)}</a></p>
                        <p>{format!("{} of {} tasks missed their time; {} escalations fired.", r.missed, r.tasks.len(), r.escalations)}</p>
                        <h2 id="gaps-heading">"Gaps found"</h2>
                        {if r.gaps.is_empty() {
                            view! { <p>"None."</p> }.into_any()
                        } else {
                            view! { <ul aria-labelledby="gaps-heading">{r.gaps.iter().map(|g| view! { <li>{g.clone()}</li> }).collect_view()}</ul> }.into_any()
                        }}
                        <h2 id="roles-heading">"By role"</h2>
                        <div class="table-wrap">
                            <table class="table" aria-labelledby="roles-heading">
                                <thead><tr><th scope="col">"Role"</th><th scope="col">"Acknowledged"</th><th scope="col">"Median time to acknowledge"</th></tr></thead>
                                <tbody>
                                    {r.per_role.iter().map(|(role, acked, total, median)| view! {
                                        <tr><th scope="row">{role.clone()}</th><td>{format!("{acked} of {total}")}</td><td>{median.map(|m| format!("{m} minutes")).unwrap_or_else(|| "Not acknowledged".into())}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <h2 id="tasks-heading">"By task"</h2>
                        <div class="table-wrap">
                            <table class="table" aria-labelledby="tasks-heading">
                                <thead><tr><th scope="col">"Task"</th><th scope="col">"Role"</th><th scope="col">"Owner"</th><th scope="col">"Time to acknowledge"</th><th scope="col">"State"</th><th scope="col">"Escalations"</th></tr></thead>
                                <tbody>
                                    {r.tasks.iter().map(|t| view! {
                                        <tr class:overdue=t.missed>
                                            <th scope="row">{t.title.clone()}{t.missed.then(|| view! { " " <span class="tag tag--gap">"Missed"</span> })}</th>
                                            <td>{t.role.clone()}</td>
                                            <td>{t.assignee.clone().unwrap_or_else(|| "Nobody".into())}</td>
                                            <td>{t.minutes_to_acknowledge.map(|m| format!("{m} minutes")).unwrap_or_else(|| "Not acknowledged".into())}</td>
                                            <td>{t.state.clone()}</td>
                                            <td>{t.escalations}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <Title text="Exercise report"/><h1>"Exercise report"</h1><p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
