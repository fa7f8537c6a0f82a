//! trawl's log tokenizer: the rules that turn log text into search tokens.
//!
//! Log text is made of identifiers, not prose. The rules, in order:
//!
//! 1. **Words.** Text splits into words at whitespace, control characters, quotes, brackets,
//!    `,` `;` `|` and non-alphanumeric Unicode (`—`, `«`, NBSP …). Punctuation at either end of
//!    a word is dropped (`(/api/v1.` → `api/v1`).
//! 2. **Atoms.** A word splits into atoms at inner ASCII punctuation (`-._/:=@\+&?#%~!$^*`)
//!    and at CamelCase humps (`NullPointerException` → `null`, `pointer`, `exception`;
//!    `HTTPServer` → `http`, `server`). Some shapes are one atom however they are written:
//!    UUIDs (`123e4567-e89b-12d3-a456-426614174000`), IPv6 addresses (`2001:db8::1`) and dotted
//!    numbers — decimals, version strings and IPv4 addresses (`3.14`, `v1.2.3`, `10.0.0.1`).
//!    Runs of letters and digits are not split between letters and digits (`v1`, `sha256`, hex
//!    ids and trace ids stay whole).
//! 3. **Folding.** Every token is lower-cased (Unicode-aware, ASCII fast path) and cut to
//!    [`MAX_TOKEN_BYTES`].
//!
//! In a **document**, the atoms of a word become consecutive tokens; with
//! [`Options::wholes`] a word of several atoms is also indexed whole, colocated with its first
//! atom (`payment-api.prod` gives `payment` + `payment-api.prod` at one position, then `api`,
//! `prod`). In a **query**, a word gives just its atoms, which FTS5 matches as a phrase:
//! `payment`, `payment-api`,
//! `api/v1/orders`, `NullPointer*` (a phrase whose last token is a prefix), a trace id or an IP
//! all find the words a person expects, wherever they sit inside larger identifiers.

/// Tokens longer than this many bytes are cut (at a character boundary): a megabyte of
/// base64 is not worth a megabyte of index.
pub const MAX_TOKEN_BYTES: usize = 128;

/// What is being tokenized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Text being indexed.
    Document,
    /// A query term.
    Query,
}

/// One token handed to a sink: the folded text, the byte range of the input it came from, and
/// whether it sits at the same position as the token before it (an alternative, not a new
/// position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
    pub colocated: bool,
}

/// Options of the tokenizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Whether a document word of several atoms is also indexed whole (colocated).
    pub wholes: bool,
}

impl Default for Options {
    /// Parts only: whole compounds add many one-off terms to the index (30% slower imports
    /// measured) and queries never need them, since a compound query matches its parts as a
    /// phrase.
    fn default() -> Self {
        Self { wholes: false }
    }
}

