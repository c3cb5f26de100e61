//! API tokens and integrations: the account page's own tokens, and an organisation's
//! service accounts and alert sources (its admins'). Every secret is shown once, on the
//! page its form returns to, and never again.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::tokens::{
    CreateAlertSource, CreateApiToken, CreateServiceAccount, CreateServiceToken,
    DisableServiceAccount, RevokeAlertSource, RevokeApiToken, SetPasswordSignIn, get_integrations,
    my_api_tokens,
};
use crate::domain::api::{DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, TokenView};
use crate::domain::incidents::IncidentKind;
use crate::ui::components::forms::{posted, posted_notice};

/// A secret just made, shown this once.
fn shown_once(label: &'static str, id: &'static str, secret: String) -> impl IntoView {
    view! {
        <div class="notice" role="status">
            <p><strong>{format!("Your new {label} (shown only now):")}</strong></p>
            <p><label for=id>{label}</label>
            <input id=id type="text" readonly=true value=secret class="secret"/></p>
            <p>"Copy it now into the system that uses it. Wardline keeps only a fingerprint of it and cannot show it again."</p>
        </div>
    }
}

/// The fields that say what a token may do: its name, organisations, reading or writing,
/// and how long it lasts.
fn token_fields(prefix: String, can_write: bool) -> impl IntoView {
    let id = move |f: &str| format!("{prefix}-{f}");
    view! {
        <div class="form-group">
            <label for=id("name")>"Name (what uses it)"</label>
            <input id=id("name") name="name" type="text" maxlength="100" required/>
        </div>
        <div class="form-group">
            <label for=id("orgs")>"Organisations (ODS codes, optional)"</label>
            <p class="hint" id=id("orgs-hint")>"Leave empty for every organisation you reach, or list codes separated by commas."</p>
            <input id=id("orgs") name="orgs" type="text" aria-describedby=id("orgs-hint")/>
        </div>
        <fieldset class="fieldset">
            <legend>"Access"</legend>
            <div class="radio">
                <input type="radio" id=id("read") name="access" value="read" checked=true/>
                <label for=id("read")>"Read only"</label>
            </div>
            {can_write.then(|| view! {
                <div class="radio">
                    <input type="radio" id=id("write") name="access" value="write"/>
                    <label for=id("write")>"Read and write (declare incidents, acknowledge and complete tasks)"</label>
                </div>
            })}
        </fieldset>
        <div class="form-group">
            <label for=id("days")>{format!("Lasts for (days, up to {MAX_TOKEN_DAYS})")}</label>
            <input id=id("days") name="days" type="number" min="1" max=MAX_TOKEN_DAYS.to_string() value=DEFAULT_TOKEN_DAYS.to_string() inputmode="numeric"/>
        </div>
    }
}

