//! The lists people work from: "My tasks" grouped by incident with the most urgent first,
//! the incident list with one's own first, and the inbox with the unread first, the long
//! ones a page of 50 at a time.

use app::backend::entity::{incident, notification, task};
use app::domain::incidents::{IncidentLevel, IncidentStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, NotSet, QueryFilter, Set,
};
use time::{Duration, OffsetDateTime};

use crate::helpers::people::{AISHA, GARETH, NADIA, OWEN};
use crate::helpers::spawn_app;

#[tokio::test]
async fn my_tasks_are_grouped_under_their_incidents_the_overdue_one_first() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    // The ICB's cyber lead holds the practice's triage tasks.
    let lead = app.enrolled(GARETH).await;
    let first = app.declare(&nadia, "ransomware").await;
    let second = app.declare(&nadia, "lost_device").await;

    // Newest first while nothing is overdue: the second was declared later, but both are
    // the same level, so the one whose first task falls due soonest leads.
    let before = app.my_worklist(&lead).await;
    let refs: Vec<&str> = before.iter().map(|w| w.reference.as_str()).collect();
    assert!(
        refs.contains(&first.as_str()) && refs.contains(&second.as_str()),
        "{refs:?}"
    );
    let flat = app.my_tasks(&lead).await;
    assert_eq!(
        before.iter().map(|w| w.tasks.len()).sum::<usize>(),
        flat.len(),
        "every open task appears once, under its incident"
    );
    for item in &before {
        assert!(
            item.tasks
                .iter()
                .all(|t| t.incident_reference == item.reference)
        );
        assert_eq!(item.org_name, "Stockwell Group Practice");
        assert!(!item.exercise);
        assert_eq!(item.overdue(), 0);
    }

    // One of the second incident's tasks falls overdue: that incident goes to the top.
    let id = app.incident_id(&second).await;
    let t = task::Entity::find()
        .filter(task::Column::IncidentId.eq(id))
        .filter(task::Column::AssigneeId.eq(app.person_id(GARETH).await))
        .one(&app.state().db)
        .await
        .unwrap()
        .expect("a task of Gareth's");
    let mut late = t.into_active_model();
    late.due_at = Set(OffsetDateTime::now_utc() - Duration::minutes(5));
    late.update(&app.state().db).await.unwrap();
    let after = app.my_worklist(&lead).await;
    assert_eq!(after[0].reference, second);
    assert_eq!(after[0].overdue(), 1);

    // Someone at another trust has none of the practice's tasks in theirs.
    let aisha = app.signed_in_as(AISHA).await;
    assert!(
        app.my_worklist(&aisha)
            .await
            .iter()
            .all(|w| w.reference != first && w.reference != second)
    );
}

#[tokio::test]
async fn the_incident_list_puts_ones_own_first_and_goes_a_page_of_fifty_at_a_time() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let own = app.declare(&nadia, "ransomware").await;
    // 55 newer incidents at the practice that are not hers.
    let db = &app.state().db;
    let model = incident::Entity::find()
        .filter(incident::Column::Reference.eq(own.clone()))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let owen = app.person_id(OWEN).await;
    for n in 0..55 {
        let mut copy = model.clone().into_active_model();
        copy.id = NotSet;
        copy.reference = Set(format!("WL-TEST-{n:03}"));
        copy.declared_by = Set(owen);
        copy.declared_at = Set(model.declared_at + Duration::minutes(n + 1));
        // The newest is already stood down; an older one is a major incident.
        if n == 54 {
            copy.status = Set(IncidentStatus::StoodDown);
        }
        if n == 10 {
            copy.level = Set(IncidentLevel::Major);
        }
        copy.insert(db).await.unwrap();
    }

    let first = app.incident_page(&nadia, 1).await;
    assert_eq!((first.page, first.pages, first.total), (1, 2, 56));
    assert_eq!(first.items.len(), 50);
    assert_eq!(
        first.items[0].reference, own,
        "her own first, though the oldest"
    );
    assert!(first.items[0].mine);
    assert_eq!(
        first.items[1].reference, "WL-TEST-010",
        "then the open major incident, though older"
    );
    assert!(!first.items[1].mine);
    assert_eq!(
        first.items[2].reference, "WL-TEST-053",
        "then the newest open"
    );
    let second = app.incident_page(&nadia, 2).await;
    assert_eq!(second.items.len(), 6);
    assert_eq!(
        second.items.last().unwrap().reference,
        "WL-TEST-054",
        "the stood-down one last, though the newest"
    );
    assert_eq!(second.items[4].reference, "WL-TEST-000");
    assert_eq!(
        app.incident_page(&nadia, 99).await.page,
        2,
        "past the end shows the last page"
    );

    // A page that is not a number is refused with a message, never a server error.
    for bad in ["x", "-1", "1e9", "<b>2</b>"] {
        let res = app
            .post_with(&nadia, "/api/incidents/list", &[("page", bad)])
            .await;
        assert!(res.status().is_client_error(), "{bad}: {}", res.status());
    }

    // Another trust's staff see none of them.
    let aisha = app.signed_in_as(AISHA).await;
    let theirs = app.incident_page(&aisha, 1).await;
    assert!(
        theirs
            .items
            .iter()
            .all(|r| !r.reference.starts_with("WL-TEST-") && r.reference != own)
    );
}

#[tokio::test]
async fn the_inbox_shows_the_unread_first_and_goes_a_page_of_fifty_at_a_time() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let lead = app.enrolled(GARETH).await;
    app.declare(&nadia, "ransomware").await;
    let db = &app.state().db;
    let person = app.person_id(GARETH).await;
    let mine = notification::Entity::find()
        .filter(notification::Column::PersonId.eq(person))
        .filter(notification::Column::Channel.eq("inbox"))
        .all(db)
        .await
        .unwrap();
    let told = mine.len();
    assert!(told >= 1, "Gareth was told of his tasks");
    // 59 more, the first 30 of them (the older ones) read.
    for n in 0..59 {
        let mut copy = mine[0].clone().into_active_model();
        copy.id = NotSet;
        copy.round = Set(1000 + n);
        copy.title = Set(format!("Notice {n:02}"));
        copy.read_at = Set((n < 30).then(OffsetDateTime::now_utc));
        copy.insert(db).await.unwrap();
    }
    let unread = told + 29;
    let first = app.inbox_page(&lead, 1).await;
    assert_eq!(first.total as usize, told + 59);
    assert_eq!((first.page, first.pages), (1, 2));
    assert_eq!(first.items.len(), 50);
    assert_eq!(first.items[0].title, "Notice 58", "the newest unread first");
    let all: Vec<_> = first
        .items
        .iter()
        .chain(app.inbox_page(&lead, 2).await.items.iter())
        .map(|i| i.read)
        .collect::<Vec<_>>();
    assert_eq!(all.len(), told + 59);
    assert!(
        all[..unread].iter().all(|read| !read),
        "the {unread} unread come first"
    );
    assert!(all[unread..].iter().all(|read| *read), "then the read ones");
}
