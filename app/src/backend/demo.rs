//! The demo data: South East London's real organisations (public ODS facts) and fictional
//! people. Loading it twice changes nothing.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set, TransactionTrait,
};
use time::OffsetDateTime;
use time::macros::date;

use super::entity::{assignment, person};
use super::orgs::{self, OrgInput, Upserted};
use super::{auth, invites};
use crate::domain::auth::AccessRole;
use crate::domain::org::{OdsCode, OrgKind, OrgStatus};
use crate::error::AppError;

/// (code, name, kind, parent code)
pub const ORGS: &[(&str, &str, OrgKind, Option<&str>)] = &[
    ("X24", "NHS England", OrgKind::National, None),
    ("Y56", "London", OrgKind::Region, Some("X24")),
    (
        "QKK",
        "NHS South East London Integrated Care Board",
        OrgKind::Icb,
        Some("Y56"),
    ),
    (
        "72Q",
        "NHS South East London ICB - 72Q",
        OrgKind::SubIcb,
        Some("QKK"),
    ),
    (
        "RJ1",
        "Guy's and St Thomas' NHS Foundation Trust",
        OrgKind::Trust,
        Some("QKK"),
    ),
    (
        "RJZ",
        "King's College Hospital NHS Foundation Trust",
        OrgKind::Trust,
        Some("QKK"),
    ),
    (
        "RJZ30",
        "Princess Royal University Hospital",
        OrgKind::Site,
        Some("RJZ"),
    ),
    (
        "RJ2",
        "Lewisham and Greenwich NHS Trust",
        OrgKind::Trust,
        Some("QKK"),
    ),
    (
        "RV5",
        "South London and Maudsley NHS Foundation Trust",
        OrgKind::Trust,
        Some("QKK"),
    ),
    (
        "RPG",
        "Oxleas NHS Foundation Trust",
        OrgKind::Trust,
        Some("QKK"),
    ),
    (
        "RRU",
        "London Ambulance Service NHS Trust",
        OrgKind::Trust,
        Some("Y56"),
    ),
    (
        "G85028",
        "Stockwell Group Practice",
        OrgKind::GpPractice,
        Some("72Q"),
    ),
    (
        "G85054",
        "Lambeth Walk Group Practice",
        OrgKind::GpPractice,
        Some("72Q"),
    ),
    (
        "G85073",
        "Vassall Medical Centre",
        OrgKind::GpPractice,
        Some("72Q"),
    ),
    (
        "G85100",
        "Beckett House Practice",
        OrgKind::GpPractice,
        Some("72Q"),
    ),
    (
        "G85135",
        "Minet Green Health Practice",
        OrgKind::GpPractice,
        Some("72Q"),
    ),
    // ODS has no reliable code for Synnovis: suppliers carry an internal code.
    ("SUP-SYNNOVIS", "Synnovis", OrgKind::Supplier, None),
];

/// (supplier, client, service)
const SERVICES: &[(&str, &str, &str)] = &[
    ("SUP-SYNNOVIS", "RJ1", "Pathology services"),
    ("SUP-SYNNOVIS", "RJZ", "Pathology services"),
];

/// The documented password of every demo account. Demo data only: never on a real deployment.
pub const DEMO_PASSWORD: &str = "wardline-demo";

/// Fictional people: (name, email, job title, organisation, access). Any likeness is coincidental.
pub const PEOPLE: &[(&str, &str, &str, &str, AccessRole)] = &[
    (
        "Dana Whitlock",
        "dana.whitlock@demo.wardline.test",
        "National Wardline administrator",
        "X24",
        AccessRole::NationalAdmin,
    ),
    (
        "Ruth Adeyemi",
        "ruth.adeyemi@demo.wardline.test",
        "Regional cyber assurance lead",
        "Y56",
        AccessRole::Regulator,
    ),
    (
        "Gareth Lloyd",
        "gareth.lloyd@demo.wardline.test",
        "ICB cyber security lead",
        "QKK",
        AccessRole::OrgAdmin,
    ),
    (
        "Meera Shah",
        "meera.shah@demo.wardline.test",
        "ICB Senior Information Risk Owner",
        "QKK",
        AccessRole::Lead,
    ),
    (
        "Priya Raman",
        "priya.raman@demo.wardline.test",
        "Head of Cyber Security",
        "RJ1",
        AccessRole::OrgAdmin,
    ),
    (
        "Tom Okafor",
        "tom.okafor@demo.wardline.test",
        "Chief Digital Information Officer",
        "RJ1",
        AccessRole::Lead,
    ),
    (
        "Helen Marsh",
        "helen.marsh@demo.wardline.test",
        "Caldicott Guardian",
        "RJ1",
        AccessRole::Lead,
    ),
    (
        "Sam Whitfield",
        "sam.whitfield@demo.wardline.test",
        "Head of Cyber Security",
        "RJZ",
        AccessRole::Lead,
    ),
    (
        "Aisha Bello",
        "aisha.bello@demo.wardline.test",
        "Ward Sister",
        "RJZ",
        AccessRole::Staff,
    ),
    (
        "Nadia Kowalski",
        "nadia.kowalski@demo.wardline.test",
        "Practice Manager",
        "G85028",
        AccessRole::Staff,
    ),
    (
        "Owen Fraser",
        "owen.fraser@demo.wardline.test",
        "GP Partner",
        "G85028",
        AccessRole::Lead,
    ),
    (
        "Chris Doyle",
        "chris.doyle@demo.wardline.test",
        "Information Security Manager",
        "SUP-SYNNOVIS",
        AccessRole::Staff,
    ),
];

