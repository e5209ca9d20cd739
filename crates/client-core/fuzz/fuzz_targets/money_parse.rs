//! Fuzzes the money parsers with arbitrary input, because they read text
//! straight from remote APIs and must never panic, round, or accept what they
//! cannot represent exactly.
//!
//! Run from `crates/client-core` with `cargo +nightly fuzz run money_parse`.

#![no_main]

use client_core::money::{Currency, DecimalAmount, MinorUnits, Money, MoneyError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for currency in currencies() {
            check_major_str(text, currency);
        }
        check_decimal_text(text);
    }
    check_decimal_json(data);
    // Only the absence of panics matters here; both outcomes are fine.
    let _ = serde_json::from_slice::<MinorUnits>(data);
    let _ = serde_json::from_slice::<Money>(data);
});

/// One currency per exponent that behaves differently: 0, 2, 3, 4, an unknown
/// code with the default exponent and one with the largest exponent.
fn currencies() -> Vec<Currency> {
    ["JPY", "USD", "KWD", "CLF", "ZZZ"]
        .into_iter()
        .filter_map(|code| Currency::from_code(code).ok())
        .chain(Currency::with_exponent("QQQ", client_core::money::MAX_EXPONENT).ok())
        .collect()
}

/// A parsed amount must print in a form that parses back to itself, and the
/// other exact paths (`from_decimal`, the `DecimalAmount` parser) must agree
/// with it.
fn check_major_str(text: &str, currency: Currency) {
    match Money::from_major_str(text, currency) {
        Ok(money) => {
            assert_eq!(money.currency(), currency);
            let major = money.to_decimal().to_string();
            assert_eq!(Money::from_major_str(&major, currency), Ok(money));
            assert_eq!(Money::from_decimal(money.to_decimal(), currency), Ok(money));
            assert_eq!(money.to_string(), format!("{major} {currency}"));
            // The exact decimal parser must agree on every accepted text.
            let decimal = text.parse::<DecimalAmount>();
            assert_eq!(decimal.map(|d| d.to_money(currency)), Ok(Ok(money)));
        }
        Err(MoneyError::TooManyDecimals { .. }) => {
            // Rejected for precision, so the text itself was well formed and
            // has a non-zero digit beyond the currency's exponent.
            assert!(text.contains('.'));
        }
        Err(_) => {}
    }
}

/// Text accepted by `DecimalAmount::from_str` must survive a display/parse
/// round trip and a JSON round trip with the same value and scale.
fn check_decimal_text(text: &str) {
    if let Ok(amount) = text.parse::<DecimalAmount>() {
        let shown = amount.to_string();
        let again = shown.parse::<DecimalAmount>();
        assert_eq!(
            again.map(|a| (a, a.value().scale())),
            Ok((amount, amount.value().scale()))
        );
        check_json_round_trip(amount);
    }
}

/// Arbitrary bytes as JSON: anything accepted must round-trip exactly.
fn check_decimal_json(data: &[u8]) {
    if let Ok(amount) = serde_json::from_slice::<DecimalAmount>(data) {
        check_json_round_trip(amount);
    }
}

/// Serialising writes the exact digits, and reading them back gives the same
/// value and scale.
fn check_json_round_trip(amount: DecimalAmount) {
    let json = match serde_json::to_string(&amount) {
        Ok(json) => json,
        Err(error) => panic!("{amount} did not serialise: {error}"),
    };
    match serde_json::from_str::<DecimalAmount>(&json) {
        Ok(back) => assert_eq!(
            (back, back.value().scale()),
            (amount, amount.value().scale()),
            "{json}"
        ),
        Err(error) => panic!("{json} did not deserialise: {error}"),
    }
}
