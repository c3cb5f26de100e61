//! The incident page's obligations ledger: every reporting obligation that may apply, its
//! deadline, where it stands and the decisions behind it; leads record reports, "not
//! reportable" with the reason, NIS's significant-impact answers and the DSPT grading.
//! Every form is a plain form post.

use super::*;
use crate::domain::incidents::Clock;
use crate::domain::incidents::obligations::{AREAS, LIKELIHOOD, SEVERITY, State};

/// The ledger's forms' actions.
#[derive(Clone, Copy)]
pub struct LedgerActions {
    pub report: ServerAction<RecordReport>,
    pub aware: ServerAction<SetAwareness>,
    pub not_reportable: ServerAction<DecideNotReportable>,
    pub impact: ServerAction<AssessNisImpact>,
    pub grade: ServerAction<GradeBreach>,
}

#[component]
pub fn Ledger(i: IncidentView, actions: LedgerActions) -> impl IntoView {
    let reference = i.reference.clone();
    let (applying, other): (Vec<Clock>, Vec<Clock>) = i
        .clocks
        .clone()
        .into_iter()
        .partition(|c| c.applies || !c.history.is_empty());
    let can_lead = i.can_lead;
    view! {
        <section aria-labelledby="clocks-heading">
            <h2 id="clocks-heading">"Reporting obligations"</h2>
            <p>{format!("Deadlines count from when the organisation became aware: {}.", i.aware_at)}</p>
            {can_lead.then(|| view! { <Awareness reference=reference.clone() action=actions.aware/> })}
            <ul class="obligations">
                {applying.into_iter().map(|c| view! {
                    <Obligation c reference=reference.clone() can_lead actions/>
                }).collect_view()}
            </ul>
            {(!other.is_empty()).then(|| view! {
                <details class="task-detail">
                    <summary>{format!("Not applying to this incident ({})", other.len())}</summary>
                    <ul class="obligations">
                        {other.into_iter().map(|c| view! {
                            <Obligation c reference=reference.clone() can_lead actions/>
                        }).collect_view()}
                    </ul>
                </details>
            })}
            <details class="task-detail">
                <summary>"Report text for the DSPT incident reporting tool"</summary>
                <label for="dspt-text">"Copy this into the tool"</label>
                <TextArea text=i.dspt_text.clone() attr:id="dspt-text" attr:readonly=true attr:rows="14" attr:class="dspt-text"/>
            </details>
        </section>
    }
}

/// Where one obligation stands, in words.
fn standing(c: &Clock) -> String {
    match c.state {
        State::Reported => {
            let purpose = c
                .report_purpose
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            format!(
                "Reported{purpose} {}, reference {}",
                c.reported_at.as_deref().unwrap_or_default(),
                c.report_reference.as_deref().unwrap_or_default()
            )
        }
        State::NotReportable => "Not reportable".into(),
        State::ToReport if c.overdue => "Reportable: overdue".into(),
        State::ToAssess if c.overdue => "Overdue: not assessed".into(),
        State::ToAssess if c.body == "nis" && c.applies => {
            "To assess: answer the significant-impact questions".into()
        }
        s if c.applies && !c.due_at.is_empty() && c.minutes_left > 0 => format!(
            "{}: {} h {} min left",
            s.label(),
            c.minutes_left / 60,
            c.minutes_left % 60
        ),
        s => s.label().into(),
    }
}

#[component]
fn Obligation(
    c: Clock,
    reference: String,
    can_lead: bool,
    actions: LedgerActions,
) -> impl IntoView {
    let who = c.label.clone();
    let id = c.body.clone();
    let heading = format!("obligation-{id}");
    let labelled_by = heading.clone();
    let mut state = standing(&c);
    if c.late {
        state.push_str(" (decided after the deadline)");
    }
    if c.reassessed {
        state.push_str(" (reassessed)");
    }
    view! {
        <li class="obligation" class:overdue=c.overdue aria-labelledby=labelled_by>
            <h3 id=heading>{who.clone()}</h3>
            <dl class="summary-list">
                <div><dt>"Applies"</dt><dd>{if c.applies { "Yes" } else { "No" }}": "{c.why.clone()}</dd></div>
                <div><dt>"Due"</dt><dd>{if !c.applies { "Does not apply".to_owned() } else if c.due_at.is_empty() { "Not counting yet".to_owned() } else { c.due_at.clone() }}</dd></div>
                <div><dt>"Status"</dt><dd>{state}</dd></div>
                <div><dt>"How"</dt><dd>{c.channel_hint.clone()}</dd></div>
                {c.grade.clone().map(|g| view! { <div><dt>"Grade"</dt><dd>{g}</dd></div> })}
            </dl>
            {(!c.history.is_empty()).then(|| view! {
                <details class="task-detail">
                    <summary>{format!("Decisions ({})", c.history.len())}</summary>
                    <ol>{c.history.iter().map(|h| view! { <li>{h.clone()}</li> }).collect_view()}</ol>
                </details>
            })}
            {can_lead.then(|| view! {
                {(c.body == "nis").then(|| view! { <NisImpact c=c.clone() reference=reference.clone() action=actions.impact/> })}
                {(c.body == "ico").then(|| view! { <Grade c=c.clone() reference=reference.clone() action=actions.grade/> })}
                <ReportForm c=c.clone() reference=reference.clone() action=actions.report/>
                <NotReportable c=c.clone() reference=reference.clone() action=actions.not_reportable/>
            })}
        </li>
    }
}

