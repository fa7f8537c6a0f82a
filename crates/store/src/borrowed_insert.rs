//! A prepared statement whose text and blob parameters SQLite reads in place.
//!
//! rusqlite binds every text and blob parameter `SQLITE_TRANSIENT`: SQLite copies it into a
//! buffer allocated for that bind and freed at the next one. An import binds up to ten
//! strings a record (the row's and the full-text index's), and those copies and rusqlite's
//! per-parameter conversions were 3.7% of an import's instructions (callgrind, 200k records).
//! [`BorrowedInsert`] binds them `SQLITE_STATIC` instead, and binds a whole batch of rows for
//! `trawl_batch(?N)` ([`crate::batch_rows`]) as one pointer. That is sound because one call to
//! [`BorrowedInsert::execute`] binds, steps, resets and clears: SQLite keeps no pointer to the
//! caller's data once it returns.

use std::ffi::{c_char, c_int, CStr};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use rusqlite::{ffi, Connection};

use crate::batch_rows::{self, BatchRows};

/// One parameter's value, borrowed for the length of one [`BorrowedInsert::execute`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    Null,
    Integer(i64),
    Text(&'a str),
    Blob(&'a [u8]),
    /// Rows for `trawl_batch(?N)` ([`crate::batch_rows`]), bound as a pointer. Read as a value
    /// of a row (a column of `trawl_batch`), it is NULL.
    Rows(&'a BatchRows<'a>),
}

impl From<i64> for Param<'_> {
    fn from(value: i64) -> Self {
        Param::Integer(value)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(value: &'a str) -> Self {
        Param::Text(value)
    }
}

impl<'a> From<&'a [u8]> for Param<'a> {
    fn from(value: &'a [u8]) -> Self {
        Param::Blob(value)
    }
}

impl<'a, T: Into<Param<'a>>> From<Option<T>> for Param<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Param::Null, Into::into)
    }
}

/// A statement that changes rows (an `INSERT`, without `RETURNING`), prepared on a connection
/// it cannot outlive and finalized when dropped.
pub(crate) struct BorrowedInsert<'conn> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    db: *mut ffi::sqlite3,
    parameters: usize,
    _conn: PhantomData<&'conn Connection>,
}

impl<'conn> BorrowedInsert<'conn> {
    /// Prepares the single statement `sql` on `conn`, to be run many times.
    pub(crate) fn prepare(conn: &'conn Connection, sql: &str) -> rusqlite::Result<Self> {
        // SAFETY: the handle is valid while `conn` is borrowed, which `'conn` ensures for
        // every use of it here and in the statement.
        let db = unsafe { conn.handle() };
        let len = c_int::try_from(sql.len())
            .map_err(|_| failure(ffi::SQLITE_TOOBIG, "statement too long".into()))?;
        let mut stmt = ptr::null_mut();
        // SAFETY: `sql` is `len` bytes of UTF-8; SQLite writes the statement to `stmt`.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast::<c_char>(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT as _,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            // SAFETY: `db` is valid (above).
            return Err(unsafe { error(db, rc) });
        }
        let stmt = NonNull::new(stmt)
            .ok_or_else(|| failure(ffi::SQLITE_MISUSE, format!("no statement in {sql:?}")))?;
        // SAFETY: `stmt` was just prepared.
        let parameters = unsafe { ffi::sqlite3_bind_parameter_count(stmt.as_ptr()) } as usize;
        Ok(Self {
            stmt,
            db,
            parameters,
            _conn: PhantomData,
        })
    }

    /// Runs the statement with `params` (`?1`, `?2` … in order) and returns how many rows it
    /// changed. Nothing of `params` is referenced after it returns, whether it failed or not.
    pub(crate) fn execute(&mut self, params: &[Param<'_>]) -> rusqlite::Result<usize> {
        if params.len() != self.parameters {
            return Err(rusqlite::Error::InvalidParameterCount(
                params.len(),
                self.parameters,
            ));
        }
        let stmt = self.stmt.as_ptr();
        // SAFETY: `stmt` is live; every pointer bound (values `SQLITE_STATIC`, rows for
        // `trawl_batch`) points into `params`, which outlive this call, and the bindings are
        // cleared before it returns.
        unsafe {
            let mut rc = ffi::SQLITE_OK;
            for (i, param) in params.iter().enumerate() {
                rc = bind(stmt, i as c_int + 1, *param);
                if rc != ffi::SQLITE_OK {
                    break;
                }
            }
            let result = if rc != ffi::SQLITE_OK {
                Err(error(self.db, rc))
            } else {
                match ffi::sqlite3_step(stmt) {
                    ffi::SQLITE_DONE => Ok(ffi::sqlite3_changes64(self.db) as usize),
                    ffi::SQLITE_ROW => Err(rusqlite::Error::ExecuteReturnedResults),
                    rc => Err(error(self.db, rc)),
                }
            };
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
            result
        }
    }
}

