//! The overview for regulators and national teams: accountability gaps, and reporting
//! obligations missed or decided late, counted under each region and ICB they may see.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::accountability::get_overview;
use crate::domain::gaps::GapKind;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let lines = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Gaps overview"/>
        <h1>"Gaps overview"</h1>
        <p class="lede">"Accountability gaps, and reporting obligations overdue or decided after their deadline on real incidents, counted under each region and integrated care board you can see. Open a chart for the detail."</p>
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match lines.await {
                    Ok(lines) if lines.is_empty() => view! { <p>"You have no regions or ICBs to oversee."</p> }.into_any(),
                    Ok(lines) => view! {
                        <div class="table-wrap">
                            <table class="table">
                                <caption class="visually-hidden">"Gaps and reporting by region and ICB"</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"Region or ICB"</th>
                                        <th scope="col">"Organisations below"</th>
                                        {GapKind::ALL.into_iter().map(|g| view! { <th scope="col">{g.label()}</th> }).collect_view()}
                                        <th scope="col">"All gaps"</th>
                                        <th scope="col">"Reports overdue"</th>
                                        <th scope="col">"Reports decided late"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {lines.into_iter().map(|l| view! {
                                        <tr>
                                            <th scope="row"><a href=format!("/orgs/{}/chart", l.org.code)>{l.org.name.clone()}</a>" "<span class="hint">{l.org.kind.label()}</span></th>
                                            <td>{l.organisations}</td>
                                            {GapKind::ALL.into_iter().map(|g| view! { <td>{l.gaps.get(g)}</td> }).collect_view()}
                                            <td>{l.gaps.total()}</td>
                                            <td>{l.obligations_missed}</td>
                                            <td>{l.obligations_late}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(err) => view! { <p class="error-summary" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