#[component]
fn ReportForm(c: Clock, reference: String, action: ServerAction<RecordReport>) -> impl IntoView {
    let who = c.label.clone();
    let at_id = format!("report-at-{}", c.body);
    let ref_id = format!("report-ref-{}", c.body);
    let how_id = format!("report-how-{}", c.body);
    view! {
        <details class="task-detail">
            <summary>{format!("Record the report to {who}")}</summary>
            <ActionForm action attr:class="form">
                <input type="hidden" name="reference" value=reference/>
                <input type="hidden" name="body" value=c.body.clone()/>
                <div class="form-group">
                    <label for=at_id.clone()>"When it was made (UK time; leave empty for now)"</label>
                    <input id=at_id name="reported_at" type="datetime-local"/>
                </div>
                {(c.body == "csoc").then(|| view! { <CsocPurpose current=c.report_purpose.clone()/> })}
                <div class="form-group">
                    <label for=how_id.clone()>"How it was made (optional)"</label>
                    <input id=how_id name="channel" type="text" maxlength="100" value=c.report_channel.clone().unwrap_or_default()/>
                </div>
                <div class="form-group">
                    <label for=ref_id.clone()>"Reference given"</label>
                    <input id=ref_id name="their_reference" type="text" required maxlength="100" value=c.report_reference.clone().unwrap_or_default()/>
                </div>
                <button type="submit" class="button button--secondary">{format!("Record report to {who}")}</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn NotReportable(
    c: Clock,
    reference: String,
    action: ServerAction<DecideNotReportable>,
) -> impl IntoView {
    let who = c.label.clone();
    let id = format!("not-reportable-{}", c.body);
    view! {
        <details class="task-detail">
            <summary>{format!("Not reportable to {who}")}</summary>
            <ActionForm action attr:class="form">
                <input type="hidden" name="reference" value=reference/>
                <input type="hidden" name="obligation" value=c.body.clone()/>
                <div class="form-group">
                    <label for=id.clone()>"Why it is not reportable"</label>
                    <textarea id=id name="reason" rows="3" required maxlength="2000"></textarea>
                </div>
                <button type="submit" class="button button--secondary">{format!("Record not reportable to {who}")}</button>
            </ActionForm>
        </details>
    }
}

/// NIS's significant-impact questions (the number of people, the duration, the area).
#[component]
fn NisImpact(c: Clock, reference: String, action: ServerAction<AssessNisImpact>) -> impl IntoView {
    let was = c.impact.clone().unwrap_or_default();
    view! {
        <details class="task-detail" open=c.applies && c.history.is_empty()>
            <summary>"Significant-impact questions"</summary>
            <ActionForm action attr:class="form">
                <input type="hidden" name="reference" value=reference/>
                <div class="checkbox">
                    <input type="checkbox" id="nis-disrupted" name="service_disrupted" value="on" checked=was.service_disrupted/>
                    <label for="nis-disrupted">"The incident disrupted the continuity of an essential (patient care) service"</label>
                </div>
                <Count id="nis-people" name="people_affected" label="About how many patients or users are affected" value=was.people_affected/>
                <Count id="nis-hours" name="hours" label="How many hours it has lasted or is expected to last" value=was.hours/>
                <fieldset class="form-group">
                    <legend>"How wide is the disruption?"</legend>
                    {AREAS.into_iter().map(|(value, words)| {
                        let id = format!("nis-area-{value}");
                        view! {
                            <div class="radio">
                                <input type="radio" id=id.clone() name="area" value=value required checked=was.area == value/>
                                <label for=id>{words}</label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <fieldset class="form-group">
                    <legend>"Is the impact on the service significant?"</legend>
                    <div class="radio">
                        <input type="radio" id="nis-significant-yes" name="significant" value="yes" required/>
                        <label for="nis-significant-yes">"Yes: report to DHSC within 72 hours from now"</label>
                    </div>
                    <div class="radio">
                        <input type="radio" id="nis-significant-no" name="significant" value="no"/>
                        <label for="nis-significant-no">"No: not a NIS incident"</label>
                    </div>
                </fieldset>
                <button type="submit" class="button button--secondary">"Record the NIS assessment"</button>
            </ActionForm>
        </details>
    }
}

/// The DSPT grading grid and what UK GDPR Article 33(3) asks the report to hold.
#[component]
fn Grade(c: Clock, reference: String, action: ServerAction<GradeBreach>) -> impl IntoView {
    let was = c.grading.clone().unwrap_or_default();
    let scale = |name: &'static str,
                 legend: &'static str,
                 levels: [(u8, &'static str); 5],
                 chosen: u8| {
        view! {
            <fieldset class="form-group">
                <legend>{legend}</legend>
                {levels.into_iter().map(|(n, words)| {
                    let id = format!("grade-{name}-{n}");
                    view! {
                        <div class="radio">
                            <input type="radio" id=id.clone() name=name value=n.to_string() required checked=chosen == n/>
                            <label for=id>{format!("{n}: {words}")}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
        }
    };
    view! {
        <details class="task-detail" open=c.applies && c.grading.is_none()>
            <summary>"Grade the breach (DSPT)"</summary>
            <ActionForm action attr:class="form">
                <input type="hidden" name="reference" value=reference/>
                {scale("likelihood", "How likely is it that people have been harmed?", LIKELIHOOD, was.likelihood)}
                {scale("severity", "How severe would the harm be?", SEVERITY, was.severity)}
                <div class="form-group">
                    <label for="grade-nature">"Nature of the breach"</label>
                    <textarea id="grade-nature" name="nature" rows="3" required maxlength="2000">{was.nature.clone()}</textarea>
                </div>
                <div class="form-group">
                    <label for="grade-categories">"Categories of people concerned (patients, staff, children…)"</label>
                    <input id="grade-categories" name="categories" type="text" maxlength="500" value=was.categories.clone()/>
                </div>
                <Count id="grade-people" name="people" label="About how many people" value=was.people/>
                <Count id="grade-records" name="records" label="About how many records" value=was.records/>
                <div class="form-group">
                    <label for="grade-consequences">"Likely consequences"</label>
                    <textarea id="grade-consequences" name="consequences" rows="3" maxlength="2000">{was.consequences.clone()}</textarea>
                </div>
                <div class="form-group">
                    <label for="grade-measures">"Measures taken or proposed"</label>
                    <textarea id="grade-measures" name="measures" rows="3" maxlength="2000">{was.measures.clone()}</textarea>
                </div>
                <button type="submit" class="button button--secondary">"Record the grading"</button>
            </ActionForm>
        </details>
    }
}

/// A whole number a lead types (empty or 0: not known yet).
#[component]
fn Count(id: &'static str, name: &'static str, label: &'static str, value: u32) -> impl IntoView {
    view! {
        <div class="form-group">
            <label for=id>{label}</label>
            <input id=id name=name type="text" inputmode="numeric" value=value.to_string()/>
        </div>
    }
}

/// A lead sets awareness earlier than the declaration, with the reason.
#[component]
fn Awareness(reference: String, action: ServerAction<SetAwareness>) -> impl IntoView {
    view! {
        <details class="task-detail">
            <summary>"The organisation knew earlier than the declaration"</summary>
            <ActionForm action attr:class="form">
                <input type="hidden" name="reference" value=reference/>
                <div class="form-group">
                    <label for="aware-at">"When it became aware (UK time)"</label>
                    <p class="hint" id="aware-at-hint">"Not later than the declaration. The ICO's 72 hours count from awareness, not from the form."</p>
                    <input id="aware-at" name="aware_at" type="datetime-local" required aria-describedby="aware-at-hint"/>
                </div>
                <div class="form-group">
                    <label for="aware-reason">"How it knew then"</label>
                    <textarea id="aware-reason" name="reason" rows="3" required maxlength="1000"></textarea>
                </div>
                <button type="submit" class="button button--secondary">"Set when we became aware"</button>
            </ActionForm>
        </details>
    }
}

/// How the CSOC asks to be told: through NHS England's reporting route, by phone when
/// urgent, saying whether the report is for information or a request for support.
#[component]
fn CsocPurpose(current: Option<String>) -> impl IntoView {
    view! {
        <p class="hint">"Raise it through NHS England's cyber incident reporting route; if it is urgent, phone the CSOC on "<a href="tel:03003035222">"0300 303 5222"</a>" (24 hours)."</p>
        <fieldset class="form-group">
            <legend>"What is the report for?"</legend>
            {crate::domain::incidents::CSOC_PURPOSES.into_iter().map(|(value, words)| {
                let id = format!("csoc-purpose-{value}");
                view! {
                    <div class="radio">
                        <input type="radio" id=id.clone() name="purpose" value=value required checked=current.as_deref() == Some(words)/>
                        <label for=id>{if value == "information" { "For information" } else { "A request for support" }}</label>
                    </div>
                }
            }).collect_view()}
        </fieldset>
    }
}
