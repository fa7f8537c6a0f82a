//! A record's `fields`: the text of a JSON object, written member by member.

use serde::Serialize;

/// A JSON object written member by member straight into its text: no map is built and taken
/// apart, and a value is escaped as it is written. Members keep the order they were added in.
#[derive(Debug, Default)]
pub(crate) struct FieldsText(Vec<u8>);

impl FieldsText {
    /// An object with room for `bytes` of text.
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Self(Vec::with_capacity(bytes))
    }

    /// Adds member `key: value`. `key` is written as it is given, so it must need no escaping
    /// (the parsers' own names, logfmt keys, or JSON keys read without escapes).
    pub(crate) fn add(&mut self, key: &str, value: impl Serialize) {
        self.key(key);
        // Serialising a string, number, null or JSON value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.0, &value);
    }

    /// Adds member `key: json`, `json` being a JSON value's text as a log wrote it.
    pub(crate) fn add_json(&mut self, key: &str, json: &str) {
        self.key(key);
        self.0.extend_from_slice(json.as_bytes());
    }

    fn key(&mut self, key: &str) {
        self.0.push(if self.0.is_empty() { b'{' } else { b',' });
        self.0.push(b'"');
        self.0.extend_from_slice(key.as_bytes());
        self.0.extend_from_slice(b"\":");
    }

    /// The object's text; `None` if it has no member.
    pub(crate) fn finish(mut self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        self.0.push(b'}');
        // Only text went in, so this is UTF-8 (the fallback is never taken).
        Some(
            String::from_utf8(self.0)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_escaped_and_keep_their_order() {
        let mut fields = FieldsText::default();
        assert!(FieldsText::default().finish().is_none());
        fields.add("b", "say \"hi\"\n");
        fields.add("a", 404u16);
        fields.add("n", serde_json::Value::Null);
        fields.add_json("raw", r#"{"x":[1,2]}"#);
        let text = fields.finish().unwrap();
        assert_eq!(
            text,
            r#"{"b":"say \"hi\"\n","a":404,"n":null,"raw":{"x":[1,2]}}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["b"], "say \"hi\"\n");
    }
}
