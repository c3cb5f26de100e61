//! External contacts: services Wardline tells but that are not its users (NHS England's
//! CSOC, an ICB's on-call line, a supplier's security desk). National contacts (no
//! organisation) are kept by national admins; an organisation's own by its admins. Every
//! change is audited. Escalation levels name a contact by its key.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::backend::access::{self, Action, User};
use crate::backend::audit;
use crate::backend::entity::{external_contact, organisation};
use crate::domain::escalation::{CSOC, Contact};
use crate::error::AppError;

/// The national CSOC as first seeded. Its email is left empty (no email is sent) until a
/// national admin sets the address NHS England gives for reports.
pub const CSOC_NAME: &str = "NHS England Cyber Security Operations Centre (CSOC)";
pub const CSOC_PHONE: &str = "0300 303 5222";
pub const CSOC_ROUTE: &str = "Report through NHS England's cyber incident reporting route; phone 0300 303 5222 when urgent (24/7), and say whether the report is for information or a request for support.";

/// A contact as a decision needs it.
pub fn contact(m: external_contact::Model) -> Contact {
    Contact {
        id: m.id,
        key: m.key,
        name: m.name,
        phone: m.phone,
        email: m.email,
        reporting_route: m.reporting_route,
    }
}

pub use crate::domain::escalation::ListedContact as Listed;

/// The external contact an outbox row's recipient key names (`external:<id>`), if any.
pub fn key_id(recipient_key: &str) -> Option<i64> {
    recipient_key.strip_prefix("external:")?.parse().ok()
}

/// The external contact an outbox row is for, if it is for one.
pub async fn for_key(
    db: &impl ConnectionTrait,
    recipient_key: &str,
) -> Result<Option<external_contact::Model>, AppError> {
    match key_id(recipient_key) {
        Some(id) => Ok(external_contact::Entity::find_by_id(id).one(db).await?),
        None => Ok(None),
    }
}

/// The names of the external contacts these outbox recipient keys name, read at once, by
/// key.
pub async fn names_for_keys<'a>(
    db: &impl ConnectionTrait,
    keys: impl IntoIterator<Item = &'a str>,
) -> Result<std::collections::HashMap<String, String>, AppError> {
    let ids: std::collections::HashSet<i64> = keys.into_iter().filter_map(key_id).collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(external_contact::Entity::find()
        .filter(external_contact::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (format!("external:{}", c.id), c.name))
        .collect())
}

/// What an admin sends to add or change a contact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactInput {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub reporting_route: String,
}

/// Adds the national CSOC contact if there is none. True when it was added.
pub async fn seed(db: &impl ConnectionTrait) -> Result<bool, AppError> {
    if by_key(db, CSOC).await?.is_some() {
        return Ok(false);
    }
    external_contact::ActiveModel {
        org_id: Set(None),
        key: Set(CSOC.into()),
        name: Set(CSOC_NAME.into()),
        phone: Set(CSOC_PHONE.into()),
        email: Set(String::new()),
        reporting_route: Set(CSOC_ROUTE.into()),
        updated_at: Set(crate::backend::timeline::now()),
        updated_by: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(true)
}

/// The contact with this key.
pub async fn by_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<external_contact::Model>, AppError> {
    Ok(external_contact::Entity::find()
        .filter(external_contact::Column::Key.eq(key))
        .one(db)
        .await?)
}

/// The contacts a caller can see: every national one, and those of organisations they read.
pub async fn list(db: &impl ConnectionTrait, user: &User) -> Result<Vec<Listed>, AppError> {
    let readable = access::readable_orgs(db, user).await?;
    let administered = if user.is_read_only_user() {
        Some(Default::default())
    } else {
        access::administered_orgs(db, user).await?
    };
    let all = external_contact::Entity::find().all(db).await?;
    // The organisations named, read at once.
    let codes: std::collections::HashMap<i64, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(all.iter().filter_map(|m| m.org_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.code))
        .collect();
    let mut out = Vec::new();
    for m in all {
        let org_code = match m.org_id {
            None => None,
            Some(o) if access::within(&readable, o) => codes.get(&o).cloned(),
            Some(_) => continue,
        };
        let editable = match m.org_id {
            None => keeps_national(user),
            Some(o) => access::within(&administered, o),
        };
        out.push(Listed {
            org_code,
            contact: contact(m),
            editable,
        });
    }
    out.sort_by(|a, b| {
        (a.org_code.is_some(), &a.contact.name).cmp(&(b.org_code.is_some(), &b.contact.name))
    });
    Ok(out)
}

/// Checks what an admin sent.
fn checked(input: &ContactInput) -> Result<ContactInput, AppError> {
    let bad = |m: &str| Err(AppError::Invalid(m.into()));
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return bad("Give the contact a name of up to 200 characters.");
    }
    let phone = input.phone.trim();
    if phone.chars().count() > 40
        || !phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +()-".contains(c))
    {
        return bad("Give a telephone number in digits, like 0300 303 5222.");
    }
    let email = match input.email.trim() {
        "" => String::new(),
        e => crate::domain::auth::Email::parse(e)
            .map_err(AppError::Invalid)?
            .as_str()
            .to_owned(),
    };
    let route = input.reporting_route.trim();
    if route.chars().count() > 2000 {
        return bad("Keep the reporting route to 2,000 characters.");
    }
    if phone.is_empty() && email.is_empty() && route.is_empty() {
        return bad("Give at least a telephone number, an email address or a reporting route.");
    }
    Ok(ContactInput {
        name: name.into(),
        phone: phone.into(),
        email,
        reporting_route: route.into(),
    })
}

