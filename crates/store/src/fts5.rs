//! Registers trawl's log [`tokenizer`] with FTS5 through its C API.
//!
//! The same code runs over rusqlite's bundled SQLite natively and over `sqlite-wasm-rs` in the
//! browser: both expose SQLite's own `fts5_api` through `rusqlite::ffi`.
//!
//! In a table definition the tokenizer is `tokenize = 'trawl'`; `tokenize = 'trawl wholes'`
//! also indexes whole compounds (see [`Options::wholes`]).

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

use rusqlite::{ffi, Connection};

use crate::tokenizer::{self, Mode, Options};

/// The name tables use in `tokenize = '…'`.
pub const TOKENIZER_NAME: &str = "trawl";

/// Registers the `trawl` tokenizer on `conn`. Needed once per connection, before any table that
/// uses it is read or written.
pub fn register_tokenizer(conn: &Connection) -> rusqlite::Result<()> {
    // SAFETY: the handle stays valid for the duration of this call; we neither close it nor
    // keep it.
    let db = unsafe { conn.handle() };
    let api = fts5_api(db)?;
    let mut tokenizer = ffi::fts5_tokenizer_v2 {
        iVersion: 2,
        xCreate: Some(create),
        xDelete: Some(delete),
        xTokenize: Some(tokenize),
    };
    // SAFETY: `api` is the live fts5_api of `db`; FTS5 copies the tokenizer struct.
    let rc = unsafe {
        let create_v2 = (*api)
            .xCreateTokenizer_v2
            .ok_or_else(|| misuse("FTS5 has no xCreateTokenizer_v2"))?;
        create_v2(
            api,
            c"trawl".as_ptr(),
            ptr::null_mut(),
            &mut tokenizer,
            None,
        )
    };
    check(db, rc)
}

/// The `fts5_api` of `db`, fetched the documented way: `SELECT fts5(?1)` with a bound pointer.
fn fts5_api(db: *mut ffi::sqlite3) -> rusqlite::Result<*mut ffi::fts5_api> {
    let mut api: *mut ffi::fts5_api = ptr::null_mut();
    let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
    // SAFETY: plain use of the SQLite C API on a valid handle; the statement is finalized on
    // every path and `api` outlives the step that writes it.
    unsafe {
        let rc = ffi::sqlite3_prepare_v2(
            db,
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &mut stmt,
            ptr::null_mut(),
        );
        check(db, rc)?;
        let rc = ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&mut api as *mut *mut ffi::fts5_api).cast::<c_void>(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        let rc = if rc == ffi::SQLITE_OK {
            ffi::sqlite3_step(stmt)
        } else {
            rc
        };
        ffi::sqlite3_finalize(stmt);
        if rc != ffi::SQLITE_ROW {
            return check(db, rc).and(Err(misuse("SELECT fts5(?1) returned no row")));
        }
    }
    if api.is_null() {
        return Err(misuse("FTS5 is not compiled into this SQLite"));
    }
    Ok(api)
}

fn check(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Result<()> {
    if rc == ffi::SQLITE_OK || rc == ffi::SQLITE_ROW || rc == ffi::SQLITE_DONE {
        return Ok(());
    }
    // SAFETY: errmsg of a valid handle is a NUL-terminated string owned by SQLite.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned();
    Err(rusqlite::Error::SqliteFailure(
        ffi::Error::new(rc),
        Some(message),
    ))
}

fn misuse(message: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        ffi::Error::new(ffi::SQLITE_MISUSE),
        Some(message.to_owned()),
    )
}

/// `xCreate`: one tokenizer instance per table, holding its options.
unsafe extern "C" fn create(
    _user_data: *mut c_void,
    args: *mut *const c_char,
    n_args: c_int,
    out: *mut *mut ffi::Fts5Tokenizer,
) -> c_int {
    let mut options = Options::default();
    for i in 0..usize::try_from(n_args).unwrap_or(0) {
        // SAFETY: FTS5 passes `n_args` NUL-terminated strings.
        let arg = unsafe { CStr::from_ptr(*args.add(i)) };
        match arg.to_bytes() {
            b"wholes" => options.wholes = true,
            b"nowholes" => options.wholes = false,
            _ => return ffi::SQLITE_ERROR,
        }
    }
    // SAFETY: `out` is FTS5's out-pointer; `delete` frees the box.
    unsafe { *out = Box::into_raw(Box::new(options)).cast() };
    ffi::SQLITE_OK
}

/// `xDelete`: frees what `create` made.
unsafe extern "C" fn delete(tokenizer: *mut ffi::Fts5Tokenizer) {
    if !tokenizer.is_null() {
        // SAFETY: made by `create` from a `Box<Options>`.
        drop(unsafe { Box::from_raw(tokenizer.cast::<Options>()) });
    }
}

type TokenCallback = unsafe extern "C" fn(
    ctx: *mut c_void,
    flags: c_int,
    token: *const c_char,
    n_token: c_int,
    start: c_int,
    end: c_int,
) -> c_int;

/// `xTokenize`: runs [`tokenizer::tokenize`] and hands every token to FTS5.
unsafe extern "C" fn tokenize(
    tokenizer: *mut ffi::Fts5Tokenizer,
    ctx: *mut c_void,
    flags: c_int,
    text: *const c_char,
    n_text: c_int,
    _locale: *const c_char,
    _n_locale: c_int,
    token_callback: Option<TokenCallback>,
) -> c_int {
    let Some(emit) = token_callback else {
        return ffi::SQLITE_MISUSE;
    };
    // SAFETY: made by `create`.
    let options = unsafe { *tokenizer.cast::<Options>() };
    let bytes: &[u8] = match usize::try_from(n_text) {
        // SAFETY: FTS5 passes `n_text` readable bytes.
        Ok(n) if n > 0 && !text.is_null() => unsafe { std::slice::from_raw_parts(text.cast(), n) },
        _ => return ffi::SQLITE_OK,
    };
    let mode = if flags & ffi::FTS5_TOKENIZE_QUERY != 0 {
        Mode::Query
    } else {
        Mode::Document
    };
    // Text in SQLite is UTF-8 unless someone stored otherwise; such bytes are tokenized as
    // replacement characters (offsets then only approximate, never out of range).
    // `from_utf8` checks a word at a time; the lossy scan, a character at a time, took 1.9%
    // of an import's instructions.
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    let limit = c_int::try_from(bytes.len()).unwrap_or(c_int::MAX);
    let result = tokenizer::tokenize(&text, mode, options, |token| {
        let flags = if token.colocated {
            ffi::FTS5_TOKEN_COLOCATED
        } else {
            0
        };
        let clamp = |offset: usize| c_int::try_from(offset).unwrap_or(c_int::MAX).min(limit);
        // SAFETY: FTS5's callback with the context it gave us; the token bytes live until it
        // returns.
        let rc = unsafe {
            emit(
                ctx,
                flags,
                token.text.as_ptr().cast(),
                c_int::try_from(token.text.len()).unwrap_or(0),
                clamp(token.start),
                clamp(token.end),
            )
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(rc)
        }
    });
    match result {
        Ok(()) => ffi::SQLITE_OK,
        // FTS5 stops early with SQLITE_DONE when it has what it needs.
        Err(rc) if rc == ffi::SQLITE_DONE => ffi::SQLITE_OK,
        Err(rc) => rc,
    }
}
