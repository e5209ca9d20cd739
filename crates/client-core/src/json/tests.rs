//! The helpers, driven by hand-written types shaped exactly like the ones the
//! generator writes (see `xtask/src/rewrite.rs`).

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::de::{Error as _, MapAccess};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::*;
use crate::money::DecimalAmount;

/// What the generator writes for `{Id: integer (required), Fee: number,
/// Note: string|null (required), Extra: string}` with unknown fields kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Fee {
    #[serde(rename = "Id")]
    id: i64,
    #[serde(rename = "Fee", skip_serializing_if = "Option::is_none")]
    fee: Option<DecimalAmount>,
    #[serde(rename = "Note")]
    note: Option<String>,
    #[serde(flatten)]
    unknown_fields: UnknownFields,
}

impl<'de> Deserialize<'de> for Fee {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Default)]
        struct Fields {
            id: Option<i64>,
            fee: Option<Option<DecimalAmount>>,
            note: Option<Option<String>>,
            unknown_fields: UnknownFields,
        }
        impl<'de> ObjectFields<'de> for Fields {
            type Object = Fee;
            const NAME: &'static str = "Fee";
            fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
                match key {
                    "Id" => field(&mut self.id, "Id", map),
                    "Fee" => field(&mut self.fee, "Fee", map),
                    "Note" => field(&mut self.note, "Note", map),
                    _ => self.unknown_fields.read_value(key, map),
                }
            }
            fn finish<E: serde::de::Error>(self) -> Result<Fee, E> {
                Ok(Fee {
                    id: missing(self.id, "Id")?,
                    fee: missing(self.fee, "Fee")?,
                    note: required(self.note, "Note")?,
                    unknown_fields: self.unknown_fields,
                })
            }
        }
        deserialize_object::<D, Fields>(deserializer)
    }
}

/// What the generator writes for `oneOf: [string, number]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
enum Amount {
    String(String),
    Decimal(DecimalAmount),
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawJson::deserialize(deserializer)?;
        let mut union = Union::new("Amount", &raw);
        if let Some(v) = union.attempt("String", &[JsonKind::String]) {
            return Ok(Amount::String(v));
        }
        if let Some(v) = union.attempt("Decimal", &[JsonKind::Number, JsonKind::String]) {
            return Ok(Amount::Decimal(v));
        }
        Err(union.into_error())
    }
}

/// What the generator writes for a union discriminated by `kind`.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Fee(Fee),
    Unknown(RawJson),
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawJson::deserialize(deserializer)?;
        match tag_of(&raw, "kind").map_err(D::Error::custom)?.as_deref() {
            Some("fee") => raw.decode().map(Shape::Fee).map_err(D::Error::custom),
            _ => Ok(Shape::Unknown(raw)),
        }
    }
}

impl Serialize for Shape {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Shape::Fee(v) => serialize_tagged(serializer, v, "kind", "fee"),
            Shape::Unknown(raw) => raw.serialize(serializer),
        }
    }
}