/// Tokenizes `text`, calling `sink` for every token until it returns `Err`, which is passed on.
pub fn tokenize<E>(
    text: &str,
    mode: Mode,
    options: Options,
    mut sink: impl FnMut(Token<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let bytes = text.as_bytes();
    let mut atoms: Vec<(usize, usize)> = Vec::new();
    let mut fold = String::new();
    let mut pos = 0;
    while let Some(&b) = bytes.get(pos) {
        // Skip separators.
        let class = CLASSES[usize::from(b)];
        if class & SEPARATOR != 0 {
            pos += 1;
            continue;
        }
        if class & NON_ASCII != 0 {
            let (is_sep, len) = non_ascii_separator_at(text, pos);
            if is_sep {
                pos += len;
                continue;
            }
        }
        let start = pos;
        let shape = WordShape::scan(text, &mut pos);
        atoms.clear();
        let (wstart, wend) = if shape.has(COLON) && is_ipv6(&text[start..pos]) {
            atoms.push((start, pos));
            (start, pos)
        } else {
            let (wstart, wend) = if shape.has(PUNCT) {
                trim_punct(bytes, start, pos)
            } else {
                (start, pos)
            };
            if wstart < wend && shape.is_one_atom(bytes, wstart, wend) {
                // Most words: no inner punctuation, no hump, nothing to split.
                sink(Token {
                    text: folded_part(&text[wstart..wend], shape.is_lower_ascii(), &mut fold),
                    start: wstart,
                    end: wend,
                    colocated: false,
                })?;
                continue;
            }
            split_atoms(text, wstart, wend, shape.is_lower_ascii(), &mut atoms);
            (wstart, wend)
        };
        for (i, &(a, b)) in atoms.iter().enumerate() {
            sink(Token {
                text: folded_part(&text[a..b], shape.is_lower_ascii(), &mut fold),
                start: a,
                end: b,
                colocated: false,
            })?;
            if i == 0 && atoms.len() > 1 && mode == Mode::Document && options.wholes {
                sink(Token {
                    text: folded_part(&text[wstart..wend], shape.is_lower_ascii(), &mut fold),
                    start: wstart,
                    end: wend,
                    colocated: true,
                })?;
            }
        }
    }
    Ok(())
}

/// What one pass over a word learns of it: enough to tell most words are a single atom
/// without splitting them.
struct WordShape {
    /// The class bits of its bytes, or-ed together ([`NON_ASCII`] if any character is not
    /// ASCII).
    classes: u8,
}

impl WordShape {
    /// Scans the word starting at `*pos` (not a separator) and moves `*pos` to its end.
    #[inline]
    fn scan(text: &str, pos: &mut usize) -> Self {
        let bytes = text.as_bytes();
        let mut end = *pos;
        let mut classes = 0;
        loop {
            // A run of ASCII word bytes: one table lookup each.
            while let Some(&b) = bytes.get(end) {
                let class = CLASSES[usize::from(b)];
                if class & (SEPARATOR | NON_ASCII) != 0 {
                    break;
                }
                classes |= class;
                end += 1;
            }
            match bytes.get(end) {
                Some(&b) if b >= 0x80 => {
                    let (is_sep, len) = non_ascii_separator_at(text, end);
                    if is_sep {
                        break;
                    }
                    classes |= NON_ASCII;
                    end += len;
                }
                _ => break,
            }
        }
        *pos = end;
        Self { classes }
    }

    /// Whether some byte of the word has class `class`.
    #[inline]
    fn has(&self, class: u8) -> bool {
        self.classes & class != 0
    }

    /// Whether the word is ASCII with no capital letter: then so is every atom of it.
    #[inline]
    fn is_lower_ascii(&self) -> bool {
        !self.has(NON_ASCII | UPPER)
    }

    /// Whether the word, trimmed of its edge punctuation to `bytes[start..end]`, is one atom:
    /// ASCII with no punctuation inside and no capital after its first letter, so that no
    /// rule of [`split_atoms`] applies to it. Only a word with punctuation or a capital is
    /// looked at again.
    #[inline]
    fn is_one_atom(&self, bytes: &[u8], start: usize, end: usize) -> bool {
        !self.has(NON_ASCII)
            && (!self.has(PUNCT) || !bytes[start..end].iter().copied().any(is_punct))
            && (!self.has(UPPER) || !bytes[start + 1..end].iter().any(u8::is_ascii_uppercase))
    }
}

/// Collects the tokens of `text` as strings (colocated ones included): for tests and tools.
pub fn tokens(text: &str, mode: Mode, options: Options) -> Vec<String> {
    let mut out = Vec::new();
    let _ = tokenize::<()>(text, mode, options, |t| {
        out.push(t.text.to_owned());
        Ok(())
    });
    out
}

/// Whether the non-ASCII character at byte `pos` separates words (it is not alphanumeric),
/// and its length in bytes.
#[cold]
fn non_ascii_separator_at(text: &str, pos: usize) -> (bool, usize) {
    let c = text[pos..].chars().next().expect("pos is a char boundary");
    (!c.is_alphanumeric(), c.len_utf8())
}

/// An ASCII byte that separates words: whitespace, controls, quotes, brackets, `,` `;` `|`.
const SEPARATOR: u8 = 1;
/// Other ASCII punctuation: splits atoms inside a word, trimmed from its ends.
const PUNCT: u8 = 2;
/// An ASCII capital letter.
const UPPER: u8 = 4;
/// `:` (also [`PUNCT`]): an IPv6 address has two or more.
const COLON: u8 = 8;

/// A byte of a character that is not ASCII (a separator if the character is not
/// alphanumeric).
const NON_ASCII: u8 = 16;

/// The class bits of every byte. A word is scanned with one lookup a byte.
const CLASSES: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if !c.is_ascii() {
            NON_ASCII
        } else if c.is_ascii_whitespace()
            || c.is_ascii_control()
            || matches!(
                c,
                b'"' | b'\''
                    | b'`'
                    | b'('
                    | b')'
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b'<'
                    | b'>'
                    | b','
                    | b';'
                    | b'|'
            )
        {
            SEPARATOR
        } else if c == b':' {
            PUNCT | COLON
        } else if c.is_ascii_punctuation() {
            PUNCT
        } else if c.is_ascii_uppercase() {
            UPPER
        } else {
            0
        };
        b += 1;
    }
    table
};

