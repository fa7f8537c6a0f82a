//! Compiles an [`Expr`] to SQL over `record_rows r` (or a rollup table's rows, which share
//! the columns a rollup query may test), with every value a bound parameter.
//!
//! The top-level conjunction is split three ways so the common queries run off an index:
//! full-text terms become one FTS5 `MATCH` expression (which can drive the query in key, that
//! is time, order), `since:`/`until:` become a key range (which FTS5 and the records table
//! both seek to), and everything else becomes a filter on the records.

use rusqlite::types::Value;

use super::{Cmp, Expr, Field};
use crate::key;
use crate::tokenizer::{self, Mode};

/// SQL text with its parameters, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Frag {
    pub sql: String,
    pub params: Vec<Value>,
}

impl Frag {
    fn new(sql: impl Into<String>, params: Vec<Value>) -> Self {
        Self {
            sql: sql.into(),
            params,
        }
    }

    fn join(parts: Vec<Frag>, op: &str) -> Frag {
        let mut out = Frag::default();
        out.sql.push('(');
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                out.sql.push_str(op);
            }
            out.sql.push_str(&part.sql);
            out.params.extend(part.params);
        }
        out.sql.push(')');
        out
    }
}

/// A compiled query.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Compiled {
    /// An FTS5 expression every result matches (bound as one parameter).
    pub fts: Option<String>,
    /// First key in range (inclusive).
    pub lo: Option<i64>,
    /// Key after the range (exclusive).
    pub hi: Option<i64>,
    /// A condition over `r` every result meets.
    pub filter: Option<Frag>,
    /// Whether the filter names only level, service, host and source, so it holds for the
    /// `rollup` table's rows as written (counts, histograms and facets can be read there).
    pub rollup: bool,
}

/// Compiles `expr`; relative times count from `newest` (Unix nanoseconds).
pub(crate) fn compile(expr: &Expr, newest: i64) -> Compiled {
    let conjuncts: Vec<&Expr> = match expr {
        Expr::All => Vec::new(),
        Expr::And(terms) => terms.iter().collect(),
        e => vec![e],
    };
    let mut out = Compiled {
        rollup: conjuncts
            .iter()
            .all(|t| matches!(t, Expr::Since(_) | Expr::Until(_)) || rollup_field(t)),
        ..Compiled::default()
    };
    let (mut positive, mut negative, mut filters) = (Vec::new(), Vec::new(), Vec::new());
    for term in conjuncts {
        match term {
            Expr::Since(t) => {
                let lo = key::floor(t.resolve(newest));
                out.lo = Some(out.lo.map_or(lo, |x| x.max(lo)));
            }
            Expr::Until(t) => {
                let hi = key::ceil(t.resolve(newest));
                out.hi = Some(out.hi.map_or(hi, |x| x.min(hi)));
            }
            term => match fts(term) {
                Fts::Expr(e) => {
                    positive.push(e);
                    filters.extend(exact_compound(term));
                    if let Expr::Field {
                        field,
                        cmp,
                        value,
                        prefix,
                    } = term
                    {
                        filters.push(field_sql(field, *cmp, value, *prefix));
                    }
                }
                Fts::Nothing => {}
                Fts::NotText => match term {
                    Expr::Not(inner) => match fts(inner) {
                        Fts::Expr(e) => negative.push(e),
                        Fts::Nothing => filters.push(Frag::new("0", vec![])),
                        Fts::NotText => filters.push(sql(term, newest)),
                    },
                    _ => filters.push(sql(term, newest)),
                },
            },
        }
    }
    if positive.is_empty() {
        if !negative.is_empty() {
            let any = negative.join(" OR ");
            filters.push(Frag::new(
                "r.id NOT IN (SELECT rowid FROM records_fts WHERE records_fts MATCH ?)",
                vec![Value::Text(any)],
            ));
        }
    } else {
        let mut e = positive.join(" AND ");
        if !negative.is_empty() {
            e = format!("({e}) NOT ({})", negative.join(" OR "));
        }
        out.fts = Some(e);
    }
    if !filters.is_empty() {
        out.filter = Some(if filters.len() == 1 {
            filters.pop().expect("one")
        } else {
            Frag::join(filters, " AND ")
        });
    }
    out
}

