//! The printable break-glass pack. Every printed page carries the organisation, the data's
//! version and when it was made; the page registers a service worker that keeps the last
//! copy for reading when Wardline (or the network) is down.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::breakglass::get_pack;
use crate::domain::breakglass::{PackContact, PackRunbook};
use crate::domain::rota::RotaDays;

/// Registers the offline copy. A plain script so it runs before (or without) WebAssembly.
const REGISTER: &str =
    "if ('serviceWorker' in navigator) { navigator.serviceWorker.register('/break-glass-sw.js'); }";

#[component]
pub fn BreakGlassPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let pack = Resource::new(code, get_pack);
    let nonce = leptos::nonce::use_nonce();
    view! {
        <script nonce=nonce>{REGISTER}</script>
        <Suspense fallback=|| view! { <p role="status">"Loading the pack…"</p> }>
            {move || Suspend::new(async move {
                match pack.await {
                    Ok(p) => {
                        let stamp = format!("{} ({}) · version {} · generated {}", p.org_name, p.org_code, p.version, p.generated_at);
                        view! {
                            <Title text=format!("Break-glass pack: {}", p.org_name)/>
                            <div class="pack">
                                <p class="pack-stamp" aria-hidden="true">{stamp.clone()}</p>
                                <h1>{format!("Break-glass pack: {}", p.org_name)}</h1>
                                <p class="lede">{format!("Version {}, generated {}. Print it and keep it with the business continuity plan; this browser also keeps the last copy it opened for reading offline.", p.version, p.generated_at)}</p>
                                <p class="no-print"><crate::ui::components::live::PrintButton label="Print the pack".to_owned()/></p>
                                <PackContacts contacts=p.contacts.clone()/>
                                <PackOnCall on_call=p.on_call.clone()/>
                                <section aria-labelledby="escalation-heading">
                                    <h2 id="escalation-heading">"If nobody answers"</h2>
                                    <p>{p.escalation_path.clone()}</p>
                                    <ol>{p.escalation_levels.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ol>
                                </section>
                                <PackRunbooks runbooks=p.runbooks.clone()/>
                                <p class="pack-stamp pack-stamp--end">{stamp}</p>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <Title text="Break-glass pack"/><h1>"Break-glass pack"</h1><p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// "Who to call": each role's holder, deputy and numbers.
#[component]
fn PackContacts(contacts: Vec<PackContact>) -> impl IntoView {
    view! {
        <section aria-labelledby="contacts-heading">
            <h2 id="contacts-heading">"Who to call"</h2>
            <div class="table-wrap">
                <table class="table">
                    <caption class="visually-hidden">"Contact tree: roles, holders, deputies and phone numbers"</caption>
                    <thead><tr><th scope="col">"Role"</th><th scope="col">"Holder"</th><th scope="col">"Deputy"</th><th scope="col">"Work phone"</th><th scope="col">"Out of hours"</th><th scope="col">"Email"</th></tr></thead>
                    <tbody>
                        {contacts.iter().map(|c| view! {
                            <tr>
                                <th scope="row">{format!("{}, {}", c.role, c.org_name)}</th>
                                <td>{c.holder.clone()}</td>
                                <td>{c.deputy.clone().unwrap_or_else(|| "None named".into())}</td>
                                <td>{c.work_phone.clone().unwrap_or_else(|| "Not recorded".into())}</td>
                                <td>{c.out_of_hours_phone.clone().unwrap_or_else(|| "Not recorded".into())}</td>
                                <td>{c.email.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// Who is on call for the next fortnight, per schedule (nothing when there are no rotas).
#[component]
fn PackOnCall(on_call: Vec<RotaDays>) -> impl IntoView {
    (!on_call.is_empty()).then(|| view! {
        <section aria-labelledby="rota-heading">
            <h2 id="rota-heading">"Who is on call: the next 14 days"</h2>
            <p>"London time. “Nobody” is a gap: call the role's deputy or the next level up."</p>
            {on_call.iter().map(|r| view! {
                <div class="table-wrap">
                    <table class="table">
                        <caption>{if r.roles.is_empty() { r.schedule.clone() } else { format!("{} (holds: {})", r.schedule, r.roles.join(", ")) }}</caption>
                        <thead><tr><th scope="col">"From"</th><th scope="col">"Until"</th><th scope="col">"On call"</th></tr></thead>
                        <tbody>
                            {r.shifts.iter().map(|x| view! {
                                <tr>
                                    <td>{crate::domain::rota::local_label(x.start)}</td>
                                    <td>{crate::domain::rota::local_label(x.end)}</td>
                                    <td>{if x.people.is_empty() { "Nobody".to_string() } else { x.people.join(", ") }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }).collect_view()}
        </section>
    })
}

/// Each runbook: what to do now, then every step.
#[component]
fn PackRunbooks(runbooks: Vec<PackRunbook>) -> impl IntoView {
    runbooks.iter().map(|r| {
        let id = format!("runbook-{}", r.kind.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
        let labelled = id.clone();
        view! {
            <section class="pack-runbook" aria-labelledby=labelled>
                <h2 id=id>{r.kind.clone()}</h2>
                <p>{format!("{} (version {}, {})", r.title, r.version, r.owner)}</p>
                <h3>"Do this now"</h3>
                <ol>{r.first_steps.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ol>
                <h3>"Then"</h3>
                <ol class="pack-steps">
                    {r.steps.iter().map(|s| view! {
                        <li>
                            <strong>{s.title.clone()}</strong>
                            {format!(" ({}; {}, {})", s.phase, s.owner, s.due)}
                            <br/>{s.instructions.clone()}
                        </li>
                    }).collect_view()}
                </ol>
            </section>
        }
    }).collect_view()
}