/// Inner punctuation: splits atoms inside a word and is trimmed from its ends. (Within a
/// word, where no separator is, this is ASCII punctuation.)
#[inline]
fn is_punct(b: u8) -> bool {
    CLASSES[usize::from(b)] & PUNCT != 0
}

fn trim_punct(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && is_punct(bytes[start]) {
        start += 1;
    }
    while end > start && is_punct(bytes[end - 1]) {
        end -= 1;
    }
    (start, end)
}

/// Splits the word `text[start..end]` (no separators, no punctuation at its ends) into atoms.
/// `lower_ascii` says the word is ASCII with no capital letter (so it has no hump).
fn split_atoms(
    text: &str,
    start: usize,
    end: usize,
    lower_ascii: bool,
    atoms: &mut Vec<(usize, usize)>,
) {
    let bytes = text.as_bytes();
    let mut pos = start;
    while pos < end {
        if is_punct(bytes[pos]) {
            pos += 1;
            continue;
        }
        if let Some(len) = uuid_at(&bytes[pos..end]) {
            atoms.push((pos, pos + len));
            pos += len;
            continue;
        }
        // A version's `v` goes: `v1.2.3` is found by `1.2.3`.
        let v = usize::from(matches!(bytes[pos], b'v' | b'V'));
        if let Some(len) = dotted_number_at(&bytes[pos + v..end]) {
            atoms.push((pos + v, pos + v + len));
            pos += v + len;
            continue;
        }
        let piece_start = pos;
        while pos < end && !is_punct(bytes[pos]) {
            pos += 1;
        }
        if lower_ascii {
            atoms.push((piece_start, pos));
        } else {
            split_camel(text, piece_start, pos, atoms);
        }
    }
}

/// Splits a run of letters and digits at CamelCase humps.
fn split_camel(text: &str, start: usize, end: usize, atoms: &mut Vec<(usize, usize)>) {
    let piece = &text[start..end];
    // Fast path: plain ASCII with no capital after the first letter has no humps.
    if piece.is_ascii() && !piece.bytes().skip(1).any(|b| b.is_ascii_uppercase()) {
        atoms.push((start, end));
        return;
    }
    let mut chars = piece.char_indices().peekable();
    let mut atom_start = 0;
    let mut prev: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if let Some(p) = prev {
            let next_lower = chars.peek().is_some_and(|&(_, n)| n.is_lowercase());
            let hump = c.is_uppercase()
                && (p.is_lowercase() || ((p.is_uppercase() || p.is_ascii_digit()) && next_lower));
            if hump {
                atoms.push((start + atom_start, start + i));
                atom_start = i;
            }
        }
        prev = Some(c);
    }
    atoms.push((start + atom_start, end));
}

/// The length of a UUID (8-4-4-4-12 hex digits) at the start of `b`, if it ends there or at
/// punctuation.
fn uuid_at(b: &[u8]) -> Option<usize> {
    if b.len() < 36 || b[8] != b'-' {
        return None;
    }
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut pos = 0;
    for (i, &len) in GROUPS.iter().enumerate() {
        if i > 0 {
            if b.get(pos) != Some(&b'-') {
                return None;
            }
            pos += 1;
        }
        let group = b.get(pos..pos + len)?;
        if !group.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        pos += len;
    }
    match b.get(pos) {
        None => Some(pos),
        Some(&c) if is_punct(c) => Some(pos),
        Some(_) => None,
    }
}

