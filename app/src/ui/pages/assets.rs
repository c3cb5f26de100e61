//! An organisation's asset catalogue, with what is out of support flagged, and CSV import
//! (with a report of every refused line) and export.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::assets::{ImportAssets, get_asset, get_catalogue};
use crate::domain::assets::{AssetRef, AssetView, COLUMNS, Support};
use crate::ui::components::forms::ErrorSummary;

#[component]
pub fn AssetsPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let import = ServerAction::<ImportAssets>::new();
    let imported = crate::ui::components::forms::posted::<ImportAssets>();
    let catalogue = Resource::new(
        move || (code(), import.version().get()),
        |(c, _)| get_catalogue(c),
    );
    let error = Signal::derive(move || {
        import
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading the catalogue…"</p> }>
            {move || Suspend::new(async move {
                let imported = imported.await;
                match catalogue.await {
                    Ok(c) => {
                        let unsupported = c.assets.iter().filter(|a| a.support == Support::Unsupported).count();
                        let ending = c.assets.iter().filter(|a| a.support == Support::EndingSoon).count();
                        view! {
                            <Title text=format!("Assets: {}", c.org_name)/>
                            <h1>{format!("Assets: {}", c.org_name)}</h1>
                            <p class="lede">{format!("{} assets; {unsupported} out of support, {ending} with support ending within 6 months.", c.assets.len())}</p>
                            <p class="actions-row"><a href=format!("/export/assets.csv?org={}", c.org_code) rel="external" download="">"Download as CSV"</a></p>
                            <AssetTable assets=c.assets.clone()/>
                            <Supplied org_name=c.org_name.clone() supplied=c.supplied.clone()/>
                            {c.editable.then(|| view! {
                                <h2 id="import-heading">"Import from CSV"</h2>
                                <p>{format!("First line: {}. Rows are matched by name; new rows are added, changed rows updated. Dates like 2025-10-14; several dependencies separated by semicolons.", COLUMNS.join(","))}</p>
                                <ErrorSummary error/>
                                <ActionForm action=import attr:class="form" attr:aria-labelledby="import-heading">
                                    <input type="hidden" name="org_code" value=c.org_code.clone()/>
                                    <div class="form-group">
                                        <label for="assets-csv">"CSV to import"</label>
                                        <textarea id="assets-csv" name="csv" rows="8" class="dspt-text" required></textarea>
                                    </div>
                                    <button type="submit" class="button">"Import assets"</button>
                                </ActionForm>
                                {imported.clone().map(|r| view! {
                                    <div role="status" class="notice">
                                        <p>{format!("{} added, {} updated, {} unchanged, {} lines refused.", r.added, r.updated, r.unchanged, r.rejected.len())}</p>
                                        <ul>{r.rejected.iter().map(|(line, why)| view! { <li>{format!("Line {line}: {why}")}</li> }).collect_view()}</ul>
                                    </div>
                                })}
                            })}
                        }.into_any()
                    }
                    Err(e) => view! { <Title text="Assets"/><h1>"Assets"</h1><p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The catalogue as a table, out-of-support assets marked.
#[component]
fn AssetTable(assets: Vec<AssetView>) -> impl IntoView {
    view! {
    <div class="table-wrap">
        <table class="table">
            <caption class="visually-hidden">"Asset catalogue"</caption>
            <thead><tr><th scope="col">"Asset"</th><th scope="col">"Kind"</th><th scope="col">"Owner"</th><th scope="col">"Supplier"</th><th scope="col">"Supports"</th><th scope="col">"System"</th><th scope="col">"Support"</th><th scope="col">"Depends on"</th></tr></thead>
            <tbody>
                {assets.iter().map(|a| view! {
                    <tr class:overdue=a.support == Support::Unsupported>
                        <th scope="row"><a href=format!("/assets/{}", a.id)>{a.name.clone()}</a>{a.patient_safety_critical.then(|| view! { <span class="tag tag--gap">"patient safety critical"</span> })}</th>
                        <td>{a.kind.clone()}</td>
                        <td>{a.owner.clone().unwrap_or_else(|| "No owner".into())}</td>
                        <td>{a.supplier.clone().unwrap_or_default()}</td>
                        <td>{a.clinical_service.clone()}</td>
                        <td>{a.os.clone()}</td>
                        <td>{format!("{}{}", a.support.label(), a.end_of_support.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())}</td>
                        <td>{a.depends_on.join(", ")}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    </div>
    }
}

/// Other organisations' assets this one supplies (nothing when there are none).
#[component]
fn Supplied(org_name: String, supplied: Vec<AssetRef>) -> impl IntoView {
    (!supplied.is_empty()).then(|| view! {
        <h2 id="supplied-heading">{format!("Depending on {}", org_name)}</h2>
        <p>{format!("{} assets at {} organisations are supplied by {}.", supplied.len(), {
            let mut orgs: Vec<&str> = supplied.iter().map(|a| a.org_code.as_str()).collect();
            orgs.sort_unstable();
            orgs.dedup();
            orgs.len()
        }, org_name)}</p>
        <ul class="plain-list" role="list" aria-labelledby="supplied-heading">
            {supplied.iter().map(|a| view! {
                <li>
                    <a href=format!("/assets/{}", a.id)>{a.name.clone()}</a>
                    " at "<a href=format!("/orgs/{}/assets", a.org_code)>{a.org_name.clone()}</a>
                    {a.patient_safety_critical.then(|| view! { " " <span class="tag tag--gap">"patient safety critical"</span> })}
                </li>
            }).collect_view()}
        </ul>
    })
}

/// One asset: what it is, what it depends on and what depends on it, and its incidents.
#[component]
pub fn AssetPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let asset = Resource::new(id, get_asset);
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading the asset…"</p> }>
            {move || Suspend::new(async move {
                match asset.await {
                    Ok(d) => {
                        let a = d.asset.clone();
                        view! {
                            <Title text=format!("{} ({})", a.name, d.org_name)/>
                            <p class="breadcrumb"><a href=format!("/orgs/{}/assets", d.org_code)>{format!("Assets: {}", d.org_name)}</a></p>
                            <h1>{a.name.clone()}</h1>
                            <dl class="summary-list">
                                <div><dt>"Kind"</dt><dd>{a.kind.clone()}</dd></div>
                                <div><dt>"Information Asset Owner"</dt><dd>{a.owner.clone().unwrap_or_else(|| "No owner".into())}</dd></div>
                                <div><dt>"Supplier"</dt><dd>{a.supplier.clone().unwrap_or_else(|| "None recorded".into())}</dd></div>
                                <div><dt>"Supports"</dt><dd>{a.clinical_service.clone()}{a.patient_safety_critical.then_some(" (patient safety critical)")}</dd></div>
                                <div><dt>"System"</dt><dd>{a.os.clone()}</dd></div>
                                <div><dt>"Support"</dt><dd>{format!("{}{}", a.support.label(), a.end_of_support.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())}</dd></div>
                                <div><dt>"Site"</dt><dd>{a.site.clone().unwrap_or_else(|| "Not recorded".into())}</dd></div>
                            </dl>
                            <h2 id="depends-heading">"Depends on"</h2>
                            <AssetList list=d.depends_on.clone() empty="Nothing recorded." labelled="depends-heading"/>
                            <h2 id="needed-heading">"Needed by"</h2>
                            <AssetList list=d.needed_by.clone() empty="Nothing recorded." labelled="needed-heading"/>
                            <h2 id="incidents-heading">"Incidents"</h2>
                            {if d.incidents.is_empty() {
                                view! { <p>"No incident has been linked to this asset."</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap">
                                        <table class="table" aria-labelledby="incidents-heading">
                                            <thead><tr><th scope="col">"Incident"</th><th scope="col">"Kind"</th><th scope="col">"Status"</th><th scope="col">"Declared"</th></tr></thead>
                                            <tbody>
                                                {d.incidents.iter().map(|i| view! {
                                                    <tr>
                                                        <th scope="row"><a href=format!("/incidents/{}", i.reference)>{i.reference.clone()}</a></th>
                                                        <td>{i.kind.clone()}</td>
                                                        <td>{i.status.clone()}</td>
                                                        <td>{i.declared_at.clone()}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                    Err(e) => view! { <Title text="Asset"/><h1>"Asset"</h1><p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AssetList(list: Vec<AssetRef>, empty: &'static str, labelled: &'static str) -> impl IntoView {
    if list.is_empty() {
        return view! { <p>{empty}</p> }.into_any();
    }
    view! {
        <ul class="plain-list" role="list" aria-labelledby=labelled>
            {list.into_iter().map(|a| view! {
                <li><a href=format!("/assets/{}", a.id)>{a.name}</a>{format!(" ({})", a.org_name)}</li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}
