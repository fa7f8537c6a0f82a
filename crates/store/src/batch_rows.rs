//! `trawl_batch(?1)`: a table of the caller's rows, for inserting a whole batch in one statement.
//!
//! An import inserting a batch one row a statement pays, for every row, for binding each
//! value, starting and halting the statement and opening its cursors.
//! `INSERT INTO t(…) SELECT c0, c1, … FROM trawl_batch(?1)` runs the statement once a batch,
//! with its cursors open throughout, and each value is read in place (`SQLITE_STATIC`), not
//! copied. Each row's key is still looked up from the root before it is written (SQLite's
//! check for an existing rowid): 4% of a 200k-record import's instructions under callgrind,
//! the keys (near 2^60) being nine-byte varints to decode at every interior cell.
//!
//! `trawl_batch` is an eponymous, read-only virtual table with the columns `c0` … `c15` and a
//! hidden column `rows`, the table-valued function's argument: a pointer bound with
//! [`Param::Rows`] (SQLite's pointer passing, type `"trawl_batch"`). A value of any other kind
//! (a number, a string typed in the SQL console) gives no rows.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;

use rusqlite::{ffi, Connection};

use crate::borrowed_insert::{non_dangling, Param};

/// Columns of `trawl_batch` (`c0` … `c15`): the most values a row may have.
pub(crate) const MAX_WIDTH: usize = 16;
/// The pointer type [`Param::Rows`] is bound as and `trawl_batch` accepts.
pub(crate) const POINTER_TYPE: &std::ffi::CStr = c"trawl_batch";
const DECLARATION: &std::ffi::CStr = c"CREATE TABLE x(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, \
    c10, c11, c12, c13, c14, c15, rows HIDDEN)";
/// The index of the hidden `rows` column.
const ROWS_COLUMN: c_int = MAX_WIDTH as c_int;

/// Rows of `width` values each, laid out one row after another in `values`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchRows<'a> {
    width: usize,
    values: &'a [Param<'a>],
}

impl<'a> BatchRows<'a> {
    /// Rows of `width` values (at most [`MAX_WIDTH`]), one after another in `values`. `None`
    /// if `width` is out of range or `values` does not hold whole rows.
    pub(crate) fn new(width: usize, values: &'a [Param<'a>]) -> Option<Self> {
        let whole = (1..=MAX_WIDTH).contains(&width) && values.len().is_multiple_of(width);
        whole.then_some(Self { width, values })
    }

    /// How many rows there are.
    pub(crate) fn len(&self) -> usize {
        self.values.len() / self.width
    }
}

/// Registers `trawl_batch` on `conn`. Needed once per connection.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    // SAFETY: the handle is valid for this call; `MODULE` is static, so it outlives the
    // connection as SQLite requires.
    unsafe {
        let db = conn.handle();
        let rc = ffi::sqlite3_create_module_v2(
            db,
            c"trawl_batch".as_ptr(),
            &MODULE,
            ptr::null_mut(),
            None,
        );
        if rc != ffi::SQLITE_OK {
            return Err(rusqlite::Error::SqliteFailure(
                ffi::Error::new(rc),
                Some("cannot register the trawl_batch virtual table".into()),
            ));
        }
    }
    Ok(())
}

/// Eponymous (no `xCreate`) and read-only (no `xUpdate`).
static MODULE: ffi::sqlite3_module = ffi::sqlite3_module {
    iVersion: 1,
    xCreate: None,
    xConnect: Some(connect),
    xBestIndex: Some(best_index),
    xDisconnect: Some(disconnect),
    xDestroy: Some(disconnect),
    xOpen: Some(open),
    xClose: Some(close),
    xFilter: Some(filter),
    xNext: Some(next),
    xEof: Some(eof),
    xColumn: Some(column),
    xRowid: Some(rowid),
    // SAFETY: every other member is an optional function pointer; all-zero is `None`.
    ..unsafe { std::mem::zeroed() }
};

/// The cursor: `base` first, as SQLite casts between the two.
#[repr(C)]
struct Cursor {
    base: ffi::sqlite3_vtab_cursor,
    /// The rows of the current scan; none before `xFilter` or without a bound pointer.
    rows: BatchRows<'static>,
    at: usize,
}

const NO_ROWS: BatchRows<'static> = BatchRows {
    width: 1,
    values: &[],
};

