//! A synthetic England of the real NHS's shape, on top of the demo: 7 regions, 42 ICBs with
//! their sub-ICB locations, about 210 trusts with their sites, about 6,300 GP practices,
//! suppliers serving many organisations, and fictional people holding every role with
//! deputies, some gaps, and the holders before them. Codes are ODS-shaped but synthetic
//! (regions Y70–Y76, ICBs Q00–Q41, everything else starting with Z, suppliers SUP-SYN-…),
//! names are made up, and people are in the demo's domain. Deterministic, written in bulk in
//! one transaction, and safe to run again: it only adds what is missing.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, TransactionTrait};
use time::macros::date;
use time::{Duration, OffsetDateTime};

use super::entity::{assignment, org_link, organisation, person, role, supplier_service};
use crate::domain::org::{OrgKind, OrgStatus};
use crate::error::AppError;

/// How big a synthetic England to build.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub regions: usize,
    pub icbs: usize,
    pub trusts: usize,
    pub practices: usize,
    pub suppliers: usize,
}

impl Shape {
    /// The real NHS's shape.
    pub const ENGLAND: Shape = Shape {
        regions: 7,
        icbs: 42,
        trusts: 210,
        practices: 6_300,
        suppliers: 40,
    };
}

/// What a run added (0 everywhere when everything was already there).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Built {
    pub organisations: usize,
    pub people: usize,
    pub holdings: usize,
    pub services: usize,
}

/// Whether a code is one this module makes (so the demo's real-data guard lets it be).
pub fn synthetic(code: &str) -> bool {
    let b = code.as_bytes();
    code.starts_with('Z')
        || code.starts_with("SUP-SYN-")
        || (b.len() == 3 && b[0] == b'Y' && b[1] == b'7')
        || (b.len() == 3 && b[0] == b'Q' && b[1..].iter().all(u8::is_ascii_digit))
}

/// Where the generator starts: the same England every run.
const SEED: u64 = 0x05EE_D0FE_1A7D;

/// A small deterministic generator: the same England every run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// True with probability `percent` in 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const ROOTS: [&str; 24] = [
    "Ash", "Oak", "Elm", "Bram", "Carr", "Dun", "Fen", "Hol", "Kel", "Lang", "Mar", "Pen", "Red",
    "Stan", "Thorn", "Wal", "Whit", "Wood", "Brad", "Cal", "Hart", "Ling", "Mill", "Sand",
];
const ENDS: [&str; 12] = [
    "ford", "bridge", "ham", "ton", "field", "wick", "by", "worth", "stead", "mouth", "ley",
    "combe",
];
const FIRST: [&str; 20] = [
    "Alex", "Bea", "Cal", "Dev", "Ena", "Finn", "Gita", "Hal", "Isla", "Jon", "Kit", "Lena",
    "Milo", "Nia", "Omar", "Pia", "Raj", "Sian", "Tomas", "Uma",
];
const LAST: [&str; 20] = [
    "Ashby", "Brook", "Croft", "Dale", "Ellis", "Frost", "Grove", "Hale", "Irwin", "Jarvis",
    "Knox", "Lowe", "Marsh", "Noble", "Orme", "Pike", "Quill", "Reed", "Stone", "Thorne",
];

fn place(i: usize) -> String {
    format!(
        "{}{}",
        ROOTS[i % ROOTS.len()],
        ENDS[(i / ROOTS.len()) % ENDS.len()]
    ) + &if i >= ROOTS.len() * ENDS.len() {
        format!(" {}", i / (ROOTS.len() * ENDS.len()) + 1)
    } else {
        String::new()
    }
}

/// A two-character base-36 tail.
fn b36(i: usize, width: usize) -> String {
    const D: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut s = vec![b'0'; width];
    let mut n = i;
    for c in s.iter_mut().rev() {
        *c = D[n % 36];
        n /= 36;
    }
    String::from_utf8(s).unwrap_or_default()
}

/// One organisation to make: code, name, kind, parent code.
type Plan = (String, String, OrgKind, Option<String>);

