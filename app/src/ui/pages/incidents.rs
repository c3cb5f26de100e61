//! Declaring an incident, the incident page with its runbook tasks, the list of incidents
//! and "my tasks". Every form is a plain form post, so a phone without the WebAssembly
//! (or with it still loading) can declare and act.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::escalation::AcknowledgeCommand;
use crate::api::incidents::{
    ActOnTask, AddAffected, AssignCommand, ChangeIncident, DeclareIncident, LinkAsset, OpenLinked,
    RecordReport, declare_options, get_incident, list_incidents, my_tasks, verify_timelines,
};
use crate::domain::assets::Support;
use crate::domain::dates::moment;
use crate::domain::incidents::{
    Command, IncidentKind, IncidentLevel, IncidentStatus, IncidentView, PatientsAffected,
    TaskAction, TaskView, transition,
};
use crate::error::AppError;
use crate::ui::components::forms::ErrorSummary;
use crate::ui::components::raw_text::TextArea;

#[component]
pub fn DeclarePage() -> impl IntoView {
    let declare = ServerAction::<DeclareIncident>::new();
    let options = Resource::new(|| (), |_| declare_options());
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
            <Suspense fallback=|| view! { <SystemsText label="Which systems? (optional)"/> }>
                {move || Suspend::new(async move {
                    match options.await {
                        Ok(o) if !o.assets.is_empty() => view! {
                            <fieldset class="fieldset">
                                <legend>{format!("Which of {}'s systems are affected? (optional)", o.org_name)}</legend>
                                {o.assets.iter().enumerate().map(|(n, a)| {
                                    let id = format!("asset-{}", a.id);
                                    view! {
                                        <div class="checkbox">
                                            <input type="checkbox" id=id.clone() name=format!("assets[{n}]") value=a.id.to_string()/>
                                            <label for=id>{a.name.clone()}{a.patient_safety_critical.then_some(" (patient safety critical)")}</label>
                                        </div>
                                    }
                                }).collect_view()}
                            </fieldset>
                            <SystemsText label="Anything else affected? (optional)"/>
                        }.into_any(),
                        _ => view! { <SystemsText label="Which systems? (optional)"/> }.into_any(),
                    }
                })}
            </Suspense>
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

/// "WL-…: Ransomware", or marked as an exercise.
fn incident_title(i: &IncidentView) -> String {
    match i.exercise {
        Some(e) => format!(
            "EXERCISE {}: {} ({})",
            i.reference,
            i.kind.title(),
            e.label()
        ),
        None => format!("{}: {}", i.reference, i.kind.title()),
    }
}

/// The free-text field for affected systems.
#[component]
fn SystemsText(label: &'static str) -> impl IntoView {
    view! {
        <div class="form-group">
            <label for="systems">{label}</label>
            <input id="systems" name="systems" type="text" autocomplete="off"/>
        </div>
    }
}

/// Everything a lead can do on the incident page, so each refreshes the page when it lands.
#[derive(Clone, Copy)]
struct Actions {
    act: ServerAction<ActOnTask>,
    change: ServerAction<ChangeIncident>,
    report: ServerAction<RecordReport>,
    command: ServerAction<AssignCommand>,
    affect: ServerAction<AddAffected>,
    link: ServerAction<OpenLinked>,
    ack: ServerAction<AcknowledgeCommand>,
    asset: ServerAction<LinkAsset>,
}

impl Actions {
    fn new() -> Actions {
        Actions {
            act: ServerAction::new(),
            change: ServerAction::new(),
            report: ServerAction::new(),
            command: ServerAction::new(),
            affect: ServerAction::new(),
            link: ServerAction::new(),
            ack: ServerAction::new(),
            asset: ServerAction::new(),
        }
    }

    fn version(&self) -> usize {
        self.act.version().get()
            + self.change.version().get()
            + self.report.version().get()
            + self.command.version().get()
            + self.affect.version().get()
            + self.link.version().get()
            + self.ack.version().get()
            + self.asset.version().get()
    }

    fn error(&self) -> Option<String> {
        fn err<T: Clone + Send + Sync + 'static>(v: Option<Result<T, AppError>>) -> Option<String> {
            v.and_then(|r| r.err()).map(|e| e.to_string())
        }
        err(self.act.value().get())
            .or_else(|| err(self.change.value().get()))
            .or_else(|| err(self.report.value().get()))
            .or_else(|| err(self.command.value().get()))
            .or_else(|| err(self.affect.value().get()))
            .or_else(|| err(self.link.value().get()))
            .or_else(|| err(self.ack.value().get()))
            .or_else(|| err(self.asset.value().get()))
    }
}

