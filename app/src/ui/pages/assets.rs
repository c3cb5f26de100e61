//! An organisation's asset catalogue, with what is out of support flagged, and CSV import
//! (with a report of every refused line) and export.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::assets::{ImportAssets, get_catalogue};
use crate::domain::assets::{COLUMNS, Support};
use crate::ui::components::forms::ErrorSummary;

#[component]
pub fn AssetsPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let import = ServerAction::<ImportAssets>::new();
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
                match catalogue.await {
                    Ok(c) => {
                        let unsupported = c.assets.iter().filter(|a| a.support == Support::Unsupported).count();
                        let ending = c.assets.iter().filter(|a| a.support == Support::EndingSoon).count();
                        view! {
                            <Title text=format!("Assets: {}", c.org_name)/>
                            <h1>{format!("Assets: {}", c.org_name)}</h1>
                            <p class="lede">{format!("{} assets; {unsupported} out of support, {ending} with support ending within 6 months.", c.assets.len())}</p>
                            <p class="actions-row"><a href=format!("/export/assets.csv?org={}", c.org_code) rel="external" download="">"Download as CSV"</a></p>
                            <div class="table-wrap">
                                <table class="table">
                                    <caption class="visually-hidden">"Asset catalogue"</caption>
                                    <thead><tr><th scope="col">"Asset"</th><th scope="col">"Kind"</th><th scope="col">"Owner"</th><th scope="col">"Supplier"</th><th scope="col">"Supports"</th><th scope="col">"System"</th><th scope="col">"Support"</th><th scope="col">"Depends on"</th></tr></thead>
                                    <tbody>
                                        {c.assets.iter().map(|a| view! {
                                            <tr class:overdue=a.support == Support::Unsupported>
                                                <th scope="row">{a.name.clone()}{a.patient_safety_critical.then(|| view! { <span class="tag tag--gap">"patient safety critical"</span> })}</th>
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
                                {move || import.value().get().and_then(|r| r.ok()).map(|r| view! {
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