/// A key as policies name it: lower-case letters, digits, `-` and `_`, up to 64.
fn checked_key(key: &str) -> Result<String, AppError> {
    let key = key.trim().to_ascii_lowercase();
    if key.is_empty()
        || key.len() > 64
        || !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(AppError::Invalid(
            "Give the contact a short key of letters, digits, - or _.".into(),
        ));
    }
    Ok(key)
}

/// Whether the caller keeps national contacts: a national admin who may write.
fn keeps_national(user: &User) -> bool {
    user.is_national_admin() && !user.is_read_only_user()
}

/// Where a contact belongs, checked against the caller: national contacts by national
/// admins only; an organisation's by its admins (out of reach answers 404).
async fn owner(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: Option<&str>,
) -> Result<Option<organisation::Model>, AppError> {
    match org_code.map(str::trim).filter(|c| !c.is_empty()) {
        None if keeps_national(user) => Ok(None),
        None => Err(AppError::Forbidden),
        Some(code) => Ok(Some(
            access::org_in_reach(db, user, code, Action::Administer).await?,
        )),
    }
}

/// Adds a contact: national (`org_code` None) or an organisation's own.
#[tracing::instrument(skip_all, err)]
pub async fn add(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: Option<&str>,
    key: &str,
    input: &ContactInput,
) -> Result<Contact, AppError> {
    let org = owner(db, user, org_code).await?;
    let key = checked_key(key)?;
    let c = checked(input)?;
    if by_key(db, &key).await?.is_some() {
        return Err(AppError::Conflict(
            "A contact with that key already exists.".into(),
        ));
    }
    let m = external_contact::ActiveModel {
        org_id: Set(org.as_ref().map(|o| o.id)),
        key: Set(key.clone()),
        name: Set(c.name),
        phone: Set(c.phone),
        email: Set(c.email),
        reporting_route: Set(c.reporting_route),
        updated_at: Set(crate::backend::timeline::now()),
        updated_by: Set(Some(user.person_id)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        audit::Event {
            actor: Some(user.person_id),
            action: "external_contact_added",
            org: m.org_id,
            subject: Some(key),
            detail: Some(m.name.clone()),
            ..Default::default()
        },
    )
    .await?;
    Ok(contact(m))
}

/// Changes a contact's name, phone, email and reporting route.
#[tracing::instrument(skip_all, err)]
pub async fn edit(
    db: &impl ConnectionTrait,
    user: &User,
    key: &str,
    input: &ContactInput,
) -> Result<Contact, AppError> {
    let existing = by_key(db, &key.trim().to_ascii_lowercase()).await?;
    let Some(existing) = existing else {
        return Err(AppError::NotFound);
    };
    match existing.org_id {
        // National contacts are public knowledge: seen by all, changed by national admins.
        None if !keeps_national(user) => {
            return Err(AppError::Forbidden);
        }
        None => {}
        Some(o) => {
            access::org_id_in_reach(db, user, o, Action::Administer).await?;
        }
    }
    let c = checked(input)?;
    let before = existing.clone();
    let mut m: external_contact::ActiveModel = existing.into();
    m.name = Set(c.name);
    m.phone = Set(c.phone);
    m.email = Set(c.email);
    m.reporting_route = Set(c.reporting_route);
    m.updated_at = Set(crate::backend::timeline::now());
    m.updated_by = Set(Some(user.person_id));
    let m = m.update(db).await?;
    let mut changed = Vec::new();
    for (what, a, b) in [
        ("name", &before.name, &m.name),
        ("phone", &before.phone, &m.phone),
        ("email", &before.email, &m.email),
        (
            "reporting route",
            &before.reporting_route,
            &m.reporting_route,
        ),
    ] {
        if a != b {
            changed.push(what);
        }
    }
    audit::record(
        db,
        audit::Event {
            actor: Some(user.person_id),
            action: "external_contact_changed",
            org: m.org_id,
            subject: Some(m.key.clone()),
            detail: Some(if changed.is_empty() {
                "nothing changed".into()
            } else {
                format!("changed: {}", changed.join(", "))
            }),
            ..Default::default()
        },
    )
    .await?;
    Ok(contact(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::entity::audit_event;
    use crate::backend::{db, demo, orgs};
    use crate::domain::auth::AccessRole;
    use migrations::{Migrator, MigratorTrait};

    async fn fresh() -> sea_orm::DatabaseConnection {
        let conn = db::connect(&db::scratch("sqlite::memory:").await)
            .await
            .unwrap();
        Migrator::up(&conn, None).await.unwrap();
        demo::load(&conn).await.unwrap();
        conn
    }

    async fn admin(db: &impl ConnectionTrait, code: &str, role: AccessRole) -> User {
        let org = orgs::find_by_code(db, code).await.unwrap().unwrap();
        User {
            person_id: 1,
            name: "Admin".into(),
            email: "admin@example.test".into(),
            grants: vec![(org.id, role)],
            mfa_enabled: true,
            second_factor: true,
        }
    }

    fn input(name: &str, email: &str) -> ContactInput {
        ContactInput {
            name: name.into(),
            phone: "020 7946 0000".into(),
            email: email.into(),
            reporting_route: "Ring, then email".into(),
        }
    }

    async fn audited(db: &impl ConnectionTrait, action: &str) -> Vec<audit_event::Model> {
        audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(action))
            .all(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_csoc_is_seeded_once_as_a_national_contact_without_an_invented_email() {
        let db = fresh().await;
        assert!(seed(&db).await.unwrap());
        assert!(!seed(&db).await.unwrap());
        let csoc = by_key(&db, CSOC).await.unwrap().unwrap();
        assert_eq!(
            (
                csoc.org_id,
                csoc.name.as_str(),
                csoc.phone.as_str(),
                csoc.email.as_str()
            ),
            (None, CSOC_NAME, "0300 303 5222", "")
        );
        assert!(
            csoc.reporting_route
                .contains("information or a request for support")
        );
    }

    #[tokio::test]
    async fn national_contacts_are_changed_by_national_admins_only_and_audited() {
        let db = fresh().await;
        seed(&db).await.unwrap();
        let icb = admin(&db, "QKK", AccessRole::OrgAdmin).await;
        let national = admin(&db, "X24", AccessRole::NationalAdmin).await;
        let mut change = input(CSOC_NAME, "CSOC.Reports@Example.test");
        change.phone = CSOC_PHONE.into();
        assert_eq!(
            edit(&db, &icb, CSOC, &change).await.unwrap_err(),
            AppError::Forbidden
        );
        assert_eq!(
            add(&db, &icb, None, "national-desk", &change)
                .await
                .unwrap_err(),
            AppError::Forbidden
        );
        let c = edit(&db, &national, CSOC, &change).await.unwrap();
        assert_eq!(c.email, "csoc.reports@example.test");
        let a = audited(&db, "external_contact_changed").await;
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].subject.as_deref(), Some(CSOC));
        assert_eq!(
            a[0].detail.as_deref(),
            Some("changed: email, reporting route")
        );
    }

    #[tokio::test]
    async fn an_organisations_admins_keep_its_own_contacts_within_their_reach() {
        let db = fresh().await;
        seed(&db).await.unwrap();
        let icb = admin(&db, "QKK", AccessRole::OrgAdmin).await;
        let trust = admin(&db, "RJ1", AccessRole::OrgAdmin).await;
        let added = add(
            &db,
            &icb,
            Some("QKK"),
            "qkk-on-call",
            &input("South East London ICB on-call", ""),
        )
        .await
        .unwrap();
        assert_eq!(added.key, "qkk-on-call");
        assert_eq!(audited(&db, "external_contact_added").await.len(), 1);
        // The same key twice is a conflict; a bad address is refused with a reason.
        assert!(matches!(
            add(&db, &icb, Some("QKK"), "qkk-on-call", &input("Again", ""))
                .await
                .unwrap_err(),
            AppError::Conflict(_)
        ));
        assert!(matches!(
            add(
                &db,
                &icb,
                Some("QKK"),
                "other",
                &input("Bad", "not-an-address")
            )
            .await
            .unwrap_err(),
            AppError::Invalid(_)
        ));
        // The trust's admin cannot see the ICB's contact, nor add one there.
        assert_eq!(
            edit(&db, &trust, "qkk-on-call", &input("Mine now", ""))
                .await
                .unwrap_err(),
            AppError::NotFound
        );
        assert_eq!(
            add(&db, &trust, Some("QKK"), "x", &input("X", ""))
                .await
                .unwrap_err(),
            AppError::NotFound
        );
        let seen = |l: Vec<Listed>| {
            l.into_iter()
                .map(|l| (l.org_code, l.contact.key))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            seen(list(&db, &icb).await.unwrap()),
            [
                (None, CSOC.to_owned()),
                (Some("QKK".into()), "qkk-on-call".into())
            ]
        );
        assert_eq!(
            seen(list(&db, &trust).await.unwrap()),
            [(None, CSOC.to_owned())]
        );
    }
}
