//! Small labels: an organisation's kind and status.

use leptos::prelude::*;

use crate::domain::org::{OrgKind, OrgStatus};

#[component]
pub fn KindTag(kind: OrgKind) -> impl IntoView {
    view! { <span class=format!("tag tag--{}", kind.as_str())>{kind.label()}</span> }
}

#[component]
pub fn StatusTag(status: OrgStatus) -> impl IntoView {
    (status == OrgStatus::Closed).then(|| view! { <span class="tag tag--closed">"Closed"</span> })
}
