//! The rule every text Plaudit keeps follows: no NUL character (U+0000).
//! Nobody types one, and PostgreSQL cannot store one in text; refusing it
//! everywhere, on both engines, keeps the two engines answering alike. The
//! doors apply it to every JSON body, query string and form before anything
//! else reads them.

use serde_json::Value;

use super::DomainError;

/// Refuses a text holding U+0000, naming `field`.
pub fn refuse_nul(field: &str, text: &str) -> Result<(), DomainError> {
    if text.contains('\0') { Err(nul(field)) } else { Ok(()) }
}

/// The 400 for a NUL in `field`.
pub fn nul(field: &str) -> DomainError {
    DomainError::invalid(field, "must not contain the NUL character (U+0000)")
}

/// Whether JSON text may hold an escaped U+0000 (`\u0000`, in any case): a
/// quick scan, so that only such bodies are read a second time. A raw NUL
/// byte is no valid JSON, so the parser refuses it anyway.
pub fn may_hold_nul(json: &[u8]) -> bool {
    json.windows(6).any(|w| w[0] == b'\\' && (w[1] | 0x20) == b'u' && &w[2..] == b"0000")
}

/// The path (`events[2].metadata.topic`) of the first key or string of a
/// JSON value that holds U+0000.
pub fn nul_in_json(value: &Value) -> Option<String> {
    fn walk(value: &Value, path: &mut String) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Object(fields) => fields.iter().any(|(key, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&key.replace('\0', "\\u0000"));
                let found = key.contains('\0') || walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(value, &mut path).then(|| if path.is_empty() { "body".to_owned() } else { path })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nul_is_refused_by_name() {
        assert!(refuse_nul("q", "fine").is_ok());
        let e = refuse_nul("q", "a\0b").unwrap_err();
        assert_eq!(e.to_string(), "q: must not contain the NUL character (U+0000)");
    }

    #[test]
    fn escaped_nul_is_found_quickly_and_then_located() {
        assert!(may_hold_nul(br#"{"a": "x\u0000"}"#));
        assert!(may_hold_nul(br#"{"a": "x\U0000"}"#));
        assert!(!may_hold_nul(br#"{"a": "x\u0001"}"#));
        let body = json!({"events": [{"ok": "x"}, {"metadata": {"topic": "a\u{0}"}}]});
        assert_eq!(nul_in_json(&body).as_deref(), Some("events[1].metadata.topic"));
        assert_eq!(nul_in_json(&json!({"reason": "x\u{0}"})).as_deref(), Some("reason"));
        assert_eq!(nul_in_json(&json!({"meta": {"k\u{0}": 1}})).as_deref(), Some("meta.k\\u0000"));
        assert_eq!(nul_in_json(&json!({"a": ["fine", 1, null]})), None);
        // An escaped backslash before "u0000" is no NUL: scanned, then cleared.
        let text = br#"{"a": "\\u0000"}"#;
        assert!(may_hold_nul(text));
        assert_eq!(nul_in_json(&serde_json::from_slice(text).unwrap()), None);
    }
}