impl Drop for BorrowedInsert<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement is live and finalized once, here.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// Binds `param` to parameter `index` of `stmt` without copying it.
///
/// # Safety
/// `stmt` is a live statement, and the data `param` borrows outlives the binding.
unsafe fn bind(stmt: *mut ffi::sqlite3_stmt, index: c_int, param: Param<'_>) -> c_int {
    unsafe {
        match param {
            Param::Null => ffi::sqlite3_bind_null(stmt, index),
            Param::Integer(value) => ffi::sqlite3_bind_int64(stmt, index, value),
            Param::Text(text) => {
                let bytes = non_dangling(text.as_bytes());
                ffi::sqlite3_bind_text64(
                    stmt,
                    index,
                    bytes.as_ptr().cast::<c_char>(),
                    bytes.len() as ffi::sqlite3_uint64,
                    ffi::SQLITE_STATIC(),
                    ffi::SQLITE_UTF8 as _,
                )
            }
            Param::Blob(blob) => {
                let bytes = non_dangling(blob);
                ffi::sqlite3_bind_blob64(
                    stmt,
                    index,
                    bytes.as_ptr().cast(),
                    bytes.len() as ffi::sqlite3_uint64,
                    ffi::SQLITE_STATIC(),
                )
            }
            Param::Rows(rows) => ffi::sqlite3_bind_pointer(
                stmt,
                index,
                ptr::from_ref(rows).cast_mut().cast(),
                batch_rows::POINTER_TYPE.as_ptr(),
                None,
            ),
        }
    }
}

/// `bytes`, or a static empty slice in place of an empty one: SQLite reads a zero-length
/// value as NULL only if its pointer is null, and the pointer of an empty slice dangles.
pub(crate) fn non_dangling(bytes: &[u8]) -> &[u8] {
    const EMPTY: &[u8] = b"\0";
    if bytes.is_empty() {
        &EMPTY[..0]
    } else {
        bytes
    }
}

/// The error SQLite reported on `db` for result code `rc`.
///
/// # Safety
/// `db` is a live connection.
unsafe fn error(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Error {
    // SAFETY: `db` is live; the message is copied before any other call on it.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) };
    failure(rc, message.to_string_lossy().into_owned())
}

fn failure(rc: c_int, message: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT, b BLOB, n INTEGER)")
            .unwrap();
        conn
    }

    #[test]
    fn values_are_stored_as_bound_and_outlive_the_borrow() {
        let conn = table();
        let mut insert =
            BorrowedInsert::prepare(&conn, "INSERT INTO t(id, s, b, n) VALUES (?1, ?2, ?3, ?4)")
                .unwrap();
        for (id, s, b) in [(1_i64, "héllo", &b"\x00\xff"[..]), (2, "", &b""[..])] {
            let s = s.to_owned();
            let b = b.to_vec();
            let n: Option<i64> = None;
            let changed = insert
                .execute(&[id.into(), s.as_str().into(), b.as_slice().into(), n.into()])
                .unwrap();
            assert_eq!(changed, 1);
            // The caller's buffers go now; the row must not point at them.
        }
        drop(insert);
        let rows: Vec<(i64, String, Vec<u8>, Option<i64>)> = conn
            .prepare("SELECT id, s, b, n FROM t ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (1, "héllo".to_owned(), vec![0, 255], None),
                (2, String::new(), Vec::new(), None)
            ]
        );
        let empty_is_not_null: bool = conn
            .query_row(
                "SELECT s IS NOT NULL AND b IS NOT NULL FROM t WHERE id = 2",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(empty_is_not_null);
    }

    #[test]
    fn conflicts_change_nothing_and_errors_name_the_constraint() {
        let conn = table();
        conn.execute_batch("CREATE UNIQUE INDEX t_s ON t(s)")
            .unwrap();
        let mut ignore = BorrowedInsert::prepare(
            &conn,
            "INSERT INTO t(id) VALUES (?1) ON CONFLICT DO NOTHING",
        )
        .unwrap();
        assert_eq!(ignore.execute(&[7_i64.into()]).unwrap(), 1);
        assert_eq!(ignore.execute(&[7_i64.into()]).unwrap(), 0);
        let mut insert = BorrowedInsert::prepare(&conn, "INSERT INTO t(s) VALUES (?1)").unwrap();
        insert.execute(&["x".into()]).unwrap();
        let err = insert.execute(&["x".into()]).unwrap_err();
        assert_eq!(
            err.sqlite_error_code(),
            Some(rusqlite::ErrorCode::ConstraintViolation)
        );
        assert!(
            err.to_string().contains("UNIQUE constraint failed: t.s"),
            "{err}"
        );
        // The statement is usable after an error.
        assert_eq!(insert.execute(&["y".into()]).unwrap(), 1);
        assert!(matches!(
            insert.execute(&[]),
            Err(rusqlite::Error::InvalidParameterCount(0, 1))
        ));
    }
}
