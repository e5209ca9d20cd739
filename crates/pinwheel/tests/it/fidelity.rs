//! Nothing Pinwheel sends is lost: the vendor's own W-2 example decodes as a
//! W-2, numbers decode inside every number-or-string union, a document type
//! added later keeps its JSON, fields the schema lacks come back out, and a
//! row that omits required-but-nullable fields still decodes.

use httpmock::MockServer;
use pinwheel::Call;
use pinwheel::money::UploadedW2Money;
use pinwheel::types::{self, ParsedData};
use pinwheel_httpmock::MockServerExt;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::client;

/// The example Pinwheel's document gives for `operation_pointer` (a JSON
/// pointer prefix), as the generator collected it.
fn vendor_example(operation_pointer: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../pinwheel-client/codegen/examples.json"
    );
    let examples: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    examples["examples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["pointer"]
                .as_str()
                .unwrap()
                .starts_with(operation_pointer)
        })
        .map(|e| e["value"].clone())
        .unwrap_or_else(|| panic!("no example at {operation_pointer}"))
}

const ONE_DOCUMENT: &str =
    "/paths/~1end_users~1{end_user_id}~1documents~1{document_id}/get/responses/200";

#[tokio::test]
async fn the_vendor_w2_example_decodes_as_a_w2_with_every_amount() {
    let example = vendor_example(ONE_DOCUMENT);
    assert_eq!(example["data"]["parsed_data"]["document_type"], "w2");
    let server = MockServer::start_async().await;
    let document_id: uuid::Uuid = example["data"]["id"].as_str().unwrap().parse().unwrap();
    let body = example.to_string();
    server.get_end_user_document(|when, then| {
        when.end_user_id("u1").document_id(&document_id);
        then.into_inner()
            .status(200)
            .header("content-type", "application/json")
            .body(body);
    });
    let client = client(&server);
    let response = client
        .get_end_user_document()
        .end_user_id("u1")
        .document_id(document_id)
        .send()
        .await
        .unwrap();
    let Some(ParsedData::W2Informed(w2)) = &response.data.parsed_data else {
        panic!("the W-2 came back as {:?}", response.data.parsed_data);
    };
    assert_eq!(w2.employer_name.as_deref(), Some("Informed, Inc."));
    assert_eq!(
        w2.applicant.as_ref().unwrap().name.as_deref(),
        Some("Jo Boren")
    );
    let total = w2.total_wages().unwrap().unwrap();
    assert_eq!(total.minor(), 6_500_100);
    assert_eq!(total.to_string(), "65001.00 USD");
    assert_eq!(w2.federal_taxes().unwrap().unwrap().minor(), 1_172_215);
    assert_eq!(w2.medicare_taxes().unwrap().unwrap().minor(), 94_251);
    // Encoded again, the document says what the vendor's example says (a
    // `null` may come back absent).
    let again: Value = serde_json::to_value(&response.data).unwrap();
    assert_eq!(
        without_nulls(again["parsed_data"].clone()),
        without_nulls(example["data"]["parsed_data"].clone())
    );
}

fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[test]
fn a_document_type_added_later_keeps_its_json_and_writes_it_back() {
    let later = r#"{"document_type":"form_1099","payer":"Acme","amount":12.50}"#;
    let parsed: ParsedData = serde_json::from_str(later).unwrap();
    let ParsedData::Unknown(raw) = &parsed else {
        panic!("{parsed:?}")
    };
    assert_eq!(raw.get(), later);
    assert_eq!(serde_json::to_string(&parsed).unwrap(), later);
}

