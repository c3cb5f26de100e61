//! Building the organisation tree from flat rows, and narrowing it to what a search matches.

use std::collections::{HashMap, HashSet};

use super::org::{OrgNode, OrgSummary};

/// Builds the forest of organisations from `(id, summary)` rows and current
/// `(child_id, parent_id)` links. Organisations without a current parent become roots.
/// Siblings are ordered by kind, then name. A link that would form a cycle is ignored,
/// so bad data can never make the tree endless.
pub fn build(orgs: Vec<(i64, OrgSummary)>, links: &[(i64, i64)]) -> Vec<OrgNode> {
    let known: HashSet<i64> = orgs.iter().map(|(id, _)| *id).collect();
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut has_parent: HashSet<i64> = HashSet::new();
    for &(child, parent) in links {
        if child != parent
            && known.contains(&child)
            && known.contains(&parent)
            && has_parent.insert(child)
        {
            children.entry(parent).or_default().push(child);
        }
    }
    let mut by_id: HashMap<i64, OrgSummary> = orgs.into_iter().collect();

    fn grow(
        id: i64,
        by_id: &mut HashMap<i64, OrgSummary>,
        children: &HashMap<i64, Vec<i64>>,
    ) -> Option<OrgNode> {
        // Taking the summary out marks the node as placed; a cycle finds it gone.
        let org = by_id.remove(&id)?;
        let mut kids: Vec<OrgNode> = children
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|c| grow(*c, by_id, children))
            .collect();
        sort(&mut kids);
        Some(OrgNode {
            org,
            children: kids,
            hidden: 0,
        })
    }

    let mut root_ids: Vec<i64> = by_id
        .keys()
        .copied()
        .filter(|id| !has_parent.contains(id))
        .collect();
    root_ids.sort_unstable();
    let mut roots: Vec<OrgNode> = root_ids
        .into_iter()
        .filter_map(|id| grow(id, &mut by_id, &children))
        .collect();
    // Whatever is left sits on a cycle: show it at the top rather than lose it.
    let mut stranded: Vec<i64> = by_id.keys().copied().collect();
    stranded.sort_unstable();
    for id in stranded {
        if let Some(org) = by_id.remove(&id) {
            roots.push(OrgNode {
                org,
                children: Vec::new(),
                hidden: 0,
            });
        }
    }
    sort(&mut roots);
    roots
}

fn sort(nodes: &mut [OrgNode]) {
    nodes.sort_by(|a, b| {
        (a.org.kind, a.org.name.to_lowercase()).cmp(&(b.org.kind, b.org.name.to_lowercase()))
    });
}

/// Whether a search text matches an organisation's name or code, ignoring case.
pub fn matches(org: &OrgSummary, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    q.is_empty() || org.name.to_lowercase().contains(&q) || org.code.to_lowercase().contains(&q)
}

/// Keeps the organisations that match, with all their descendants and the ancestors
/// that lead to them.
pub fn filter(nodes: &[OrgNode], query: &str) -> Vec<OrgNode> {
    if query.trim().is_empty() {
        return nodes.to_vec();
    }
    nodes
        .iter()
        .filter_map(|n| {
            if matches(&n.org, query) {
                Some(n.clone())
            } else {
                let children = filter(&n.children, query);
                (!children.is_empty()).then(|| OrgNode {
                    org: n.org.clone(),
                    children,
                    hidden: 0,
                })
            }
        })
        .collect()
}

/// Number of organisations in a forest.
pub fn count(nodes: &[OrgNode]) -> usize {
    nodes.iter().map(|n| 1 + count(&n.children)).sum()
}

/// Number of organisations in a forest that match a search.
pub fn count_matching(nodes: &[OrgNode], query: &str) -> usize {
    nodes
        .iter()
        .map(|n| usize::from(matches(&n.org, query)) + count_matching(&n.children, query))
        .sum()
}

