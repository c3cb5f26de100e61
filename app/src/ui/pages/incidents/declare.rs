//! Declaring an incident: a plain form post, so a phone can declare before the
//! WebAssembly has loaded.

use super::*;

#[component]
pub fn DeclarePage() -> impl IntoView {
    let auth = crate::ui::auth::use_auth();
    let read_only = Resource::new(
        || (),
        move |_| async move {
            matches!(
                auth.status.await,
                Ok(crate::domain::auth::AuthStatus::SignedIn(me)) if me.read_only()
            )
        },
    );
    // The form's action and options are made once, here: the form itself is drawn both as
    // the fallback and inside the wait below, and the server may run that part more than once
    // while rendering; a resource made there each time would be fetched again and numbered
    // differently from the browser's, breaking hydration.
    let form = FormParts {
        declare: ServerAction::<DeclareIncident>::new(),
        options: Resource::new(|| (), |_| declare_options()),
    };
    view! {
        <Title text="Declare an incident"/>
        <h1>"Declare an incident"</h1>
        <Suspense fallback=move || view! { <DeclareForm form/> }>
            {move || Suspend::new(async move {
                if read_only.await {
                    view! {
                        <div class="notice" role="status">
                            <p><strong>"Your access is read-only, so you cannot declare incidents."</strong></p>
                            <p>"If you are seeing an incident, tell the organisation affected, or call the NHS England Cyber Security Operations Centre on "<a href="tel:03003035222">"0300 303 5222"</a>" (24 hours)."</p>
                        </div>
                    }.into_any()
                } else {
                    view! { <DeclareForm form/> }.into_any()
                }
            })}
        </Suspense>
    }
}

/// The declaration form: a plain form post, so it works before (or without) the
/// WebAssembly.
#[derive(Clone, Copy)]
struct FormParts {
    declare: ServerAction<DeclareIncident>,
    options: Resource<Result<crate::domain::assets::DeclareOptions, AppError>>,
}

#[component]
fn DeclareForm(form: FormParts) -> impl IntoView {
    let FormParts { declare, options } = form;
    let error = Signal::derive(move || {
        declare
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <p class="lede">"Tell us what you can see. You do not need to be sure it is a cyber attack. The right people will be told at once."</p>
        <ErrorSummary error/>
        <ActionForm action=declare attr:class="form declare-form">
            <fieldset class="fieldset">
                <legend>"What is happening?"</legend>
                {IncidentKind::ALL.iter().enumerate().map(|(i, k)| {
                    let id = format!("kind-{}", k.as_str());
                    view! {
                        <div class="radio">
                            <input type="radio" id=id.clone() name="kind" value=k.as_str() required=i == 0/>
                            <label for=id>{k.plain()}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <div class="form-group">
                <label for="location">"Where is it happening?"</label>
                <p class="hint" id="location-hint">"For example: reception, Ward 7, the pharmacy computer."</p>
                <input id="location" name="location" type="text" autocomplete="off" aria-describedby="location-hint" required/>
            </div>
            <fieldset class="fieldset">
                <legend>"Are patients affected right now?"</legend>
                {PatientsAffected::ALL.iter().map(|p| {
                    let id = format!("patients-{}", p.as_str());
                    let label = match p { PatientsAffected::Yes => "Yes", PatientsAffected::No => "No", PatientsAffected::Unknown => "I don't know" };
                    view! {
                        <div class="radio">
                            <input type="radio" id=id.clone() name="patients_affected" value=p.as_str() checked=*p == PatientsAffected::Unknown/>
                            <label for=id>{label}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <Suspense fallback=|| view! { <SystemsText label="Which systems? (optional)"/> }>
                {move || Suspend::new(async move {
                    match options.await {
                        Ok(o) if !o.assets.is_empty() => view! {
                            <fieldset class="fieldset">
                                <legend>{format!("Which of {}'s systems are affected? (optional)", o.org_name)}</legend>
                                {o.assets.iter().enumerate().map(|(n, a)| {
                                    let id = format!("asset-{}", a.id);
                                    view! {
                                        <div class="checkbox">
                                            <input type="checkbox" id=id.clone() name=format!("assets[{n}]") value=a.id.to_string()/>
                                            <label for=id>{a.name.clone()}{a.patient_safety_critical.then_some(" (patient safety critical)")}</label>
                                        </div>
                                    }
                                }).collect_view()}
                            </fieldset>
                            <SystemsText label="Anything else affected? (optional)"/>
                        }.into_any(),
                        _ => view! { <SystemsText label="Which systems? (optional)"/> }.into_any(),
                    }
                })}
            </Suspense>
            <div class="checkbox">
                <input type="checkbox" id="personal-data" name="personal_data" value="yes"/>
                <label for="personal-data">"Patient or staff personal data may be involved"</label>
            </div>
            <div class="form-group">
                <label for="summary">"Anything else we should know? (optional)"</label>
                <textarea id="summary" name="summary" rows="3"></textarea>
            </div>
            <button type="submit" class="button button--warning">"Declare incident"</button>
        </ActionForm>
    }
}

/// The free-text field for affected systems.
#[component]
fn SystemsText(label: &'static str) -> impl IntoView {
    view! {
        <div class="form-group">
            <label for="systems">{label}</label>
            <input id="systems" name="systems" type="text" autocomplete="off"/>
        </div>
    }
}