#[component]
pub fn IncidentPage() -> impl IntoView {
    let params = use_params_map();
    let reference = move || params.read().get("reference").unwrap_or_default();
    let actions = Actions::new();
    let tick = RwSignal::new(0u32);
    crate::ui::components::live::listen(format!("/live/incidents/{}", reference()), tick);
    let incident = Resource::new(
        move || (reference(), actions.version(), tick.get()),
        |(r, _, _)| get_incident(r),
    );
    let error = Signal::derive(move || actions.error());
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading the incident…"</p> }>
            {move || Suspend::new(async move {
                match incident.await {
                    Ok(i) => view! { <ErrorSummary error/><Incident i actions/> }.into_any(),
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
fn Incident(i: IncidentView, actions: Actions) -> impl IntoView {
    let title = incident_title(&i);
    let reference = i.reference.clone();
    let can_lead = i.can_lead;
    view! {
        <Title text=title.clone()/>
        {i.exercise.map(|_| view! {
            <p class="exercise-banner" role="note">"EXERCISE: this is a drill, not a real incident. Its tasks and escalations are real; it starts no reporting clocks. "<a href=format!("/incidents/{}/exercise-report", i.reference)>"Exercise report"</a></p>
        })}
        <h1>{title}</h1>
        <p class="lede">{format!("{} at {}. {}.", i.level.label(), i.org_name, status_label(i.status))}</p>
        {i.parent.clone().map(|p| view! {
            <p class="notice">"Opened from "<a href=format!("/incidents/{}", p.reference)>{format!("{}'s incident {}", p.org_name, p.reference)}</a>"."</p>
        })}
        <p class="actions-row">
            <a href=format!("/incidents/{}/print", i.reference)>"Printable version"</a>
            <a href=format!("/incidents/{}/review", i.reference)>"Post-incident review"</a>
            <a href=format!("/export/incident.json?reference={}", i.reference) rel="external" download="">"Download as JSON"</a>
        </p>
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
        <Summary i=i.clone()/>
        <Commands i=i.clone() action=actions.command ack=actions.ack/>
        <Affected i=i.clone() action=actions.affect/>
        <AffectedAssets i=i.clone() action=actions.asset/>
        <Clocks i=i.clone() action=actions.report/>
        <Linked i=i.clone() action=actions.link/>
        <section aria-labelledby="tasks-heading">
            <h2 id="tasks-heading">"Tasks"</h2>
            <TaskTable tasks=i.tasks.clone() act=actions.act/>
        </section>
        {can_lead.then(|| view! { <ChangeForm reference=reference.clone() change=actions.change/> })}
        <section aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Timeline"</h2>
            <ol class="timeline">{i.timeline.iter().map(|e| view! { <li><span class="hint">{moment(e.at)}</span>" "{e.detail.clone()}</li> }).collect_view()}</ol>
        </section>
    }
}

fn status_label(s: IncidentStatus) -> String {
    let raw = s.as_str().replace('_', " ");
    let mut c = raw.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

#[component]
fn Summary(i: IncidentView) -> impl IntoView {
    view! {
        <dl class="summary-list">
            <div><dt>"Where"</dt><dd>{i.location.clone()}</dd></div>
            <div><dt>"Patients affected now"</dt><dd>{match i.patients_affected { PatientsAffected::Yes => "Yes", PatientsAffected::No => "No", PatientsAffected::Unknown => "Not known yet" }}</dd></div>
            <div><dt>"Personal data"</dt><dd>{if i.personal_data { "May be involved" } else { "Not reported" }}</dd></div>
            <div><dt>"Systems"</dt><dd>{if i.systems.is_empty() { "Not given".to_string() } else { i.systems.clone() }}</dd></div>
            <div><dt>"Declared"</dt><dd>{format!("{} by {}", i.declared_at, i.declared_by)}</dd></div>
            <div><dt>"Aware since"</dt><dd>{i.aware_at.clone()}</dd></div>
            <div><dt>"Runbook"</dt><dd>{i.runbook.clone()}</dd></div>
            {(!i.summary.is_empty()).then(|| view! { <div><dt>"Details"</dt><dd>{i.summary.clone()}</dd></div> })}
        </dl>
    }
}

/// Gold, Silver, Bronze, loggist and communications lead; leads give each to a role holder.
#[component]
fn Commands(
    i: IncidentView,
    action: ServerAction<AssignCommand>,
    ack: ServerAction<AcknowledgeCommand>,
) -> impl IntoView {
    let reference = i.reference.clone();
    let candidates = i.candidates.clone();
    view! {
        <section aria-labelledby="command-heading">
            <h2 id="command-heading">"Incident command"</h2>
            <table class="table">
                <caption class="visually-hidden">"Command roles in this incident"</caption>
                <thead><tr><th scope="col">"Role"</th><th scope="col">"Held by"</th>{i.can_lead.then(|| view! { <th scope="col">"Change"</th> })}</tr></thead>
                <tbody>
                    {i.commands.clone().into_iter().map(|c| {
                        let field = format!("command-{}", c.command.as_str());
                        let current = c.person_id;
                        let reference = reference.clone();
                        let ack_ref = reference.clone();
                        let candidates = candidates.clone();
                        view! {
                            <tr>
                                <th scope="row">{c.command.label()}</th>
                                <td>
                                    {c.person.clone().unwrap_or_else(|| "Nobody yet".into())}
                                    {(c.command == Command::Gold && c.person.is_some()).then_some(if c.acknowledged { " (acknowledged)" } else { " (not yet acknowledged)" })}
                                    {(c.command == Command::Gold && c.mine && !c.acknowledged).then(|| view! {
                                        <ActionForm action=ack attr:class="inline-form">
                                            <input type="hidden" name="reference" value=ack_ref.clone()/>
                                            <button type="submit" class="button">"Acknowledge Gold command"</button>
                                        </ActionForm>
                                    })}
                                </td>
                                {i.can_lead.then(|| view! {
                                    <td>
                                        <ActionForm action attr:class="inline-form">
                                            <input type="hidden" name="reference" value=reference.clone()/>
                                            <input type="hidden" name="command" value=c.command.as_str()/>
                                            <label for=field.clone() class="visually-hidden">{format!("Who is {}", c.command.label())}</label>
                                            <select id=field name="person">
                                                <option value="">"Nobody"</option>
                                                {candidates.iter().map(|c| view! {
                                                    <option value=c.person_id.to_string() selected=current == Some(c.person_id)>{c.label.clone()}</option>
                                                }).collect_view()}
                                            </select>
                                            <button type="submit" class="button button--secondary">{format!("Set {}", c.command.label())}</button>
                                        </ActionForm>
                                    </td>
                                })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn Affected(i: IncidentView, action: ServerAction<AddAffected>) -> impl IntoView {
    view! {
        <section aria-labelledby="affected-heading">
            <h2 id="affected-heading">"Organisations affected"</h2>
            <ul class="plain-list" role="list">
                <li><a href=format!("/orgs/{}", i.org_code)>{i.org_name.clone()}</a>" (declared here)"</li>
                {i.affected.iter().map(|a| view! { <li><a href=format!("/orgs/{}", a.code)>{a.name.clone()}</a></li> }).collect_view()}
            </ul>
            {i.can_lead.then(|| view! {
                <ActionForm action attr:class="form inline-fields">
                    <input type="hidden" name="reference" value=i.reference.clone()/>
                    <div class="form-group">
                        <label for="affect-code">"Add an affected organisation (ODS code)"</label>
                        <input id="affect-code" name="org_code" type="text" autocomplete="off" required/>
                    </div>
                    <button type="submit" class="button button--secondary">"Add organisation"</button>
                </ActionForm>
            })}
        </section>
    }
}

#[component]
fn AffectedAssets(i: IncidentView, action: ServerAction<LinkAsset>) -> impl IntoView {
    if i.assets.is_empty() && i.asset_choices.is_empty() {
        return ().into_any();
    }
    view! {
        <section aria-labelledby="assets-heading">
            <h2 id="assets-heading">"Systems affected"</h2>
            {if i.assets.is_empty() {
                view! { <p>"No catalogued system linked yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain-list" role="list">
                        {i.assets.iter().map(|a| view! {
                            <li>
                                <a href=format!("/assets/{}", a.id)>{a.name.clone()}</a>
                                {format!(" ({})", a.org_name)}
                                {a.patient_safety_critical.then(|| view! { " " <span class="tag tag--gap">"patient safety critical"</span> })}
                                {matches!(a.support, Support::Unsupported | Support::EndingSoon).then(|| view! { " " <span class="tag tag--gap">{a.support.label()}</span> })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(!i.asset_choices.is_empty()).then(|| view! {
                <ActionForm action attr:class="form inline-fields">
                    <input type="hidden" name="reference" value=i.reference.clone()/>
                    <div class="form-group">
                        <label for="link-asset">"Link an affected system"</label>
                        <select id="link-asset" name="asset_id">
                            {i.asset_choices.iter().map(|a| view! { <option value=a.id.to_string()>{format!("{} ({})", a.name, a.org_name)}</option> }).collect_view()}
                        </select>
                    </div>
                    <button type="submit" class="button button--secondary">"Link system"</button>
                </ActionForm>
            })}
        </section>
    }
    .into_any()
}

#[component]
fn Clocks(i: IncidentView, action: ServerAction<RecordReport>) -> impl IntoView {
    let reference = i.reference.clone();
    view! {
        <section aria-labelledby="clocks-heading">
            <h2 id="clocks-heading">"Reporting clocks"</h2>
            <table class="table">
                <caption class="visually-hidden">"Reporting deadlines"</caption>
                <thead><tr><th scope="col">"Report to"</th><th scope="col">"Due"</th><th scope="col">"Status"</th></tr></thead>
                <tbody>
                    {i.clocks.clone().into_iter().map(|c| {
                        let reference = reference.clone();
                        let status = if !c.applies {
                            String::new()
                        } else if let (Some(at), Some(r)) = (&c.reported_at, &c.report_reference) {
                            format!("Reported {at}, reference {r}")
                        } else if c.overdue {
                            "Overdue".into()
                        } else {
                            format!("{} h {} min left", c.minutes_left / 60, c.minutes_left % 60)
                        };
                        let who = c.label.split(':').next().unwrap_or_default().to_owned();
                        let at_id = format!("report-at-{}", c.body);
                        let ref_id = format!("report-ref-{}", c.body);
                        view! {
                            <tr class:overdue=c.overdue>
                                <th scope="row">{c.label.clone()}</th>
                                <td>{if c.applies { c.due_at.clone() } else { "Does not apply".into() }}</td>
                                <td>
                                    {status}
                                    {(i.can_lead && c.applies).then(|| view! {
                                        <details class="task-detail">
                                            <summary>{format!("Record the report to {who}")}</summary>
                                            <ActionForm action attr:class="form">
                                                <input type="hidden" name="reference" value=reference.clone()/>
                                                <input type="hidden" name="body" value=c.body.clone()/>
                                                <div class="form-group">
                                                    <label for=at_id.clone()>"When it was made (UTC; leave empty for now)"</label>
                                                    <input id=at_id name="reported_at" type="datetime-local"/>
                                                </div>
                                                <div class="form-group">
                                                    <label for=ref_id.clone()>"Reference given"</label>
                                                    <input id=ref_id name="their_reference" type="text" required value=c.report_reference.clone().unwrap_or_default()/>
                                                </div>
                                                <button type="submit" class="button button--secondary">{format!("Record report to {who}")}</button>
                                            </ActionForm>
                                        </details>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <details class="task-detail">
                <summary>"Report text for the DSPT incident reporting tool"</summary>
                <label for="dspt-text">"Copy this into the tool"</label>
                <TextArea text=i.dspt_text.clone() attr:id="dspt-text" attr:readonly=true attr:rows="14" attr:class="dspt-text"/>
            </details>
        </section>
    }
}

/// A supplier's incident: the incidents opened at the organisations it serves.
#[component]
fn Linked(i: IncidentView, action: ServerAction<OpenLinked>) -> impl IntoView {
    let show = !i.linked.is_empty() || !i.unlinked_clients.is_empty();
    show.then(|| view! {
        <section aria-labelledby="linked-heading">
            <h2 id="linked-heading">"Organisations this supplier serves"</h2>
            {(!i.linked.is_empty()).then(|| view! {
                <table class="table">
                    <caption class="visually-hidden">"Linked incidents"</caption>
                    <thead><tr><th scope="col">"Organisation"</th><th scope="col">"Incident"</th><th scope="col">"Status"</th><th scope="col">"Tasks done"</th></tr></thead>
                    <tbody>
                        {i.linked.iter().map(|l| view! {
                            <tr>
                                <th scope="row">{l.org_name.clone()}</th>
                                <td><a href=format!("/incidents/{}", l.reference)>{l.reference.clone()}</a></td>
                                <td>{status_label(l.status)}</td>
                                <td>{format!("{} of {}", l.tasks_done, l.tasks_total)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {(!i.unlinked_clients.is_empty()).then(|| view! {
                <p>{format!("Not yet told: {}.", i.unlinked_clients.join(", "))}</p>
                {i.can_link.then(|| view! {
                    <ActionForm action attr:class="inline-form">
                        <input type="hidden" name="reference" value=i.reference.clone()/>
                        <button type="submit" class="button button--warning">{format!("Open linked incidents at {} organisations", i.unlinked_clients.len())}</button>
                    </ActionForm>
                })}
            })}
        </section>
    })
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
    let button = |action: TaskAction, label: String, id: String| {
        view! {
            <ActionForm action=act attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="action" value=action.as_str()/>
                <button type="submit" class="button button--secondary">{label}</button>
            </ActionForm>
        }
    };
    let reason_form = move |action: TaskAction,
                            id: String,
                            what: String,
                            button: String,
                            with_email: bool| {
        let field = format!("{}-{id}", action.as_str());
        let email = format!("{}-email-{id}", action.as_str());
        view! {
            <details class="task-detail">
                <summary>{button.clone()}</summary>
                <ActionForm action=act attr:class="complete-form">
                    <input type="hidden" name="id" value=id.clone()/>
                    <input type="hidden" name="action" value=action.as_str()/>
                    {with_email.then(|| view! {
                        <label for=email.clone()>"Email of the person to take it"</label>
                        <input id=email name="to_email" type="email" required autocomplete="off"/>
                    })}
                    <label for=field.clone()>{what}</label>
                    <input id=field name="note" type="text" required/>
                    <button type="submit" class="button button--secondary">{button}</button>
                </ActionForm>
            </details>
        }
    };
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
                {(t.mine && transition(t.state, TaskAction::Acknowledge).is_ok()).then(|| button(TaskAction::Acknowledge, format!("Acknowledge: {}", t.title), id.clone()))}
                {(t.mine && transition(t.state, TaskAction::Start).is_ok()).then(|| button(TaskAction::Start, format!("Start: {}", t.title), id.clone()))}
                {t.can_act.then(|| {
                    let field = format!("note-{}", t.id);
                    let (id1, id2, id3) = (id.clone(), id.clone(), id.clone());
                    let title = t.title.clone();
                    let na = reason_form(TaskAction::NotApplicable, id2, format!("Why “{title}” does not apply"), format!("Not applicable: {title}"), false);
                    let reassign = reason_form(TaskAction::Reassign, id3, format!("Why “{title}” is reassigned"), format!("Reassign: {title}"), true);
                    view! {
                        <ActionForm action=act attr:class="complete-form">
                            <input type="hidden" name="id" value=id1/>
                            <input type="hidden" name="action" value=TaskAction::Complete.as_str()/>
                            <label for=field.clone()>{format!("What was done for “{}”", t.title)}</label>
                            <input id=field name="note" type="text" required/>
                            <button type="submit" class="button">{format!("Complete: {}", t.title)}</button>
                        </ActionForm>
                        {na}
                        {reassign}
                    }
                })}
            </td>
        </tr>
    }
}

/// The incident on paper: everything its page holds, with the time it was printed.
#[component]
pub fn IncidentPrintPage() -> impl IntoView {
    let params = use_params_map();
    let reference = move || params.read().get("reference").unwrap_or_default();
    let incident = Resource::new(reference, get_incident);
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match incident.await {
                    Ok(i) => view! { <PrintedIncident i/> }.into_any(),
                    Err(e) => view! { <h1>"Incident not found"</h1><p>{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PrintedIncident(i: IncidentView) -> impl IntoView {
    let title = incident_title(&i);
    view! {
        <Title text=format!("{title} (printable)")/>
        <article class="printable">
            <h1>{title}</h1>
            <p class="lede">{format!("{} at {} ({}). {}.", i.level.label(), i.org_name, i.org_code, status_label(i.status))}</p>
            <p class="hint">{format!("Printed from Wardline; read at {}.", i.generated_at)}</p>
            <Summary i=i.clone()/>
            <h2>"Incident command"</h2>
            <ul>{i.commands.iter().map(|c| view! { <li>{format!("{}: {}", c.command.label(), c.person.clone().unwrap_or_else(|| "nobody".into()))}</li> }).collect_view()}</ul>
            {(!i.affected.is_empty()).then(|| view! {
                <h2>"Other organisations affected"</h2>
                <ul>{i.affected.iter().map(|a| view! { <li>{format!("{} ({})", a.name, a.code)}</li> }).collect_view()}</ul>
            })}
            <h2>"Reporting clocks"</h2>
            <ul>{i.clocks.iter().filter(|c| c.applies).map(|c| view! {
                <li>{format!("{}: due {}{}", c.label, c.due_at, match (&c.reported_at, &c.report_reference) {
                    (Some(at), Some(r)) => format!("; reported {at}, reference {r}"),
                    _ if c.overdue => "; OVERDUE".into(),
                    _ => "; not reported yet".into(),
                })}</li>
            }).collect_view()}</ul>
            <h2>"Tasks"</h2>
            <table class="table">
                <caption class="visually-hidden">"Tasks"</caption>
                <thead><tr><th scope="col">"Task"</th><th scope="col">"Owner"</th><th scope="col">"State"</th><th scope="col">"Due"</th><th scope="col">"Note"</th></tr></thead>
                <tbody>
                    {i.tasks.iter().map(|t| view! {
                        <tr>
                            <th scope="row">{format!("{}. {}", t.position, t.title)}<br/><span class="hint">{format!("Routed: {}", t.routing)}</span></th>
                            <td>{t.assignee.clone().unwrap_or_else(|| "Nobody found".into())}</td>
                            <td>{t.state.label()}</td>
                            <td>{t.due_at.clone()}</td>
                            <td>{t.note.clone().unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h2>"Timeline"</h2>
            <ol class="timeline">{i.timeline.iter().map(|e| view! { <li><span class="hint">{moment(e.at)}</span>" "{e.detail.clone()}</li> }).collect_view()}</ol>
        </article>
    }
}

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

/// Leads and admins change the level or status, always with a reason (the server decides
/// who may).
#[component]
fn ChangeForm(reference: String, change: ServerAction<ChangeIncident>) -> impl IntoView {
    view! {
        <details class="admin-panel">
            <summary>"Change the level or status"</summary>
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