#[test]
fn a_known_tag_with_a_body_that_does_not_fit_is_an_error_not_another_variant() {
    let err =
        serde_json::from_str::<ParsedData>(r#"{"document_type":"w2","total_wages":{"no":1}}"#)
            .unwrap_err();
    assert!(err.to_string().contains("W2Informed"), "{err}");
}

#[test]
fn a_variant_built_in_code_is_written_with_its_tag() {
    let w2 = types::UploadedW2Informed {
        employer_name: Some("Acme".into()),
        ..Default::default()
    };
    let text = serde_json::to_string(&ParsedData::W2Informed(w2)).unwrap();
    let back: ParsedData = serde_json::from_str(&text).unwrap();
    assert!(matches!(back, ParsedData::W2Informed(_)), "{text}");
}

/// Every number-or-string union of the document, checked the same way.
macro_rules! number_or_string_unions {
    ($($union:ident),* $(,)?) => {
        #[test]
        fn every_number_or_string_union_decodes_numbers_exactly_and_keeps_strings() {
            $(
                for number in ["123456789", "-0.10", "6500100.00", "1e2", "12345678901234567890.12"] {
                    match serde_json::from_str::<types::$union>(number) {
                        Ok(types::$union::DecimalAmount(d)) => assert_eq!(
                            d.value(),
                            number.parse::<rust_decimal::Decimal>()
                                .or_else(|_| rust_decimal::Decimal::from_scientific(number))
                                .unwrap(),
                            "{} {number}", stringify!($union)
                        ),
                        other => panic!("{} {number}: {other:?}", stringify!($union)),
                    }
                }
                for text in ["\"000123\"", "\"12.50\"", "\"n/a\""] {
                    let value: types::$union = serde_json::from_str(text).unwrap();
                    assert!(matches!(value, types::$union::String(_)), "{} {text}", stringify!($union));
                    assert_eq!(serde_json::to_string(&value).unwrap(), text, "{}", stringify!($union));
                }
            )*
        }
    };
}

number_or_string_unions!(
    Amount,
    BankAccountAccountNumber,
    BeginningBalance,
    EndingBalance,
    FederalTaxes,
    MedicareTaxes,
    MedicareWages,
    SocialSecurityTaxes,
    SocialSecurityWages,
    StateTaxes,
    StateWages,
    TotalDeposits,
    TotalWages,
);

#[test]
fn integer_or_string_unions_decode_both() {
    for (text, integer) in [("2024", true), ("\"2024\"", false)] {
        let year: types::ParamsPayloadYear = serde_json::from_str(text).unwrap();
        assert_eq!(
            matches!(year, types::ParamsPayloadYear::Integer(2024)),
            integer,
            "{text}"
        );
        assert_eq!(serde_json::to_string(&year).unwrap(), text);
    }
}

/// Decimal text a JSON number can carry: up to 28 significant digits (no
/// negative zero, whose sign a decimal does not keep).
fn decimal_text() -> impl Strategy<Value = String> {
    (
        "-?",
        "[1-9][0-9]{0,15}|0",
        proptest::option::of("[0-9]{0,11}[1-9]"),
    )
        .prop_map(|(sign, int, frac)| match frac {
            Some(frac) => format!("{sign}{int}.{frac}"),
            None if int == "0" => int,
            None => format!("{sign}{int}"),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Numbers and strings in a generated union, inside lists, maps and an
    /// object: every number keeps its exact value, every string its text.
    #[test]
    fn unions_nested_in_lists_maps_and_objects_are_exact(
        items in proptest::collection::vec((decimal_text(), any::<bool>()), 1..6),
    ) {
        let json_items: Vec<String> = items
            .iter()
            .map(|(n, quoted)| if *quoted { format!("\"{n}\"") } else { n.clone() })
            .collect();
        let list = format!("[{}]", json_items.join(","));
        let decoded: Vec<types::TotalWages> = serde_json::from_str(&list).unwrap();
        let map = format!(
            "{{{}}}",
            json_items.iter().enumerate().map(|(i, v)| format!("\"k{i}\":{v}")).collect::<Vec<_>>().join(",")
        );
        let by_key: std::collections::BTreeMap<String, types::TotalWages> = serde_json::from_str(&map).unwrap();
        let w2: types::UploadedW2Informed =
            serde_json::from_str(&format!("{{\"total_wages\":{},\"state_wages\":{}}}", json_items[0], json_items[json_items.len() - 1])).unwrap();
        for (i, ((text, quoted), value)) in items.iter().zip(&decoded).enumerate() {
            let expected: rust_decimal::Decimal = text.parse().unwrap();
            match (quoted, value) {
                (false, types::TotalWages::DecimalAmount(d)) => prop_assert_eq!(d.value(), expected),
                (true, types::TotalWages::String(s)) => prop_assert_eq!(s, text),
                other => prop_assert!(false, "{text}: {other:?}"),
            }
            prop_assert_eq!(serde_json::to_string(&by_key[&format!("k{i}")]).unwrap(), serde_json::to_string(value).unwrap());
        }
        prop_assert_eq!(serde_json::to_string(&decoded).unwrap(), list);
        prop_assert_eq!(
            serde_json::to_string(w2.total_wages.as_ref().unwrap()).unwrap(),
            json_items[0].clone()
        );
    }
}

#[tokio::test]
async fn a_page_whose_rows_omit_required_nullable_fields_still_decodes() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(httpmock::Method::GET)
            .path("/company_connections/3a8d0c0e-5e0f-4c1b-9d43-3a4d1d0b2f6e/paystubs/e1");
        then.status(200)
            .header("content-type", "application/json")
            .json_body(json!({
                "data": [
                    // Every field the schema requires, some of them null.
                    {"id": "p1", "account_id": null, "pay_date": "2024-01-31", "currency": "USD",
                     "gross_pay_amount": 100, "net_pay_amount": 80, "check_amount": 80,
                     "total_taxes": 20, "total_deductions": 0, "total_reimbursements": 0,
                     "created_at": null, "employee_external_id": "e1"},
                    // The same row with the nullable ones left out.
                    {"id": "p2", "pay_date": "2024-02-29", "gross_pay_amount": 100,
                     "employee_external_id": "e1", "brand_new_field": {"x": 1}}
                ],
                "meta": {"count": 2, "next_cursor": null}
            }));
    });
    let client = client(&server);
    let page = client
        .list_company_paystubs()
        .company_connection_id(uuid::Uuid::from_u128(
            0x3a8d0c0e_5e0f_4c1b_9d43_3a4d1d0b2f6e,
        ))
        .employee_external_id("e1")
        .send()
        .await
        .unwrap();
    assert_eq!(page.data.len(), 2);
    let second = &page.data[1];
    assert_eq!(
        (second.check_amount, second.currency.as_ref()),
        (None, None)
    );
    assert_eq!(
        second.unknown_fields.get("brand_new_field").unwrap().get(),
        r#"{"x":1}"#
    );
}

