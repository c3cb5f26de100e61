//! The organisation tree: nested lists of disclosure widgets. `<details>` opens and closes
//! by keyboard and screen reader without any script, so the tree works before (and without)
//! the WebAssembly.

use leptos::prelude::*;

use crate::domain::org::OrgNode;
use crate::ui::components::tags::{KindTag, StatusTag};

/// Renders a forest. Nodes shallower than `open_depth` start open.
#[component]
pub fn OrgTreeView(nodes: Vec<OrgNode>, open_depth: usize) -> impl IntoView {
    view! { <ul class="org-tree" role="list">{nodes.into_iter().map(|n| node(n, 0, open_depth)).collect_view()}</ul> }
}

fn node(n: OrgNode, depth: usize, open_depth: usize) -> AnyView {
    let href = format!("/orgs/{}", n.org.code);
    let name = n.org.name.clone();
    // The link and the disclosure are separate controls: a link inside a <summary> would be
    // an interactive control nested in another.
    let row = view! {
        <div class="org-tree__row">
            <a href=href class="org-tree__link">{n.org.name.clone()}</a>
            " "
            <span class="org-tree__code">{n.org.code.clone()}</span>
            " "
            <KindTag kind=n.org.kind/>
            <StatusTag status=n.org.status/>
        </div>
    };
    if n.children.is_empty() && n.hidden > 0 {
        let below = if n.hidden == 1 {
            "1 organisation below".to_owned()
        } else {
            format!("{} organisations below", n.hidden)
        };
        let label = format!("{below} {name}");
        view! {
            <li class="org-tree__item org-tree__leaf">
                {row}
                <a class="org-tree__more" href=format!("/orgs/{}", n.org.code) aria-label=label>{below}</a>
            </li>
        }
        .into_any()
    } else if n.children.is_empty() {
        view! { <li class="org-tree__item org-tree__leaf">{row}</li> }.into_any()
    } else {
        let count = n.children.len();
        let kids = n
            .children
            .into_iter()
            .map(|c| node(c, depth + 1, open_depth))
            .collect_view();
        let label = if count == 1 {
            format!("1 organisation under {name}")
        } else {
            format!("{count} organisations under {name}")
        };
        view! {
            <li class="org-tree__item">
                {row}
                <details open=depth < open_depth>
                    <summary>{label}</summary>
                    <ul role="list">{kids}</ul>
                </details>
            </li>
        }
        .into_any()
    }
}
