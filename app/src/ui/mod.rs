//! The app shell, the routes and the layout every page shares.

pub mod components;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use components::layout::Layout;
use pages::{not_found::NotFound, org_page::OrgPage, org_tree::OrgTreePage};

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
                <HydrationScripts options/>
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
    view! {
        <Stylesheet id="wardline" href="/pkg/wardline.css"/>
        <Title formatter=|page: String| format!("{page} – Wardline")/>
        <Router>
            <Layout>
                // Async: pages arrive whole, so they read fully with JavaScript off.
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=OrgTreePage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs") view=OrgTreePage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:code") view=OrgPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}
