//! Accepting an invitation: the person sets their own password.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::auth::AcceptInvite;
use crate::ui::components::forms::ErrorSummary;

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let accept = ServerAction::<AcceptInvite>::new();
    let error = Signal::derive(move || {
        accept
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    // A plain form post: once the account is made the server sends the browser to sign in.
    view! {
        <Title text="Join Wardline"/>
        <h1>"Join Wardline"</h1>
                <ErrorSummary error/>
                <p>"Choose a password to finish setting up your account."</p>
                <p class="hint">"Already have a Wardline account? Sign in instead: the invitation waits for you on your account page."</p>
                <ActionForm action=accept attr:class="form">
                    <input type="hidden" name="token" value=token/>
                    <div class="form-group">
                        <label for="new-password">"Password"</label>
                        <p class="hint" id="new-password-hint">"At least 8 characters. A few unrelated words make a strong password."</p>
                        <input id="new-password" name="password" type="password" autocomplete="new-password" aria-describedby="new-password-hint" required/>
                    </div>
                    <button type="submit" class="button">"Create my account"</button>
                </ActionForm>
    }
}
