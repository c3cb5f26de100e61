//! Runbooks: the library in force at an organisation, and one runbook with its versions
//! and (for its organisation's admins) an editor whose save makes a new version.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::accountability::list_roles;
use crate::api::runbooks::{SaveRunbook, get_runbook, list_runbooks};
use crate::domain::incidents::{Phase, RunbookView, StepTemplate};
use crate::domain::roles::RoleView;
use crate::ui::components::forms::ErrorSummary;
use crate::ui::components::raw_text::TextArea;

#[component]
pub fn RunbooksPage() -> impl IntoView {
    let query = use_query_map();
    let org = move || query.read().get("org");
    let index = Resource::new(org, list_runbooks);
    view! {
        <Title text="Runbooks"/>
        <h1>"Runbooks"</h1>
        <p class="lede">"What Wardline turns into tasks when an incident is declared. An organisation's own version applies to it and everything below it; otherwise the national default does."</p>
        <form method="get" action="/runbooks" class="form inline-fields">
            <div class="form-group">
                <label for="runbook-org">"Organisation (ODS code, or “national”)"</label>
                <input id="runbook-org" name="org" type="text" autocomplete="off" value=org().unwrap_or_default()/>
            </div>
            <button type="submit" class="button button--secondary">"Show"</button>
        </form>
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match index.await {
                    Ok((code, rows)) => {
                        let q = code.clone().unwrap_or_else(|| "national".into());
                        view! {
                            <p>{match &code { Some(c) => format!("In force at {c}:"), None => "The national library:".into() }}</p>
                            <div class="table-wrap">
                                <table class="table">
                                    <caption class="visually-hidden">"Runbooks in force"</caption>
                                    <thead><tr><th scope="col">"Incident kind"</th><th scope="col">"Runbook"</th><th scope="col">"Version"</th><th scope="col">"Whose"</th></tr></thead>
                                    <tbody>
                                        {rows.into_iter().map(|(kind, title, version, owner)| view! {
                                            <tr>
                                                <th scope="row"><a href=format!("/runbooks/{}?org={q}", kind.as_str())>{kind.title()}</a></th>
                                                <td>{title}</td>
                                                <td>{version}</td>
                                                <td>{owner}</td>
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
pub fn RunbookPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let save = ServerAction::<SaveRunbook>::new();
    let args = move || {
        (
            params.read().get("kind").unwrap_or_default(),
            query.read().get("org"),
            query
                .read()
                .get("version")
                .and_then(|v| v.parse::<i32>().ok()),
            save.version().get(),
        )
    };
    let runbook = Resource::new(args, |(k, o, v, _)| get_runbook(k, o, v));
    let roles = Resource::new(|| (), |_| list_roles());
    let saved = move || query.read().get("saved");
    let error = Signal::derive(move || {
        save.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading the runbook…"</p> }>
            {move || Suspend::new(async move {
                let roles = roles.await.unwrap_or_default();
                match runbook.await {
                    Ok(rb) => view! {
                        {saved().map(|v| view! {
                            <div class="notice" role="status">{format!("Saved as version {v}. Incidents already running keep the tasks they were given.")}</div>
                        })}
                        <ErrorSummary error/>
                        <Runbook rb roles save/>
                    }.into_any(),
                    Err(e) => view! {
                        <Title text="Runbook not found"/>
                        <h1>"Runbook not found"</h1>
                        <p>{e.to_string()}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Runbook(
    rb: RunbookView,
    roles: Vec<RoleView>,
    save: ServerAction<SaveRunbook>,
) -> impl IntoView {
    let title = format!("{}: {}", rb.kind.title(), rb.title);
    let role_name = {
        let roles = roles.clone();
        move |key: &str| {
            roles
                .iter()
                .find(|r| r.key == key)
                .map(|r| r.name.clone())
                .unwrap_or_else(|| key.to_owned())
        }
    };
    let q = rb.for_code.clone().unwrap_or_else(|| "national".into());
    view! {
        <Title text=title.clone()/>
        <h1>{title}</h1>
        <p class="lede">{format!("Version {} by {}, saved {}.", rb.version, rb.owner, rb.created_at)}</p>
        <ol class="steps">
            {rb.steps.iter().map(|s| view! {
                <li>
                    <strong>{s.title.clone()}</strong>
                    <span class="hint">{format!(" — {}, {}, due {} min after declaration{}{}",
                        s.phase.label(),
                        role_name(&s.owner_role),
                        s.due_minutes,
                        if s.required { "" } else { ", optional" },
                        if s.depends_on.is_empty() { String::new() } else {
                            format!(", after step {}", s.depends_on.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "))
                        })}</span>
                    <p>{s.instructions.clone()}</p>
                </li>
            }).collect_view()}
        </ol>
        {(rb.history.len() > 1).then(|| view! {
            <h2>"Versions"</h2>
            <ul class="plain-list" role="list">
                {rb.history.iter().map(|(v, at)| view! {
                    <li><a href=format!("/runbooks/{}?org={q}&version={v}", rb.kind.as_str())>{format!("Version {v}, {at}")}</a></li>
                }).collect_view()}
            </ul>
        })}
        {rb.editable.then(|| view! { <Editor rb=rb.clone() roles save/> })}
    }
}

/// The editor: every step as a fieldset, three blank ones to add, a remove box on each.
/// A plain form post, so it works before the WebAssembly loads.
#[component]
fn Editor(rb: RunbookView, roles: Vec<RoleView>, save: ServerAction<SaveRunbook>) -> impl IntoView {
    let mut steps: Vec<Option<StepTemplate>> = rb.steps.iter().cloned().map(Some).collect();
    steps.extend([None, None, None]);
    // An organisation still on an inherited runbook starts its own line at version 1.
    let next = if rb.owner_code == rb.for_code {
        rb.history.first().map(|h| h.0).unwrap_or(0) + 1
    } else {
        1
    };
    let whose = match &rb.for_code {
        Some(c) => format!("for {c}"),
        None => "for the national library".into(),
    };
    view! {
        <h2 id="edit-heading">{format!("Edit {whose}")}</h2>
        <p>"Saving makes a new version. Incidents already running keep the tasks they were given; the next incident uses the new version."</p>
        <ActionForm action=save attr:class="form runbook-editor" attr:aria-labelledby="edit-heading">
            <input type="hidden" name="kind" value=rb.kind.as_str()/>
            <input type="hidden" name="org_code" value=rb.for_code.clone().unwrap_or_default()/>
            <div class="form-group">
                <label for="rb-title">"Runbook title"</label>
                <input id="rb-title" name="title" type="text" required value=rb.title.clone()/>
            </div>
            {steps.into_iter().enumerate().map(|(i, s)| {
                let n = i + 1;
                let f = |k: &str| format!("steps[{i}][{k}]");
                let id = |k: &str| format!("step-{n}-{k}");
                let legend = if s.is_some() { format!("Step {n}") } else { format!("New step ({n})") };
                let s2 = s.clone();
                let v = move |get: fn(&StepTemplate) -> String| s2.as_ref().map(get).unwrap_or_default();
                let phase = s.as_ref().map(|s| s.phase);
                let owner = s.as_ref().map(|s| s.owner_role.clone());
                let required = s.as_ref().is_none_or(|s| s.required);
                view! {
                    <fieldset class="fieldset step-fieldset">
                        <legend>{legend}</legend>
                        <div class="form-group">
                            <label for=id("title")>"Title"</label>
                            <input id=id("title") name=f("title") type="text" value=v(|s| s.title.clone())/>
                        </div>
                        <div class="form-group">
                            <label for=id("phase")>"Phase"</label>
                            <select id=id("phase") name=f("phase")>
                                {Phase::ALL.iter().map(|p| view! { <option value=p.as_str() selected=phase == Some(*p)>{p.label()}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="form-group">
                            <label for=id("owner")>"Owner role"</label>
                            <select id=id("owner") name=f("owner_role")>
                                {roles.iter().map(|r| view! { <option value=r.key.clone() selected=owner.as_deref() == Some(r.key.as_str())>{r.name.clone()}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="form-group">
                            <label for=id("due")>"Due (minutes after declaration)"</label>
                            <input id=id("due") name=f("due_minutes") type="number" min="0" max="43200" inputmode="numeric" value=v(|s| s.due_minutes.to_string())/>
                        </div>
                        <div class="form-group">
                            <label for=id("instructions")>"Instructions"</label>
                            <TextArea text=v(|s| s.instructions.clone()) attr:id=id("instructions") attr:name=f("instructions") attr:rows="3"/>
                        </div>
                        <div class="form-group">
                            <label for=id("depends")>"Waits for steps (numbers, like 1, 2)"</label>
                            <input id=id("depends") name=f("depends_on") type="text" inputmode="numeric" value=v(|s| s.depends_on.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "))/>
                        </div>
                        <div class="checkbox">
                            <input type="checkbox" id=id("required") name=f("required") value="on" checked=required/>
                            <label for=id("required")>"Required"</label>
                        </div>
                        {s.is_some().then(|| view! {
                            <div class="checkbox">
                                <input type="checkbox" id=id("remove") name=f("remove") value="on"/>
                                <label for=id("remove")>{format!("Remove step {n}")}</label>
                            </div>
                        })}
                    </fieldset>
                }
            }).collect_view()}
            <button type="submit" class="button">{format!("Save as version {next}")}</button>
        </ActionForm>
    }
}
