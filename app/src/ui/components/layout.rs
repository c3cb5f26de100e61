//! The frame of every page: skip link, header with navigation, main landmark, footer.

use leptos::prelude::*;
use leptos_router::components::A;

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
                        <li><A href="/orgs">"Organisations"</A></li>
                    </ul>
                </nav>
            </div>
        </header>
        <main id="main-content" class="container" tabindex="-1">
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
