//! The account page: who you are and what you may do, invitations to your account waiting
//! for your answer, two-step verification, your mobile number for text messages, your
//! password, your sessions, and (for admins)
//! invitations and resetting someone's two-step verification, and the rules that page you.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::accountability::{ConfirmRole, my_holdings};
use crate::api::admin::InvitePerson;
use crate::api::auth::{
    AcceptGrantRequest, ChangePassword, MfaBegin, MfaConfirm, RefuseGrantRequest,
    SignOutEverywhere, mfa_pending, my_grant_requests, my_sessions,
};
use crate::api::people::ResetPersonMfa;
use crate::domain::auth::{AccessRole, AuthStatus, GrantRequestView, Me, MyHolding, SessionView};
use crate::error::AppError;
use crate::ui::auth::use_auth;
use crate::ui::components::forms::{ErrorSummary, posted, posted_notice};
use crate::ui::pages::account_reach::{
    Notifications, NotificationsParts, PagingRules, PagingRulesParts, TextMessages,
    TextMessagesParts,
};
use crate::ui::pages::on_call_calendar::{CalendarFeed, CalendarParts};

#[component]
pub fn AccountPage() -> impl IntoView {
    let auth = use_auth();
    // Every section's actions and resources are made once, here, outside the part that waits
    // for who you are: the server may run that part more than once while rendering, and
    // resources made inside it would be fetched again (the first, abandoned fetch losing its
    // request) and numbered differently from the browser's, breaking hydration.
    let parts = AccountParts::new();
    view! {
        <Title text="Your account"/>
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match auth.status.await {
                    Ok(AuthStatus::SignedIn(me)) => view! { <Account me parts/> }.into_any(),
                    _ => view! { <Redirect path="/sign-in?next=/account"/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The actions and resources of the account page's sections.
#[derive(Clone, Copy)]
struct AccountParts {
    requests: GrantRequestsParts,
    roles: MyRolesParts,
    notifications: NotificationsParts,
    texts: TextMessagesParts,
    rules: PagingRulesParts,
    calendar: CalendarParts,
    sessions: SessionsParts,
}

impl AccountParts {
    fn new() -> Self {
        Self {
            requests: GrantRequestsParts::new(),
            roles: MyRolesParts::new(),
            notifications: NotificationsParts::new(),
            texts: TextMessagesParts::new(),
            rules: PagingRulesParts::new(),
            calendar: CalendarParts::new(),
            sessions: SessionsParts::new(),
        }
    }
}

#[component]
fn Account(me: Me, parts: AccountParts) -> impl IntoView {
    let is_admin = me
        .grants
        .iter()
        .any(|g| matches!(g.role, AccessRole::OrgAdmin | AccessRole::NationalAdmin));
    let admin_orgs: Vec<(String, String)> = me
        .grants
        .iter()
        .filter(|g| matches!(g.role, AccessRole::OrgAdmin | AccessRole::NationalAdmin))
        .map(|g| (g.org_code.clone(), g.org_name.clone()))
        .collect();
    view! {
        <h1>"Your account"</h1>
        {me.must_enrol_mfa.then(|| view! {
            <div class="notice notice--warning" role="status">
                <p><strong>"Set up two-step verification to continue."</strong>" Your role needs it before you can use the rest of Wardline."</p>
            </div>
        })}
        <dl class="summary-list">
            <div><dt>"Name"</dt><dd>{me.name.clone()}</dd></div>
            <div><dt>"Email"</dt><dd>{me.email.clone()}</dd></div>
            <div><dt>"Access"</dt><dd>
                <ul class="plain-list" role="list">
                    {me.grants.iter().map(|g| view! {
                        <li>{format!("{} at ", g.role.label())}<a href=format!("/orgs/{}", g.org_code)>{g.org_name.clone()}</a></li>
                    }).collect_view()}
                </ul>
            </dd></div>
            <div><dt>"Two-step verification"</dt><dd>{if me.mfa_enabled { "On" } else { "Off" }}</dd></div>
        </dl>
        <GrantRequests parts=parts.requests/>
        <MyRoles parts=parts.roles/>
        <MfaSetup enabled=me.mfa_enabled/>
        <Notifications parts=parts.notifications/>
        <TextMessages parts=parts.texts/>
        <PagingRules parts=parts.rules/>
        <CalendarFeed parts=parts.calendar/>
        <crate::ui::pages::integrations::ApiTokens read_only=me.grants.iter().all(|g| g.role == AccessRole::Regulator)/>
        <PasswordChange/>
        <Sessions parts=parts.sessions/>
        {is_admin.then(|| view! { <InviteForm orgs=admin_orgs/> <ResetMfaForm/> })}
    }
}

/// Invitations to this account: each is accepted or refused here, signed in, never through
/// a link that could set a password.
#[derive(Clone, Copy)]
struct GrantRequestsParts {
    accept: ServerAction<AcceptGrantRequest>,
    refuse: ServerAction<RefuseGrantRequest>,
    requests: Resource<Result<Vec<GrantRequestView>, AppError>>,
}

impl GrantRequestsParts {
    fn new() -> Self {
        let accept = ServerAction::<AcceptGrantRequest>::new();
        let refuse = ServerAction::<RefuseGrantRequest>::new();
        let requests = Resource::new(
            move || (accept.version().get(), refuse.version().get()),
            |_| my_grant_requests(),
        );
        Self {
            accept,
            refuse,
            requests,
        }
    }
}

#[component]
fn GrantRequests(parts: GrantRequestsParts) -> impl IntoView {
    let GrantRequestsParts {
        accept,
        refuse,
        requests,
    } = parts;
    let error = Signal::derive(move || {
        accept
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| refuse.value().get().and_then(|r| r.err()))
            .map(|e| e.to_string())
    });
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let rows = requests.await.unwrap_or_default();
                (!rows.is_empty()).then(|| view! {
                    <section aria-labelledby="grant-requests-heading">
                        <h2 id="grant-requests-heading">"Invitations to your account"</h2>
                        <ErrorSummary error/>
                        <ul class="plain-list" role="list">
                            {rows.into_iter().map(|r| {
                                let what = format!("{} at {}", r.role.label(), r.org_name);
                                let accept_label = format!("Accept {what}");
                                let refuse_label = format!("Refuse {what}");
                                view! {
                                    <li>
                                        <p>
                                            <strong>{what}</strong>
                                            {r.invited_by.map(|n| format!(", offered by {n}"))}
                                            <span class="hint">{format!(" (until {})", r.expires)}</span>
                                        </p>
                                        <ActionForm action=accept attr:class="inline-form">
                                            <input type="hidden" name="id" value=r.id.to_string()/>
                                            <button type="submit" class="button">{accept_label}</button>
                                        </ActionForm>
                                        <ActionForm action=refuse attr:class="inline-form">
                                            <input type="hidden" name="id" value=r.id.to_string()/>
                                            <button type="submit" class="button button--secondary">{refuse_label}</button>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Suspense>
    }
}

/// For admins: turns off someone's two-step verification (a lost phone) and signs them out
/// everywhere, for people whose organisation lies within the admin's reach.
#[component]
fn ResetMfaForm() -> impl IntoView {
    let reset = ServerAction::<ResetPersonMfa>::new();
    let error = Signal::derive(move || {
        reset
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <section aria-labelledby="reset-mfa-heading">
            <h2 id="reset-mfa-heading">"Reset someone's two-step verification"</h2>
            <p>"If someone has lost their phone and their recovery codes, this turns two-step verification off for them and signs them out everywhere."</p>
            <ErrorSummary error/>
            {posted_notice::<ResetPersonMfa>(|_| "Two-step verification is off for that person and they have been signed out. They set it up again when they next sign in.".to_owned())}
            <ActionForm action=reset attr:class="form">
                <div class="form-group">
                    <label for="reset-mfa-email">"Their email address"</label>
                    <input id="reset-mfa-email" name="email" type="email" autocomplete="off" spellcheck="false" required/>
                </div>
                <button type="submit" class="button button--warning">"Reset two-step verification"</button>
            </ActionForm>
        </section>
    }
}

/// Setting up two-step verification, in plain form posts: the key and its QR code come
/// from the enrolment kept unconfirmed on the server (so a wrong code shows them again), the
/// recovery codes from the answer to confirming, shown this once.
#[component]
fn MfaSetup(enabled: bool) -> impl IntoView {
    let begin = ServerAction::<MfaBegin>::new();
    let confirm = ServerAction::<MfaConfirm>::new();
    let codes = posted::<MfaConfirm>();
    let pending = Resource::new(|| (), |_| mfa_pending());
    let begin_error = Signal::derive(move || {
        begin
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    let confirm_error = Signal::derive(move || {
        confirm
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let codes = codes.await;
                let pending = if enabled { None } else { pending.await.ok().flatten() };
                if enabled && codes.is_none() {
                    return ().into_any();
                }
                view! {
                    <section aria-labelledby="mfa-heading">
                        <h2 id="mfa-heading">"Set up two-step verification"</h2>
                        <ErrorSummary error=begin_error/>
                        {match (codes, pending) {
                            (Some(codes), _) => view! {
                                <div class="notice" role="status">
                                    <p><strong>"Two-step verification is on."</strong>" Keep these recovery codes somewhere safe. Each works once if you lose your phone. They will not be shown again."</p>
                                    <ul class="recovery-codes" aria-label="Recovery codes">
                                        {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                                    </ul>
                                    <a class="button" href="/account">"I have saved my recovery codes"</a>
                                </div>
                            }.into_any(),
                            (None, Some(enrol)) => view! {
                                <p>"Scan this code with an authenticator app, or type the key in by hand."</p>
                                <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=enrol.qr_svg></div>
                                <p>"Key: "<code class="secret">{enrol.secret}</code></p>
                                <ErrorSummary error=confirm_error/>
                                <ActionForm action=confirm attr:class="form">
                                    <div class="form-group">
                                        <label for="mfa-code">"6-digit code from the app"</label>
                                        <input id="mfa-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required/>
                                    </div>
                                    <button type="submit" class="button">"Turn on two-step verification"</button>
                                </ActionForm>
                            }.into_any(),
                            (None, None) => view! {
                                <p>"Use an authenticator app on your phone to confirm it is you when you sign in."</p>
                                <ActionForm action=begin>
                                    <button type="submit" class="button">"Start setting up"</button>
                                </ActionForm>
                            }.into_any(),
                        }}
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn PasswordChange() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = Signal::derive(move || {
        change
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <section aria-labelledby="password-heading">
            <h2 id="password-heading">"Change your password"</h2>
            <ErrorSummary error/>
            {posted_notice::<ChangePassword>(|_| "Your password has been changed. Your other sessions have been signed out.".to_owned())}
            <ActionForm action=change attr:class="form">
                <div class="form-group">
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" name="current" type="password" autocomplete="current-password" required/>
                </div>
                <div class="form-group">
                    <label for="new-password">"New password"</label>
                    <p class="hint" id="new-password-hint">"At least 8 characters. A few unrelated words make a strong password."</p>
                    <input id="new-password" name="new" type="password" autocomplete="new-password" aria-describedby="new-password-hint" required/>
                </div>
                <button type="submit" class="button">"Change password"</button>
            </ActionForm>
        </section>
    }
}

#[derive(Clone, Copy)]
struct SessionsParts {
    everywhere: ServerAction<SignOutEverywhere>,
    list: Resource<Result<Vec<SessionView>, AppError>>,
}

impl SessionsParts {
    fn new() -> Self {
        let everywhere = ServerAction::<SignOutEverywhere>::new();
        let list = Resource::new(move || everywhere.version().get(), |_| my_sessions());
        Self { everywhere, list }
    }
}

#[component]
fn Sessions(parts: SessionsParts) -> impl IntoView {
    let SessionsParts { everywhere, list } = parts;
    view! {
        <section aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Where you are signed in"</h2>
            <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let rows = list.await.unwrap_or_default();
                    view! {
                        <div class="table-wrap">
                            <table class="table">
                                <caption class="visually-hidden">"Your sessions"</caption>
                                <thead><tr><th scope="col">"Session"</th><th scope="col">"Started"</th><th scope="col">"Ends if unused by"</th></tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|s| view! {
                                        <tr>
                                            <td>{s.id_hint}{s.current.then_some(" (this one)")}</td>
                                            <td>{s.started}</td>
                                            <td>{s.expires}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                })}
            </Suspense>
            <ActionForm action=everywhere>
                <button type="submit" class="button button--secondary">"Sign out everywhere else"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn InviteForm(orgs: Vec<(String, String)>) -> impl IntoView {
    let invite = ServerAction::<InvitePerson>::new();
    let link = posted::<InvitePerson>();
    let error = Signal::derive(move || {
        invite
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <section aria-labelledby="invite-heading">
            <h2 id="invite-heading">"Invite someone"</h2>
            <ErrorSummary error/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    link.await.map(|link| view! {
                        <div class="notice" role="status">
                            <p>"Send this link to the person. It works once and expires in 7 days:"</p>
                            <p><code class="secret">{link}</code></p>
                        </div>
                    })
                })}
            </Suspense>
            <ActionForm action=invite attr:class="form">
                <div class="form-group">
                    <label for="invite-name">"Full name"</label>
                    <input id="invite-name" name="name" type="text" autocomplete="off" required/>
                </div>
                <div class="form-group">
                    <label for="invite-email">"Email address"</label>
                    <input id="invite-email" name="email" type="email" autocomplete="off" spellcheck="false" required/>
                </div>
                <div class="form-group">
                    <label for="invite-org">"Organisation code"</label>
                    <input id="invite-org" name="org_code" type="text" list="invite-orgs" autocomplete="off" required/>
                    <datalist id="invite-orgs">
                        {orgs.into_iter().map(|(code, name)| view! { <option value=code>{name}</option> }).collect_view()}
                    </datalist>
                </div>
                <div class="form-group">
                    <label for="invite-role">"Access"</label>
                    <select id="invite-role" name="role">
                        {AccessRole::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="button">"Create invitation"</button>
            </ActionForm>
        </section>
    }
}

/// The roles the person holds, each confirmed with one button.
#[derive(Clone, Copy)]
struct MyRolesParts {
    confirm: ServerAction<ConfirmRole>,
    holdings: Resource<Result<Vec<MyHolding>, AppError>>,
}

impl MyRolesParts {
    fn new() -> Self {
        let confirm = ServerAction::<ConfirmRole>::new();
        let holdings = Resource::new(move || confirm.version().get(), |_| my_holdings());
        Self { confirm, holdings }
    }
}

#[component]
fn MyRoles(parts: MyRolesParts) -> impl IntoView {
    let MyRolesParts { confirm, holdings } = parts;
    view! {
        <section aria-labelledby="roles-heading" id="roles">
            <h2 id="roles-heading">"Your roles"</h2>
            <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let rows = holdings.await.unwrap_or_default();
                    if rows.is_empty() {
                        return view! { <p>"You hold no named roles."</p> }.into_any();
                    }
                    view! {
                        <p>"Confirm that you hold each role and that its contact details are right."</p>
                        <ul class="plain-list holdings" role="list">
                            {rows.into_iter().map(|h| view! {
                                <li>
                                    <strong>{h.role_name.clone()}</strong>" at "<a href=format!("/orgs/{}/chart", h.org_code)>{h.org_name.clone()}</a>". "
                                    {match (&h.confirmed, h.stale) {
                                        (_, true) => view! { <span class="tag tag--gap">"Confirmation due"</span> }.into_any(),
                                        (Some(c), false) => view! { <span class="hint">{format!("Confirmed {c}")}</span> }.into_any(),
                                        (None, false) => view! { <span class="hint">"Not confirmed yet"</span> }.into_any(),
                                    }}
                                    <ActionForm action=confirm attr:class="inline-form">
                                        <input type="hidden" name="id" value=h.id.to_string()/>
                                        <button type="submit" class="button button--secondary">{format!("Confirm {}", h.role_name)}</button>
                                    </ActionForm>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}
