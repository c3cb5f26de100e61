//! An organisation's on-call page: who is on call now and next on each schedule, the 4-week
//! preview, and forms (plain posts) to add rotations, schedules, rules and overrides and to
//! ask a colleague for cover.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::rotas::{
    AcceptCover, AddOverride, AddRule, CreateRotation, CreateSchedule, DeclineCover, HoldRole,
    ReleaseRole, RemoveOverride, RequestCover, get_on_call,
};
use crate::domain::rota::{
    CoverView, OnCallPage, RotationView, ScheduleView, ShiftUnit, local_label,
};
use crate::ui::components::forms::ErrorSummary;

/// The error a form's last post answered with, if any.
macro_rules! error_of {
    ($a:expr) => {{
        let a = $a;
        Signal::derive(move || a.value().get().and_then(|r| r.err()).map(|e| e.to_string()))
    }};
}

fn names(people: &[String]) -> String {
    if people.is_empty() {
        "Nobody".into()
    } else {
        people.join(", ")
    }
}

#[component]
pub fn OnCallPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let rotation = ServerAction::<CreateRotation>::new();
    let schedule = ServerAction::<CreateSchedule>::new();
    let rule = ServerAction::<AddRule>::new();
    let over = ServerAction::<AddOverride>::new();
    let remove = ServerAction::<RemoveOverride>::new();
    let cover = ServerAction::<RequestCover>::new();
    let accept = ServerAction::<AcceptCover>::new();
    let decline = ServerAction::<DeclineCover>::new();
    let hold = ServerAction::<HoldRole>::new();
    let release = ServerAction::<ReleaseRole>::new();
    let page = Resource::new(
        move || {
            (
                code(),
                rotation.version().get(),
                schedule.version().get(),
                rule.version().get(),
                over.version().get(),
                remove.version().get(),
                cover.version().get(),
                accept.version().get(),
                (
                    decline.version().get(),
                    hold.version().get(),
                    release.version().get(),
                ),
            )
        },
        |(c, ..)| get_on_call(c),
    );
    let errors = Errors {
        rotation: error_of!(rotation),
        schedule: error_of!(schedule),
        rule: error_of!(rule),
        over: error_of!(over),
        remove: error_of!(remove),
        cover: error_of!(cover),
        accept: error_of!(accept),
        decline: error_of!(decline),
        hold: error_of!(hold),
        release: error_of!(release),
    };
    let actions = Actions {
        rotation,
        schedule,
        rule,
        over,
        remove,
        cover,
        accept,
        decline,
        hold,
        release,
    };
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading the on-call rota…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <OnCall p=p errors=errors actions=actions/> }.into_any(),
                    Err(e) => view! {
                        <Title text="On call"/>
                        <h1>"On call"</h1>
                        <p class="error-summary" role="alert">{e.to_string()}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[derive(Clone, Copy)]
struct Errors {
    rotation: Signal<Option<String>>,
    schedule: Signal<Option<String>>,
    rule: Signal<Option<String>>,
    over: Signal<Option<String>>,
    remove: Signal<Option<String>>,
    cover: Signal<Option<String>>,
    accept: Signal<Option<String>>,
    decline: Signal<Option<String>>,
    hold: Signal<Option<String>>,
    release: Signal<Option<String>>,
}

#[derive(Clone, Copy)]
struct Actions {
    rotation: ServerAction<CreateRotation>,
    schedule: ServerAction<CreateSchedule>,
    rule: ServerAction<AddRule>,
    over: ServerAction<AddOverride>,
    remove: ServerAction<RemoveOverride>,
    cover: ServerAction<RequestCover>,
    accept: ServerAction<AcceptCover>,
    decline: ServerAction<DeclineCover>,
    hold: ServerAction<HoldRole>,
    release: ServerAction<ReleaseRole>,
}

#[component]
fn OnCall(p: OnCallPage, errors: Errors, actions: Actions) -> impl IntoView {
    let title = format!("On call: {}", p.org_name);
    let schedule_options = p
        .schedules
        .iter()
        .map(|s| (s.id, s.name.clone()))
        .collect::<Vec<_>>();
    let rotation_options = p
        .rotations
        .iter()
        .map(|r| (r.id, r.name.clone()))
        .collect::<Vec<_>>();
    let admin = p.may_administer;
    let covers = p.covers.clone();
    view! {
        <Title text=title.clone()/>
        <h1>{title}</h1>
        <p class="lede">"Times are London time; handovers keep their clock time when the clocks change."</p>
        {if p.schedules.is_empty() {
            view! { <p>"No on-call schedules yet."</p> }.into_any()
        } else {
            p.schedules.iter().map(|s| view! { <Schedule s=s.clone() admin=admin errors=errors actions=actions/> }).collect_view().into_any()
        }}
        <h2 id="rotations-heading">"Rotations"</h2>
        <Rotations rotations=p.rotations.clone()/>
        <CoverRequests covers=covers errors=errors actions=actions/>
        {(!schedule_options.is_empty()).then(|| {
            let options = schedule_options.clone();
            view! {
                <h2 id="cover-heading">"Ask a colleague to cover"</h2>
                <ErrorSummary error=errors.cover/>
                <ActionForm action=actions.cover attr:class="form" attr:aria-labelledby="cover-heading">
                    <ScheduleSelect id="cover-schedule" options=options/>
                    <div class="form-group">
                        <label for="cover-colleague">"Colleague's email address"</label>
                        <input id="cover-colleague" name="colleague" type="email" autocomplete="off" required/>
                    </div>
                    <Period prefix="cover"/>
                    <button type="submit" class="button">"Ask for cover"</button>
                </ActionForm>
            }
        })}
        {admin.then(|| view! {
            <RoleForms org_code=p.org_code.clone() roles=p.roles.clone() held=p.held_roles.clone() schedules=schedule_options.clone() errors=errors actions=actions/>
            <AdminForms org_code=p.org_code.clone() schedules=schedule_options rotations=rotation_options errors=errors actions=actions/>
        })}
    }
}

/// The organisation's rotations and who takes turns in each.
#[component]
fn Rotations(rotations: Vec<RotationView>) -> impl IntoView {
    if rotations.is_empty() {
        view! { <p>"No rotations yet."</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="table">
                    <caption>"Rotations and who takes turns"</caption>
                    <thead><tr><th scope="col">"Rotation"</th><th scope="col">"Shift"</th><th scope="col">"Handover"</th><th scope="col">"Starts"</th><th scope="col">"In turn"</th></tr></thead>
                    <tbody>
                        {rotations.iter().map(|r| view! {
                            <tr>
                                <th scope="row">{r.name.clone()}</th>
                                <td>{format!("{} {}", r.shift_count, r.shift_unit.as_str())}</td>
                                <td>{r.handover.clone()}</td>
                                <td>{crate::domain::dates::long(r.start)}</td>
                                <td>{r.participants.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>().join(", ")}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }.into_any()
    }
}

/// Requests to cover a shift, with answers for the colleague asked.
#[component]
fn CoverRequests(covers: Vec<CoverView>, errors: Errors, actions: Actions) -> impl IntoView {
    (!covers.is_empty()).then(move || view! {
        <h2 id="covers-heading">"Requests to cover"</h2>
        <ErrorSummary error=errors.accept/>
        <ErrorSummary error=errors.decline/>
        <ul class="plain-list" aria-labelledby="covers-heading">
            {covers.into_iter().map(|c| {
                let accept_label = format!("Accept cover for {}", c.requester);
                let decline_label = format!("Decline cover for {}", c.requester);
                view! {
                <li>
                    {format!("{} asks {} to cover {} from {} until {} ({}).", c.requester, c.cover, c.schedule, local_label(c.start), local_label(c.end), c.status.as_str())}
                    {c.mine_to_answer.then(|| view! {
                        <ActionForm action=actions.accept attr:class="inline-form">
                            <input type="hidden" name="request_id" value=c.id/>
                            <button type="submit" class="button button--secondary">{accept_label}</button>
                        </ActionForm>
                        <ActionForm action=actions.decline attr:class="inline-form">
                            <input type="hidden" name="request_id" value=c.id/>
                            <button type="submit" class="button button--secondary">{decline_label}</button>
                        </ActionForm>
                    })}
                </li>
                }
            }).collect_view()}
        </ul>
    })
}

#[component]
fn Schedule(s: ScheduleView, admin: bool, errors: Errors, actions: Actions) -> impl IntoView {
    let heading = format!("schedule-{}", s.id);
    let labelled = heading.clone();
    let overrides = s.overrides.clone();
    view! {
        <section aria-labelledby=labelled>
            <h2 id=heading>{s.name.clone()}</h2>
            <dl class="summary-list">
                <div class="summary-list__row"><dt>"On call now"</dt><dd>{names(&s.now)}</dd></div>
                <div class="summary-list__row"><dt>"Next"</dt><dd>{match &s.next {
                    Some(n) => format!("{} from {}", names(&n.people), local_label(n.start)),
                    None => "No change in the next 4 weeks".into(),
                }}</dd></div>
                <div class="summary-list__row"><dt>"Gaps in the next 14 days"</dt><dd>
                    {if s.gap_hours == 0 {
                        view! { "None" }.into_any()
                    } else {
                        view! { <span class="tag tag--gap">{format!("{} hours with nobody on call", s.gap_hours)}</span> }.into_any()
                    }}
                </dd></div>
            </dl>
            <h3>"Rules (the first that matches wins)"</h3>
            <ol>
                {s.rules.iter().map(|r| view! { <li>{format!("{} {}–{}: {}", r.days, r.from, r.until, r.rotation)}</li> }).collect_view()}
            </ol>
            {(!overrides.is_empty()).then(move || view! {
                <h3>"Overrides"</h3>
                <ErrorSummary error=errors.remove/>
                <ul class="plain-list">
                    {overrides.into_iter().map(|o| view! {
                        <li>
                            {format!("{} from {} until {}. ", o.change, local_label(o.start), local_label(o.end))}
                            {admin.then(|| view! {
                                <ActionForm action=actions.remove attr:class="inline-form">
                                    <input type="hidden" name="override_id" value=o.id/>
                                    <button type="submit" class="button button--secondary">{format!("Remove override: {}", o.change)}</button>
                                </ActionForm>
                            })}
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <div class="table-wrap">
                <table class="table">
                    <caption>{format!("{}: who is on call for the next 4 weeks", s.name)}</caption>
                    <thead><tr><th scope="col">"From"</th><th scope="col">"Until"</th><th scope="col">"On call"</th></tr></thead>
                    <tbody>
                        {s.preview.iter().map(|x| view! {
                            <tr class:overdue=x.people.is_empty()>
                                <td>{local_label(x.start)}</td>
                                <td>{local_label(x.end)}</td>
                                <td>{if x.people.is_empty() {
                                    view! { <span class="tag tag--gap">"Nobody"</span> }.into_any()
                                } else {
                                    view! { {x.people.join(", ")} }.into_any()
                                }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn ScheduleSelect(id: &'static str, options: Vec<(i64, String)>) -> impl IntoView {
    view! {
        <div class="form-group">
            <label for=id>"Schedule"</label>
            <select id=id name="schedule_id">
                {options.into_iter().map(|(i, n)| view! { <option value=i>{n}</option> }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn RotationSelect(id: &'static str, options: Vec<(i64, String)>) -> impl IntoView {
    view! {
        <div class="form-group">
            <label for=id>"Rotation"</label>
            <select id=id name="rotation_id">
                {options.into_iter().map(|(i, n)| view! { <option value=i>{n}</option> }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn Period(prefix: &'static str) -> impl IntoView {
    let (start, end) = (format!("{prefix}-start"), format!("{prefix}-end"));
    view! {
        <div class="form-group">
            <label for=start.clone()>"From (London time)"</label>
            <input id=start name="start" type="datetime-local" required/>
        </div>
        <div class="form-group">
            <label for=end.clone()>"Until (London time)"</label>
            <input id=end name="end" type="datetime-local" required/>
        </div>
    }
}

#[component]
fn RuleFields(prefix: &'static str) -> impl IntoView {
    let (days, from, until) = (
        format!("{prefix}-days"),
        format!("{prefix}-from"),
        format!("{prefix}-until"),
    );
    view! {
        <div class="form-group">
            <label for=days.clone()>"Days"</label>
            <p class="hint" id=format!("{days}-hint")>"Weekdays, weekends, every day, or days such as Mon Tue Sat. The day a period starts."</p>
            <input id=days.clone() name="days" type="text" value="every day" aria-describedby=format!("{days}-hint") required/>
        </div>
        <div class="form-group">
            <label for=from.clone()>"From"</label>
            <input id=from name="from" type="time" value="00:00" required/>
        </div>
        <div class="form-group">
            <label for=until.clone()>"Until (not after From: the next day; the same: all day)"</label>
            <input id=until name="until" type="time" value="00:00" required/>
        </div>
    }
}

/// For admins: which roles a schedule holds here, a form to hand a role to a schedule, and
/// one button per held role to hand it back to its named holder. Plain posts.
#[component]
fn RoleForms(
    org_code: String,
    roles: Vec<(String, String)>,
    held: Vec<(String, String, String)>,
    schedules: Vec<(i64, String)>,
    errors: Errors,
    actions: Actions,
) -> impl IntoView {
    let release_org = org_code.clone();
    view! {
        <h2 id="held-heading">"Roles held by a rota"</h2>
        <ErrorSummary error=errors.release/>
        {if held.is_empty() {
            view! { <p>"No role here is held by an on-call schedule: each goes to its named holder."</p> }.into_any()
        } else {
            view! {
                <ul class="plain-list" aria-labelledby="held-heading">
                    {held.into_iter().map(|(key, role, schedule)| {
                        let org = release_org.clone();
                        view! {
                            <li>
                                {format!("{role}: whoever is on call on {schedule}. ")}
                                <ActionForm action=actions.release attr:class="inline-form">
                                    <input type="hidden" name="org_code" value=org/>
                                    <input type="hidden" name="role_key" value=key/>
                                    <button type="submit" class="button button--secondary">{format!("Give {role} back to its named holder")}</button>
                                </ActionForm>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {(!schedules.is_empty()).then(|| view! {
            <h2 id="hold-heading">"Let a rota hold a role"</h2>
            <p>"Routing, escalation, the chart and the break-glass pack then name whoever is on call; the named holder stands behind the rota."</p>
            <ErrorSummary error=errors.hold/>
            <ActionForm action=actions.hold attr:class="form" attr:aria-labelledby="hold-heading">
                <input type="hidden" name="org_code" value=org_code/>
                <div class="form-group">
                    <label for="hold-role">"Role"</label>
                    <select id="hold-role" name="role_key">
                        {roles.into_iter().map(|(k, n)| view! { <option value=k>{n}</option> }).collect_view()}
                    </select>
                </div>
                <ScheduleSelect id="hold-schedule" options=schedules/>
                <button type="submit" class="button">"Let this rota hold the role"</button>
            </ActionForm>
        })}
    }
}

/// Adding a rotation: who takes turns, how long each shift is, and when it hands over.
#[component]
fn RotationForm(org_code: String, errors: Errors, actions: Actions) -> impl IntoView {
    view! {
        <h2 id="rotation-heading">"Add a rotation"</h2>
        <ErrorSummary error=errors.rotation/>
        <ActionForm action=actions.rotation attr:class="form" attr:aria-labelledby="rotation-heading">
            <input type="hidden" name="org_code" value=org_code/>
            <div class="form-group">
                <label for="rotation-name">"Name"</label>
                <input id="rotation-name" name="name" type="text" maxlength="120" required/>
            </div>
            <div class="form-group">
                <label for="rotation-participants">"Participants, in turn"</label>
                <p class="hint" id="rotation-participants-hint">"Email addresses, one a line."</p>
                <textarea id="rotation-participants" name="participants" rows="4" aria-describedby="rotation-participants-hint" required></textarea>
            </div>
            <div class="form-group">
                <label for="rotation-count">"Shift length"</label>
                <input id="rotation-count" name="shift_count" type="number" min="1" max="672" value="1" inputmode="numeric" required/>
            </div>
            <div class="form-group">
                <label for="rotation-unit">"Shift unit"</label>
                <select id="rotation-unit" name="shift_unit">
                    {[ShiftUnit::Weeks, ShiftUnit::Days, ShiftUnit::Hours].into_iter().map(|u| view! { <option value=u.as_str()>{u.as_str()}</option> }).collect_view()}
                </select>
            </div>
            <div class="form-group">
                <label for="rotation-handover">"Handover time (London)"</label>
                <input id="rotation-handover" name="handover" type="time" value="08:00" required/>
            </div>
            <div class="form-group">
                <label for="rotation-start">"First shift starts on"</label>
                <input id="rotation-start" name="start" type="date" required/>
            </div>
            <button type="submit" class="button">"Add the rotation"</button>
        </ActionForm>
    }
}

/// Adding an override to a schedule: someone added, removed or replaced for a period.
#[component]
fn OverrideForm(schedules: Vec<(i64, String)>, errors: Errors, actions: Actions) -> impl IntoView {
    view! {
        <h2 id="override-heading">"Add an override"</h2>
        <ErrorSummary error=errors.over/>
        <ActionForm action=actions.over attr:class="form" attr:aria-labelledby="override-heading">
            <ScheduleSelect id="override-schedule" options=schedules/>
            <fieldset class="fieldset">
                <legend>"Change"</legend>
                <div class="radio"><input type="radio" id="override-add" name="kind" value="add" checked=true/><label for="override-add">"Add a person"</label></div>
                <div class="radio"><input type="radio" id="override-remove" name="kind" value="remove"/><label for="override-remove">"Remove a person"</label></div>
                <div class="radio"><input type="radio" id="override-replace" name="kind" value="replace"/><label for="override-replace">"Replace a person"</label></div>
            </fieldset>
            <div class="form-group">
                <label for="override-person">"Person's email address (added, removed, or taking over)"</label>
                <input id="override-person" name="person" type="email" autocomplete="off" required/>
            </div>
            <div class="form-group">
                <label for="override-replaces">"When replacing: email address of the person replaced"</label>
                <input id="override-replaces" name="replaces" type="email" autocomplete="off"/>
            </div>
            <Period prefix="override"/>
            <button type="submit" class="button">"Add the override"</button>
        </ActionForm>
    }
}

#[component]
fn AdminForms(
    org_code: String,
    schedules: Vec<(i64, String)>,
    rotations: Vec<(i64, String)>,
    errors: Errors,
    actions: Actions,
) -> impl IntoView {
    let schedule_org = org_code.clone();
    view! {
        <RotationForm org_code=org_code errors=errors actions=actions/>
        {(!rotations.is_empty()).then(|| {
            let for_schedule = rotations.clone();
            let org_code = schedule_org.clone();
            view! {
                <h2 id="schedule-heading">"Add a schedule"</h2>
                <ErrorSummary error=errors.schedule/>
                <ActionForm action=actions.schedule attr:class="form" attr:aria-labelledby="schedule-heading">
                    <input type="hidden" name="org_code" value=org_code/>
                    <div class="form-group">
                        <label for="schedule-name">"Name"</label>
                        <input id="schedule-name" name="name" type="text" maxlength="120" required/>
                    </div>
                    <RuleFields prefix="schedule"/>
                    <RotationSelect id="schedule-rotation" options=for_schedule/>
                    <button type="submit" class="button">"Add the schedule"</button>
                </ActionForm>
            }
        })}
        {(!schedules.is_empty()).then(|| {
            let (s1, s2) = (schedules.clone(), schedules.clone());
            view! {
                <h2 id="rule-heading">"Add a rule to a schedule"</h2>
                <ErrorSummary error=errors.rule/>
                <ActionForm action=actions.rule attr:class="form" attr:aria-labelledby="rule-heading">
                    <ScheduleSelect id="rule-schedule" options=s1/>
                    <RuleFields prefix="rule"/>
                    <RotationSelect id="rule-rotation" options=rotations.clone()/>
                    <button type="submit" class="button">"Add the rule"</button>
                </ActionForm>
                <OverrideForm schedules=s2 errors=errors actions=actions/>
            }
        })}
    }
}
