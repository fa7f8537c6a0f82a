//! The query language's grammar: text to [`Expr`].
//!
//! ```text
//! query   = or
//! or      = and { "OR" and }
//! and     = unary { ["AND"] unary }            juxtaposition is AND
//! unary   = ("-" | "NOT") unary | primary
//! primary = "(" or ")" | phrase | regex | field | word
//! phrase  = '"' { char | '\"' } '"' ["*"]      words in this order
//! regex   = "/" { char | "\/" } "/"            a filter on the message (Rust regex syntax)
//! field   = name ":" [">=" | "<=" | ">" | "<"] (phrase | bare)
//! name    = level | service | host | trace_id | span_id | source | since | until
//!         | "fields." key { "." key }
//! word    = bare                                a trailing "*" makes it a prefix
//! bare    = one or more characters other than whitespace, "(", ")" and '"'
//! ```
//!
//! `name:value` with a name that is not a field (`http://x`, `error:timeout`) is a word.

use super::{Cmp, Expr, Field, QueryError, TimeValue};

/// Parses `input`; errors name the 1-based column (in characters) of the problem.
pub fn parse(input: &str) -> Result<Expr, QueryError> {
    let tokens = lex(input)?;
    let mut parser = Parser { tokens, pos: 0 };
    if parser.tokens.is_empty() {
        return Ok(Expr::All);
    }
    let expr = parser.or()?;
    match parser.tokens.get(parser.pos) {
        None => Ok(expr),
        Some(t) => Err(QueryError::new(t.column, "unexpected ')'")),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Open,
    Close,
    Not,
    Or,
    And,
    Word {
        text: String,
        prefix: bool,
    },
    Phrase {
        text: String,
        prefix: bool,
    },
    Regex(String),
    Field {
        field: Field,
        cmp: Cmp,
        value: String,
        prefix: bool,
    },
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    column: usize,
}

fn lex(input: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let push = |tokens: &mut Vec<Token>, kind| tokens.push(Token { kind, column });
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                push(&mut tokens, Kind::Open);
                i += 1;
            }
            ')' => {
                push(&mut tokens, Kind::Close);
                i += 1;
            }
            '-' if chars.get(i + 1).is_some_and(|n| !n.is_whitespace()) => {
                push(&mut tokens, Kind::Not);
                i += 1;
            }
            '"' => {
                let (text, end) = quoted(&chars, i, '"')?;
                let prefix = chars.get(end) == Some(&'*');
                i = end + usize::from(prefix);
                push(&mut tokens, Kind::Phrase { text, prefix });
            }
            '/' => {
                let (pattern, end) = quoted(&chars, i, '/')?;
                regex::Regex::new(&pattern)
                    .map_err(|e| QueryError::new(column, format!("bad regex: {e}")))?;
                i = end;
                push(&mut tokens, Kind::Regex(pattern));
            }
            _ => {
                let start = i;
                while i < chars.len() && !is_bare_end(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let kind = match word.as_str() {
                    "OR" => Kind::Or,
                    "AND" => Kind::And,
                    "NOT" => Kind::Not,
                    _ => match field_name(&word) {
                        Some((field, rest)) => {
                            let value_column = start + word.len() - rest.len() + 1;
                            field_token(field, rest, &chars, &mut i, value_column)?
                        }
                        None => {
                            let prefix = word.ends_with('*');
                            let text = word.trim_end_matches('*').to_owned();
                            Kind::Word { text, prefix }
                        }
                    },
                };
                push(&mut tokens, kind);
            }
        }
    }
    Ok(tokens)
}

fn is_bare_end(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"')
}

/// Reads a `delim`-quoted string starting at `chars[start]`, with `\delim` and `\\` escapes.
/// Returns the text and the index after the closing delimiter.
fn quoted(chars: &[char], start: usize, delim: char) -> Result<(String, usize), QueryError> {
    let mut text = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if matches!(chars.get(i + 1), Some(&n) if n == delim || n == '\\') => {
                // A regex keeps `\\` as written; a phrase unescapes it.
                if delim == '/' && chars[i + 1] == '\\' {
                    text.push('\\');
                }
                text.push(chars[i + 1]);
                i += 2;
            }
            c if c == delim => return Ok((text, i + 1)),
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    let what = if delim == '"' { "phrase" } else { "regex" };
    Err(QueryError::new(
        start + 1,
        format!("this {what} has no closing {delim}"),
    ))
}

/// `word` as `name:rest` if `name` is a field.
fn field_name(word: &str) -> Option<(Field, &str)> {
    let (name, rest) = word.split_once(':')?;
    let field = match name {
        "level" => Field::Level,
        "service" => Field::Service,
        "host" => Field::Host,
        "trace_id" => Field::TraceId,
        "span_id" => Field::SpanId,
        "source" => Field::Source,
        "since" => Field::Since,
        "until" => Field::Until,
        _ => {
            let path = name.strip_prefix("fields.")?;
            Field::Json(path.to_owned())
        }
    };
    Some((field, rest))
}