/// Demo holdings: (organisation, role, holder, deputy, work phone, out-of-hours phone).
/// Phone numbers are in Ofcom's range for drama (020 7946 0000 to 0999). Some gaps are left
/// on purpose, so the chart has something to show.
/// (organisation, role, holder, deputy, work phone, out-of-hours phone)
type Holding = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
);

pub const HOLDINGS: &[Holding] = &[
    (
        "Y56",
        "regional_cyber_lead",
        "ruth.adeyemi",
        None,
        "020 7946 0101",
        "020 7946 0102",
    ),
    (
        "QKK",
        "siro",
        "meera.shah",
        Some("gareth.lloyd"),
        "020 7946 0201",
        "020 7946 0202",
    ),
    (
        "QKK",
        "head_of_cyber",
        "gareth.lloyd",
        Some("meera.shah"),
        "020 7946 0203",
        "020 7946 0204",
    ),
    (
        "RJ1",
        "siro",
        "tom.okafor",
        Some("priya.raman"),
        "020 7946 0301",
        "020 7946 0302",
    ),
    (
        "RJ1",
        "head_of_cyber",
        "priya.raman",
        Some("tom.okafor"),
        "020 7946 0303",
        "020 7946 0304",
    ),
    (
        "RJ1",
        "caldicott_guardian",
        "helen.marsh",
        Some("tom.okafor"),
        "020 7946 0305",
        "020 7946 0306",
    ),
    (
        "RJ1",
        "dpo",
        "helen.marsh",
        None,
        "020 7946 0307",
        "020 7946 0308",
    ),
    (
        "RJZ",
        "head_of_cyber",
        "sam.whitfield",
        Some("aisha.bello"),
        "020 7946 0401",
        "020 7946 0402",
    ),
    (
        "RJZ",
        "siro",
        "aisha.bello",
        Some("sam.whitfield"),
        "020 7946 0403",
        "020 7946 0404",
    ),
    (
        "G85028",
        "caldicott_guardian",
        "owen.fraser",
        Some("nadia.kowalski"),
        "020 7946 0501",
        "020 7946 0502",
    ),
    (
        "G85028",
        "data_security_lead",
        "nadia.kowalski",
        Some("owen.fraser"),
        "020 7946 0503",
        "020 7946 0504",
    ),
    (
        "G85028",
        "dpo",
        "meera.shah",
        Some("gareth.lloyd"),
        "020 7946 0201",
        "020 7946 0202",
    ),
    (
        "SUP-SYNNOVIS",
        "supplier_security_contact",
        "chris.doyle",
        None,
        "020 7946 0601",
        "020 7946 0602",
    ),
    (
        "QKK",
        "gold_on_call",
        "meera.shah",
        None,
        "020 7946 0205",
        "020 7946 0206",
    ),
    (
        "QKK",
        "silver_on_call",
        "gareth.lloyd",
        None,
        "020 7946 0207",
        "020 7946 0208",
    ),
    (
        "RJ1",
        "gold_on_call",
        "tom.okafor",
        None,
        "020 7946 0303",
        "020 7946 0304",
    ),
    (
        "X24",
        "csoc_duty",
        "dana.whitlock",
        None,
        "0300 303 5222",
        "0300 303 5222",
    ),
];

