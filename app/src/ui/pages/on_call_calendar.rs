//! The account page's calendar feed section: make a private URL for one's on-call shifts
//! (shown once, as it is the only key to the feed), make a new one, or revoke it.

use leptos::prelude::*;

use crate::api::rotas::{CreateCalendarFeed, RevokeCalendarFeed, my_calendar_feed};
use crate::domain::rota::CalendarFeedView;
use crate::error::AppError;
use crate::ui::components::forms::{ErrorSummary, posted_notice};

/// The section's actions and resource, made by the page outside any part the server may
/// render more than once.
#[derive(Clone, Copy)]
pub struct CalendarParts {
    create: ServerAction<CreateCalendarFeed>,
    revoke: ServerAction<RevokeCalendarFeed>,
    status: Resource<Result<CalendarFeedView, AppError>>,
}

impl CalendarParts {
    pub fn new() -> Self {
        let create = ServerAction::<CreateCalendarFeed>::new();
        let revoke = ServerAction::<RevokeCalendarFeed>::new();
        let status = Resource::new(
            move || (create.version().get(), revoke.version().get()),
            |_| my_calendar_feed(),
        );
        Self {
            create,
            revoke,
            status,
        }
    }
}

impl Default for CalendarParts {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn CalendarFeed(parts: CalendarParts) -> impl IntoView {
    let CalendarParts {
        create,
        revoke,
        status,
    } = parts;
    let error = Signal::derive(move || {
        create
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| revoke.value().get().and_then(|r| r.err()))
            .map(|e| e.to_string())
    });
    // The new address, from the answer to making it: it is shown this once.
    let fresh = move || {
        create
            .value()
            .get()
            .and_then(|r| r.ok())
            .and_then(|v| v.url)
    };
    let shown = |url: String| {
        view! {
            <div class="notice" role="status">
                <p><strong>"Your calendar address (shown only now):"</strong></p>
                <p><label for="calendar-url">"Calendar address"</label>
                <input id="calendar-url" type="text" readonly=true value=url/></p>
                <p>"Copy it into your calendar app as a subscription. Making a new one stops this one working."</p>
            </div>
        }
    };
    view! {
        <section aria-labelledby="calendar-heading" id="calendar">
            <h2 id="calendar-heading">"On-call calendar"</h2>
            <p>"Subscribe to your on-call shifts for the next 8 weeks in your calendar app. The address is private: anyone who has it can see your shifts, so keep it to yourself, and revoke it if it leaks."</p>
            <ErrorSummary error/>
            {posted_notice::<RevokeCalendarFeed>(|_| "Your calendar feed is revoked: its address no longer works.".to_owned())}
            {move || fresh().map(shown)}
            <Suspense fallback=|| view! { <p role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (since, made_without_script) = status
                        .await
                        .map(|s| (s.since, s.url))
                        .unwrap_or_default();
                    let live = since.is_some();
                    // A plain form post made it (no JavaScript): its address comes this way,
                    // unless the form's own answer is showing it already.
                    let made = made_without_script.filter(|_| fresh().is_none()).map(shown);
                    view! {
                        {made}
                        <p>{match &since {
                            Some(s) => format!("You have a calendar feed, made {s}."),
                            None => "You have no calendar feed.".to_string(),
                        }}</p>
                        <ActionForm action=create attr:class="inline-form">
                            <button type="submit" class="button">{if live { "Make a new calendar address" } else { "Make a calendar address" }}</button>
                        </ActionForm>
                        {live.then(|| view! {
                            <ActionForm action=revoke attr:class="inline-form">
                                <button type="submit" class="button button--secondary">"Revoke my calendar address"</button>
                            </ActionForm>
                        })}
                    }
                })}
            </Suspense>
        </section>
    }
}