/// The rest of a field term: its comparison and value (which may be a phrase that starts in
/// `rest` and runs past the bare word).
fn field_token(
    field: Field,
    rest: &str,
    chars: &[char],
    i: &mut usize,
    column: usize,
) -> Result<Kind, QueryError> {
    let (cmp, value) = [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
    ]
    .iter()
    .find_map(|(op, cmp)| rest.strip_prefix(op).map(|v| (*cmp, v)))
    .unwrap_or((Cmp::Eq, rest));
    let op_len = rest.len() - value.len();
    let (value, prefix) = if value.is_empty() && chars.get(*i) == Some(&'"') {
        let (text, end) = quoted(chars, *i, '"')?;
        *i = end;
        (text, false)
    } else if value.is_empty() {
        return Err(QueryError::new(
            column + op_len,
            format!("expected a value after {}:", field.name()),
        ));
    } else {
        let prefix = value.ends_with('*') && cmp == Cmp::Eq;
        (value.trim_end_matches('*').to_owned(), prefix)
    };
    if let Field::Json(path) = &field {
        if path.is_empty() || path.split('.').any(str::is_empty) || path.contains('"') {
            return Err(QueryError::new(
                column - path.len() - 8,
                format!("bad field name fields.{path}"),
            ));
        }
    }
    Ok(Kind::Field {
        field,
        cmp,
        value,
        prefix,
    })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Kind> {
        self.tokens.get(self.pos).map(|t| &t.kind)
    }

    fn column(&self) -> usize {
        self.tokens
            .get(self.pos)
            .or(self.tokens.last())
            .map_or(1, |t| t.column)
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut terms = vec![self.and()?];
        while self.peek() == Some(&Kind::Or) {
            self.pos += 1;
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one")
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut terms = Vec::new();
        loop {
            match self.peek() {
                None | Some(Kind::Close | Kind::Or) => break,
                Some(Kind::And) => {
                    self.pos += 1;
                    continue;
                }
                _ => terms.push(self.unary()?),
            }
        }
        match terms.len() {
            0 => Err(QueryError::new(self.column(), "expected a search term")),
            1 => Ok(terms.pop().expect("one")),
            _ => Ok(Expr::And(terms)),
        }
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if self.peek() == Some(&Kind::Not) {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let column = self.column();
        let Some(token) = self.tokens.get(self.pos).cloned() else {
            return Err(QueryError::new(column, "expected a search term"));
        };
        self.pos += 1;
        match token.kind {
            Kind::Open => {
                let inner = self.or()?;
                if self.peek() != Some(&Kind::Close) {
                    return Err(QueryError::new(token.column, "this '(' has no closing ')'"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Kind::Word { text, prefix } => Ok(Expr::Text {
                text,
                prefix,
                phrase: false,
            }),
            Kind::Phrase { text, prefix } => Ok(Expr::Text {
                text,
                prefix,
                phrase: true,
            }),
            Kind::Regex(pattern) => Ok(Expr::Regex(pattern)),
            Kind::Field {
                field,
                cmp,
                value,
                prefix,
            } => field_expr(field, cmp, value, prefix, token.column),
            Kind::Close | Kind::Or | Kind::And | Kind::Not => {
                Err(QueryError::new(column, "expected a search term"))
            }
        }
    }
}

fn field_expr(
    field: Field,
    cmp: Cmp,
    value: String,
    prefix: bool,
    column: usize,
) -> Result<Expr, QueryError> {
    let value_column = column + field.name().len() + 1;
    match field {
        Field::Level => {
            let level = super::level_code(&value).ok_or_else(|| {
                QueryError::new(
                    value_column,
                    format!(
                        "unknown level {value:?}: use trace, debug, info, warn, error or fatal"
                    ),
                )
            })?;
            Ok(Expr::Level(cmp, level))
        }
        Field::Since | Field::Until => {
            let at = TimeValue::parse(&value).ok_or_else(|| {
                QueryError::new(
                    value_column,
                    format!("bad time {value:?}: use -15m, -2h, -7d or 2024-05-01T10:00:00Z"),
                )
            })?;
            Ok(if field == Field::Since {
                Expr::Since(at)
            } else {
                Expr::Until(at)
            })
        }
        field => {
            if cmp != Cmp::Eq && !matches!(field, Field::Json(_)) {
                return Err(QueryError::new(
                    value_column,
                    format!("{} compares only with ':'", field.name()),
                ));
            }
            Ok(Expr::Field {
                field,
                cmp,
                value,
                prefix,
            })
        }
    }
}
