//! Why a well-formed JSON body does not fit its type, as a structured error.
//!
//! serde_json reports a missing, unknown or duplicate field only as text.
//! When a body fails, it is read again here into a tree that keeps every key
//! (a duplicate too) and deserialised with [`Refusal`], an error type that
//! keeps those cases apart; so the answer names the field without reading
//! anybody's message. Only failing bodies take this path: a body that parses
//! is read once, by serde_json alone.

use std::{borrow::Cow, fmt};

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected, Visitor,
    value::{CowStrDeserializer, MapAccessDeserializer, MapDeserializer, SeqDeserializer},
};
use serde_json::Number;

use super::ApiError;

/// Why a value does not fit its type.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    Missing(&'static str),
    Unknown {
        field: String,
        expected: &'static [&'static str],
    },
    Duplicate(&'static str),
    /// Any other misfit (a wrong type, an unknown variant), as serde words it.
    Other(String),
}

impl std::error::Error for Refusal {}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(field) => write!(f, "missing field `{field}`"),
            Self::Duplicate(field) => write!(f, "duplicate field `{field}`"),
            Self::Unknown { field, expected: [] } => write!(f, "unknown field `{field}`, there are no fields"),
            Self::Unknown { field, expected: [one] } => write!(f, "unknown field `{field}`, expected `{one}`"),
            Self::Unknown { field, expected: [a, b] } => write!(f, "unknown field `{field}`, expected `{a}` or `{b}`"),
            Self::Unknown { field, expected } => {
                write!(f, "unknown field `{field}`, expected one of ")?;
                for (i, name) in expected.iter().enumerate() {
                    write!(f, "{}`{name}`", if i == 0 { "" } else { ", " })?;
                }
                Ok(())
            }
            Self::Other(message) => f.write_str(message),
        }
    }
}

impl de::Error for Refusal {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::Other(message.to_string())
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        match unexpected {
            // JSON has no unit, only null.
            Unexpected::Unit => Self::Other(format!("invalid type: null, expected {expected}")),
            other => Self::Other(format!("invalid type: {other}, expected {expected}")),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Self::Missing(field)
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::Unknown { field: field.to_owned(), expected }
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::Duplicate(field)
    }
}

/// The 400 for `refusal` at `path` (serde_path_to_error's, `.` at the top):
/// the field at fault is the path, or the key itself when an object at the
/// top misses, repeats or does not know it.
pub fn field_error(path: &str, refusal: &Refusal) -> ApiError {
    let top = path == "." || path.is_empty();
    let field = match refusal {
        Refusal::Missing(name) if top => (*name).to_owned(),
        Refusal::Missing(name) => format!("{path}.{name}"),
        Refusal::Unknown { field, .. } if top => field.clone(),
        Refusal::Duplicate(name) if top => (*name).to_owned(),
        _ if top => "body".to_owned(),
        _ => path.to_owned(),
    };
    ApiError::BadRequest { code: "invalid_request", message: format!("{field}: {refusal}"), field: Some(field) }
}

/// The 400 that explains why `seed` refuses the JSON text `bytes`, or `None`
/// when the text is not JSON or fits after all.
pub fn explain<'a, S: DeserializeSeed<'a>>(bytes: &'a [u8], seed: S) -> Option<ApiError> {
    let node: Node<'a> = serde_json::from_slice(bytes).ok()?;
    let mut track = serde_path_to_error::Track::new();
    match seed.deserialize(serde_path_to_error::Deserializer::new(node, &mut track)) {
        Ok(_) => None,
        Err(refusal) => Some(field_error(&track.path().to_string(), &refusal)),
    }
}

/// A JSON value with every key of its objects, in order, repeats included.
#[derive(Debug, Clone, PartialEq)]
enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    Text(Cow<'a, str>),
    List(Vec<Node<'a>>),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(b))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Node<'de>, E> {
        Number::from_f64(n).map(Node::Number).ok_or_else(|| E::custom("a number JSON cannot hold"))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::Text(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Node<'de>, E> {
        Ok(Node::Text(Cow::Owned(s.to_owned())))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            entries.push((key, map.next_value()?));
        }
        Ok(Node::Object(entries))
    }
}

/// An object's key, borrowed from the text where it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        match Node::deserialize(deserializer)? {
            Node::Text(key) => Ok(key),
            _ => Err(de::Error::custom("an object key that is not a string")),
        }
    }
}