/// Keeps whole levels of the forest, from the top, while they fit in `budget`
/// organisations (the first level always); each node whose children are cut says how many
/// organisations below it were left out. A national map stays a page, not the country.
pub fn prune(nodes: Vec<OrgNode>, budget: usize) -> Vec<OrgNode> {
    // Sizes of each level, to find how deep fits.
    let mut sizes = Vec::new();
    let mut level: Vec<&OrgNode> = nodes.iter().collect();
    while !level.is_empty() {
        sizes.push(level.len());
        level = level.iter().flat_map(|n| n.children.iter()).collect();
    }
    let mut keep = 0;
    let mut used = 0;
    for (depth, size) in sizes.iter().enumerate() {
        if depth > 0 && used + size > budget {
            break;
        }
        used += size;
        keep = depth + 1;
    }
    fn cut(n: OrgNode, depth: usize, keep: usize) -> OrgNode {
        if depth + 1 >= keep {
            let hidden = count(&n.children) + n.hidden;
            OrgNode {
                org: n.org,
                children: Vec::new(),
                hidden,
            }
        } else {
            OrgNode {
                org: n.org,
                hidden: n.hidden,
                children: n
                    .children
                    .into_iter()
                    .map(|c| cut(c, depth + 1, keep))
                    .collect(),
            }
        }
    }
    nodes.into_iter().map(|n| cut(n, 0, keep)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::{OrgKind, OrgStatus};

    fn org(code: &str, name: &str, kind: OrgKind) -> OrgSummary {
        OrgSummary {
            code: code.into(),
            name: name.into(),
            kind,
            status: OrgStatus::Active,
        }
    }

    fn sample() -> Vec<OrgNode> {
        build(
            vec![
                (1, org("Y56", "London", OrgKind::Region)),
                (2, org("QKK", "South East London ICB", OrgKind::Icb)),
                (3, org("RJZ", "King's College Hospital", OrgKind::Trust)),
                (
                    4,
                    org("RJZ30", "Princess Royal University Hospital", OrgKind::Site),
                ),
                (5, org("RJ1", "Guy's and St Thomas'", OrgKind::Trust)),
                (6, org("72Q", "South East London sub-ICB", OrgKind::SubIcb)),
            ],
            &[(2, 1), (3, 2), (4, 3), (5, 2), (6, 2)],
        )
    }

    #[test]
    fn the_tree_nests_by_current_parent_and_orders_by_kind_then_name() {
        let roots = sample();
        assert_eq!(roots.len(), 1);
        let icb = &roots[0].children[0];
        assert_eq!(icb.org.code, "QKK");
        let codes: Vec<&str> = icb.children.iter().map(|n| n.org.code.as_str()).collect();
        assert_eq!(codes, ["72Q", "RJ1", "RJZ"]);
        assert_eq!(icb.children[2].children[0].org.code, "RJZ30");
        assert_eq!(count(&roots), 6);
    }

    #[test]
    fn a_cycle_does_not_loop_or_lose_anyone() {
        let roots = build(
            vec![
                (1, org("AAA", "A", OrgKind::Trust)),
                (2, org("BBB", "B", OrgKind::Trust)),
            ],
            &[(1, 2), (2, 1)],
        );
        assert_eq!(count(&roots), 2);
    }

    #[test]
    fn links_to_unknown_organisations_leave_the_child_at_the_top() {
        let roots = build(vec![(1, org("AAA", "A", OrgKind::Trust))], &[(1, 99)]);
        assert_eq!(roots.len(), 1);
    }

    #[test]
    fn filtering_keeps_matches_their_subtrees_and_their_ancestors() {
        let found = filter(&sample(), "king's");
        assert_eq!(count(&found), 4, "region, ICB, King's and its site");
        let trust = &found[0].children[0].children[0];
        assert_eq!(trust.org.code, "RJZ");
        assert_eq!(trust.children.len(), 1);
    }

    #[test]
    fn pruning_keeps_whole_levels_within_the_budget_and_counts_what_it_left_out() {
        let whole = prune(sample(), 100);
        assert_eq!(count(&whole), 6, "everything fits");
        // Region, ICB and its three children fit in 5; King's site does not.
        let five = prune(sample(), 5);
        assert_eq!(count(&five), 5);
        let kings = &five[0].children[0].children[2];
        assert_eq!((kings.org.code.as_str(), kings.hidden), ("RJZ", 1));
        let two = prune(sample(), 3);
        assert_eq!(
            count(&two),
            2,
            "region and ICB; the next level of three does not fit"
        );
        assert_eq!(two[0].children[0].hidden, 4);
        let one = prune(sample(), 0);
        assert_eq!(
            (count(&one), one[0].hidden),
            (1, 5),
            "the top level always shows"
        );
        assert_eq!(count_matching(&sample(), "hospital"), 2);
    }

    #[test]
    fn filtering_matches_codes_and_an_empty_query_keeps_everything() {
        assert_eq!(count(&filter(&sample(), "rjz30")), 4);
        assert_eq!(count(&filter(&sample(), "  ")), 6);
        assert!(filter(&sample(), "nowhere").is_empty());
    }
}
