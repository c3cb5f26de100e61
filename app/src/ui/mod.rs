//! The app shell, the routes and the layout every page shares.

pub mod auth;
pub mod components;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use components::layout::Layout;
use pages::{
    account::AccountPage,
    assets::{AssetPage, AssetsPage},
    breakglass::BreakGlassPage,
    caf::CafPage,
    chart::ChartPage,
    contacts::ContactsPage,
    escalation::{AckPage, EscalationPage, InboxPage},
    exercises::{ExerciseReportPage, ExercisesPage},
    import::{ImportPage, ImportProgressPage},
    incidents::{
        DeclarePage, IncidentPage, IncidentPrintPage, IncidentsPage, MyTasksPage, TimelinesPage,
    },
    invite::InvitePage,
    not_found::NotFound,
    on_call::OnCallPage,
    org_page::OrgPage,
    org_tree::OrgTreePage,
    overview::OverviewPage,
    reviews::ReviewPage,
    runbooks::{RunbookPage, RunbooksPage},
    sign_in::SignInPage,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en-GB">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Under its content-hashed name when the build hashes files (cached for good).
                <HashedStylesheet id="wardline" options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    auth::provide_auth();
    // `<Redirect/>` on the server goes through the one safe redirect, like every other.
    #[cfg(feature = "ssr")]
    leptos_router::components::provide_server_redirect(crate::backend::http::redirect);
    // Answers to plain form posts, taken once per page drawn (see `backend::answers`).
    #[cfg(feature = "ssr")]
    provide_context(crate::backend::answers::Taken::default());
    view! {
        // Every page title passes through here, and may hold what people typed (an asset's name,
        // a runbook's title): written as raw text so it cannot close the `<title>`.
        <Title formatter=|page: String| components::raw_text::as_raw_text(&format!("{page} – Wardline"))/>
        <Router>
            <Layout>
                // Async: pages arrive whole, so they read fully with JavaScript off.
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=OrgTreePage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs") view=OrgTreePage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:code") view=OrgPage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:code/chart") view=ChartPage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:code/assets") view=AssetsPage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:code/break-glass") view=BreakGlassPage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:code/exercises") view=ExercisesPage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:code/caf") view=CafPage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:code/on-call") view=OnCallPage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:code/integrations") view=crate::ui::pages::integrations::IntegrationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/incidents/:reference/exercise-report") view=ExerciseReportPage ssr=SsrMode::Async/>
                    <Route path=path!("/incidents/:reference/review") view=ReviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/assets/:id") view=AssetPage ssr=SsrMode::Async/>
                    <Route path=path!("/overview") view=OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/declare") view=DeclarePage ssr=SsrMode::Async/>
                    <Route path=path!("/incidents") view=IncidentsPage ssr=SsrMode::Async/>
                    <Route path=path!("/incidents/:reference") view=IncidentPage ssr=SsrMode::Async/>
                    <Route path=path!("/incidents/:reference/print") view=IncidentPrintPage ssr=SsrMode::Async/>
                    <Route path=path!("/runbooks") view=RunbooksPage ssr=SsrMode::Async/>
                    <Route path=path!("/runbooks/:kind") view=RunbookPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/timelines") view=TimelinesPage ssr=SsrMode::Async/>
                    <Route path=path!("/escalation") view=EscalationPage ssr=SsrMode::Async/>
                    <Route path=path!("/contacts") view=ContactsPage ssr=SsrMode::Async/>
                    <Route path=path!("/inbox") view=InboxPage ssr=SsrMode::Async/>
                    <Route path=path!("/ack/:token") view=AckPage ssr=SsrMode::Async/>
                    <Route path=path!("/tasks") view=MyTasksPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/import") view=ImportPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/import/:id") view=ImportProgressPage ssr=SsrMode::Async/>
                    <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/invite/:token") view=InvitePage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}
