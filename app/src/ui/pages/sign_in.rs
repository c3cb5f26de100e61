//! Signing in: email and password, then a code from an authenticator app when the account
//! has one. Works as plain form posts before the WebAssembly loads.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{SecondFactor, SignIn};
use crate::domain::auth::AuthStatus;
use crate::domain::redirect::after_sign_in;
use crate::ui::auth::use_auth;
use crate::ui::components::forms::ErrorSummary;

#[component]
pub fn SignInPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let next = move || after_sign_in(query.read().get("next").as_deref());
    let sign_in = ServerAction::<SignIn>::new();
    let second = ServerAction::<SecondFactor>::new();
    // Plain form posts: each brings the browser back here, and the session says what comes
    // next (the code, or on to the page asked for).
    let joined = query.read_untracked().get("joined").is_some();
    let sso_refusal = query
        .read_untracked()
        .get("sso")
        .and_then(|c| crate::domain::auth::sso_refusal(&c));
    let providers = Resource::new(|| (), |_| crate::api::auth::sso_providers());

    view! {
        <Title text="Sign in"/>
        <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let status = auth.status.await.unwrap_or(AuthStatus::Anonymous);
                match status {
                    AuthStatus::SignedIn(me) => {
                        #[cfg(feature = "ssr")]
                        crate::backend::http::redirect(&next());
                        view! {
                            <h1>"You are signed in"</h1>
                            <p>{format!("Signed in as {}. ", me.name)}<a href=next()>"Continue"</a></p>
                        }.into_any()
                    }
                    AuthStatus::SecondFactor => view! { <CodeForm action=second/> }.into_any(),
                    AuthStatus::Anonymous => {
                        let providers = providers.await.unwrap_or_default();
                        let next_here = next();
                        view! {
                            {joined.then(|| view! { <div class="notice" role="status"><p>"Your account is ready. Sign in with your email address and the password you chose."</p></div> })}
                            {sso_refusal.map(|why| view! { <div class="error-summary" role="alert" tabindex="-1"><h2 class="error-summary__title">"There is a problem"</h2><p>{why}</p></div> })}
                            <PasswordForm action=sign_in/>
                            {(!providers.is_empty()).then(|| view! {
                                <h2 id="sso-heading">"Or sign in with your organisation's account"</h2>
                                <ul class="plain-list" role="list" aria-labelledby="sso-heading">
                                    {providers.into_iter().map(|(slug, name)| {
                                        let href = format!("/sso/{slug}/start?next={}", crate::domain::redirect::encode(&next_here));
                                        view! { <li><a class="button button--secondary" href=href>{format!("Sign in with {name}")}</a></li> }
                                    }).collect_view()}
                                </ul>
                            })}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn PasswordForm(action: ServerAction<SignIn>) -> impl IntoView {
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    // After a refusal that came back without script, the email typed is kept (the cookie is
    // read while the page renders on the server; the browser keeps it through hydration).
    #[cfg(feature = "ssr")]
    let typed_email = crate::backend::http::typed("email").unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let typed_email = String::new();
    view! {
        <h1>"Sign in"</h1>
        <ErrorSummary error/>
        <ActionForm action attr:class="form" attr:novalidate="">
            <div class="form-group">
                <label for="email">"Email address"</label>
                <input id="email" name="email" type="email" autocomplete="username" spellcheck="false" required value=typed_email/>
            </div>
            <div class="form-group">
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required/>
            </div>
            <button type="submit" class="button">"Sign in"</button>
        </ActionForm>
        <p class="hint">"New to Wardline? Ask your organisation's Wardline admin for an invitation."</p>
    }
}

#[component]
fn CodeForm(action: ServerAction<SecondFactor>) -> impl IntoView {
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <h1>"Enter your security code"</h1>
        <ErrorSummary error/>
        <ActionForm action attr:class="form">
            <div class="form-group">
                <label for="code">"6-digit code from your authenticator app, or a recovery code"</label>
                <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" spellcheck="false" required/>
            </div>
            <button type="submit" class="button">"Continue"</button>
        </ActionForm>
    }
}
