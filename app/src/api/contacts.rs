//! Contact methods: the caller's own mobile number for text messages (add, verify with the
//! code texted to it, send a test, remove), and an admin's view of someone's.

use leptos::prelude::*;

use crate::domain::contacts::MobileView;
use crate::error::AppError;

/// The caller's own mobile number, if they have added one.
#[server(endpoint = "contacts/mine")]
pub async fn my_mobile() -> Result<Option<MobileView>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::contacts::mine(&state.db, &user).await
        }
        .await,
    )
}

/// Someone's mobile number, for an admin of their organisation.
#[server(endpoint = "contacts/of_person")]
pub async fn mobile_of_person(email: String) -> Result<Option<MobileView>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::contacts::of_person(&state.db, &user, &email).await
        }
        .await,
    )
}

/// Adds (or replaces) the caller's mobile number and texts a code to it.
#[server(endpoint = "contacts/add_mobile")]
pub async fn add_mobile(mobile: String) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let client = crate::backend::caller::client_ip().await.ok();
            state.limits.action(user.person_id, "contact").await?;
            crate::backend::contacts::add_mobile(
                &state.db,
                state.texts.as_ref(),
                &user,
                &mobile,
                client,
            )
            .await
        }
        .await,
    )
}

/// Texts a new code to the caller's number waiting to be verified.
#[server(endpoint = "contacts/resend_code")]
pub async fn resend_code() -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let client = crate::backend::caller::client_ip().await.ok();
            state.limits.action(user.person_id, "contact").await?;
            crate::backend::contacts::resend_code(&state.db, state.texts.as_ref(), &user, client)
                .await
        }
        .await,
    )
}

/// Verifies the caller's number with the code texted to it.
#[server(endpoint = "contacts/verify_mobile")]
pub async fn verify_mobile(code: String) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let client = crate::backend::caller::client_ip().await.ok();
            crate::backend::contacts::verify_mobile(&state.db, &user, &code, client).await
        }
        .await,
    )
}

/// Removes the caller's mobile number.
#[server(endpoint = "contacts/remove_mobile")]
pub async fn remove_mobile() -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let client = crate::backend::caller::client_ip().await.ok();
            crate::backend::contacts::remove_mobile(&state.db, &user, client).await
        }
        .await,
    )
}

/// Sends a test text to the caller's verified number.
#[server(endpoint = "contacts/test_text")]
pub async fn send_test_text() -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let client = crate::backend::caller::client_ip().await.ok();
            state.limits.action(user.person_id, "contact").await?;
            crate::backend::contacts::send_test(&state.db, state.texts.as_ref(), &user, client)
                .await
        }
        .await,
    )
}

/// The caller's notification rules, and what pages them now.
#[server(endpoint = "contacts/rules")]
pub async fn my_rules() -> Result<crate::domain::paging::RulesView, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::paging::mine(&state.db, &user).await
        }
        .await,
    )
}

/// Adds a notification rule for the caller: a channel (`email`, `sms`) and a delay in
/// minutes (0 to 120).
#[server(endpoint = "contacts/add_rule")]
pub async fn add_rule(channel: String, delay_minutes: String) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let client = crate::backend::caller::client_ip().await.ok();
            state.limits.action(user.person_id, "rule").await?;
            crate::backend::paging::add(&state.db, &user, &channel, &delay_minutes, client).await
        }
        .await,
    )
}

/// Removes one of the caller's notification rules.
#[server(endpoint = "contacts/remove_rule")]
pub async fn remove_rule(id: i64) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let client = crate::backend::caller::client_ip().await.ok();
            state.limits.action(user.person_id, "rule").await?;
            crate::backend::paging::remove(&state.db, &user, id, client).await
        }
        .await,
    )
}