/// What a demo load did, for the CLI to report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DemoReport {
    pub organisations_created: usize,
    pub links_created: usize,
    pub people_created: usize,
    pub holdings_created: usize,
}

/// The domain every demo person's email is in.
pub const DEMO_DOMAIN: &str = "@demo.wardline.test";

/// Refuses a database that holds anything the demo would not have made: a person outside
/// the demo domain, or an organisation not in the demo's list (and so no incident or
/// holding anywhere real). The demo's people share a published password, so it must never
/// reach a real deployment.
pub async fn refuse_real_data(db: &impl ConnectionTrait) -> Result<(), AppError> {
    use super::entity::organisation;
    let real_people = person::Entity::find()
        .filter(person::Column::Email.not_like(format!("%{DEMO_DOMAIN}")))
        .count(db)
        .await?;
    // The synthetic England (`demo --national`) is the demo's too.
    let real_orgs = organisation::Entity::find()
        .filter(organisation::Column::Code.is_not_in(ORGS.iter().map(|o| o.0)))
        .all(db)
        .await?
        .iter()
        .filter(|o| !super::demo_national::synthetic(&o.code))
        .count();
    if real_people > 0 || real_orgs > 0 {
        return Err(AppError::Conflict(format!(
            "This database holds real data ({real_people} people outside {}, {real_orgs} \
             organisations the demo does not make). The demo gives everyone a published \
             password, so it only loads into an empty database or one holding only demo data. \
             Point WARDLINE_DATABASE_URL at a new database to try the demo.",
            DEMO_DOMAIN.trim_start_matches('@')
        )));
    }
    Ok(())
}