/// For a bare word of several parts (`user=root`, `payment-api`, `10.0.0.1:8080`), a filter
/// that keeps only records holding it as written (case aside): FTS5 matches its parts as a
/// phrase, which would also take `user root`. Quoted phrases, non-ASCII words and words under
/// `OR`/`NOT` keep the phrase semantics.
fn exact_compound(expr: &Expr) -> Option<Frag> {
    let Expr::Text {
        text,
        phrase: false,
        ..
    } = expr
    else {
        return None;
    };
    let word = text.trim_matches(|c: char| c.is_ascii_punctuation());
    let parts = tokenizer::tokens(word, Mode::Query, Default::default());
    (word.is_ascii() && parts.len() > 1).then(|| {
        Frag::new(
            "trawl_contains(?, r.message, r.fields)",
            vec![Value::Text(word.to_owned())],
        )
    })
}

/// Whether `expr` only tests the columns the rollup table shares with the records.
fn rollup_field(expr: &Expr) -> bool {
    match expr {
        Expr::Level(..) => true,
        Expr::Field { field, .. } => matches!(field, Field::Service | Field::Host | Field::Source),
        Expr::And(terms) | Expr::Or(terms) => terms.iter().all(rollup_field),
        Expr::Not(inner) => rollup_field(inner),
        _ => false,
    }
}

/// What an expression is as full text.
enum Fts {
    /// An FTS5 expression.
    Expr(String),
    /// No constraint (a term with no tokens, like `...`).
    Nothing,
    /// Not expressible in FTS5 alone.
    NotText,
}

fn fts(expr: &Expr) -> Fts {
    match expr {
        Expr::Text { text, prefix, .. } => {
            if tokenizer::tokens(text, Mode::Query, Default::default()).is_empty() {
                return Fts::Nothing;
            }
            let quoted = format!("\"{}\"", text.replace('"', "\"\""));
            Fts::Expr(if *prefix { quoted + " *" } else { quoted })
        }
        Expr::And(terms) => {
            let (mut pos, mut neg) = (Vec::new(), Vec::new());
            for term in terms {
                match (term, fts(term)) {
                    (_, Fts::Expr(e)) => pos.push(e),
                    (_, Fts::Nothing) => {}
                    (Expr::Not(inner), Fts::NotText) => match fts(inner) {
                        Fts::Expr(e) => neg.push(e),
                        _ => return Fts::NotText,
                    },
                    _ => return Fts::NotText,
                }
            }
            match (pos.is_empty(), neg.is_empty()) {
                (true, true) => Fts::Nothing,
                (true, false) => Fts::NotText,
                (false, true) => Fts::Expr(format!("({})", pos.join(" AND "))),
                (false, false) => Fts::Expr(format!(
                    "(({}) NOT ({}))",
                    pos.join(" AND "),
                    neg.join(" OR ")
                )),
            }
        }
        // Trace ids are indexed in the `trace` column: a lookup is an FTS5 seek.
        Expr::Field {
            field: Field::TraceId,
            cmp: Cmp::Eq,
            value,
            prefix,
        } => {
            if tokenizer::tokens(value, Mode::Query, Default::default()).is_empty() {
                return Fts::NotText;
            }
            let quoted = format!("{{trace}} : \"{}\"", value.replace('"', "\"\""));
            Fts::Expr(if *prefix { quoted + " *" } else { quoted })
        }
        Expr::Or(terms) => {
            let mut alts = Vec::new();
            for term in terms {
                match fts(term) {
                    Fts::Expr(e) => alts.push(e),
                    Fts::Nothing => return Fts::Nothing,
                    Fts::NotText => return Fts::NotText,
                }
            }
            Fts::Expr(format!("({})", alts.join(" OR ")))
        }
        _ => Fts::NotText,
    }
}