/// A table of tokens, each with a revoke button while it is live.
fn token_table(tokens: Vec<TokenView>, caption: String) -> impl IntoView {
    let revoke = ServerAction::<RevokeApiToken>::new();
    view! {
        <div class="table-wrap">
            <table>
                <caption>{caption}</caption>
                <thead><tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Starts"</th>
                    <th scope="col">"Reaches"</th>
                    <th scope="col">"Access"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col"><span class="visually-hidden">"Revoke"</span></th>
                </tr></thead>
                <tbody>
                    {tokens.into_iter().map(|t| view! {
                        <tr>
                            <td>{t.name.clone()}</td>
                            <td><code>{format!("{}…", t.prefix)}</code></td>
                            <td>{t.scope.clone()}</td>
                            <td>{if t.can_write { "Read and write" } else { "Read only" }}</td>
                            <td>{t.expires_at.clone()}</td>
                            <td>{t.last_used_at.clone().unwrap_or_else(|| "Never".into())}</td>
                            <td>{if t.ended {
                                view! { "Ended" }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=revoke attr:class="inline-form">
                                        <input type="hidden" name="id" value=t.id.to_string()/>
                                        <button type="submit" class="button button--secondary" aria-label=format!("Revoke {}", t.name)>"Revoke"</button>
                                    </ActionForm>
                                }.into_any()
                            }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The account page's section: the caller's own API tokens.
#[component]
pub fn ApiTokens(read_only: bool) -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let made = posted::<CreateApiToken>();
    let tokens = Resource::new(|| (), |_| my_api_tokens());
    view! {
        <section aria-labelledby="tokens-heading" id="api-tokens">
            <h2 id="tokens-heading">"API tokens"</h2>
            <p>"A token lets a script or another system use the "<a href="/api/v1/docs">"Wardline API"</a>" as you, within the organisations you choose. Revoke it as soon as it is no longer needed."</p>
            {posted_notice::<RevokeApiToken>(|_| "The token is revoked: it no longer works.".to_owned())}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    made.await.map(|m| shown_once("API token", "new-token", m.secret))
                })}
            </Suspense>
            <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(t) if t.is_empty() => view! { <p>"You have no API tokens."</p> }.into_any(),
                        Ok(t) => token_table(t, "Your API tokens".into()).into_any(),
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <h3 id="new-token-heading">"Make a token"</h3>
            <ActionForm action=create attr:class="form" attr:aria-labelledby="new-token-heading">
                {token_fields("token".into(), !read_only)}
                <button type="submit" class="button">"Make the token"</button>
            </ActionForm>
        </section>
    }
}

/// An organisation's integrations: service accounts and their tokens, and alert sources.
#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let data = Resource::new(code, get_integrations);
    let new_account = ServerAction::<CreateServiceAccount>::new();
    let new_service_token = ServerAction::<CreateServiceToken>::new();
    let disable = ServerAction::<DisableServiceAccount>::new();
    let new_source = ServerAction::<CreateAlertSource>::new();
    let revoke_source = ServerAction::<RevokeAlertSource>::new();
    let password = ServerAction::<SetPasswordSignIn>::new();
    let made_token = posted::<CreateServiceToken>();
    let made_key = posted::<CreateAlertSource>();
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading integrations…"</p> }>
            {move || Suspend::new(async move {
                let x = match data.await {
                    Ok(x) => x,
                    Err(e) => return view! { <Title text="Integrations"/><h1>"Integrations"</h1><p role="alert">{e.to_string()}</p> }.into_any(),
                };
                let made_token = made_token.await;
                let made_key = made_key.await;
                let (org_code, org_code_too, org_code_password) = (x.org_code.clone(), x.org_code.clone(), x.org_code.clone());
                let password_on = x.password_sign_in;
                let sources = x.alert_sources.clone();
                let accounts = x.service_accounts.clone();
                view! {
                    <Title text=format!("Integrations: {}", x.org_name)/>
                    <h1>{format!("Integrations: {}", x.org_name)}</h1>
                    <p class="lede">"Systems that work with Wardline for this organisation: service accounts whose tokens use the "<a href="/api/v1/docs">"API"</a>", and security tools whose alerts declare incidents."</p>

                    <h2 id="alerts-heading">"Alert sources"</h2>
                    <p>"Each source (the SIEM, the EDR, a supplier's security desk) gets its own key. An alert sent with it to "<code>"POST /api/v1/alerts"</code>" opens an incident here, raised by that source; a repeat of the same alert while the incident is open is added to its timeline; a resolved alert closes nothing but tells the incident's leads. Tools that can only send email send the alert to the source's address instead."</p>
                    {posted_notice::<RevokeAlertSource>(|_| "The alert source's key is revoked: its alerts are refused.".to_owned())}
                    {made_key.map(|k| shown_once("alert key", "new-alert-key", k.secret))}
                    {(!sources.is_empty()).then(move || view! {
                        <div class="table-wrap"><table>
                            <caption>"Alert sources"</caption>
                            <thead><tr>
                                <th scope="col">"Source"</th>
                                <th scope="col">"Opens"</th>
                                <th scope="col">"Key starts"</th>
                                <th scope="col">"Email address"</th>
                                <th scope="col">"Last alert"</th>
                                <th scope="col"><span class="visually-hidden">"Revoke"</span></th>
                            </tr></thead>
                            <tbody>
                                {sources.into_iter().map(|k| view! {
                                    <tr>
                                        <td>{k.source.clone()}</td>
                                        <td>{k.kind.clone()}</td>
                                        <td><code>{format!("{}…", k.prefix)}</code></td>
                                        <td><code>{k.email.clone()}</code></td>
                                        <td>{k.last_used_at.clone().unwrap_or_else(|| "Never".into())}</td>
                                        <td>{if k.revoked { view! { "Revoked" }.into_any() } else { view! {
                                            <ActionForm action=revoke_source attr:class="inline-form">
                                                <input type="hidden" name="key_id" value=k.id.to_string()/>
                                                <button type="submit" class="button button--secondary" aria-label=format!("Revoke {}", k.source)>"Revoke"</button>
                                            </ActionForm>
                                        }.into_any() }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table></div>
                    })}
                    <h3 id="new-source-heading">"Add an alert source"</h3>
                    <ActionForm action=new_source attr:class="form" attr:aria-labelledby="new-source-heading">
                        <input type="hidden" name="org_code" value=org_code/>
                        <div class="form-group">
                            <label for="source-name">"Source"</label>
                            <input id="source-name" name="source" type="text" maxlength="100" required placeholder="Trust SIEM"/>
                        </div>
                        <div class="form-group">
                            <label for="source-kind">"Kind of incident its alerts open (unless an alert says)"</label>
                            <select id="source-kind" name="kind">
                                {IncidentKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.title()}</option> }).collect_view()}
                            </select>
                        </div>
                        <button type="submit" class="button">"Add the alert source"</button>
                    </ActionForm>

                    <h2 id="password-heading">"Signing in"</h2>
                    {posted_notice::<SetPasswordSignIn>(|_| "Saved how this organisation's people sign in.".to_owned())}
                    <ActionForm action=password attr:class="form" attr:aria-labelledby="password-heading">
                        <input type="hidden" name="org_code" value=org_code_password/>
                        <fieldset class="fieldset">
                            <legend>"May its people sign in with a Wardline password?"</legend>
                            <div class="radio">
                                <input type="radio" id="password-on" name="allowed" value="true" checked=password_on/>
                                <label for="password-on">"Yes, or with single sign-on"</label>
                            </div>
                            <div class="radio">
                                <input type="radio" id="password-off" name="allowed" value="false" checked=!password_on/>
                                <label for="password-off">"No: single sign-on only (their identity provider decides who gets in)"</label>
                            </div>
                        </fieldset>
                        <button type="submit" class="button">"Save"</button>
                    </ActionForm>

                    <h2 id="service-heading">"Service accounts"</h2>
                    <p>"A service account is a system, not a person: a reporting job, a dashboard. It reads and acts as a lead of this organisation would, through tokens you make for it."</p>
                    {posted_notice::<DisableServiceAccount>(|_| "The service account is disabled: its tokens no longer work.".to_owned())}
                    {made_token.map(|t| shown_once("service token", "new-service-token", t.secret))}
                    {accounts.into_iter().map(|a| {
                        let heading = format!("service-{}-heading", a.id);
                        let labelled_by = heading.clone();
                        view! {
                            <section aria-labelledby=labelled_by class="card">
                                <h3 id=heading>{a.name.clone()}{a.disabled.then_some(" (disabled)")}</h3>
                                {(!a.tokens.is_empty()).then(|| token_table(a.tokens.clone(), format!("Tokens of {}", a.name)))}
                                {(!a.disabled).then(move || {
                                    let prefix = format!("service-{}", a.id);
                                    view! {
                                        <details>
                                            <summary>{format!("Make a token for {}", a.name)}</summary>
                                            <ActionForm action=new_service_token attr:class="form">
                                                <input type="hidden" name="service_id" value=a.id.to_string()/>
                                                {token_fields(prefix, true)}
                                                <button type="submit" class="button">"Make the token"</button>
                                            </ActionForm>
                                        </details>
                                        <ActionForm action=disable attr:class="inline-form">
                                            <input type="hidden" name="service_id" value=a.id.to_string()/>
                                            <button type="submit" class="button button--warning" aria-label=format!("Disable {}", a.name)>"Disable"</button>
                                        </ActionForm>
                                    }
                                })}
                            </section>
                        }
                    }).collect_view()}
                    <h3 id="new-service-heading">"Add a service account"</h3>
                    <ActionForm action=new_account attr:class="form" attr:aria-labelledby="new-service-heading">
                        <input type="hidden" name="org_code" value=org_code_too/>
                        <div class="form-group">
                            <label for="service-name">"Name (the system it is)"</label>
                            <input id="service-name" name="name" type="text" maxlength="100" required/>
                        </div>
                        <button type="submit" class="button">"Add the service account"</button>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
    }
}
