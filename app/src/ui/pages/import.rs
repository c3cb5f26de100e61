//! Importing ODS files from the browser: a plain upload form, then a progress page that
//! updates itself every second once the page is live (and on reload before that).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::admin::import_status;
use crate::domain::imports::ImportStatus;

#[component]
pub fn ImportPage() -> impl IntoView {
    view! {
        <Title text="Import ODS files"/>
        <h1>"Import ODS files"</h1>
        <p class="lede">"Upload an organisation file as published by the Organisation Data Service. Importing the same file again changes nothing."</p>
        <form method="post" action="/admin/import/ods" enctype="multipart/form-data" class="form">
            <div class="form-group">
                <label for="ods-kind">"Which file is it?"</label>
                <select id="ods-kind" name="kind">
                    <option value="trusts">"etr.csv: NHS trusts"</option>
                    <option value="icbs">"eccg.csv: ICBs and sub-ICB locations"</option>
                    <option value="practices">"epraccur.csv: GP practices"</option>
                </select>
            </div>
            <div class="form-group">
                <label for="ods-file">"File"</label>
                <p class="hint" id="ods-file-hint">"Headerless CSV, up to 50 MB. Import ICBs before trusts and practices so parents are known."</p>
                <input id="ods-file" name="file" type="file" accept=".csv,text/csv" aria-describedby="ods-file-hint" required/>
            </div>
            <button type="submit" class="button">"Import"</button>
        </form>
    }
}

#[component]
pub fn ImportProgressPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let job = Resource::new(id, import_status);
    view! {
        <Title text="Import progress"/>
        <h1>"Import progress"</h1>
        // Once the page is live it asks again every second while the import runs.
        <crate::ui::components::live::LivePoll every_ms=1000/>
        <div id="live-import" data-live="">
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match job.await {
                    Ok(v) => {
                        let pct = if v.total > 0 { v.done * 100 / v.total } else { 0 };
                        view! {
                            <p>{format!("{} ({})", v.file_name, v.kind)}</p>
                            <p role="status" aria-live="polite">
                                {match v.status {
                                    ImportStatus::Running => format!("Storing rows: {} of {} ({pct}%).", v.done, v.total),
                                    ImportStatus::Finished => "Import finished.".to_string(),
                                    ImportStatus::Failed => "Import failed. Nothing after the last stored batch was changed.".to_string(),
                                }}
                            </p>
                            <progress max=v.total.max(1).to_string() value=v.done.to_string() aria-label="Rows stored"></progress>
                            {v.summary.map(|s| view! { <p><strong>{s}</strong></p> })}
                            {(!v.rejected.is_empty()).then(|| view! {
                                <h2>"Rejected rows"</h2>
                                <div class="table-wrap">
                                    <table class="table">
                                        <caption class="visually-hidden">"Rejected rows"</caption>
                                        <thead><tr><th scope="col">"Line"</th><th scope="col">"Reason"</th></tr></thead>
                                        <tbody>
                                            {v.rejected.into_iter().map(|r| view! { <tr><td>{r.line}</td><td>{r.reason}</td></tr> }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            })}
                            {(!v.parents_unknown.is_empty()).then(|| view! {
                                <h2>"Parents not known yet"</h2>
                                <ul>{v.parents_unknown.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                            })}
                            {(v.status == ImportStatus::Running).then(|| view! { <p data-live-poll=""><a href=format!("/admin/import/{}", v.id)>"Refresh"</a></p> })}
                            <p><a href="/admin/import">"Import another file"</a></p>
                        }.into_any()
                    }
                    Err(err) => view! { <p class="error-summary" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
        </div>
    }
}
