//! The read-only SQL console for power users.
//!
//! One statement at a time, checked three ways before it touches data: an authorizer that
//! allows only reading (`SELECT`, reading tables, functions, recursive CTEs and pragmas without
//! a value), the statement's own read-only flag, and `PRAGMA query_only` for its run. A run
//! stops at a row limit and a time limit; natively another thread can also stop it with
//! [`Store::interrupt_handle`].

use crate::{ConsoleResult, Store};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;

/// How much a console statement may return and take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleLimits {
    /// Rows returned at most; more make the result `truncated`.
    pub max_rows: usize,
    /// Milliseconds of running at most.
    pub max_millis: u64,
    /// Characters of a text value returned at most: a longer one comes back as its first
    /// `max_text_chars` characters, `…` and its length (`SELECT message` over records of
    /// megabyte lines would otherwise hand the page a gigabyte).
    pub max_text_chars: usize,
}

impl Default for ConsoleLimits {
    fn default() -> Self {
        Self {
            max_rows: 1000,
            max_millis: 5000,
            max_text_chars: 1000,
        }
    }
}

/// Why a console statement did not run.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The statement would change something (or is not a statement trawl lets you run).
    #[error("the console only reads: {0}")]
    NotReadOnly(String),
    /// It ran past the time limit (or was interrupted) and was stopped.
    #[error("stopped after {0} ms (the console's time limit) or interrupted")]
    Stopped(u64),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Milliseconds on a monotonic-enough clock that also exists in the browser.
fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        static START: OnceLock<std::time::Instant> = OnceLock::new();
        START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_secs_f64()
            * 1e3
    }
}

fn allow_reading(ctx: AuthContext<'_>) -> Authorization {
    match ctx.action {
        AuthAction::Select
        | AuthAction::Read { .. }
        | AuthAction::Function { .. }
        | AuthAction::Recursive
        | AuthAction::Pragma {
            pragma_value: None, ..
        } => Authorization::Allow,
        _ => Authorization::Deny,
    }
}

impl Store {
    /// Runs one read-only SQL statement within `limits`.
    pub fn console(
        &mut self,
        sql: &str,
        limits: ConsoleLimits,
    ) -> Result<ConsoleResult, ConsoleError> {
        let deadline = now_ms() + limits.max_millis as f64;
        let guarded = self
            .conn
            .pragma_update(None, "query_only", true)
            .and_then(|()| self.conn.authorizer(Some(allow_reading)))
            .and_then(|()| {
                self.conn
                    .progress_handler(10_000, Some(move || now_ms() > deadline))
            });
        let result = match guarded {
            Ok(()) => self.run_console(sql, limits),
            Err(e) => Err(e.into()),
        };
        // Whatever happened, the store is writable and unwatched again.
        self.conn.progress_handler(0, None::<fn() -> bool>)?;
        self.conn
            .authorizer(None::<fn(AuthContext<'_>) -> Authorization>)?;
        self.conn.pragma_update(None, "query_only", false)?;
        result
    }

    fn run_console(&self, sql: &str, limits: ConsoleLimits) -> Result<ConsoleResult, ConsoleError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, msg)
                if f.code == rusqlite::ErrorCode::AuthorizationForStatementDenied =>
            {
                ConsoleError::NotReadOnly(msg.unwrap_or_else(|| "not authorized".into()))
            }
            e => ConsoleError::Sqlite(e),
        })?;
        if !stmt.readonly() {
            return Err(ConsoleError::NotReadOnly(sql.trim().to_owned()));
        }
        let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        let mut truncated = false;
        loop {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::OperationInterrupted =>
                {
                    return Err(ConsoleError::Stopped(limits.max_millis));
                }
                Err(e) => return Err(e.into()),
            };
            if out.len() == limits.max_rows {
                truncated = true;
                break;
            }
            out.push(
                (0..columns.len())
                    .map(|i| {
                        row.get_ref(i)
                            .map(|value| json_value(value, limits.max_text_chars))
                    })
                    .collect::<rusqlite::Result<_>>()?,
            );
        }
        Ok(ConsoleResult {
            columns,
            rows: out,
            truncated,
        })
    }

    /// A handle that stops the statement running on this store from another thread.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn interrupt_handle(&self) -> rusqlite::InterruptHandle {
        self.conn.get_interrupt_handle()
    }
}

fn json_value(value: ValueRef<'_>, max_text_chars: usize) -> serde_json::Value {
    match value {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(f) => f.into(),
        ValueRef::Text(t) => {
            let text = String::from_utf8_lossy(t);
            match trawl_protocol::leading_chars(&text, max_text_chars) {
                Some(start) => format!("{start}… ({} characters)", text.chars().count()).into(),
                None => text.into_owned().into(),
            }
        }
        ValueRef::Blob(b) => {
            let hex: String = b.iter().take(64).map(|x| format!("{x:02x}")).collect();
            format!("x'{hex}' ({} bytes)", b.len()).into()
        }
    }
}
