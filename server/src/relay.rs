//! Live events between instances on PostgreSQL (LISTEN/NOTIFY). Each instance publishes on
//! its own in-process channel, as on SQLite; on PostgreSQL this relay also sends every
//! event made here to the `wardline_live` channel, and puts every event another instance
//! sent there on the local channel (marked relayed, so it is not sent back out). Open
//! pages therefore refresh whichever instance the change was made through.
//!
//! A notification is delivered when the transaction that sent it commits; the relay sends
//! its own (autocommit), after the change it reports has committed. If the listening
//! connection drops, it is made again; events sent meanwhile are lost to this instance's
//! open pages, which show them at their next refresh.

use std::time::Duration;

use app::backend::live::{LiveEvent, Sender};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

const CHANNEL: &str = "wardline_live";
/// People per notification: PostgreSQL takes payloads under 8,000 bytes, so a long list
/// travels in several.
const PEOPLE_PER_NOTICE: usize = 400;

#[derive(Serialize, Deserialize)]
struct Notice {
    /// The instance that sent it.
    from: u64,
    reference: String,
    people: Vec<i64>,
}

/// A number for this instance, unlike any other's: 64 random bits (two instances share one
/// with a chance of about one in 10^19).
fn instance_number() -> u64 {
    rand::random()
}

/// Starts relaying when `db` is PostgreSQL; does nothing on SQLite.
pub fn spawn(db: &DatabaseConnection, live: Sender) {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    let me = instance_number();
    tokio::spawn(send_out(db.clone(), live.subscribe(), me));
    tokio::spawn(take_in(db.get_postgres_connection_pool().clone(), live, me));
}

async fn send_out(
    db: DatabaseConnection,
    mut events: tokio::sync::broadcast::Receiver<LiveEvent>,
    me: u64,
) {
    loop {
        let event = match events.recv().await {
            Ok(event) if !event.relayed => event,
            Ok(_) => continue,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "live relay fell behind; other instances miss these");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let chunks: Vec<Vec<i64>> = if event.people.is_empty() {
            vec![Vec::new()]
        } else {
            event
                .people
                .chunks(PEOPLE_PER_NOTICE)
                .map(<[i64]>::to_vec)
                .collect()
        };
        for people in chunks {
            let notice = Notice {
                from: me,
                reference: event.reference.clone(),
                people,
            };
            let Ok(payload) = serde_json::to_string(&notice) else {
                continue;
            };
            let sent = db
                .execute_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), payload.into()],
                ))
                .await;
            if let Err(err) = sent {
                tracing::warn!(%err, "live relay: sending to other instances");
            }
        }
    }
}

async fn take_in(pool: sqlx::PgPool, live: Sender, me: u64) {
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(err) => {
                tracing::warn!(%err, "live relay: connecting to listen");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(err) = listener.listen(CHANNEL).await {
            tracing::warn!(%err, "live relay: LISTEN");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        loop {
            match listener.recv().await {
                Ok(n) => match serde_json::from_str::<Notice>(n.payload()) {
                    Ok(notice) if notice.from != me => {
                        // Nobody listening here is fine.
                        let _ = live.send(LiveEvent {
                            reference: notice.reference,
                            people: notice.people,
                            relayed: true,
                        });
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!(%err, "live relay: an unreadable notice"),
                },
                Err(err) => {
                    // recv reconnects on the next call; a pause keeps a dead server from
                    // being asked in a tight loop.
                    tracing::warn!(%err, "live relay: listening");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }
}
