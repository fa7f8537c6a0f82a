//! The searchable text of a record's structured fields: their values, not their keys.
//!
//! Keys repeat in every record of a log (`"user_id"`, `"http"`, `"status"` …) and are searched
//! with `fields.KEY:value`, so indexing them would cost a third of the full-text index for no
//! recall. The values (strings, numbers, booleans, at any depth) are what a person types.

/// The values of the JSON object text `json`, separated by spaces. Text that is not JSON is
/// returned as it is (it is still worth searching).
pub fn values(json: &str, out: &mut String) {
    out.clear();
    let b = json.as_bytes();
    // For each open container: is it an object, and is the next string in it a key?
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => stack.push((true, true)),
            b'[' => stack.push((false, false)),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                if let Some(top) = stack.last_mut() {
                    top.1 = top.0;
                }
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(b.len());
                let is_key = stack.last_mut().is_some_and(|top| {
                    let key = top.1;
                    top.1 = false;
                    key
                });
                if !is_key {
                    push(out, &json[start..end]);
                }
                i = end;
            }
            c if c == b'-' || c.is_ascii_alphanumeric() => {
                let start = i;
                while i + 1 < b.len()
                    && !matches!(b[i + 1], b',' | b'}' | b']' | b' ' | b'\n' | b'\t' | b'\r')
                {
                    i += 1;
                }
                let scalar = &json[start..=i];
                if scalar != "null" {
                    push(out, scalar);
                }
            }
            _ => {}
        }
        i += 1;
    }
    if !stack.is_empty() || (out.is_empty() && !json.trim_start().starts_with('{')) {
        // Not the JSON object it should be: index it as written.
        out.clear();
        out.push_str(json);
    }
}

fn push(out: &mut String, value: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::test;

    fn text(json: &str) -> String {
        let mut out = String::new();
        values(json, &mut out);
        out
    }

    #[test]
    fn values_at_any_depth_without_keys() {
        assert_eq!(
            text(
                r#"{"user_id":42,"http":{"method":"GET","status":503},"tags":["a","b c"],"ok":true,"x":null,"f":-1.5e3}"#
            ),
            "42 GET 503 a b c true -1.5e3"
        );
        assert_eq!(
            text(r#"{"msg":"say \"hi\", ok","k":"v"}"#),
            r#"say \"hi\", ok v"#
        );
        assert_eq!(text("{}"), "");
        assert_eq!(text(r#"{"a": 1, "b": "x y"}"#), "1 x y");
    }

    #[test]
    fn text_that_is_not_an_object_is_kept() {
        assert_eq!(text("plain words"), "plain words");
        assert_eq!(text(r#"{"a":"unterminated"#), r#"{"a":"unterminated"#);
    }
}