/// An optional list the caller empties is sent as `[]`, not left out: an
/// update that means "no events" must not read as "events unchanged".
#[test]
fn an_empty_list_is_written_as_sent_and_an_absent_one_stays_absent() {
    let cleared: types::WebhookUpdate =
        serde_json::from_value(json!({"enabled_events": []})).unwrap();
    assert_eq!(cleared.enabled_events, Some(Vec::new()));
    assert_eq!(
        serde_json::to_value(&cleared).unwrap(),
        json!({"enabled_events": []})
    );

    let untouched: types::WebhookUpdate = serde_json::from_value(json!({})).unwrap();
    assert_eq!(untouched.enabled_events, None);
    assert_eq!(serde_json::to_value(&untouched).unwrap(), json!({}));

    // Through the builder: an empty list set is sent; one never set is not.
    let built = types::WebhookUpdate::builder().enabled_events(Vec::new());
    let built: types::WebhookUpdate = built.try_into().unwrap();
    assert_eq!(
        serde_json::to_value(&built).unwrap()["enabled_events"],
        json!([])
    );
    let unset: types::WebhookUpdate = types::WebhookUpdate::builder().try_into().unwrap();
    assert!(
        serde_json::to_value(&unset)
            .unwrap()
            .get("enabled_events")
            .is_none()
    );
}