fn plan(shape: Shape, dice: &mut Dice) -> (Vec<Plan>, Vec<(String, String, &'static str)>) {
    let mut orgs: Vec<Plan> = Vec::new();
    let regions: Vec<String> = (0..shape.regions).map(|r| format!("Y7{r}")).collect();
    for (r, code) in regions.iter().enumerate() {
        orgs.push((
            code.clone(),
            format!("{} region (synthetic)", place(r * 7)),
            OrgKind::Region,
            Some("X24".into()),
        ));
    }
    let mut sub_icbs = Vec::new();
    for i in 0..shape.icbs {
        let icb = format!("Q{i:02}");
        let region = regions[i % regions.len()].clone();
        orgs.push((
            icb.clone(),
            format!("NHS {} Integrated Care Board (synthetic)", place(i + 30)),
            OrgKind::Icb,
            Some(region),
        ));
        for s in 0..(1 + dice.below(4)) {
            let code = format!("ZS{}", b36(sub_icbs.len(), 3));
            orgs.push((
                code.clone(),
                format!("NHS {} ICB - sub-ICB location {}", place(i + 30), s + 1),
                OrgKind::SubIcb,
                Some(icb.clone()),
            ));
            sub_icbs.push(code);
        }
    }
    for t in 0..shape.trusts {
        let code = format!("Z{}", b36(t, 2));
        let icb = format!("Q{:02}", t % shape.icbs.max(1));
        let name = place(t + 100);
        orgs.push((
            code.clone(),
            format!("{name} Hospitals NHS Foundation Trust (synthetic)"),
            OrgKind::Trust,
            Some(icb),
        ));
        for s in 0..(1 + dice.below(5)) {
            orgs.push((
                format!("{code}{s:02}"),
                format!("{name} site {}", s + 1),
                OrgKind::Site,
                Some(code.clone()),
            ));
        }
    }
    for p in 0..shape.practices {
        let sub = sub_icbs[p % sub_icbs.len().max(1)].clone();
        orgs.push((
            format!("Z{p:05}"),
            format!("{} Medical Practice (synthetic)", place(p + 400)),
            OrgKind::GpPractice,
            Some(sub),
        ));
    }
    // Suppliers: a few serve hundreds of organisations, most serve dozens.
    let clients: Vec<String> = orgs
        .iter()
        .filter(|o| matches!(o.2, OrgKind::Trust | OrgKind::GpPractice))
        .map(|o| o.0.clone())
        .collect();
    let mut services = Vec::new();
    const SERVICES: [&str; 5] = [
        "Electronic patient record",
        "Pathology",
        "Radiology imaging",
        "Telephony",
        "IT managed service",
    ];
    for s in 0..shape.suppliers {
        let code = format!("SUP-SYN-{s:03}");
        orgs.push((
            code.clone(),
            format!("{} Systems Ltd (synthetic)", place(s + 900)),
            OrgKind::Supplier,
            None,
        ));
        let serves = if s < 3 { 400 } else { 20 + dice.below(60) };
        for _ in 0..serves.min(clients.len()) {
            let client = clients[dice.below(clients.len())].clone();
            services.push((code.clone(), client, SERVICES[s % SERVICES.len()]));
        }
    }
    services.sort();
    services.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    (orgs, services)
}

/// Builds (or completes) the synthetic England. Expects the demo (and its role catalogue)
/// loaded first.
// Long because it is one bulk script in dependency order (organisations, links, services,
// people, holdings), each step a loop and an insert in chunks.
#[tracing::instrument(skip_all, err)]
pub async fn load(db: &DatabaseConnection, shape: Shape) -> Result<Built, AppError> {
    let mut dice = Dice(SEED);
    let (orgs, services) = plan(shape, &mut dice);
    let txn = db.begin().await?;
    let now = OffsetDateTime::now_utc();
    let since = date!(2022 - 07 - 01);
    let mut built = Built::default();

    let existing: HashSet<String> = organisation::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|o| o.code)
        .collect();
    let new: Vec<&Plan> = orgs.iter().filter(|o| !existing.contains(&o.0)).collect();
    for chunk in new.chunks(1000) {
        organisation::Entity::insert_many(chunk.iter().map(|(code, name, kind, _)| {
            organisation::ActiveModel {
                code: Set(code.clone()),
                name: Set(name.clone()),
                kind: Set(kind.as_str().to_owned()),
                status: Set(OrgStatus::Active),
                essential_service: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
        }))
        .exec(&txn)
        .await?;
    }
    built.organisations = new.len();
    let ids: HashMap<String, (i64, OrgKind)> = organisation::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|o| {
            let kind = o.summary().kind;
            (o.code, (o.id, kind))
        })
        .collect();
    let id = |code: &str| {
        ids.get(code)
            .map(|v| v.0)
            .ok_or_else(|| AppError::Invalid(format!("organisation {code} missing")))
    };
    let links: Vec<org_link::ActiveModel> = new
        .iter()
        .filter_map(|(code, _, _, parent)| parent.as_ref().map(|p| (code, p)))
        .map(|(code, parent)| {
            Ok(org_link::ActiveModel {
                child_id: Set(id(code)?),
                parent_id: Set(id(parent)?),
                valid_from: Set(since),
                valid_to: Set(None),
                ..Default::default()
            })
        })
        .collect::<Result<_, AppError>>()?;
    for chunk in links.chunks(1000) {
        org_link::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    let fresh: HashSet<&str> = new.iter().map(|o| o.0.as_str()).collect();
    let services: Vec<supplier_service::ActiveModel> = services
        .iter()
        .filter(|(s, _, _)| fresh.contains(s.as_str()))
        .map(|(s, c, what)| {
            Ok(supplier_service::ActiveModel {
                supplier_id: Set(id(s)?),
                client_id: Set(id(c)?),
                service: Set((*what).to_owned()),
                valid_from: Set(since),
                valid_to: Set(None),
                ..Default::default()
            })
        })
        .collect::<Result<_, AppError>>()?;
    built.services = services.len();
    for chunk in services.chunks(1000) {
        supplier_service::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }

    // People and their holdings, for the organisations made now: each role that applies
    // to the kind, mostly held (some gaps), mostly with a deputy, and most with the holder
    // before on record.
    let roles: Vec<(i64, Vec<OrgKind>)> = role::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|r| (r.id, crate::domain::roles::parse_kinds(&r.applies_to)))
        .collect();
    let mut people: Vec<person::ActiveModel> = Vec::new();
    let mut wanted: Vec<(i64, i64, [usize; 3])> = Vec::new();
    let mut n = 0usize;
    let mut someone = |org_id: i64, people: &mut Vec<person::ActiveModel>| {
        n += 1;
        let (f, l) = (FIRST[n % FIRST.len()], LAST[(n / FIRST.len()) % LAST.len()]);
        people.push(person::ActiveModel {
            display_name: Set(format!("{f} {l}")),
            email: Set(format!(
                "{}.{}.{n}@demo.wardline.test",
                f.to_lowercase(),
                l.to_lowercase()
            )),
            job_title: Set(None),
            org_id: Set(Some(org_id)),
            disabled: Set(false),
            created_at: Set(now),
            ..Default::default()
        });
        people.len() - 1
    };
    for (code, _, kind, _) in &new {
        let org_id = id(code)?;
        for (role_id, applies) in &roles {
            if !applies.contains(kind) || !dice.chance(93) {
                continue;
            }
            let holder = someone(org_id, &mut people);
            let deputy = if dice.chance(75) {
                someone(org_id, &mut people)
            } else {
                usize::MAX
            };
            let before = if dice.chance(80) {
                someone(org_id, &mut people)
            } else {
                usize::MAX
            };
            wanted.push((org_id, *role_id, [holder, deputy, before]));
        }
    }
    let emails: Vec<String> = people.iter().map(|p| p.email.clone().unwrap()).collect();
    let known: HashSet<String> = person::Entity::find()
        .filter(person::Column::Email.like("%.%.%@demo.wardline.test"))
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| p.email)
        .collect();
    let to_add: Vec<person::ActiveModel> = people
        .into_iter()
        .filter(|p| !known.contains(p.email.as_ref()))
        .collect();
    built.people = to_add.len();
    for chunk in to_add.chunks(1000) {
        person::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    let person_ids: HashMap<String, i64> = person::Entity::find()
        .filter(person::Column::Email.like("%.%.%@demo.wardline.test"))
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| (p.email, p.id))
        .collect();
    let pid = |i: usize| {
        (i != usize::MAX)
            .then(|| emails.get(i).and_then(|e| person_ids.get(e)).copied())
            .flatten()
    };
    let start = OffsetDateTime::new_utc(since, time::Time::MIDNIGHT);
    let mut holdings: Vec<assignment::ActiveModel> = Vec::new();
    for (org_id, role_id, [holder, deputy, before]) in wanted {
        let Some(holder) = pid(holder) else { continue };
        let handover = start + Duration::days(200 + dice.below(900) as i64);
        let row = |person: i64, from, to, confirmed| assignment::ActiveModel {
            org_id: Set(org_id),
            role_id: Set(role_id),
            person_id: Set(person),
            deputy_id: Set(pid(deputy)),
            work_phone: Set(Some(format!("020 7946 {:04}", dice_free(org_id, role_id)))),
            out_of_hours_phone: Set(None),
            contact_email: Set(None),
            starts_at: Set(from),
            ends_at: Set(to),
            confirmed_at: Set(confirmed),
            created_at: Set(now),
            created_by: Set(None),
            ..Default::default()
        };
        if let Some(b) = pid(before) {
            holdings.push(row(b, start, Some(handover), Some(start)));
            holdings.push(row(holder, handover, None, Some(now - Duration::days(40))));
        } else {
            holdings.push(row(holder, start, None, Some(now - Duration::days(40))));
        }
    }
    built.holdings = holdings.len();
    for chunk in holdings.chunks(1000) {
        assignment::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(built)
}

