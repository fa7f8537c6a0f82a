//! The store's schema, as an ordered list of migrations.
//!
//! `PRAGMA user_version` records how many migrations a database has had. Migrations only ever
//! get appended: a released migration is never edited.

use rusqlite::{Connection, TransactionBehavior};

use crate::{Result, StoreError};

/// Migration `i` brings a database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the store itself and user settings.
    "CREATE TABLE store_info (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         open_count INTEGER NOT NULL
     ) STRICT;
     INSERT INTO store_info(id, open_count) VALUES (1, 0);
     CREATE TABLE settings (
         key TEXT PRIMARY KEY,
         value TEXT NOT NULL
     ) STRICT;",
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

pub(crate) fn user_version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |row| row.get(0))?)
}

/// Applies the missing migrations in one immediate transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = user_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for migration in &MIGRATIONS[found as usize..] {
        tx.execute_batch(migration)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}