impl<'de> IntoDeserializer<'de, Refusal> for Node<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl Node<'_> {
    fn unexpected(&self) -> Unexpected<'_> {
        match self {
            Self::Null => Unexpected::Unit,
            Self::Bool(b) => Unexpected::Bool(*b),
            Self::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Unexpected::Unsigned(u),
                (None, Some(i)) => Unexpected::Signed(i),
                (None, None) => Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Self::Text(s) => Unexpected::Str(s),
            Self::List(_) => Unexpected::Seq,
            Self::Object(_) => Unexpected::Map,
        }
    }
}

impl<'de> Deserializer<'de> for Node<'de> {
    type Error = Refusal;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refusal> {
        match self {
            Self::Null => visitor.visit_unit(),
            Self::Bool(b) => visitor.visit_bool(b),
            Self::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => visitor.visit_u64(u),
                (None, Some(i)) => visitor.visit_i64(i),
                (None, None) => visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN)),
            },
            Self::Text(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Self::Text(Cow::Owned(s)) => visitor.visit_string(s),
            Self::List(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Self::Object(entries) => {
                let mut map = MapDeserializer::new(entries.into_iter());
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refusal> {
        match self {
            Self::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refusal> {
        match self {
            Self::Text(variant) => visitor.visit_enum(CowStrDeserializer::new(variant)),
            Self::Object(entries) if entries.len() == 1 => {
                visitor.visit_enum(MapAccessDeserializer::new(MapDeserializer::new(entries.into_iter())))
            }
            other => Err(de::Error::invalid_type(other.unexpected(), &visitor)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Refusal> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refusal> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Event {
        id: String,
        role: Role,
        score: Option<u8>,
        tags: Option<Vec<String>>,
        inner: Option<Inner>,
        extra: Option<BTreeMap<String, serde_json::Value>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Role {
        User,
        Assistant,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    fn why(text: &str) -> (Option<String>, String) {
        match explain(text.as_bytes(), std::marker::PhantomData::<Event>) {
            Some(ApiError::BadRequest { field, message, .. }) => (field, message),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn a_missing_unknown_or_repeated_key_is_named() {
        assert_eq!(why(r#"{"role": "user"}"#), (Some("id".into()), "id: missing field `id`".into()));
        let (field, message) = why(r#"{"id": "a", "role": "user", "colour": 1}"#);
        assert_eq!(field.as_deref(), Some("colour"));
        assert!(message.starts_with("colour: unknown field `colour`, expected one of `id`, `role`"), "{message}");
        assert_eq!(
            why(r#"{"id": "a", "id": "b", "role": "user"}"#),
            (Some("id".into()), "id: duplicate field `id`".into())
        );
        assert_eq!(
            why(r#"{"id": "a", "role": "user", "inner": {}}"#),
            (Some("inner.name".into()), "inner.name: missing field `name`".into())
        );
        assert_eq!(why(r#"{"id": "a", "role": "user", "inner": {"name": "n", "x": 1}}"#).0.as_deref(), Some("inner.x"));
    }

    #[test]
    fn a_wrong_value_is_named_by_its_path() {
        let (field, message) = why(r#"{"id": "a", "role": "bot"}"#);
        assert_eq!(field.as_deref(), Some("role"));
        assert!(message.starts_with("role: unknown variant `bot`"), "{message}");
        assert_eq!(why(r#"{"id": "a", "role": 5}"#).0.as_deref(), Some("role"));
        assert_eq!(why(r#"{"id": null, "role": "user"}"#).1, "id: invalid type: null, expected a string");
        assert_eq!(why(r#"{"id": "a", "role": "user", "score": 300}"#).0.as_deref(), Some("score"));
        assert_eq!(why(r#"{"id": "a", "role": "user", "tags": ["x", 2]}"#).0.as_deref(), Some("tags[1]"));
    }

    #[test]
    fn a_body_that_fits_or_is_not_json_has_nothing_to_explain() {
        let fits = r#"{"id": "a", "role": "assistant", "tags": [], "extra": {"k": [1, 2.5, null, {"n": true}]}}"#;
        assert!(explain(fits.as_bytes(), std::marker::PhantomData::<Event>).is_none());
        assert!(explain(b"{not json", std::marker::PhantomData::<Event>).is_none());
    }
}
