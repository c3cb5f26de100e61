//! Escalation pages: the path an organisation's unacknowledged tasks take (and its editor),
//! the in-app inbox, and the confirmation page a signed email link opens.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::accountability::list_roles;
use crate::api::escalation::{
    ConfirmLink, MarkRead, SavePolicy, SetWebhook, TakeTask, get_policy, inbox, link_info,
};
use crate::domain::channel_post::ChannelFormat;
use crate::domain::escalation::{PolicyView, Target};
use crate::domain::roles::RoleView;
use crate::ui::components::forms::{ErrorSummary, posted_notice};

#[component]
pub fn EscalationPage() -> impl IntoView {
    let query = use_query_map();
    let save = ServerAction::<SavePolicy>::new();
    let org = move || query.read().get("org").unwrap_or_default();
    let policy = Resource::new(
        move || (org(), save.version().get()),
        |(o, _)| async move {
            if o.trim().is_empty() {
                Ok(None)
            } else {
                get_policy(o).await.map(Some)
            }
        },
    );
    let roles = Resource::new(|| (), |_| list_roles());
    let error = Signal::derive(move || {
        save.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <Title text="Escalation paths"/>
        <h1>"Escalation paths"</h1>
        <p class="lede">"Who is told when a task is not acknowledged in time, level by level, until someone answers."</p>
        <p>"A level can also name someone outside Wardline, such as NHS England's CSOC: see "<a href="/contacts">"external contacts"</a>"."</p>
        <form method="get" action="/escalation" class="form inline-fields">
            <div class="form-group">
                <label for="esc-org">"Organisation (ODS code)"</label>
                <input id="esc-org" name="org" type="text" autocomplete="off" value=org()/>
            </div>
            <button type="submit" class="button button--secondary">"Show"</button>
        </form>
        <ErrorSummary error/>
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let roles = roles.await.unwrap_or_default();
                match policy.await {
                    Ok(None) => view! { <p>"Enter an organisation's ODS code to see its escalation path."</p> }.into_any(),
                    Ok(Some(p)) => view! { <Policy p roles save/> }.into_any(),
                    Err(e) => view! { <p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Policy(p: PolicyView, roles: Vec<RoleView>, save: ServerAction<SavePolicy>) -> impl IntoView {
    view! {
        <h2>{p.org_name.clone()}</h2>
        <p class="notice" role="note"><strong>"Path: "</strong>{p.path.clone()}</p>
        <p>{format!("{}. The whole path is repeated {} time(s) before the task is flagged nationally.", p.source, p.repeat_count)}</p>
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">"Escalation levels"</caption>
                <thead><tr><th scope="col">"Level"</th><th scope="col">"Who"</th><th scope="col">"Reaches now"</th><th scope="col">"Time to acknowledge"</th></tr></thead>
                <tbody>
                    {p.levels.iter().enumerate().map(|(i, l)| view! {
                        <tr>
                            <th scope="row">{i + 1}</th>
                            <td>{l.targets.iter().map(|t| t.0.clone()).collect::<Vec<_>>().join("; ")}</td>
                            <td>{l.targets.iter().map(|t| t.1.clone()).collect::<Vec<_>>().join("; ")}</td>
                            <td>{format!("{} min", l.timeout_minutes)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {p.editable.then(|| view! { <PolicyEditor p=p.clone() roles save/><WebhookForm p=p.clone()/> })}
    }
}

/// An organisation's Teams or Slack channel, told of every escalation.
#[component]
fn WebhookForm(p: PolicyView) -> impl IntoView {
    let set = ServerAction::<SetWebhook>::new();
    let error = Signal::derive(move || {
        set.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    let (url, secret, on, format) = p
        .webhook
        .clone()
        .map(|w| (w.url, w.secret, w.enabled, w.format))
        .unwrap_or_default();
    view! {
        <h2 id="webhook-heading">"Channel webhook"</h2>
        <p>"Every escalation is also posted to this address: for Teams, the address of a Workflows flow \u{201c}Post to a channel when a webhook request is received\u{201d} (it shows an Adaptive Card with a button for each person paged); for Slack, an incoming webhook. Each post carries X-Wardline-Timestamp and X-Wardline-Signature (HMAC-SHA256 of timestamp, a dot and the body, with the secret below)."</p>
        {(!secret.is_empty()).then(|| view! { <p>"Signing secret: "<code class="secret">{secret.clone()}</code></p> })}
        <ErrorSummary error/>
        <ActionForm action=set attr:class="form" attr:aria-labelledby="webhook-heading">
            <input type="hidden" name="org_code" value=p.org_code.clone()/>
            <div class="form-group">
                <label for="webhook-url">"Webhook address"</label>
                <input id="webhook-url" name="url" type="url" value=url required/>
            </div>
            <div class="form-group">
                <label for="webhook-format">"Written for"</label>
                <select id="webhook-format" name="format">
                    {ChannelFormat::ALL.into_iter().map(|f| view! { <option value=f.as_str() selected=f == format>{f.label()}</option> }).collect_view()}
                </select>
            </div>
            <div class="checkbox">
                <input type="checkbox" id="webhook-on" name="enabled" value="on" checked=on || p.webhook.is_none()/>
                <label for="webhook-on">"Post escalations to it"</label>
            </div>
            <button type="submit" class="button button--secondary">"Save the webhook"</button>
        </ActionForm>
        {posted_notice::<SetWebhook>(|_| "Webhook saved.".to_owned())}
    }
}

#[component]
fn PolicyEditor(
    p: PolicyView,
    roles: Vec<RoleView>,
    save: ServerAction<SavePolicy>,
) -> impl IntoView {
    let mut rows: Vec<Option<(i32, String, String, String)>> = p
        .levels
        .iter()
        .map(|l| {
            let (role, scope) = match l.specs.first() {
                Some(Target::Role { key, above, org }) => (
                    key.clone(),
                    match org {
                        Some(code) => code.clone(),
                        None if *above => "above".into(),
                        None => "here".into(),
                    },
                ),
                _ => (String::new(), "here".into()),
            };
            Some((
                l.timeout_minutes,
                role,
                scope,
                l.person_email.clone().unwrap_or_default(),
            ))
        })
        .collect();
    rows.extend([None, None]);
    view! {
        <h2 id="policy-edit">{format!("Set {}'s own path", p.org_name)}</h2>
        <ActionForm action=save attr:class="form" attr:aria-labelledby="policy-edit">
            <input type="hidden" name="org_code" value=p.org_code.clone()/>
            <div class="form-group">
                <label for="repeat">"Times to repeat the whole path before flagging nationally (0 to 5)"</label>
                <input id="repeat" name="repeat_count" type="number" min="0" max="5" inputmode="numeric" value=p.repeat_count.to_string()/>
            </div>
            {rows.into_iter().enumerate().map(|(i, r)| {
                let n = i + 1;
                let f = |k: &str| format!("levels[{i}][{k}]");
                let id = |k: &str| format!("level-{n}-{k}");
                let (minutes, role, scope, email) = r
                    .clone()
                    .unwrap_or((15, String::new(), "above".into(), String::new()));
                view! {
                    <fieldset class="fieldset step-fieldset">
                        <legend>{if r.is_some() { format!("Level {n}") } else { format!("New level ({n})") }}</legend>
                        <div class="form-group">
                            <label for=id("role")>"Role to tell"</label>
                            <select id=id("role") name=f("role")>
                                <option value="" selected=role.is_empty()>"(none)"</option>
                                {roles.iter().map(|x| view! { <option value=x.key.clone() selected=x.key == role>{x.name.clone()}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="form-group">
                            <label for=id("scope")>"Where: here, above, or an ODS code"</label>
                            <input id=id("scope") name=f("scope") type="text" value=scope/>
                        </div>
                        <div class="form-group">
                            <label for=id("person")>"And/or a named person (email)"</label>
                            <input id=id("person") name=f("person_email") type="email" autocomplete="off" value=email/>
                        </div>
                        <div class="form-group">
                            <label for=id("minutes")>"Minutes to acknowledge"</label>
                            <input id=id("minutes") name=f("timeout_minutes") type="number" min="1" max="1440" inputmode="numeric" value=minutes.to_string()/>
                        </div>
                        {r.is_some().then(|| view! {
                            <div class="checkbox">
                                <input type="checkbox" id=id("remove") name=f("remove") value="on"/>
                                <label for=id("remove")>{format!("Remove level {n}")}</label>
                            </div>
                        })}
                    </fieldset>
                }
            }).collect_view()}
            <button type="submit" class="button">"Save the path"</button>
        </ActionForm>
    }
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let read = ServerAction::<MarkRead>::new();
    let take = ServerAction::<TakeTask>::new();
    let page = crate::ui::components::pager::asked_page();
    let items = Resource::new(
        move || (read.version().get(), take.version().get(), page.get()),
        |(_, _, page)| inbox(Some(page)),
    );
    let error = Signal::derive(move || {
        take.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <Title text="Inbox"/>
        <h1>"Inbox"</h1>
        <crate::ui::components::live::LiveUpdates events="/live/tasks".to_owned()/>
        <ErrorSummary error/>
        <ActionForm action=read attr:class="inline-form">
            <button type="submit" class="button button--secondary">"Mark all as read"</button>
        </ActionForm>
        <div id="live-inbox" data-live="">
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match items.await {
                    Ok(v) if v.items.is_empty() => view! { <p>"Nothing here yet."</p> }.into_any(),
                    Ok(v) => view! {
                        <p class="hint">"Unread first, then the newest."</p>
                        <ul class="plain-list inbox" role="list">
                            {v.items.into_iter().map(|n| {
                                let escalated = n.title.starts_with("Escalated to you");
                                view! {
                                    <li class:unread=!n.read>
                                        <h2 class="inbox-title">{n.title.clone()}{(!n.read).then_some(" (new)")}</h2>
                                        <p class="hint">{n.at.clone()}{(!n.incident_reference.is_empty()).then(|| view! { " · "<a href=format!("/incidents/{}", n.incident_reference)>{n.incident_reference.clone()}</a> })}</p>
                                        <p class="inbox-body">{n.body.clone()}</p>
                                        {escalated.then(|| view! {
                                            <ActionForm action=take attr:class="inline-form">
                                                <input type="hidden" name="id" value=n.id.to_string()/>
                                                <button type="submit" class="button">{format!("Acknowledge and take it: {}", n.title.trim_start_matches("Escalated to you: "))}</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <crate::ui::components::pager::Pager page=v.page pages=v.pages total=v.total path="/inbox" what="notices"/>
                    }.into_any(),
                    Err(e) => view! { <p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
        </div>
    }
}

/// Where a signed email link lands: says what it is about and asks to confirm. Following the
/// link changes nothing; only the confirming POST does.
#[component]
pub fn AckPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let confirm = ServerAction::<ConfirmLink>::new();
    let info = Resource::new(token, link_info);
    let error = Signal::derive(move || {
        confirm
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <Title text="Acknowledge a task"/>
        <h1>"Acknowledge a task"</h1>
        <ErrorSummary error/>
        <Suspense fallback=|| view! { <p role="status">"Checking the link…"</p> }>
            {move || Suspend::new(async move {
                match info.await {
                    Ok(a) if a.already => view! {
                        <p>{format!("“{}” has already been acknowledged, or this link was used.", a.title)}</p>
                        <p><a href=format!("/incidents/{}", a.incident_reference)>"Open the incident"</a></p>
                    }.into_any(),
                    Ok(a) => view! {
                        <p>{format!("You were asked to acknowledge “{}” in incident {}. Acknowledging makes it yours and stops the escalation.", a.title, a.incident_reference)}</p>
                        <ActionForm action=confirm>
                            <input type="hidden" name="token" value=token()/>
                            <button type="submit" class="button">{format!("Acknowledge “{}”", a.title)}</button>
                        </ActionForm>
                    }.into_any(),
                    Err(e) => view! { <p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