#[test]
fn raw_json_keeps_the_exact_text() {
    let raw: RawJson = serde_json::from_str(r#"  {"a": 1.50, "b": [1e2]}"#).unwrap();
    assert_eq!(raw.get(), r#"{"a": 1.50, "b": [1e2]}"#);
    assert_eq!(raw.kind(), JsonKind::Object);
    assert_eq!(
        serde_json::to_string(&raw).unwrap(),
        r#"{"a": 1.50, "b": [1e2]}"#
    );
    for (text, kind) in [
        ("null", JsonKind::Null),
        ("true", JsonKind::Bool),
        ("-0.5", JsonKind::Number),
        ("\"x\"", JsonKind::String),
        ("[]", JsonKind::Array),
    ] {
        assert_eq!(
            RawJson::from_string(text.into()).unwrap().kind(),
            kind,
            "{text}"
        );
    }
    assert!(RawJson::from_string("{".into()).is_err());
    assert!(RawJson::default().is_null());
}

#[test]
fn raw_json_reads_from_a_value_too() {
    let value = serde_json::json!({"a": [1, "x"]});
    let raw: RawJson = serde_json::from_value(value).unwrap();
    assert_eq!(raw.get(), r#"{"a":[1,"x"]}"#);
}

#[test]
fn an_object_keeps_unknown_fields_in_order_and_writes_them_back() {
    let text = r#"{"Id":9,"Zeta":{"deep":[1.10,null]},"Fee":1250.50,"Note":null,"Alpha":"x"}"#;
    let fee: Fee = serde_json::from_str(text).unwrap();
    assert_eq!(fee.id, 9);
    assert_eq!(fee.fee.unwrap().to_string(), "1250.50");
    assert_eq!(fee.note, None);
    let keys: Vec<&str> = fee.unknown_fields.iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["Zeta", "Alpha"]);
    assert_eq!(
        fee.unknown_fields.get("Zeta").unwrap().get(),
        r#"{"deep":[1.10,null]}"#
    );
    assert_eq!(
        serde_json::to_string(&fee).unwrap(),
        r#"{"Id":9,"Fee":1250.50,"Note":null,"Zeta":{"deep":[1.10,null]},"Alpha":"x"}"#
    );
}

#[test]
fn missing_fields_follow_serde_and_required_nullable_fields_must_be_present() {
    let fee: Fee = serde_json::from_str(r#"{"Id":1,"Note":"n"}"#).unwrap();
    assert_eq!(
        fee.fee, None,
        "an absent Option is None, as serde's derive does"
    );
    let err = serde_json::from_str::<Fee>(r#"{"Note":null}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `Id`"), "{err}");
    let err = serde_json::from_str::<Fee>(r#"{"Id":1}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `Note`"), "{err}");
    let err = serde_json::from_str::<Fee>(r#"{"Id":1,"Id":2,"Note":null}"#).unwrap_err();
    assert!(err.to_string().contains("duplicate field `Id`"), "{err}");
    let err = serde_json::from_str::<Fee>("[1]").unwrap_err();
    assert!(err.to_string().contains("a JSON object (Fee)"), "{err}");
}

#[test]
fn unknown_fields_can_be_edited() {
    let mut fields = UnknownFields::new();
    fields.insert("a", RawJson::from_serialize(&1).unwrap());
    fields.insert("b", RawJson::from_serialize("x").unwrap());
    fields.insert("a", RawJson::from_serialize(&2).unwrap());
    assert_eq!(fields.len(), 2);
    assert_eq!(format!("{fields:?}"), r#"{"b": "x", "a": 2}"#);
    assert_eq!(fields.remove("b").unwrap().get(), "\"x\"");
    assert!(fields.remove("b").is_none());
    let back: UnknownFields = serde_json::from_str(r#"{"a":2}"#).unwrap();
    assert_eq!(back, fields);
}

#[test]
fn a_union_tries_variants_on_the_exact_text() {
    assert_eq!(
        serde_json::from_str::<Amount>("\"000123\"").unwrap(),
        Amount::String("000123".into()),
        "a string stays a string, leading zeros and all"
    );
    let Amount::Decimal(d) = serde_json::from_str::<Amount>("6500100.10").unwrap() else {
        panic!("a number is the decimal variant")
    };
    assert_eq!(d.to_string(), "6500100.10");
    let err = serde_json::from_str::<Amount>("{\"secret\":\"abc\"}").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("an object did not match any variant of `Amount`"),
        "{text}"
    );
    assert!(!text.contains("abc"), "the value is not repeated: {text}");
    let err = serde_json::from_str::<Amount>("true").unwrap_err();
    assert!(err.to_string().contains("no variant holds"), "{err}");
}

#[test]
fn a_discriminated_union_dispatches_on_its_tag_and_keeps_unknown_tags() {
    let fee: Shape =
        serde_json::from_str(r#"{"Fee":1.5,"kind":"fee","Id":1,"Note":null}"#).unwrap();
    let Shape::Fee(inner) = &fee else {
        panic!("{fee:?}")
    };
    assert_eq!(inner.unknown_fields.get("kind").unwrap().get(), "\"fee\"");
    let later = r#"{"kind":"bonus","amount":12.30}"#;
    let unknown: Shape = serde_json::from_str(later).unwrap();
    assert_eq!(
        unknown,
        Shape::Unknown(RawJson::from_string(later.into()).unwrap())
    );
    assert_eq!(serde_json::to_string(&unknown).unwrap(), later);
    let err = serde_json::from_str::<Shape>(r#"{"kind":"fee"}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `Id`"), "{err}");
    assert!(serde_json::from_str::<Shape>("[1]").is_err());
    // A variant built in code, without its tag, is written with it.
    let built = Shape::Fee(Fee {
        id: 1,
        fee: None,
        note: None,
        unknown_fields: UnknownFields::new(),
    });
    assert_eq!(
        serde_json::to_string(&built).unwrap(),
        r#"{"kind":"fee","Id":1,"Note":null}"#
    );
    assert_eq!(
        tag_of(
            &RawJson::from_string(r#"{"kind":null}"#.into()).unwrap(),
            "kind"
        )
        .unwrap(),
        None
    );
    assert_eq!(
        tag_of(
            &RawJson::from_string(r#"{"kind":3}"#.into()).unwrap(),
            "kind"
        )
        .unwrap(),
        None
    );
}

/// Decimal text as a JSON number would carry it: sign, up to 28 digits, an
/// optional fraction.
fn decimal_text() -> impl Strategy<Value = String> {
    (
        "-?",
        "[1-9][0-9]{0,14}|0",
        proptest::option::of("[0-9]{1,12}"),
    )
        .prop_map(|(sign, int, frac)| match frac {
            Some(frac) => format!("{sign}{int}.{frac}"),
            None => format!("{sign}{int}"),
        })
}

/// A JSON tree whose leaves are decimals written as numbers or strings,
/// nested in lists, maps and unions.
#[derive(Debug, Clone)]
enum Tree {
    Number(String),
    Quoted(String),
    List(Vec<Tree>),
    Map(BTreeMap<String, Tree>),
}

impl Tree {
    fn json(&self) -> String {
        match self {
            Tree::Number(n) => n.clone(),
            Tree::Quoted(n) => format!("\"{n}\""),
            Tree::List(items) => format!(
                "[{}]",
                items.iter().map(Tree::json).collect::<Vec<_>>().join(",")
            ),
            Tree::Map(map) => format!(
                "{{{}}}",
                map.iter()
                    .map(|(k, v)| format!("\"{k}\":{}", v.json()))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

/// The generated shape of `oneOf: [number, array of Node, map of Node]`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum Node {
    Decimal(DecimalAmount),
    List(Vec<Node>),
    Map(BTreeMap<String, Node>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawJson::deserialize(deserializer)?;
        let mut union = Union::new("Node", &raw);
        if let Some(v) = union.attempt("Decimal", &[JsonKind::Number, JsonKind::String]) {
            return Ok(Node::Decimal(v));
        }
        if let Some(v) = union.attempt("List", &[JsonKind::Array]) {
            return Ok(Node::List(v));
        }
        if let Some(v) = union.attempt("Map", &[JsonKind::Object]) {
            return Ok(Node::Map(v));
        }
        Err(union.into_error())
    }
}

fn same(tree: &Tree, node: &Node) -> bool {
    match (tree, node) {
        (Tree::Number(text) | Tree::Quoted(text), Node::Decimal(d)) => {
            d.to_string() == *text || (text.starts_with("-0") && d.value().is_zero())
        }
        (Tree::List(a), Node::List(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(t, n)| same(t, n))
        }
        (Tree::Map(a), Node::Map(b)) => {
            a.len() == b.len() && a.iter().all(|(k, t)| b.get(k).is_some_and(|n| same(t, n)))
        }
        _ => false,
    }
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        decimal_text().prop_map(Tree::Number),
        decimal_text().prop_map(Tree::Quoted)
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Tree::List),
            proptest::collection::btree_map("[a-z]{1,3}", inner, 0..4).prop_map(Tree::Map),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every decimal inside unions, lists and maps, as a number or a string,
    /// decodes to exactly its digits.
    #[test]
    fn decimals_are_exact_inside_unions_lists_and_maps(tree in tree()) {
        let node: Node = serde_json::from_str(&tree.json()).unwrap();
        prop_assert!(same(&tree, &node), "{} decoded as {node:?}", tree.json());
    }

    /// Decoding then encoding an object with arbitrary extra keys keeps
    /// every one of them, with its exact text.
    #[test]
    fn extra_keys_survive_a_round_trip(
        extra in proptest::collection::btree_map("[A-Za-z_][A-Za-z0-9_]{0,8}", tree(), 0..6),
    ) {
        let extra: BTreeMap<_, _> = extra.into_iter().filter(|(k, _)| !["Id", "Fee", "Note"].contains(&k.as_str())).collect();
        let mut text = String::from(r#"{"Id":1,"Note":null"#);
        for (key, value) in &extra {
            text.push_str(&format!(",\"{key}\":{}", value.json()));
        }
        text.push('}');
        let fee: Fee = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(fee.unknown_fields.len(), extra.len());
        prop_assert_eq!(serde_json::to_string(&fee).unwrap(), text);
    }
}

#[test]
fn raw_json_in_a_buffered_context_says_why_and_a_syntax_error_says_what() {
    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    #[allow(dead_code, reason = "only decoded")]
    enum Buffered {
        Raw(RawJson),
    }
    let err = serde_json::from_str::<Buffered>("1.5").unwrap_err();
    // serde's untagged derive replaces the message with its own.
    assert!(
        err.to_string().contains("did not match any variant"),
        "{err}"
    );
    let err = serde_json::from_str::<RawJson>("[1,").unwrap_err();
    assert!(!err.to_string().contains("serde_json directly"), "{err}");
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only decoded")]
    struct Flat {
        #[serde(flatten)]
        rest: BTreeMap<String, RawJson>,
    }
    let err = serde_json::from_str::<Flat>(r#"{"a":1}"#).unwrap_err();
    assert!(err.to_string().contains("serde_json directly"), "{err}");
}

#[test]
fn minor_units_decode_from_numbers_and_strings_inside_a_union() {
    use crate::money::MinorUnits;
    for (text, minor) in [("29223", 29223), ("\"-5\"", -5)] {
        let raw: RawJson = serde_json::from_str(text).unwrap();
        let mut union = Union::new("Cents", &raw);
        let value = union.attempt::<MinorUnits>("Minor", &[]).unwrap();
        assert_eq!(value.value(), minor, "{text}");
    }
    let raw: RawJson = serde_json::from_str("12.5").unwrap();
    let mut union = Union::new("Cents", &raw);
    assert!(
        union.attempt::<MinorUnits>("Minor", &[]).is_none(),
        "a fraction is not cents"
    );
}
