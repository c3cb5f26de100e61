//! Long lists shown a page at a time: 50 rows a page, pages numbered from 1.

use serde::{Deserialize, Serialize};

/// Rows on one page of a long list.
pub const PER_PAGE: u64 = 50;

/// One page of a longer list, with where it sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// This page, from 1.
    pub page: u64,
    /// How many pages there are (at least 1, even when the list is empty).
    pub pages: u64,
    /// How many rows in all.
    pub total: u64,
}

/// Which page to show of `total` rows when `asked` is asked for, and the rows to skip to
/// reach it: a page past the end shows the last, and 0 the first.
pub fn window(asked: u64, total: u64) -> (u64, u64) {
    let pages = pages(total);
    let page = asked.clamp(1, pages);
    (page, (page - 1) * PER_PAGE)
}

fn pages(total: u64) -> u64 {
    total.div_ceil(PER_PAGE).max(1)
}

impl<T> Listing<T> {
    /// The `asked` page of `all`, already in order.
    pub fn of(all: Vec<T>, asked: u64) -> Self {
        let total = all.len() as u64;
        let (page, skip) = window(asked, total);
        let items = all
            .into_iter()
            .skip(skip as usize)
            .take(PER_PAGE as usize)
            .collect();
        Self::from_page(items, page, total)
    }

    /// A page read by the database, `page` being what `window` chose.
    pub fn from_page(items: Vec<T>, page: u64, total: u64) -> Self {
        Self {
            items,
            page,
            pages: pages(total),
            total,
        }
    }
}

/// The page a `?page=` query asks for: anything that is not a positive number is the first.
pub fn asked_page(query: Option<&str>) -> u64 {
    query
        .and_then(|q| q.trim().parse::<u64>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_hold_fifty_rows_and_asking_past_the_end_shows_the_last() {
        let all: Vec<u32> = (0..120).collect();
        let first = Listing::of(all.clone(), 1);
        assert_eq!(
            (first.items.len(), first.page, first.pages, first.total),
            (50, 1, 3, 120)
        );
        assert_eq!(first.items[0], 0);
        let last = Listing::of(all.clone(), 3);
        assert_eq!(last.items, (100..120).collect::<Vec<_>>());
        assert_eq!(Listing::of(all.clone(), 99).page, 3);
        assert_eq!(Listing::of(all, 0).page, 1);
        let none = Listing::of(Vec::<u32>::new(), 4);
        assert_eq!((none.page, none.pages, none.total), (1, 1, 0));
        assert_eq!(window(2, 51), (2, 50));
        assert_eq!(window(2, 50), (1, 0));
    }

    #[test]
    fn a_page_query_that_is_not_a_positive_number_is_the_first_page() {
        assert_eq!(asked_page(Some("3")), 3);
        assert_eq!(asked_page(Some(" 2 ")), 2);
        for bad in ["0", "-1", "x", "", "99999999999999999999999"] {
            assert_eq!(asked_page(Some(bad)), 1, "{bad}");
        }
        assert_eq!(asked_page(None), 1);
    }
}
