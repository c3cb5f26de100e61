//! The incident page: summary, command roles, affected organisations and assets, the
//! reporting obligations, linked incidents, and the runbook's tasks.

use super::obligations::{Ledger, LedgerActions};
use super::*;

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
    aware: ServerAction<SetAwareness>,
    not_reportable: ServerAction<DecideNotReportable>,
    impact: ServerAction<AssessNisImpact>,
    grade: ServerAction<GradeBreach>,
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
            aware: ServerAction::new(),
            not_reportable: ServerAction::new(),
            impact: ServerAction::new(),
            grade: ServerAction::new(),
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
            + self.aware.version().get()
            + self.not_reportable.version().get()
            + self.impact.version().get()
            + self.grade.version().get()
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
            .or_else(|| err(self.aware.value().get()))
            .or_else(|| err(self.not_reportable.value().get()))
            .or_else(|| err(self.impact.value().get()))
            .or_else(|| err(self.grade.value().get()))
    }
}

#[component]
pub fn IncidentPage() -> impl IntoView {
    let params = use_params_map();
    let reference = move || params.read().get("reference").unwrap_or_default();
    let actions = Actions::new();
    let incident = Resource::new(
        move || (reference(), actions.version()),
        |(r, _)| get_incident(r),
    );
    let error = Signal::derive(move || actions.error());
    view! {
        // Each part marked live below is fetched again when the incident changes.
        <LiveUpdates events=format!("/live/incidents/{}", reference())/>
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
        <p class="lede" id="live-status" data-live="">{format!("{} at {}. {}.", i.level.label(), i.org_name, status_label(i.status))}</p>
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
        <section aria-labelledby="told-heading" id="live-told" data-live="">
            <h2 id="told-heading">"Who has been told"</h2>
            {if i.told.is_empty() {
                view! { <p>"Nobody could be found for these tasks. The national team has been flagged."</p> }.into_any()
            } else {
                view! { <ul class="plain-list" role="list">{i.told.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul> }.into_any()
            }}
        </section>
        <div id="live-summary" data-live=""><Summary i=i.clone()/></div>
        <div id="live-commands" data-live=""><Commands i=i.clone() action=actions.command ack=actions.ack/></div>
        <div id="live-affected" data-live=""><Affected i=i.clone() action=actions.affect/></div>
        <div id="live-assets" data-live=""><AffectedAssets i=i.clone() action=actions.asset/></div>
        <div id="live-ledger" data-live=""><Ledger i=i.clone() actions=LedgerActions { report: actions.report, aware: actions.aware, not_reportable: actions.not_reportable, impact: actions.impact, grade: actions.grade }/></div>
        <div id="live-linked" data-live=""><Linked i=i.clone() action=actions.link/></div>
        <section aria-labelledby="tasks-heading" id="live-tasks" data-live="">
            <h2 id="tasks-heading">"Tasks"</h2>
            <TaskTable tasks=i.tasks.clone() act=actions.act/>
        </section>
        <div id="live-paging" data-live=""><Paging rows=i.paging.clone()/></div>
        <div id="live-change" data-live="">{can_lead.then(|| view! { <ChangeForm reference=reference.clone() change=actions.change/> })}</div>
        <section aria-labelledby="timeline-heading" id="live-timeline" data-live="">
            <h2 id="timeline-heading">"Timeline"</h2>
            <ol class="timeline">{i.timeline.iter().map(|e| view! { <li><span class="hint">{moment(e.at)}</span>" "{e.detail.clone()}</li> }).collect_view()}</ol>
        </section>
    }
}

/// Who was paged about each task, how, when, and whether it reached them.
#[component]
fn Paging(rows: Vec<crate::domain::incidents::PageRow>) -> impl IntoView {
    view! {
        <section aria-labelledby="paging-heading">
            <h2 id="paging-heading">"Who was paged"</h2>
            {if rows.is_empty() {
                view! { <p>"Nobody has been paged about these tasks yet."</p> }.into_any()
            } else {
                view! {
                    // Wider than a phone: the region scrolls, and takes keyboard focus to do so.
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Messages sent, scrolls sideways">
                        <table class="table">
                            <caption class="visually-hidden">"Messages sent about each task"</caption>
                            <thead><tr>
                                <th scope="col">"Task"</th>
                                <th scope="col">"Who"</th>
                                <th scope="col">"How"</th>
                                <th scope="col">"When"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Acknowledged"</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|r| view! {
                                    <tr>
                                        <td>{r.task}</td>
                                        <td>{r.who}</td>
                                        <td>{if r.level == 0 { r.how } else { format!("{} (escalation level {})", r.how, r.level) }}</td>
                                        <td>{moment(r.at)}</td>
                                        <td>{r.status}</td>
                                        <td>{if r.acknowledged { "Yes" } else { "Not yet" }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

#[component]
pub(super) fn Summary(i: IncidentView) -> impl IntoView {
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
            <div class="table-wrap">
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
            </div>
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

/// A supplier's incident: the incidents opened at the organisations it serves.
#[component]
fn Linked(i: IncidentView, action: ServerAction<OpenLinked>) -> impl IntoView {
    let show = !i.linked.is_empty() || !i.unlinked_clients.is_empty();
    show.then(|| view! {
        <section aria-labelledby="linked-heading">
            <h2 id="linked-heading">"Organisations this supplier serves"</h2>
            {(!i.linked.is_empty()).then(|| view! {
                <div class="table-wrap">
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
                </div>
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
pub(super) fn TaskTable(
    tasks: Vec<TaskView>,
    act: ServerAction<ActOnTask>,
    /// The table's name for screen readers; "Runbook tasks" unless given.
    #[prop(optional)]
    caption: Option<String>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table tasks">
                <caption class="visually-hidden">{caption.unwrap_or_else(|| "Runbook tasks".into())}</caption>
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
                            <textarea id=field name="note" rows="3" required></textarea>
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
