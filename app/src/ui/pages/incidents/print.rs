//! The incident on paper.

use super::*;

/// The incident on paper: everything its page holds, with the time it was printed.
#[component]
pub fn IncidentPrintPage() -> impl IntoView {
    let params = use_params_map();
    let reference = move || params.read().get("reference").unwrap_or_default();
    let incident = Resource::new(reference, get_incident);
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match incident.await {
                    Ok(i) => view! { <PrintedIncident i/> }.into_any(),
                    Err(e) => view! { <h1>"Incident not found"</h1><p>{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PrintedIncident(i: IncidentView) -> impl IntoView {
    let title = incident_title(&i);
    view! {
        <Title text=format!("{title} (printable)")/>
        <article class="printable">
            <h1>{title}</h1>
            <p class="lede">{format!("{} at {} ({}). {}.", i.level.label(), i.org_name, i.org_code, status_label(i.status))}</p>
            <p class="hint">{format!("Printed from Wardline; read at {}.", i.generated_at)}</p>
            <Summary i=i.clone()/>
            <h2>"Incident command"</h2>
            <ul>{i.commands.iter().map(|c| view! { <li>{format!("{}: {}", c.command.label(), c.person.clone().unwrap_or_else(|| "nobody".into()))}</li> }).collect_view()}</ul>
            {(!i.affected.is_empty()).then(|| view! {
                <h2>"Other organisations affected"</h2>
                <ul>{i.affected.iter().map(|a| view! { <li>{format!("{} ({})", a.name, a.code)}</li> }).collect_view()}</ul>
            })}
            <h2>"Reporting obligations"</h2>
            <ul>{i.clocks.iter().filter(|c| c.applies || !c.history.is_empty()).map(|c| view! {
                <li>{format!("{}: due {}{}", c.label, if c.due_at.is_empty() { "once assessed" } else { c.due_at.as_str() }, match (&c.reported_at, &c.report_reference) {
                    (Some(at), Some(r)) => format!("; reported {at}, reference {r}"),
                    _ if c.overdue => "; OVERDUE".into(),
                    _ => format!("; {}", c.state.label().to_lowercase()),
                })}</li>
            }).collect_view()}</ul>
            <h2>"Tasks"</h2>
            <div class="table-wrap">
                <table class="table">
                    <caption class="visually-hidden">"Tasks"</caption>
                    <thead><tr><th scope="col">"Task"</th><th scope="col">"Owner"</th><th scope="col">"State"</th><th scope="col">"Due"</th><th scope="col">"Note"</th></tr></thead>
                    <tbody>
                        {i.tasks.iter().map(|t| view! {
                            <tr>
                                <th scope="row">{format!("{}. {}", t.position, t.title)}<br/><span class="hint">{format!("Routed: {}", t.routing)}</span></th>
                                <td>{t.assignee.clone().unwrap_or_else(|| "Nobody found".into())}</td>
                                <td>{t.state.label()}</td>
                                <td>{t.due_at.clone()}</td>
                                <td>{t.note.clone().unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <h2>"Timeline"</h2>
            <ol class="timeline">{i.timeline.iter().map(|e| view! { <li><span class="hint">{moment(e.at)}</span>" "{e.detail.clone()}</li> }).collect_view()}</ol>
        </article>
    }
}