/// The length of a dotted number at the start of `b`: `digits(.digits)+` (a decimal, a version,
/// an IPv4 address). A unit after it is another atom: `3.14ms` is `3.14` and `ms`.
fn dotted_number_at(b: &[u8]) -> Option<usize> {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut pos = digits(0);
    if pos == 0 {
        return None;
    }
    let mut groups = 1;
    while b.get(pos) == Some(&b'.') {
        let n = digits(pos + 1);
        if n == 0 {
            break;
        }
        pos += 1 + n;
        groups += 1;
    }
    (groups > 1).then_some(pos)
}

/// An IPv6 address: hex groups and colons only (an embedded IPv4 tail allowed), with `::` or
/// all eight groups. `12:30:45` (a time) is not one.
fn is_ipv6(word: &str) -> bool {
    if !word.as_bytes().contains(&b':') {
        return false;
    }
    let colons = word.bytes().filter(|&b| b == b':').count();
    (2..=7).contains(&colons)
        && (word.contains("::") || colons == 7)
        && word
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
}

/// `s` lower-cased and cut to [`MAX_TOKEN_BYTES`]: borrowed when already folded, else in `buf`.
fn folded<'a>(s: &'a str, buf: &'a mut String) -> &'a str {
    let s = cut(s);
    if s.is_ascii() {
        if !s.bytes().any(|b| b.is_ascii_uppercase()) {
            return s;
        }
        buf.clear();
        buf.push_str(s);
        buf.make_ascii_lowercase();
    } else {
        buf.clear();
        for c in s.chars() {
            buf.extend(c.to_lowercase());
        }
        let len = cut(buf).len();
        buf.truncate(len);
    }
    buf
}

/// [`folded`] for a part of a word that is ASCII with no capital letter if `lower_ascii`:
/// then it is folded already and only its length is looked at.
#[inline]
fn folded_part<'a>(s: &'a str, lower_ascii: bool, buf: &'a mut String) -> &'a str {
    if lower_ascii && s.len() <= MAX_TOKEN_BYTES {
        s
    } else {
        folded(s, buf)
    }
}

