//! The frame of every page: skip link, header with navigation and who is signed in, main
//! landmark, footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::auth::SignOut;
use crate::domain::auth::AuthStatus;
use crate::ui::auth::use_auth;
use crate::ui::components::live::{ForgetBreakGlassCopy, InboxLink, SendFormsInPlace};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main-content">"Skip to main content"</a>
        <header class="site-header">
            <div class="container site-header__inner">
                <a class="site-header__brand" href="/">
                    <span class="site-header__name">"Wardline"</span>
                    <span class="site-header__tagline">"Cyber accountability and incident response"</span>
                </a>
                <nav aria-label="Main">
                    <ul class="site-nav">
                        <WriterLinks/>
                        <li><A href="/incidents">"Incidents"</A></li>
                        <li><A href="/runbooks">"Runbooks"</A></li>
                        <li><A href="/orgs">"Organisations"</A></li>
                        <li><A href="/overview">"Gaps"</A></li>
                        <AdminLinks/>
                        <AccountLinks/>
                    </ul>
                </nav>
            </div>
        </header>
        <main id="main-content" class="container" tabindex="-1">
            <SendFormsInPlace/>
            <Reminders/>
            {children()}
        </main>
        <footer class="site-footer">
            <div class="container">
                <p>"Wardline maps who is accountable for cyber security across NHS organisations. "
                "In an emergency, call the NHS England Cyber Security Operations Centre on "
                <a href="tel:03003035222">"0300 303 5222"</a>" (24 hours)."</p>
            </div>
        </footer>
    }
}

/// Declaring and one's tasks, for everyone but regulators (read-only access: they would
/// only be refused).
#[component]
fn WriterLinks() -> impl IntoView {
    let auth = use_auth();
    let links = || {
        view! {
            <li><A href="/declare">"Declare an incident"</A></li>
            <li><A href="/tasks">"My tasks"</A></li>
        }
    };
    view! {
        <Suspense fallback=links>
            {move || Suspend::new(async move {
                match auth.status.await {
                    Ok(AuthStatus::SignedIn(me)) if me.read_only() => None,
                    _ => Some(links()),
                }
            })}
        </Suspense>
    }
}

/// The admin tools, for those who administer an organisation: escalation paths and
/// external contacts, and for national admins the ODS import.
#[component]
fn AdminLinks() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match auth.status.await {
                    Ok(AuthStatus::SignedIn(me)) if me.administers() => Some(view! {
                        <li><A href="/escalation">"Escalation"</A></li>
                        <li><A href="/contacts">"Contacts"</A></li>
                        {me.national_admin().then(|| view! { <li><A href="/admin/import">"Import"</A></li> })}
                    }),
                    _ => None,
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccountLinks() -> impl IntoView {
    let auth = use_auth();
    // A plain form post: the server signs out and sends the browser to the sign-in page.
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match auth.status.await {
                    Ok(AuthStatus::SignedIn(me)) => view! {
                        <li><InboxLink/></li>
                        <li><A href="/account">{format!("Account ({})", me.name)}</A></li>
                        <li>
                            <ActionForm action=sign_out attr:class="inline-form">
                                <button type="submit" class="link-button">"Sign out"</button>
                            </ActionForm>
                        </li>
                    }.into_any(),
                    // Signed out, however it happened: the break-glass copy kept in this
                    // browser goes too. Only on a real answer: a failed request (offline)
                    // keeps the copy for reading.
                    Ok(AuthStatus::Anonymous | AuthStatus::SecondFactor) => view! {
                        <li><A href="/sign-in">"Sign in"</A><ForgetBreakGlassCopy/></li>
                    }.into_any(),
                    Err(_) => view! { <li><A href="/sign-in">"Sign in"</A></li> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Reminds a signed-in person of what they owe: roles to confirm, MFA to set up.
#[component]
fn Reminders() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match auth.status.await {
                    Ok(AuthStatus::SignedIn(me)) if me.roles_to_confirm > 0 => Some(view! {
                        <div class="notice notice--warning" role="status">
                            <p>
                                {if me.roles_to_confirm == 1 { "1 of your roles needs".to_string() } else { format!("{} of your roles need", me.roles_to_confirm) }}
                                " its details confirmed. "<a href="/account#roles">"Review your roles"</a>
                            </p>
                        </div>
                    }),
                    _ => None,
                }
            })}
        </Suspense>
    }
}
