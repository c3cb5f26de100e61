//! How the account page's owner is reached: whether escalations also come by email, their
//! mobile number for text messages, and the rules that page them. Each step a plain form.

use leptos::prelude::*;

use crate::api::contacts::{
    AddMobile, AddRule, RemoveMobile, RemoveRule, ResendCode, SendTestText, VerifyMobile,
    my_mobile, my_rules,
};
use crate::api::escalation::{SetPrefs, get_prefs};
use crate::domain::contacts::MobileView;
use crate::domain::paging::RulesView;
use crate::error::AppError;
use crate::ui::components::forms::{ErrorSummary, posted_notice};

/// Whether escalations also come by email (the inbox always has them).
#[derive(Clone, Copy)]
pub(super) struct NotificationsParts {
    set: ServerAction<SetPrefs>,
    prefs: Resource<Result<bool, AppError>>,
}

impl NotificationsParts {
    pub(super) fn new() -> Self {
        let set = ServerAction::<SetPrefs>::new();
        let prefs = Resource::new(move || set.version().get(), |_| get_prefs());
        Self { set, prefs }
    }
}

#[component]
pub(super) fn Notifications(parts: NotificationsParts) -> impl IntoView {
    let NotificationsParts { set, prefs } = parts;
    view! {
        <section aria-labelledby="notify-heading">
            <h2 id="notify-heading">"Notifications"</h2>
            <p>"Tasks and escalations always reach your Wardline inbox."</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let email = prefs.await.unwrap_or(true);
                    view! {
                        <ActionForm action=set attr:class="form">
                            <div class="checkbox">
                                <input type="checkbox" id="pref-email" name="email" value="on" checked=email/>
                                <label for="pref-email">"Also email me when a task is escalated to me"</label>
                            </div>
                            <button type="submit" class="button button--secondary">"Save notification choice"</button>
                        </ActionForm>
                        {posted_notice::<SetPrefs>(|_| "Saved.".to_owned())}
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The person's mobile number for text messages: added, verified with the code texted to
/// it, tested, removed. Each step is a plain form.
#[derive(Clone, Copy)]
pub(super) struct TextMessagesParts {
    add: ServerAction<AddMobile>,
    verify: ServerAction<VerifyMobile>,
    resend: ServerAction<ResendCode>,
    remove: ServerAction<RemoveMobile>,
    test: ServerAction<SendTestText>,
    mobile: Resource<Result<Option<MobileView>, AppError>>,
}

impl TextMessagesParts {
    /// The last refusal of any of the forms.
    fn error(&self) -> Signal<Option<String>> {
        let Self {
            add,
            verify,
            resend,
            remove,
            test,
            ..
        } = *self;
        Signal::derive(move || {
            [
                add.value().get(),
                verify.value().get(),
                resend.value().get(),
                remove.value().get(),
                test.value().get(),
            ]
            .into_iter()
            .flatten()
            .find_map(|r| r.err())
            .map(|e| e.to_string())
        })
    }

    pub(super) fn new() -> Self {
        let add = ServerAction::<AddMobile>::new();
        let verify = ServerAction::<VerifyMobile>::new();
        let resend = ServerAction::<ResendCode>::new();
        let remove = ServerAction::<RemoveMobile>::new();
        let test = ServerAction::<SendTestText>::new();
        let mobile = Resource::new(
            move || {
                (
                    add.version().get(),
                    verify.version().get(),
                    resend.version().get(),
                    remove.version().get(),
                )
            },
            |_| my_mobile(),
        );
        Self {
            add,
            verify,
            resend,
            remove,
            test,
            mobile,
        }
    }
}

#[component]
pub(super) fn TextMessages(parts: TextMessagesParts) -> impl IntoView {
    let error = parts.error();
    let TextMessagesParts {
        add,
        verify,
        resend,
        remove,
        test,
        mobile,
    } = parts;
    view! {
        <section aria-labelledby="texts-heading" id="texts">
            <h2 id="texts-heading">"Text messages"</h2>
            <p>"Add your mobile number so escalations reach you by text, day or night. We send a code to check it is yours first."</p>
            <ErrorSummary error/>
            {posted_notice::<SendTestText>(|_| "Test message sent. It should arrive within a minute.".to_owned())}
            {posted_notice::<VerifyMobile>(|_| "Your mobile number is verified. Escalations will also reach you by text.".to_owned())}
            {posted_notice::<ResendCode>(|_| "A new code is on its way.".to_owned())}
            <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match mobile.await.ok().flatten() {
                        None => view! {
                            <ActionForm action=add attr:class="form">
                                <div class="form-group">
                                    <label for="mobile-number">"UK mobile number"</label>
                                    <p class="hint" id="mobile-number-hint">"For example, 07700 900123 or +44 7700 900123."</p>
                                    <input id="mobile-number" name="mobile" type="tel" autocomplete="tel" aria-describedby="mobile-number-hint" required/>
                                </div>
                                <button type="submit" class="button">"Send a code to this number"</button>
                            </ActionForm>
                        }.into_any(),
                        Some(m) if !m.verified => view! {
                            <p>{format!("We sent a 6-digit code to {}. It works for 10 minutes.", m.number)}</p>
                            <ActionForm action=verify attr:class="form">
                                <div class="form-group">
                                    <label for="mobile-code">"6-digit code from the text message"</label>
                                    <input id="mobile-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required/>
                                </div>
                                <button type="submit" class="button">"Verify my mobile number"</button>
                            </ActionForm>
                            <ActionForm action=resend attr:class="inline-form">
                                <button type="submit" class="button button--secondary">"Send a new code"</button>
                            </ActionForm>
                            <ActionForm action=remove attr:class="inline-form">
                                <button type="submit" class="button button--secondary">"Remove this number"</button>
                            </ActionForm>
                        }.into_any(),
                        Some(m) => view! {
                            <dl class="summary-list">
                                <div><dt>"Mobile"</dt><dd>{m.number.clone()}</dd></div>
                                <div><dt>"Verified"</dt><dd>{m.verified_at.clone().unwrap_or_default()}</dd></div>
                            </dl>
                            <ActionForm action=test attr:class="inline-form">
                                <button type="submit" class="button">"Send a test message"</button>
                            </ActionForm>
                            <ActionForm action=remove attr:class="inline-form">
                                <button type="submit" class="button button--secondary">"Remove this number"</button>
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The person's notification rules: how they are paged when a task reaches them ("text and
/// email at once; text again after 5 minutes"). Each rule is added or removed by a plain
/// form.
#[derive(Clone, Copy)]
pub(super) struct PagingRulesParts {
    add: ServerAction<AddRule>,
    remove: ServerAction<RemoveRule>,
    rules: Resource<Result<RulesView, AppError>>,
}

impl PagingRulesParts {
    pub(super) fn new() -> Self {
        let add = ServerAction::<AddRule>::new();
        let remove = ServerAction::<RemoveRule>::new();
        let rules = Resource::new(
            move || (add.version().get(), remove.version().get()),
            |_| my_rules(),
        );
        Self { add, remove, rules }
    }
}

#[component]
pub(super) fn PagingRules(parts: PagingRulesParts) -> impl IntoView {
    use crate::domain::paging::MAX_DELAY_MINUTES;
    let PagingRulesParts { add, remove, rules } = parts;
    let error = Signal::derive(move || {
        [add.value().get(), remove.value().get()]
            .into_iter()
            .flatten()
            .find_map(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <section aria-labelledby="rules-heading" id="rules">
            <h2 id="rules-heading">"How you are paged"</h2>
            <p>"When a task is given or escalated to you, Wardline pages you by these rules, as well as your inbox. Delayed rules are not sent once you have acknowledged the task."</p>
            <ErrorSummary error/>
            {posted_notice::<AddRule>(|_| "Rule added.".to_owned())}
            {posted_notice::<RemoveRule>(|_| "Rule removed.".to_owned())}
            <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let Ok(v) = rules.await else {
                        return view! { <p>"Your rules could not be loaded."</p> }.into_any();
                    };
                    let in_force = if v.in_force.is_empty() {
                        "Nothing but your inbox: add a rule, or verify your mobile number.".to_string()
                    } else {
                        v.in_force.join("; ")
                    };
                    view! {
                        <p><strong>"Paged now: "</strong>{in_force}</p>
                        {if v.own.is_empty() {
                            view! { <p>"You have set no rules, so you are emailed at once, and texted at once when your mobile number is verified."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="plain-list" role="list" aria-label="Your rules">
                                    {v.own.clone().into_iter().map(|(id, rule)| {
                                        let text = rule.describe();
                                        let label = format!("Remove rule: {text}");
                                        view! {
                                            <li>
                                                {text}" "
                                                <ActionForm action=remove attr:class="inline-form">
                                                    <input type="hidden" name="id" value=id.to_string()/>
                                                    <button type="submit" class="button button--secondary" aria-label=label>"Remove"</button>
                                                </ActionForm>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        <ActionForm action=add attr:class="form">
                            <div class="form-group">
                                <label for="rule-channel">"How"</label>
                                <select id="rule-channel" name="channel">
                                    <option value="email">"Email"</option>
                                    <option value="sms">{if v.has_mobile { "Text message" } else { "Text message (verify your mobile number first)" }}</option>
                                    <option value="teams">{if v.has_teams { "Microsoft Teams (your organisation's channel)" } else { "Microsoft Teams (no channel connected for your organisation)" }}</option>
                                </select>
                            </div>
                            <div class="form-group">
                                <label for="rule-delay">"After how many minutes"</label>
                                <p class="hint" id="rule-delay-hint">{format!("0 for at once, up to {MAX_DELAY_MINUTES}.")}</p>
                                <input id="rule-delay" name="delay_minutes" type="number" inputmode="numeric" min="0" max=MAX_DELAY_MINUTES.to_string() value="0" aria-describedby="rule-delay-hint" required/>
                            </div>
                            <button type="submit" class="button">"Add rule"</button>
                        </ActionForm>
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}
