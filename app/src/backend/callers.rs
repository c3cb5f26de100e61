//! Signed-in people as last read, so a request checks one number instead of reading the
//! person, their grants and their account again (`caller` uses it; the API floor too).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::entity::{access_grant, account, person};
use super::{access, generation};
use crate::domain::auth::AccessRole;
use crate::error::AppError;

/// What a request needs to know about the signed-in person.
#[derive(Debug)]
pub struct Known {
    pub name: String,
    pub email: String,
    pub disabled: bool,
    pub grants: Vec<(i64, AccessRole)>,
    pub mfa_enabled: bool,
}

impl Known {
    /// Only regulators' grants: they read, never write.
    pub fn is_read_only(&self) -> bool {
        access::only_reads(&self.grants)
    }
}

/// Signed-in people as last read, each with the change generation it was read under. The
/// database's triggers move the generation whenever a person, their access grants or their
/// second factor change (migrations 000010 and 001201), so a request reads that one number
/// instead of the person, their grants and their account, and still sees a revoked grant,
/// a disabled person or a reset second factor at once, whichever instance made the change.
#[derive(Debug, Default)]
pub struct Callers {
    kept: Mutex<HashMap<i64, (i64, Arc<Known>)>>,
}

/// What the API floor read at the start of this request (put in the request's extensions),
/// so the server function it lets through does not read it again: the change generation,
/// read with the session, and for a write the signed-in person as known at it. One trip to
/// the database fewer per request, two per write.
#[derive(Debug, Clone, Default)]
pub struct ReadForRequest {
    pub generation: Option<i64>,
    /// The person's id and what is known of them.
    pub known: Option<(i64, Arc<Known>)>,
}

/// People kept before the cache starts again.
const CALLERS_KEPT: usize = 20_000;

impl Callers {
    fn lock(&self) -> MutexGuard<'_, HashMap<i64, (i64, Arc<Known>)>> {
        // A panic while holding it leaves only a cache behind: keep using it.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The person as they are now (`None`: no such person).
    pub async fn known(
        &self,
        db: &sea_orm::DatabaseConnection,
        person_id: i64,
    ) -> Result<Option<Arc<Known>>, AppError> {
        self.known_at(db, person_id, None).await
    }

    /// `known`, given the change generation if it was already read in this request (with
    /// the session: `sessions::reading_generation`), before anything it guards.
    pub async fn known_at(
        &self,
        db: &sea_orm::DatabaseConnection,
        person_id: i64,
        read_with_session: Option<i64>,
    ) -> Result<Option<Arc<Known>>, AppError> {
        // Read before what it guards, so what is read is at least as new as its tag.
        let generation = match read_with_session {
            Some(g) => g,
            None => generation::read(db).await?,
        };
        if let Some((g, known)) = self.lock().get(&person_id)
            && *g == generation
        {
            return Ok(Some(known.clone()));
        }
        let Some(known) = read(db, person_id).await?.map(Arc::new) else {
            self.lock().remove(&person_id);
            return Ok(None);
        };
        let mut kept = self.lock();
        if kept.len() >= CALLERS_KEPT {
            kept.clear();
        }
        kept.insert(person_id, (generation, known.clone()));
        Ok(Some(known))
    }
}

/// The person, their access grants and whether they have a second factor, read now
/// (`None`: no such person). What a signed-in request and a text reply both act as.
pub async fn read(
    db: &impl sea_orm::ConnectionTrait,
    person_id: i64,
) -> Result<Option<Known>, AppError> {
    let Some(person) = person::Entity::find_by_id(person_id).one(db).await? else {
        return Ok(None);
    };
    let grants = access_grant::Entity::find()
        .filter(access_grant::Column::PersonId.eq(person_id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|g| AccessRole::parse(&g.role).map(|r| (g.org_id, r)))
        .collect();
    let mfa_enabled = account::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .is_some_and(|a| a.totp_enabled_at.is_some());
    Ok(Some(Known {
        name: person.display_name,
        email: person.email,
        disabled: person.disabled,
        grants,
        mfa_enabled,
    }))
}