unsafe extern "C" fn connect(
    db: *mut ffi::sqlite3,
    _aux: *mut c_void,
    _argc: c_int,
    _argv: *const *const c_char,
    table: *mut *mut ffi::sqlite3_vtab,
    _error: *mut *mut c_char,
) -> c_int {
    // SAFETY: SQLite passes a live connection and a place for the table.
    unsafe {
        let rc = ffi::sqlite3_declare_vtab(db, DECLARATION.as_ptr());
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        // SQLite fills in the base's members; it needs nothing more.
        *table = Box::into_raw(Box::new(std::mem::zeroed::<ffi::sqlite3_vtab>()));
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn disconnect(table: *mut ffi::sqlite3_vtab) -> c_int {
    // SAFETY: `table` came from `Box::into_raw` in `connect`, and SQLite frees it once.
    drop(unsafe { Box::from_raw(table) });
    ffi::SQLITE_OK
}

/// The one plan: `rows = ?` is the argument. Without it there are no rows to give.
unsafe extern "C" fn best_index(
    _table: *mut ffi::sqlite3_vtab,
    info: *mut ffi::sqlite3_index_info,
) -> c_int {
    // SAFETY: SQLite passes `nConstraint` constraints and as many usages.
    unsafe {
        let info = &mut *info;
        let count = usize::try_from(info.nConstraint).unwrap_or(0);
        let constraints = std::slice::from_raw_parts(info.aConstraint, count);
        let usage = std::slice::from_raw_parts_mut(info.aConstraintUsage, count);
        let mut unusable = false;
        for (constraint, usage) in constraints.iter().zip(usage) {
            if constraint.iColumn != ROWS_COLUMN
                || c_int::from(constraint.op) != ffi::SQLITE_INDEX_CONSTRAINT_EQ
            {
                continue;
            }
            if constraint.usable == 0 {
                unusable = true;
                continue;
            }
            usage.argvIndex = 1;
            usage.omit = 1;
            info.idxNum = 1;
            info.estimatedCost = 1.0;
            info.estimatedRows = 1000;
            return ffi::SQLITE_OK;
        }
        if unusable {
            // A plan that can bind the argument exists; tell SQLite to take that one.
            return ffi::SQLITE_CONSTRAINT;
        }
        info.idxNum = 0;
        info.estimatedCost = 1.0;
        info.estimatedRows = 0;
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn open(
    _table: *mut ffi::sqlite3_vtab,
    cursor: *mut *mut ffi::sqlite3_vtab_cursor,
) -> c_int {
    let new = Box::new(Cursor {
        // SAFETY: SQLite fills in the base's members.
        base: unsafe { std::mem::zeroed() },
        rows: NO_ROWS,
        at: 0,
    });
    // SAFETY: SQLite passes a place for the cursor; `base` is the first member of a
    // `repr(C)` struct, so the pointers are the same.
    unsafe { *cursor = Box::into_raw(new).cast() };
    ffi::SQLITE_OK
}

unsafe extern "C" fn close(cursor: *mut ffi::sqlite3_vtab_cursor) -> c_int {
    // SAFETY: `cursor` came from `Box::into_raw` in `open`, and SQLite closes it once.
    drop(unsafe { Box::from_raw(cursor.cast::<Cursor>()) });
    ffi::SQLITE_OK
}

unsafe extern "C" fn filter(
    cursor: *mut ffi::sqlite3_vtab_cursor,
    plan: c_int,
    _plan_text: *const c_char,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) -> c_int {
    // SAFETY: `cursor` is one of ours; SQLite passes `argc` arguments. A pointer of type
    // `trawl_batch` is only ever bound by `Param::Rows`, to a `BatchRows` that outlives the
    // statement's run (see `borrowed_insert`), which is the only time this cursor reads it.
    unsafe {
        let cursor = &mut *cursor.cast::<Cursor>();
        cursor.rows = NO_ROWS;
        cursor.at = 0;
        if plan == 1 && argc == 1 {
            let rows = ffi::sqlite3_value_pointer(*argv, POINTER_TYPE.as_ptr())
                .cast::<BatchRows<'static>>();
            if let Some(rows) = rows.as_ref() {
                cursor.rows = *rows;
            }
        }
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn next(cursor: *mut ffi::sqlite3_vtab_cursor) -> c_int {
    // SAFETY: `cursor` is one of ours.
    unsafe { (*cursor.cast::<Cursor>()).at += 1 };
    ffi::SQLITE_OK
}

unsafe extern "C" fn eof(cursor: *mut ffi::sqlite3_vtab_cursor) -> c_int {
    // SAFETY: `cursor` is one of ours.
    let cursor = unsafe { &*cursor.cast::<Cursor>() };
    c_int::from(cursor.at >= cursor.rows.len())
}

unsafe extern "C" fn column(
    cursor: *mut ffi::sqlite3_vtab_cursor,
    context: *mut ffi::sqlite3_context,
    index: c_int,
) -> c_int {
    // SAFETY: `cursor` is one of ours, on a row (SQLite asks only while not at the end); its
    // rows are alive (see `filter`), so a value read in place stays valid while SQLite uses
    // it, which is within this statement's run.
    unsafe {
        let cursor = &*cursor.cast::<Cursor>();
        let rows = cursor.rows;
        let value = usize::try_from(index)
            .ok()
            .filter(|&i| i < rows.width)
            .map_or(Param::Null, |i| rows.values[cursor.at * rows.width + i]);
        result(context, value);
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn rowid(cursor: *mut ffi::sqlite3_vtab_cursor, rowid: *mut i64) -> c_int {
    // SAFETY: `cursor` is one of ours; SQLite passes a place for the rowid.
    unsafe { *rowid = (*cursor.cast::<Cursor>()).at as i64 };
    ffi::SQLITE_OK
}

/// Sets `value` as the result of `context`, read in place.
///
/// # Safety
/// `context` is live, and the data `value` borrows outlives SQLite's use of the result.
unsafe fn result(context: *mut ffi::sqlite3_context, value: Param<'_>) {
    unsafe {
        match value {
            Param::Null | Param::Rows(_) => ffi::sqlite3_result_null(context),
            Param::Integer(value) => ffi::sqlite3_result_int64(context, value),
            Param::Text(text) => {
                let bytes = non_dangling(text.as_bytes());
                ffi::sqlite3_result_text64(
                    context,
                    bytes.as_ptr().cast::<c_char>(),
                    bytes.len() as ffi::sqlite3_uint64,
                    ffi::SQLITE_STATIC(),
                    ffi::SQLITE_UTF8 as _,
                );
            }
            Param::Blob(blob) => {
                let bytes = non_dangling(blob);
                ffi::sqlite3_result_blob64(
                    context,
                    bytes.as_ptr().cast(),
                    bytes.len() as ffi::sqlite3_uint64,
                    ffi::SQLITE_STATIC(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::borrowed_insert::BorrowedInsert;

    fn connection() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT, b BLOB, n INTEGER)")
            .unwrap();
        conn
    }

    #[test]
    fn a_batch_goes_in_with_one_statement_as_bound() {
        let conn = connection();
        let mut insert = BorrowedInsert::prepare(
            &conn,
            "INSERT INTO t(id, s, b, n) SELECT c0, c1, c2, c3 FROM trawl_batch(?1)",
        )
        .unwrap();
        let texts = ["héllo".to_owned(), String::new()];
        let blobs = [vec![0_u8, 255], Vec::new()];
        let values = [
            Param::Integer(1),
            Param::Text(&texts[0]),
            Param::Blob(&blobs[0]),
            Param::Null,
            Param::Integer(2),
            Param::Text(&texts[1]),
            Param::Blob(&blobs[1]),
            Param::Integer(-7),
        ];
        let rows = BatchRows::new(4, &values).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(insert.execute(&[Param::Rows(&rows)]).unwrap(), 2);
        drop((texts, blobs));
        let stored: Vec<(i64, String, Vec<u8>, Option<i64>)> = conn
            .prepare("SELECT id, s, b, n FROM t ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            stored,
            [
                (1, "héllo".to_owned(), vec![0, 255], None),
                (2, String::new(), Vec::new(), Some(-7))
            ]
        );
        // A failing batch changes nothing: the statement rolls back its own rows.
        let values = [Param::Integer(3), Param::Integer(1)];
        let rows = BatchRows::new(1, &values).unwrap();
        let mut ids =
            BorrowedInsert::prepare(&conn, "INSERT INTO t(id) SELECT c0 FROM trawl_batch(?1)")
                .unwrap();
        assert!(ids.execute(&[Param::Rows(&rows)]).is_err());
        let count: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 2);
    }

    #[test]
    fn without_bound_rows_the_table_is_empty() {
        let conn = connection();
        for sql in [
            "SELECT count(*) FROM trawl_batch",
            "SELECT count(*) FROM trawl_batch(1)",
            "SELECT count(*) FROM trawl_batch('rows')",
            "SELECT count(*) FROM trawl_batch(NULL)",
        ] {
            let count: i64 = conn.query_row(sql, [], |r| r.get(0)).unwrap();
            assert_eq!(count, 0, "{sql}");
        }
    }

    #[test]
    fn the_declared_columns_are_max_width_values_and_the_hidden_rows() {
        let conn = connection();
        let columns = conn.prepare("SELECT * FROM trawl_batch").unwrap();
        let names: Vec<&str> = columns.column_names().collect();
        let expected: Vec<String> = (0..MAX_WIDTH).map(|i| format!("c{i}")).collect();
        assert_eq!(names, expected);
        let rows: i64 = conn
            .query_row("SELECT count(rows) FROM trawl_batch", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0, "`rows` is the column after the values");
    }

    #[test]
    fn rows_must_be_whole() {
        let values = [Param::Null; 6];
        assert!(BatchRows::new(4, &values).is_none());
        assert!(BatchRows::new(0, &values).is_none());
        assert!(BatchRows::new(MAX_WIDTH + 1, &[Param::Null; MAX_WIDTH + 1]).is_none());
        assert_eq!(BatchRows::new(3, &values).unwrap().len(), 2);
    }
}
