//! Bringing a SQLite database to the current schema (`migrations::MIGRATIONS`), with the
//! backfills done in Rust.

use rusqlite::{Connection, params};

use crate::store::migrations::{EVENT_US_VERSION, MIGRATIONS, TIMEZONE_VERSION, zone_in_extra};
use crate::store::{StoreError, micros, parse_ts};

pub(super) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    for (i, m) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(usize::MAX))
    {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(m.sqlite)?;
        if i + 1 == EVENT_US_VERSION {
            backfill_event_us(&tx)?;
        }
        if i + 1 == TIMEZONE_VERSION {
            backfill_timezone(&tx)?;
        }
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(i + 1).unwrap_or(i64::MAX),
        )?;
        tx.commit()?;
    }
    Ok(())
}

fn backfill_event_us(conn: &Connection) -> Result<(), StoreError> {
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT id, event_timestamp FROM send_requests WHERE event_us IS NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = conn.prepare("UPDATE send_requests SET event_us = ?2 WHERE id = ?1")?;
    for (id, ts) in rows {
        update.execute(params![id, micros(parse_ts(&ts)?)])?;
    }
    Ok(())
}

fn backfill_timezone(conn: &Connection) -> Result<(), StoreError> {
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT id, extra FROM user_traits WHERE extra LIKE '%\"timezone\"%'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = conn.prepare("UPDATE events SET timezone = ?2 WHERE id = ?1")?;
    for (id, extra) in rows {
        if let Some(zone) = zone_in_extra(&extra) {
            update.execute(params![id, zone])?;
        }
    }
    Ok(())
}