/// A stable four-digit tail for a synthetic phone number (Ofcom's drama range 020 7946 0xxx
/// is the safe one for the first thousand; beyond it the numbers are still fictional).
fn dice_free(org_id: i64, role_id: i64) -> i64 {
    (org_id * 31 + role_id * 7).rem_euclid(10_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::db;
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::PaginatorTrait;

    #[tokio::test]
    async fn a_small_england_builds_once_keeps_the_demo_and_runs_again_adding_nothing() {
        let conn = db::connect(&db::scratch("sqlite::memory:").await)
            .await
            .unwrap();
        Migrator::up(&conn, None).await.unwrap();
        super::super::demo::load(&conn).await.unwrap();
        let shape = Shape {
            regions: 2,
            icbs: 3,
            trusts: 6,
            practices: 40,
            suppliers: 4,
        };
        let first = load(&conn, shape).await.unwrap();
        assert!(first.organisations > 2 + 3 + 6 + 40 + 4, "{first:?}");
        assert!(first.holdings > first.organisations, "{first:?}");
        assert!(first.services > 0);
        // Every synthetic practice hangs under a sub-ICB, every trust under an ICB.
        let tree = crate::backend::orgs::tree(&conn, "").await.unwrap();
        assert_eq!(tree.roots.len(), 1, "everything hangs from NHS England");
        // Some roles are gaps, most have a deputy, and the holders before are on record.
        let ended = assignment::Entity::find()
            .filter(assignment::Column::EndsAt.is_not_null())
            .count(&conn)
            .await
            .unwrap();
        assert!(ended > 0);
        // Again: nothing added, and the demo's own guard still lets it load.
        assert_eq!(load(&conn, shape).await.unwrap(), Built::default());
        assert!(super::super::demo::load(&conn).await.is_ok());
    }

    #[test]
    fn synthetic_codes_are_valid_for_their_kind_and_never_the_demos() {
        let (orgs, services) = plan(Shape::ENGLAND, &mut Dice(SEED));
        let mut seen = HashSet::new();
        for (code, _, kind, _) in &orgs {
            assert!(
                crate::domain::org::OdsCode::parse(*kind, code).is_ok(),
                "{code} is not a valid {kind:?} code"
            );
            assert!(synthetic(code), "{code}");
            assert!(seen.insert(code.clone()), "{code} twice");
        }
        for (code, _, _, _) in super::super::demo::ORGS {
            assert!(!synthetic(code), "{code} is the demo's");
        }
        let count = |k: OrgKind| orgs.iter().filter(|o| o.2 == k).count();
        assert_eq!(count(OrgKind::Region), 7);
        assert_eq!(count(OrgKind::Icb), 42);
        assert_eq!(count(OrgKind::Trust), 210);
        assert_eq!(count(OrgKind::GpPractice), 6_300);
        assert!((42..=168).contains(&count(OrgKind::SubIcb)));
        assert!(services.len() > 2_000, "{}", services.len());
    }
}