fn cut(s: &str) -> &str {
    if s.len() <= MAX_TOKEN_BYTES {
        return s;
    }
    let mut end = MAX_TOKEN_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::test;

    /// With wholes, which shows where every whole would sit.
    fn doc(text: &str) -> Vec<String> {
        tokens(text, Mode::Document, Options { wholes: true })
    }

    fn query(text: &str) -> Vec<String> {
        tokens(text, Mode::Query, Options::default())
    }

    #[test]
    fn words_split_at_whitespace_and_brackets_and_lose_edge_punctuation() {
        assert_eq!(
            doc("Connection reset (by peer), retrying..."),
            ["connection", "reset", "by", "peer", "retrying"]
        );
        assert_eq!(doc("  \t\r\n"), Vec::<String>::new());
        assert_eq!(doc("--- ... !!!"), Vec::<String>::new());
        assert_eq!(doc("a|b;c"), ["a", "b", "c"]);
    }

    #[test]
    fn case_folds_unicode_aware() {
        assert_eq!(
            doc("ERROR Ünïcode ΣΊΣΥΦΟΣ"),
            ["error", "ünïcode", "σίσυφοσ"]
        );
        assert_eq!(doc("naïve—café"), ["naïve", "café"]);
    }

    #[test]
    fn hyphen_and_dot_compounds_are_whole_and_in_parts() {
        assert_eq!(
            doc("payment-api.prod"),
            ["payment", "payment-api.prod", "api", "prod"]
        );
        assert_eq!(query("payment-api.prod"), ["payment", "api", "prod"]);
        assert_eq!(query("payment-api"), ["payment", "api"]);
    }

    #[test]
    fn java_names_and_camel_case() {
        assert_eq!(
            doc("com.example.Foo"),
            ["com", "com.example.foo", "example", "foo"]
        );
        assert_eq!(
            doc("NullPointerException"),
            ["null", "nullpointerexception", "pointer", "exception"]
        );
        assert_eq!(query("HTTPServerError"), ["http", "server", "error"]);
        assert_eq!(query("getHTTP2Response"), ["get", "http2", "response"]);
        assert_eq!(query("NullPointer"), ["null", "pointer"]);
    }

    #[test]
    fn snake_case_paths_key_values_and_emails() {
        assert_eq!(doc("snake_case"), ["snake", "snake_case", "case"]);
        assert_eq!(
            doc("/api/v1/orders/42"),
            ["api", "api/v1/orders/42", "v1", "orders", "42"]
        );
        assert_eq!(query("api/v1/orders"), ["api", "v1", "orders"]);
        assert_eq!(doc("key=value"), ["key", "key=value", "value"]);
        assert_eq!(
            doc("user@example.com"),
            ["user", "user@example.com", "example", "com"]
        );
    }

    #[test]
    fn uuids_hex_ids_and_trace_ids_stay_whole() {
        assert_eq!(
            doc("id=123E4567-e89b-12d3-a456-426614174000"),
            [
                "id",
                "id=123e4567-e89b-12d3-a456-426614174000",
                "123e4567-e89b-12d3-a456-426614174000"
            ]
        );
        assert_eq!(
            doc("trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7"),
            [
                "trace",
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "span",
                "00f067aa0ba902b7"
            ]
        );
        assert_eq!(
            doc("sha256:DEADBEEF01"),
            ["sha256", "sha256:deadbeef01", "deadbeef01"]
        );
    }

    #[test]
    fn ip_addresses_with_ports_numbers_and_versions_stay_whole() {
        assert_eq!(doc("10.0.0.1"), ["10.0.0.1"]);
        assert_eq!(doc("10.0.0.1:8080"), ["10.0.0.1", "10.0.0.1:8080", "8080"]);
        assert_eq!(doc("2001:db8::ff00:42:8329"), ["2001:db8::ff00:42:8329"]);
        assert_eq!(doc("[::1]:443"), ["::1", "443"]);
        assert_eq!(doc("took 3.14ms"), ["took", "3.14", "3.14ms", "ms"]);
        assert_eq!(doc("took 3.14 ms"), ["took", "3.14", "ms"]);
        assert_eq!(doc("v1.2.3"), ["1.2.3"]);
        assert_eq!(query("v1.2.3"), ["1.2.3"]);
        assert_eq!(doc("nginx/1.25.3"), ["nginx", "nginx/1.25.3", "1.25.3"]);
        assert_eq!(doc("-42"), ["42"]);
        // A time is not an IPv6 address.
        assert_eq!(doc("12:30:45"), ["12", "12:30:45", "30", "45"]);
    }

    #[test]
    fn json_text_splits_into_keys_and_values() {
        assert_eq!(
            doc(r#"{"user_id":42,"path":"/a/b"}"#),
            ["user", "user_id", "id", "42", "path", "a", "a/b", "b"]
        );
    }

    #[test]
    fn by_default_documents_index_parts_only() {
        let parts = |t| tokens(t, Mode::Document, Options::default());
        assert_eq!(parts("payment-api.prod"), ["payment", "api", "prod"]);
        assert_eq!(parts("10.0.0.1:8080"), ["10.0.0.1", "8080"]);
        // A query gives the same parts, matched as a phrase.
        assert_eq!(parts("api/v1/orders/42"), query("/api/v1/orders/42"));
    }

    #[test]
    fn colocation_and_offsets_are_reported() {
        let mut seen = Vec::new();
        tokenize::<()>(
            "x payment-api",
            Mode::Document,
            Options { wholes: true },
            |t| {
                seen.push((t.text.to_owned(), t.start, t.end, t.colocated));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            seen,
            [
                ("x".to_owned(), 0, 1, false),
                ("payment".to_owned(), 2, 9, false),
                ("payment-api".to_owned(), 2, 13, true),
                ("api".to_owned(), 10, 13, false),
            ]
        );
    }

    #[test]
    fn long_tokens_are_cut_at_a_char_boundary() {
        let long = "é".repeat(200);
        let toks = doc(&long);
        assert_eq!(toks.len(), 1);
        assert!(toks[0].len() <= MAX_TOKEN_BYTES);
        assert!(toks[0].chars().all(|c| c == 'é'));
        let ascii = "A".repeat(1000);
        assert_eq!(doc(&ascii), ["a".repeat(MAX_TOKEN_BYTES)]);
    }

    #[test]
    fn the_sink_can_stop_tokenizing() {
        let mut n = 0;
        let r = tokenize("a b c d", Mode::Document, Options::default(), |_| {
            n += 1;
            if n == 2 {
                Err("stop")
            } else {
                Ok(())
            }
        });
        assert_eq!(r, Err("stop"));
        assert_eq!(n, 2);
    }
}
