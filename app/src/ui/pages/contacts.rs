//! External contacts: the people Wardline cannot sign in but must reach (NHS England's CSOC,
//! an ICB's on-call line, a supplier's security desk). Everyone signed in reads them; the
//! forms appear only where the reader may change a contact, and are plain posts that work
//! without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::external_contacts::{AddContact, EditContact, list_contacts};
use crate::domain::auth::{AccessRole, AuthStatus};
use crate::domain::escalation::ListedContact;
use crate::ui::auth::use_auth;
use crate::ui::components::forms::{ErrorSummary, posted_notice};

#[component]
pub fn ContactsPage() -> impl IntoView {
    let add = ServerAction::<AddContact>::new();
    let edit = ServerAction::<EditContact>::new();
    let contacts = Resource::new(
        move || (add.version().get(), edit.version().get()),
        |_| list_contacts(),
    );
    let error = Signal::derive(move || {
        add.value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| edit.value().get().and_then(|r| r.err()))
            .map(|e| e.to_string())
    });
    let auth = use_auth();
    view! {
        <Title text="External contacts"/>
        <h1>"External contacts"</h1>
        <p class="lede">"Who to call outside Wardline. The last level of an escalation path can name one: it is emailed, and the person who must call is told the number on their task."</p>
        <ErrorSummary error/>
        {posted_notice::<AddContact>(|c| format!("Added {}.", c.name))}
        {posted_notice::<EditContact>(|c| format!("Saved {}.", c.name))}
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let grants = match auth.status.await {
                    Ok(AuthStatus::SignedIn(me)) => me.grants,
                    _ => Vec::new(),
                };
                let national = grants.iter().any(|g| g.role == AccessRole::NationalAdmin);
                let admin_of: Vec<(String, String)> = grants
                    .into_iter()
                    .filter(|g| g.role == AccessRole::OrgAdmin)
                    .map(|g| (g.org_code, g.org_name))
                    .collect();
                match contacts.await {
                    Ok(list) => view! {
                        {if list.is_empty() {
                            view! { <p>"No external contacts yet."</p> }.into_any()
                        } else {
                            view! { <ContactTable list=list.clone()/> }.into_any()
                        }}
                        {list.into_iter().filter(|l| l.editable).map(|l| view! { <EditForm l edit/> }).collect_view()}
                        {(national || !admin_of.is_empty()).then(|| view! { <AddForm admin_of national add/> })}
                    }.into_any(),
                    Err(e) => view! { <p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ContactTable(list: Vec<ListedContact>) -> impl IntoView {
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label="External contacts, scrolls sideways">
            <table class="table">
                <caption class="visually-hidden">"External contacts"</caption>
                <thead><tr>
                    <th scope="col">"Contact"</th>
                    <th scope="col">"Whose"</th>
                    <th scope="col">"Telephone"</th>
                    <th scope="col">"Email"</th>
                    <th scope="col">"How to report"</th>
                </tr></thead>
                <tbody>
                    {list.into_iter().map(|l| {
                        let tel = format!("tel:{}", l.contact.phone.replace(' ', ""));
                        view! {
                            <tr>
                                <th scope="row">{l.contact.name.clone()}<br/><span class="hint">{format!("key: {}", l.contact.key)}</span></th>
                                <td>{l.org_code.clone().unwrap_or_else(|| "National".into())}</td>
                                <td>{(!l.contact.phone.is_empty()).then(|| view! { <a href=tel>{l.contact.phone.clone()}</a> })}</td>
                                <td>{if l.contact.email.is_empty() { "(none: not emailed)".to_owned() } else { l.contact.email.clone() }}</td>
                                <td>{l.contact.reporting_route.clone()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The four fields every contact has, filled in; their ids prefixed by `id`.
fn fields(id: &str, name: &str, phone: &str, email: &str, route: &str) -> impl IntoView + use<> {
    let f = |k: &str| format!("{id}-{k}");
    let (name, phone, email, route) = (
        name.to_owned(),
        phone.to_owned(),
        email.to_owned(),
        route.to_owned(),
    );
    view! {
        <div class="form-group">
            <label for=f("name")>"Name"</label>
            <input id=f("name") name="name" type="text" maxlength="200" required value=name/>
        </div>
        <div class="form-group">
            <label for=f("phone")>"Telephone"</label>
            <input id=f("phone") name="phone" type="tel" maxlength="40" autocomplete="off" value=phone/>
        </div>
        <div class="form-group">
            <label for=f("email")>"Email (leave empty if they take no email)"</label>
            <input id=f("email") name="email" type="email" autocomplete="off" value=email/>
        </div>
        <div class="form-group">
            <label for=f("route")>"How to report to them"</label>
            <textarea id=f("route") name="reporting_route" rows="3" maxlength="2000">{route}</textarea>
        </div>
    }
}

#[component]
fn EditForm(l: ListedContact, edit: ServerAction<EditContact>) -> impl IntoView {
    let c = l.contact;
    let id = format!("edit-{}", c.key);
    let heading = format!("{id}-heading");
    view! {
        <details>
            <summary id=heading.clone()>{format!("Change {}", c.name)}</summary>
            <ActionForm action=edit attr:class="form" attr:aria-labelledby=heading>
                <input type="hidden" name="key" value=c.key.clone()/>
                {fields(&id, &c.name, &c.phone, &c.email, &c.reporting_route)}
                <button type="submit" class="button">{format!("Save {}", c.name)}</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn AddForm(
    admin_of: Vec<(String, String)>,
    national: bool,
    add: ServerAction<AddContact>,
) -> impl IntoView {
    view! {
        <h2 id="add-contact">"Add a contact"</h2>
        <ActionForm action=add attr:class="form" attr:aria-labelledby="add-contact">
            <div class="form-group">
                <label for="add-org">"Whose contact"</label>
                <select id="add-org" name="org_code">
                    {national.then(|| view! { <option value="">"National (every organisation)"</option> })}
                    {admin_of.into_iter().map(|(code, name)| view! { <option value=code.clone()>{format!("{name} ({code})")}</option> }).collect_view()}
                </select>
            </div>
            <div class="form-group">
                <label for="add-key">"Short key, as escalation paths name it (letters, digits, - or _)"</label>
                <input id="add-key" name="key" type="text" maxlength="64" autocomplete="off" required/>
            </div>
            {fields("add", "", "", "", "")}
            <button type="submit" class="button">"Add the contact"</button>
        </ActionForm>
    }
}