/// `expr` as a condition over `r`.
fn sql(expr: &Expr, newest: i64) -> Frag {
    if let Fts::Expr(e) = fts(expr) {
        return Frag::new(
            "r.id IN (SELECT rowid FROM records_fts WHERE records_fts MATCH ?)",
            vec![Value::Text(e)],
        );
    }
    match expr {
        Expr::All | Expr::Text { .. } => Frag::new("1", vec![]),
        Expr::And(terms) => Frag::join(terms.iter().map(|t| sql(t, newest)).collect(), " AND "),
        Expr::Or(terms) => Frag::join(terms.iter().map(|t| sql(t, newest)).collect(), " OR "),
        Expr::Not(inner) => {
            let inner = sql(inner, newest);
            Frag::new(format!("NOT coalesce({}, 0)", inner.sql), inner.params)
        }
        Expr::Level(cmp, code) => Frag::new(
            format!("r.level {} ?", cmp.sql()),
            vec![Value::Integer(i64::from(*code))],
        ),
        Expr::Field {
            field,
            cmp,
            value,
            prefix,
        } => field_sql(field, *cmp, value, *prefix),
        Expr::Regex(pattern) => Frag::new(
            "trawl_regexp(?, r.message)",
            vec![Value::Text(pattern.clone())],
        ),
        Expr::Since(t) => Frag::new(
            "r.id >= ?",
            vec![Value::Integer(key::floor(t.resolve(newest)))],
        ),
        Expr::Until(t) => Frag::new(
            "r.id < ?",
            vec![Value::Integer(key::ceil(t.resolve(newest)))],
        ),
    }
}

fn field_sql(field: &Field, cmp: Cmp, value: &str, prefix: bool) -> Frag {
    let column = match field {
        Field::Service => "r.service",
        Field::Host => "r.host",
        Field::TraceId => "r.trace_id",
        Field::SpanId => "r.span_id",
        Field::Source => return source_sql(cmp, value, prefix),
        Field::Json(path) => return json_sql(path, cmp, value, prefix),
        Field::Level | Field::Since | Field::Until => unreachable!("parsed into their own terms"),
    };
    text_sql(column, cmp, value, prefix)
}

/// `column cmp value`, or with `prefix` whether `column` starts with `value`.
fn text_sql(column: &str, cmp: Cmp, value: &str, prefix: bool) -> Frag {
    let text = Value::Text(value.to_owned());
    if !prefix {
        return Frag::new(format!("{column} {} ?", cmp.sql()), vec![text]);
    }
    if value.is_empty() {
        return Frag::new(format!("{column} IS NOT NULL"), vec![]);
    }
    // A range the column's index can seek: [value, value + the last code point).
    Frag::new(
        format!("({column} >= ? AND {column} < ?)"),
        vec![text, Value::Text(format!("{value}{}", char::MAX))],
    )
}

/// A test of `r.source_id` (records and rollups hold the id of the path in `sources`): the
/// same test of the path, among the sources.
fn source_sql(cmp: Cmp, value: &str, prefix: bool) -> Frag {
    let paths = text_sql("path", cmp, value, prefix);
    Frag::new(
        format!(
            "r.source_id IN (SELECT id FROM sources WHERE {})",
            paths.sql
        ),
        paths.params,
    )
}

/// The value of structured field `path` in `r.fields`: `a.b` is looked up as the flat key
/// `"a.b"` first, then as nested keys. `"` in a key is dropped (the parser refuses it).
pub(crate) fn json_lookup(path: &str) -> Frag {
    let path = path.replace('"', "");
    let mut params = vec![Value::Text(format!("$.\"{path}\""))];
    if !path.contains('.') {
        return Frag::new("(r.fields ->> ?)", params);
    }
    let nested: String = path.split('.').map(|k| format!(".\"{k}\"")).collect();
    params.push(Value::Text(format!("${nested}")));
    Frag::new("coalesce(r.fields ->> ?, r.fields ->> ?)", params)
}

/// A structured field: `a.b` is looked up as the flat key `"a.b"` first, then as nested keys.
fn json_sql(path: &str, cmp: Cmp, value: &str, prefix: bool) -> Frag {
    let Frag {
        sql: lookup,
        mut params,
    } = json_lookup(path);
    if prefix {
        params.push(Value::Integer(value.chars().count() as i64));
        params.push(Value::Text(value.to_owned()));
        return Frag::new(format!("substr(CAST({lookup} AS TEXT), 1, ?) = ?"), params);
    }
    let number = value.parse::<f64>().ok().filter(|n| n.is_finite());
    if cmp != Cmp::Eq {
        params.push(number.map_or_else(|| Value::Text(value.to_owned()), Value::Real));
        return Frag::new(format!("{lookup} {} ?", cmp.sql()), params);
    }
    // JSON true/false come back from SQLite as 1/0.
    let alt = match value {
        "true" => "1",
        "false" => "0",
        v => v,
    };
    params.push(Value::Text(value.to_owned()));
    params.push(Value::Text(alt.to_owned()));
    Frag::new(format!("CAST({lookup} AS TEXT) IN (?, ?)"), params)
}
