//! The post-incident review page: what happened, what went well, the lessons, and actions
//! with owners and due dates followed until closed. Plain form posts throughout.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::reviews::{AddReviewAction, CloseReviewAction, SaveReview, get_review};
use crate::domain::incidents::Candidate;
use crate::domain::reviews::{ActionView, ReviewView};
use crate::error::AppError;
use crate::ui::components::forms::ErrorSummary;
use crate::ui::components::raw_text::TextArea;

#[component]
pub fn ReviewPage() -> impl IntoView {
    let params = use_params_map();
    let reference = move || params.read().get("reference").unwrap_or_default();
    let save = ServerAction::<SaveReview>::new();
    let add = ServerAction::<AddReviewAction>::new();
    let close = ServerAction::<CloseReviewAction>::new();
    let review = Resource::new(
        move || {
            (
                reference(),
                save.version().get() + add.version().get() + close.version().get(),
            )
        },
        |(r, _)| get_review(r),
    );
    let error = Signal::derive(move || {
        fn err<T>(v: Option<Result<T, AppError>>) -> Option<String> {
            v.and_then(|r| r.err()).map(|e| e.to_string())
        }
        err(save.value().get())
            .or_else(|| err(add.value().get()))
            .or_else(|| err(close.value().get()))
    });
    view! {
        <Suspense fallback=|| view! { <p role="status">"Loading the review…"</p> }>
            {move || Suspend::new(async move {
                match review.await {
                    Ok(r) => {
                        let r2 = r.reference.clone();
                        view! {
                        <Title text=format!("Review of {}", r.reference)/>
                        {r.exercise.then(|| view! { <p class="exercise-banner" role="note">"EXERCISE: not a real incident"</p> })}
                        <h1>{format!("Post-incident review: {} ({})", r.title, r.reference)}</h1>
                        <p class="lede"><a href=format!("/incidents/{}", r.reference)>"Back to the incident"</a>{r.updated.clone().map(|u| format!(". Last saved {u}."))}</p>
                        <ErrorSummary error/>
                        <ReviewText review=r.clone() save/>
                        <h2 id="actions-heading">"Actions"</h2>
                        <Actions list=r.actions.clone() close/>
                        {r.can_edit.then(|| view! { <AddAction reference=r2 owners=r.owners.clone() add/> })}
                    }.into_any()
                    }
                    Err(e) => view! { <Title text="Review"/><h1>"Post-incident review"</h1><p class="error-summary" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The review's three texts: a form for those who may edit it, else the texts as written.
#[component]
fn ReviewText(review: ReviewView, save: ServerAction<SaveReview>) -> impl IntoView {
    if review.can_edit {
        view! {
            <ActionForm action=save attr:class="form">
                <input type="hidden" name="reference" value=review.reference.clone()/>
                <div class="form-group">
                    <label for="what-happened">"What happened"</label>
                    <TextArea text=review.what_happened.clone() attr:id="what-happened" attr:name="what_happened" attr:rows="5"/>
                </div>
                <div class="form-group">
                    <label for="went-well">"What went well"</label>
                    <TextArea text=review.went_well.clone() attr:id="went-well" attr:name="went_well" attr:rows="4"/>
                </div>
                <div class="form-group">
                    <label for="lessons">"Lessons"</label>
                    <TextArea text=review.lessons.clone() attr:id="lessons" attr:name="lessons" attr:rows="4"/>
                </div>
                <button type="submit" class="button">"Save the review"</button>
            </ActionForm>
        }.into_any()
    } else {
        view! {
            <h2>"What happened"</h2><p class="prewrap">{or_none(&review.what_happened)}</p>
            <h2>"What went well"</h2><p class="prewrap">{or_none(&review.went_well)}</p>
            <h2>"Lessons"</h2><p class="prewrap">{or_none(&review.lessons)}</p>
        }
        .into_any()
    }
}

/// Adding an action to the review, with an owner and a due date.
#[component]
fn AddAction(
    reference: String,
    owners: Vec<Candidate>,
    add: ServerAction<AddReviewAction>,
) -> impl IntoView {
    view! {
        <h3 id="add-heading">"Add an action"</h3>
        <ActionForm action=add attr:class="form" attr:aria-labelledby="add-heading">
            <input type="hidden" name="reference" value=reference/>
            <div class="form-group">
                <label for="action-title">"Action"</label>
                <input id="action-title" name="title" type="text" required/>
            </div>
            <div class="form-group">
                <label for="action-owner">"Owner"</label>
                <select id="action-owner" name="owner_id">
                    {owners.iter().map(|o| view! { <option value=o.person_id.to_string()>{o.label.clone()}</option> }).collect_view()}
                </select>
            </div>
            <div class="form-group">
                <label for="action-due">"Due by"</label>
                <input id="action-due" name="due_on" type="date" required/>
            </div>
            <button type="submit" class="button button--secondary">"Add action"</button>
        </ActionForm>
    }
}

fn or_none(s: &str) -> String {
    if s.is_empty() {
        "Not written yet.".into()
    } else {
        s.to_owned()
    }
}

/// Review actions with their owners, due dates and closing forms; used here and on "my tasks".
#[component]
pub fn Actions(list: Vec<ActionView>, close: ServerAction<CloseReviewAction>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p>"No actions."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">"Review actions"</caption>
                <thead><tr><th scope="col">"Action"</th><th scope="col">"Owner"</th><th scope="col">"Due"</th><th scope="col">"State"</th></tr></thead>
                <tbody>
                    {list.into_iter().map(|a| view! {
                        <tr class:overdue=a.overdue>
                            <th scope="row">{a.title.clone()}" "<a href=format!("/incidents/{}/review", a.reference)>{format!("({})", a.reference)}</a></th>
                            <td>{a.owner.clone()}</td>
                            <td>{a.due_on.clone()}{a.overdue.then(|| view! { " " <span class="tag tag--gap">"Overdue"</span> })}</td>
                            <td>{match (a.closed.clone(), a.can_close) {
                                (Some(c), _) => view! { {c} }.into_any(),
                                (None, true) => view! {
                                    <ActionForm action=close attr:class="inline-fields">
                                        <input type="hidden" name="id" value=a.id.to_string()/>
                                        <label for=format!("close-note-{}", a.id)>{format!("Note on closing “{}”", a.title)}</label>
                                        <input id=format!("close-note-{}", a.id) name="note" type="text"/>
                                        <button type="submit" class="button button--secondary">{format!("Close: {}", a.title)}</button>
                                    </ActionForm>
                                }.into_any(),
                                (None, false) => view! { "Open" }.into_any(),
                            }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