// Long because it is the demo's script: one transaction, step after step in the order the
// data depends on (organisations, their links, people, holdings, assets, …), each step short.
#[tracing::instrument(skip_all, err)]
pub async fn load(db: &DatabaseConnection) -> Result<DemoReport, AppError> {
    let txn = db.begin().await?;
    refuse_real_data(&txn).await?;
    let mut report = DemoReport::default();
    let since = date!(2022 - 07 - 01);
    for (code, name, kind, _) in ORGS {
        let input = OrgInput {
            code: OdsCode::parse(*kind, code).map_err(AppError::Invalid)?,
            name: (*name).to_owned(),
            kind: *kind,
            status: OrgStatus::Active,
            opened_on: None,
            closed_on: None,
            postcode: None,
        };
        // The demo fills gaps; it never overwrites what an admin or an import has changed.
        if orgs::find_by_code(&txn, code).await?.is_none()
            && let Upserted::Created(_) = orgs::upsert(&txn, &input).await?
        {
            report.organisations_created += 1;
        }
    }
    let id = |code: &str| {
        let txn = &txn;
        let code = code.to_owned();
        async move {
            orgs::find_by_code(txn, &code)
                .await?
                .map(|o| o.id)
                .ok_or_else(|| AppError::Invalid(format!("demo organisation {code} missing")))
        }
    };
    for (code, _, _, parent) in ORGS {
        if let Some(parent) = parent {
            let child = id(code).await?;
            if orgs::ancestors(&txn, child).await?.is_empty()
                && orgs::set_parent(&txn, child, id(parent).await?, since).await?
            {
                report.links_created += 1;
            }
        }
    }
    for (supplier, client, service) in SERVICES {
        if orgs::link_supplier(&txn, id(supplier).await?, id(client).await?, service, since).await?
        {
            report.links_created += 1;
        }
    }
    let now = OffsetDateTime::now_utc();
    for (name, email, title, org, access) in PEOPLE {
        let exists = person::Entity::find()
            .filter(person::Column::Email.eq(*email))
            .one(&txn)
            .await?
            .is_some();
        if !exists {
            let person = person::ActiveModel {
                display_name: Set((*name).to_owned()),
                email: Set((*email).to_owned()),
                job_title: Set(Some((*title).to_owned())),
                org_id: Set(Some(id(org).await?)),
                disabled: Set(false),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            auth::set_password(&txn, person.id, email, DEMO_PASSWORD.to_owned()).await?;
            invites::grant(&txn, person.id, id(org).await?, *access).await?;
            report.people_created += 1;
        }
    }
    super::roles::seed(&txn).await?;
    let person_id = |local: &str| {
        let txn = &txn;
        let email = format!("{local}@demo.wardline.test");
        async move {
            person::Entity::find()
                .filter(person::Column::Email.eq(email.clone()))
                .one(txn)
                .await?
                .map(|p| p.id)
                .ok_or_else(|| AppError::Invalid(format!("demo person {email} missing")))
        }
    };
    for (org, role_key, holder, deputy, work, ooh) in HOLDINGS {
        let org_id = id(org).await?;
        let role = super::roles::find_by_key(&txn, role_key)
            .await?
            .ok_or_else(|| AppError::Invalid(format!("role {role_key} missing")))?;
        let exists = assignment::Entity::find()
            .filter(assignment::Column::OrgId.eq(org_id))
            .filter(assignment::Column::RoleId.eq(role.id))
            .one(&txn)
            .await?
            .is_some();
        if exists {
            continue;
        }
        let deputy_id = match deputy {
            Some(d) => Some(person_id(d).await?),
            None => None,
        };
        assignment::ActiveModel {
            org_id: Set(org_id),
            role_id: Set(role.id),
            person_id: Set(person_id(holder).await?),
            deputy_id: Set(deputy_id),
            work_phone: Set(Some((*work).to_owned())),
            out_of_hours_phone: Set(Some((*ooh).to_owned())),
            contact_email: Set(None),
            starts_at: Set(OffsetDateTime::new_utc(since, time::Time::MIDNIGHT)),
            ends_at: Set(None),
            confirmed_at: Set(Some(now - time::Duration::days(30))),
            created_at: Set(now),
            created_by: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        report.holdings_created += 1;
    }
    txn.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::db;
    use crate::domain::tree;
    use migrations::{Migrator, MigratorTrait};

    #[tokio::test]
    async fn the_demo_loads_once_and_a_second_load_changes_nothing() {
        let conn = db::connect(&db::scratch("sqlite::memory:").await)
            .await
            .unwrap();
        Migrator::up(&conn, None).await.unwrap();
        let first = load(&conn).await.unwrap();
        assert_eq!(first.organisations_created, ORGS.len());
        assert_eq!(first.people_created, PEOPLE.len());
        assert_eq!(load(&conn).await.unwrap(), DemoReport::default());

        let map = orgs::tree(&conn, "").await.unwrap();
        assert_eq!(map.roots.len(), 1, "everything hangs from NHS England");
        assert_eq!(tree::count(&map.roots), ORGS.len() - 1);
        assert_eq!(map.suppliers[0].serves.len(), 2);
        let practice = orgs::detail(&conn, "G85028").await.unwrap();
        assert_eq!(practice.parent.unwrap().code, "72Q");
        let kings = orgs::detail(&conn, "RJZ").await.unwrap();
        assert_eq!(kings.children[0].code, "RJZ30");
        assert_eq!(kings.suppliers[0].org.name, "Synnovis");
    }

    #[tokio::test]
    async fn demo_refuses_a_database_with_real_data() {
        let conn = db::connect(&db::scratch("sqlite::memory:").await)
            .await
            .unwrap();
        Migrator::up(&conn, None).await.unwrap();
        load(&conn).await.unwrap();
        // A real person in a demo organisation.
        person::ActiveModel {
            display_name: Set("Real Person".into()),
            email: Set("real.person@nhs.net".into()),
            disabled: Set(false),
            created_at: Set(OffsetDateTime::now_utc()),
            ..Default::default()
        }
        .insert(&conn)
        .await
        .unwrap();
        let err = load(&conn).await.unwrap_err();
        assert!(
            matches!(&err, AppError::Conflict(m) if m.contains("real data")),
            "{err:?}"
        );
        person::Entity::delete_many()
            .filter(person::Column::Email.eq("real.person@nhs.net"))
            .exec(&conn)
            .await
            .unwrap();
        assert_eq!(load(&conn).await.unwrap(), DemoReport::default());

        // A real organisation, as an ODS import would bring.
        let fresh = db::connect(&db::scratch("sqlite::memory:").await)
            .await
            .unwrap();
        Migrator::up(&fresh, None).await.unwrap();
        let input = OrgInput {
            code: OdsCode::parse(OrgKind::Trust, "RAX").unwrap(),
            name: "Kingston Hospital NHS Foundation Trust".into(),
            kind: OrgKind::Trust,
            status: OrgStatus::Active,
            opened_on: None,
            closed_on: None,
            postcode: None,
        };
        orgs::upsert(&fresh, &input).await.unwrap();
        assert!(matches!(load(&fresh).await, Err(AppError::Conflict(_))));
        assert_eq!(
            person::Entity::find().count(&fresh).await.unwrap(),
            0,
            "nothing was loaded"
        );
    }
}
