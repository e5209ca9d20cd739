//! Tests for the money module: tables for the documented examples and edge
//! cases, and property tests for the invariants that tables cannot cover
//! exhaustively (round trips, no panics, allocation sums, exact rounding).

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::*;

fn kwd() -> Currency {
    Currency::from_code("KWD").unwrap()
}

fn clf() -> Currency {
    Currency::from_code("CLF").unwrap()
}

fn abc() -> Currency {
    Currency::from_code("ABC").unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn currency_exponents() {
    let cases: &[(&str, &str, u32, bool)] = &[
        ("USD", "USD", 2, true),
        ("usd", "USD", 2, true),
        ("Jpy", "JPY", 0, true),
        ("KWD", "KWD", 3, true),
        ("CLF", "CLF", 4, true),
        ("XAU", "XAU", 0, true),
        ("XXX", "XXX", 0, true),
        ("abc", "ABC", 2, false),
        ("QQQ", "QQQ", 2, false),
    ];
    for &(input, code, exponent, iso) in cases {
        let currency = Currency::from_code(input).unwrap();
        assert_eq!(currency.code(), code, "{input}");
        assert_eq!(currency.to_string(), code, "{input}");
        assert_eq!(currency.exponent(), exponent, "{input}");
        assert_eq!(currency.iso().is_some(), iso, "{input}");
        assert_eq!(input.parse::<Currency>().unwrap(), currency, "{input}");
    }
    assert_eq!(Currency::from_code("usd").unwrap(), Currency::USD);
    assert_eq!(Currency::JPY.exponent(), 0);
}

#[test]
fn currency_rejects_malformed_codes() {
    for input in ["", "US", "USDX", " USD", "USD ", "U5D", "ÜSD", "U-D", "12€"] {
        assert!(
            matches!(
                Currency::from_code(input),
                Err(MoneyError::InvalidCurrency { .. })
            ),
            "{input:?}"
        );
    }
}

#[test]
fn currency_with_exponent() {
    let zzz = Currency::with_exponent("zzz", 3).unwrap();
    assert_eq!((zzz.code(), zzz.exponent()), ("ZZZ", 3));
    assert_ne!(zzz, Currency::from_code("ZZZ").unwrap());
    assert_eq!(
        Currency::with_exponent("ZZZ", 2).unwrap(),
        Currency::from_code("ZZZ").unwrap()
    );
    assert_eq!(Currency::with_exponent("usd", 2).unwrap(), Currency::USD);
    assert_eq!(
        Currency::with_exponent("USD", 3),
        Err(MoneyError::ExponentMismatch {
            currency: Currency::USD,
            expected: 2,
            given: 3
        })
    );
    assert!(Currency::with_exponent("ZZZ", MAX_EXPONENT).is_ok());
    assert_eq!(
        Currency::with_exponent("ZZZ", 19),
        Err(MoneyError::UnsupportedExponent {
            exponent: 19,
            max: MAX_EXPONENT
        })
    );
    assert!(Currency::with_exponent("ZZZ", u32::MAX).is_err());
    assert!(matches!(
        Currency::with_exponent("Z", 2),
        Err(MoneyError::InvalidCurrency { .. })
    ));
}

#[test]
fn parse_major_per_exponent() {
    let cases: &[(&str, Currency, i64)] = &[
        ("12.3", Currency::USD, 1230),
        ("12.34", Currency::USD, 1234),
        ("12", Currency::USD, 1200),
        ("0.05", Currency::USD, 5),
        ("-0.05", Currency::USD, -5),
        ("-0", Currency::USD, 0),
        ("007.50", Currency::USD, 750),
        ("12.300", Currency::USD, 1230),
        ("292.23", Currency::USD, 29223),
        ("1234", Currency::JPY, 1234),
        ("1234.000", Currency::JPY, 1234),
        ("-7", Currency::JPY, -7),
        ("1.234", kwd(), 1234),
        ("1.2", kwd(), 1200),
        ("0.001", kwd(), 1),
        ("1.2345", clf(), 12345),
        ("1.23", abc(), 123),
        ("92233720368547758.07", Currency::USD, i64::MAX),
        ("-92233720368547758.08", Currency::USD, i64::MIN),
        ("9223372036854775807", Currency::JPY, i64::MAX),
        ("0000000000000000000000000000001.00", Currency::USD, 100),
    ];
    for &(input, currency, minor) in cases {
        let money = Money::from_major_str(input, currency).unwrap();
        assert_eq!(
            money,
            Money::from_minor(minor, currency),
            "{input} {currency}"
        );
    }
    let eighteen = Currency::with_exponent("ZZZ", 18).unwrap();
    assert_eq!(
        Money::from_major_str("9.223372036854775807", eighteen)
            .unwrap()
            .minor(),
        i64::MAX
    );
}

#[test]
fn parse_major_too_many_decimals() {
    let cases: &[(&str, Currency)] = &[
        ("12.345", Currency::USD),
        ("0.001", Currency::USD),
        ("12.3450", Currency::USD),
        ("1.5", Currency::JPY),
        ("1.2345", kwd()),
        ("0.12345", clf()),
        ("1.234", abc()),
    ];
    for &(input, currency) in cases {
        assert_eq!(
            Money::from_major_str(input, currency),
            Err(MoneyError::TooManyDecimals {
                input: input.to_owned(),
                currency,
                exponent: currency.exponent(),
            }),
            "{input} {currency}"
        );
    }
}

#[test]
fn parse_major_rejects_malformed() {
    let cases = [
        "", "-", "+1", "+1.00", " 1", "1 ", "1.", ".5", "-.5", "1..2", "1.2.3", "1e2", "1E2",
        "1.5e-1", "NaN", "nan", "inf", "-inf", "Infinity", "1,000", "1_000", "0x10", "--1", "1-",
        "١٢", "1.0\n", "12.3 USD", "$12",
    ];
    for input in cases {
        assert!(
            matches!(
                Money::from_major_str(input, Currency::USD),
                Err(MoneyError::InvalidAmount { .. })
            ),
            "{input:?}"
        );
    }
}

#[test]
fn parse_major_overflow() {
    for input in [
        "92233720368547758.08",
        "-92233720368547758.09",
        "99999999999999999999999999999999999999999999",
    ] {
        assert_eq!(
            Money::from_major_str(input, Currency::USD),
            Err(MoneyError::Overflow),
            "{input}"
        );
    }
    assert_eq!(
        Money::from_major_str("9223372036854775808", Currency::JPY),
        Err(MoneyError::Overflow)
    );
}

#[test]
fn error_messages() {
    let cases: &[(MoneyError, &str)] = &[
        (
            Money::from_major_str("12.345", Currency::USD).unwrap_err(),
            "amount \"12.345\" has more decimal places than USD allows (2)",
        ),
        (
            Money::from_major_str("+1", Currency::USD).unwrap_err(),
            "invalid amount \"+1\": a leading '+' is not accepted",
        ),
        (
            Money::from_minor(1, Currency::USD)
                .checked_add(Money::from_minor(1, Currency::EUR))
                .unwrap_err(),
            "currency mismatch: USD and EUR",
        ),
        (
            Currency::from_code("US").unwrap_err(),
            "invalid currency code \"US\": expected three ascii letters",
        ),
        (MoneyError::Overflow, "amount out of range"),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), *message);
    }
    let long = "1".repeat(1000) + "x";
    match Money::from_major_str(&long, Currency::USD).unwrap_err() {
        MoneyError::InvalidAmount { input, .. } => assert_eq!(input.chars().count(), 65),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn from_decimal_is_exact() {
    let cases: &[(&str, Currency, Option<i64>)] = &[
        ("12.34", Currency::USD, Some(1234)),
        ("12.3", Currency::USD, Some(1230)),
        ("12.3400000", Currency::USD, Some(1234)),
        ("-0.01", Currency::USD, Some(-1)),
        ("12.345", Currency::USD, None),
        ("1234", Currency::JPY, Some(1234)),
        ("0.5", Currency::JPY, None),
        ("1.234", kwd(), Some(1234)),
        ("0.0000000000000000000000000001", Currency::USD, None),
    ];
    for &(input, currency, expected) in cases {
        let result = Money::from_decimal(dec(input), currency);
        match expected {
            Some(minor) => assert_eq!(result.unwrap().minor(), minor, "{input}"),
            None => assert!(
                matches!(result, Err(MoneyError::TooManyDecimals { .. })),
                "{input}"
            ),
        }
    }
    assert_eq!(
        Money::from_decimal(Decimal::MAX, Currency::USD),
        Err(MoneyError::Overflow)
    );
    assert_eq!(
        Money::from_decimal(dec("92233720368547758.08"), Currency::USD),
        Err(MoneyError::Overflow)
    );
    assert_eq!(
        Money::from_decimal(dec("-92233720368547758.08"), Currency::USD)
            .unwrap()
            .minor(),
        i64::MIN
    );
}

#[test]
fn display_and_to_decimal() {
    let cases: &[(i64, Currency, &str)] = &[
        (1234, Currency::USD, "12.34 USD"),
        (-5, Currency::USD, "-0.05 USD"),
        (0, Currency::USD, "0.00 USD"),
        (100, Currency::USD, "1.00 USD"),
        (1234, Currency::JPY, "1234 JPY"),
        (-1234, Currency::JPY, "-1234 JPY"),
        (1234, kwd(), "1.234 KWD"),
        (1, kwd(), "0.001 KWD"),
        (12345, clf(), "1.2345 CLF"),
        (123, abc(), "1.23 ABC"),
        (i64::MIN, Currency::USD, "-92233720368547758.08 USD"),
        (i64::MAX, Currency::USD, "92233720368547758.07 USD"),
    ];
    for &(minor, currency, shown) in cases {
        let money = Money::from_minor(minor, currency);
        assert_eq!(money.to_string(), shown);
        let (major, code) = shown.split_once(' ').unwrap();
        assert_eq!(money.to_decimal().to_string(), major);
        assert_eq!(
            Money::from_major_str(major, Currency::from_code(code).unwrap()),
            Ok(money)
        );
    }
}

#[test]
fn add_sub_neg() {
    let usd = |m| Money::from_minor(m, Currency::USD);
    assert_eq!(usd(150).checked_add(usd(-50)), Ok(usd(100)));
    assert_eq!(usd(150).checked_sub(usd(200)), Ok(usd(-50)));
    assert_eq!(usd(i64::MAX).checked_add(usd(1)), Err(MoneyError::Overflow));
    assert_eq!(usd(i64::MIN).checked_sub(usd(1)), Err(MoneyError::Overflow));
    assert_eq!(usd(i64::MIN).checked_add(usd(i64::MAX)), Ok(usd(-1)));
    assert_eq!(usd(5).checked_neg(), Ok(usd(-5)));
    assert_eq!(usd(i64::MIN).checked_neg(), Err(MoneyError::Overflow));
    let mismatch = MoneyError::CurrencyMismatch {
        left: Currency::USD,
        right: Currency::JPY,
    };
    assert_eq!(
        usd(1).checked_add(Money::from_minor(1, Currency::JPY)),
        Err(mismatch.clone())
    );
    assert_eq!(
        usd(1).checked_sub(Money::from_minor(1, Currency::JPY)),
        Err(mismatch)
    );
    // Unknown codes with different exponents are different currencies.
    let zzz2 = Money::from_minor(1, Currency::with_exponent("ZZZ", 2).unwrap());
    let zzz3 = Money::from_minor(1, Currency::with_exponent("ZZZ", 3).unwrap());
    assert!(matches!(
        zzz2.checked_add(zzz3),
        Err(MoneyError::CurrencyMismatch { .. })
    ));
}

#[test]
fn ordering_is_per_currency() {
    use std::cmp::Ordering;
    let a = Money::from_minor(1, Currency::USD);
    let b = Money::from_minor(2, Currency::USD);
    let c = Money::from_minor(1, Currency::EUR);
    assert!(a < b);
    assert_eq!(a.partial_cmp(&a), Some(Ordering::Equal));
    assert_eq!(a.partial_cmp(&c), None);
    // Neither operator holds across currencies.
    let (less, greater) = (a < c, a > c);
    assert!(!less && !greater && a != c);
    let mut seen = std::collections::HashSet::new();
    assert!(seen.insert(a));
    assert!(seen.insert(c));
    assert!(!seen.insert(Money::from_minor(1, Currency::USD)));
}

const MODES: [Rounding; 7] = [
    Rounding::HalfEven,
    Rounding::HalfUp,
    Rounding::HalfDown,
    Rounding::Up,
    Rounding::Down,
    Rounding::Ceiling,
    Rounding::Floor,
];

#[test]
fn every_rounding_mode() {
    // (minor, factor) → expected result in MODES order.
    let cases: &[(i64, &str, [i64; 7])] = &[
        (5, "0.5", [2, 3, 2, 3, 2, 3, 2]),           // 2.5
        (-5, "0.5", [-2, -3, -2, -3, -2, -2, -3]),   // -2.5
        (7, "0.5", [4, 4, 3, 4, 3, 4, 3]),           // 3.5
        (-7, "0.5", [-4, -4, -3, -4, -3, -3, -4]),   // -3.5
        (5, "-0.5", [-2, -3, -2, -3, -2, -2, -3]),   // -2.5 via a negative factor
        (10, "0.26", [3, 3, 3, 3, 2, 3, 2]),         // 2.6
        (-10, "0.26", [-3, -3, -3, -3, -2, -2, -3]), // -2.6
        (10, "0.24", [2, 2, 2, 3, 2, 3, 2]),         // 2.4
        (-10, "0.24", [-2, -2, -2, -3, -2, -2, -3]), // -2.4
        (4, "0.5", [2, 2, 2, 2, 2, 2, 2]),           // exact
        (0, "-0.3", [0, 0, 0, 0, 0, 0, 0]),
        (1, "0.0000000000000000000000000001", [0, 0, 0, 1, 0, 1, 0]),
        (
            -1,
            "0.0000000000000000000000000001",
            [0, 0, 0, -1, 0, 0, -1],
        ),
    ];
    for &(minor, factor, expected) in cases {
        for (mode, want) in MODES.iter().zip(expected) {
            let got = Money::from_minor(minor, Currency::USD).mul_decimal(dec(factor), *mode);
            assert_eq!(
                got,
                Ok(Money::from_minor(want, Currency::USD)),
                "{minor} × {factor} {mode:?}"
            );
        }
    }
}

#[test]
fn mul_is_exact_beyond_decimal_precision() {
    let usd = |m| Money::from_minor(m, Currency::USD);
    // 100001 cents × 0.0765 = 7650.0765 cents.
    assert_eq!(
        usd(100_001).mul_decimal(dec("0.0765"), Rounding::HalfEven),
        Ok(usd(7650))
    );
    // i64::MAX × (1 + 1e-28) needs 47 digits; only Down/Floor/Half* stay in range.
    let factor = dec("1.0000000000000000000000000001");
    assert_eq!(
        usd(i64::MAX).mul_decimal(factor, Rounding::Down),
        Ok(usd(i64::MAX))
    );
    assert_eq!(
        usd(i64::MAX).mul_decimal(factor, Rounding::HalfEven),
        Ok(usd(i64::MAX))
    );
    assert_eq!(
        usd(i64::MAX).mul_decimal(factor, Rounding::Up),
        Err(MoneyError::Overflow)
    );
    assert_eq!(
        usd(i64::MIN).mul_decimal(factor, Rounding::Ceiling),
        Ok(usd(i64::MIN))
    );
    assert_eq!(
        usd(i64::MIN).mul_decimal(factor, Rounding::Floor),
        Err(MoneyError::Overflow)
    );
    assert_eq!(
        usd(i64::MAX).mul_decimal(Decimal::MAX, Rounding::Down),
        Err(MoneyError::Overflow)
    );
    assert_eq!(
        usd(i64::MIN).mul_decimal(Decimal::ONE, Rounding::Down),
        Ok(usd(i64::MIN))
    );
    assert_eq!(
        usd(i64::MIN).mul_decimal(Decimal::NEGATIVE_ONE, Rounding::Down),
        Err(MoneyError::Overflow)
    );
    assert_eq!(usd(3).mul_decimal(Decimal::ZERO, Rounding::Up), Ok(usd(0)));
}

#[test]
fn division() {
    let usd = |m| Money::from_minor(m, Currency::USD);
    let cases: &[(i64, &str, [i64; 7])] = &[
        (1000, "3", [333, 333, 333, 334, 333, 334, 333]),
        (-1000, "3", [-333, -333, -333, -334, -333, -333, -334]),
        (100, "8", [12, 13, 12, 13, 12, 13, 12]), // 12.5
        (100, "-8", [-12, -13, -12, -13, -12, -12, -13]),
        (5, "0.5", [10, 10, 10, 10, 10, 10, 10]),
        (1, "0.0000000000000000000000000003", [i64::MAX; 7]),
    ];
    for &(minor, divisor, expected) in cases {
        for (mode, want) in MODES.iter().zip(expected) {
            let got = usd(minor).div_decimal(dec(divisor), *mode);
            if minor == 1 {
                assert_eq!(got, Err(MoneyError::Overflow));
            } else {
                assert_eq!(got, Ok(usd(want)), "{minor} ÷ {divisor} {mode:?}");
            }
        }
    }
    assert_eq!(
        usd(1).div_decimal(Decimal::ZERO, Rounding::HalfEven),
        Err(MoneyError::DivisionByZero)
    );
    assert_eq!(
        usd(0).div_decimal(dec("-0.00"), Rounding::HalfEven),
        Err(MoneyError::DivisionByZero)
    );
    assert_eq!(
        usd(i64::MIN).div_decimal(Decimal::NEGATIVE_ONE, Rounding::Down),
        Err(MoneyError::Overflow)
    );
    assert_eq!(
        usd(i64::MIN).div_decimal(Decimal::MAX, Rounding::Floor),
        Ok(usd(-1))
    );
}

#[test]
fn allocate_examples() {
    let cases: &[(i64, &[u64], &[i64])] = &[
        (100, &[1, 1, 1], &[34, 33, 33]),
        (-100, &[1, 1, 1], &[-34, -33, -33]),
        (101, &[1, 1, 1], &[34, 34, 33]),
        (100, &[0, 1, 0, 1], &[0, 50, 0, 50]),
        (5, &[0, 1, 0, 1], &[0, 3, 0, 2]),
        (100, &[7], &[100]),
        (0, &[1, 2], &[0, 0]),
        (1, &[1, 1, 1, 1], &[1, 0, 0, 0]),
        (10, &[70, 20, 10], &[7, 2, 1]),
        (5, &[3, 7], &[2, 3]), // 1.5 and 3.5: the tie goes to the first
        (-5, &[3, 7], &[-2, -3]),
        (5, &[7, 3], &[4, 1]),
        (i64::MIN, &[1, 1], &[i64::MIN / 2, i64::MIN / 2]),
        (i64::MIN, &[1], &[i64::MIN]),
        (
            i64::MAX,
            &[u64::MAX, u64::MAX],
            &[i64::MAX / 2 + 1, i64::MAX / 2],
        ),
    ];
    for &(minor, ratios, expected) in cases {
        let parts = Money::from_minor(minor, Currency::USD)
            .allocate(ratios)
            .unwrap();
        let got: Vec<i64> = parts.iter().map(Money::minor).collect();
        assert_eq!(got, expected, "{minor} by {ratios:?}");
        assert!(parts.iter().all(|p| p.currency() == Currency::USD));
    }
    let usd = Money::from_minor(100, Currency::USD);
    assert_eq!(usd.allocate(&[]), Err(MoneyError::InvalidRatios));
    assert_eq!(usd.allocate(&[0, 0]), Err(MoneyError::InvalidRatios));
}

#[test]
fn money_serde() {
    let cases: &[(Money, &str)] = &[
        (
            Money::from_minor(29223, Currency::USD),
            r#"{"amount":29223,"currency":"USD"}"#,
        ),
        (
            Money::from_minor(-5, kwd()),
            r#"{"amount":-5,"currency":"KWD"}"#,
        ),
        (
            Money::from_minor(i64::MIN, abc()),
            r#"{"amount":-9223372036854775808,"currency":"ABC","exponent":2}"#,
        ),
        (
            Money::from_minor(5, Currency::with_exponent("ZZZ", 3).unwrap()),
            r#"{"amount":5,"currency":"ZZZ","exponent":3}"#,
        ),
    ];
    for (money, json) in cases {
        assert_eq!(serde_json::to_string(money).unwrap(), *json);
        assert_eq!(serde_json::from_str::<Money>(json).unwrap(), *money);
    }
    let lenient: Money = serde_json::from_str(r#"{"currency":"usd","amount":"12"}"#).unwrap();
    assert_eq!(lenient, Money::from_minor(12, Currency::USD));
    let explicit: Money =
        serde_json::from_str(r#"{"currency":"JPY","amount":1,"exponent":0}"#).unwrap();
    assert_eq!(explicit, Money::from_minor(1, Currency::JPY));
    let unknown: Money = serde_json::from_str(r#"{"currency":"ABC","amount":1}"#).unwrap();
    assert_eq!(unknown, Money::from_minor(1, abc()));
    for bad in [
        r#"{"amount":12.5,"currency":"USD"}"#,
        r#"{"amount":1e2,"currency":"USD"}"#,
        r#"{"amount":12,"currency":"US"}"#,
        r#"{"amount":12}"#,
        r#"{"amount":12,"currency":"USD","exponent":3}"#,
        r#"{"amount":12,"currency":"ZZZ","exponent":19}"#,
        r#"{"amount":12,"currency":"USD","extra":2}"#,
    ] {
        assert!(serde_json::from_str::<Money>(bad).is_err(), "{bad}");
    }
}

#[test]
fn currency_serde() {
    assert_eq!(serde_json::to_string(&Currency::USD).unwrap(), r#""USD""#);
    assert_eq!(
        serde_json::from_str::<Currency>(r#""jpy""#).unwrap(),
        Currency::JPY
    );
    assert_eq!(serde_json::from_str::<Currency>(r#""ABC""#).unwrap(), abc());
    assert!(serde_json::from_str::<Currency>(r#""ABCD""#).is_err());
    assert!(serde_json::from_str::<Currency>("840").is_err());
}

#[test]
fn minor_units_serde() {
    let accepted: &[(&str, i64)] = &[
        ("29223", 29223),
        ("-1", -1),
        ("0", 0),
        (r#""29223""#, 29223),
        (r#""-42""#, -42),
        ("9223372036854775807", i64::MAX),
        ("-9223372036854775808", i64::MIN),
    ];
    for &(json, minor) in accepted {
        assert_eq!(
            serde_json::from_str::<MinorUnits>(json).unwrap(),
            MinorUnits(minor),
            "{json}"
        );
    }
    for json in [
        "12.5",
        "12.0",
        "1e2",
        "-0.0",
        "9223372036854775808",
        "18446744073709551616",
        r#""12.5""#,
        r#""+1""#,
        r#"" 1""#,
        r#""""#,
        r#""-""#,
        "null",
        "true",
        "[1]",
        r#""9223372036854775808""#,
    ] {
        assert!(serde_json::from_str::<MinorUnits>(json).is_err(), "{json}");
    }
    let message = serde_json::from_str::<MinorUnits>("12.5")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("expected an integer number of minor units"),
        "{message}"
    );
    assert_eq!(
        serde_json::to_string(&MinorUnits(-29223)).unwrap(),
        "-29223"
    );
}

#[test]
fn pinwheel_shape_with_parent_currency() {
    #[derive(Deserialize)]
    struct Tax {
        amount: MinorUnits,
    }
    #[derive(Deserialize)]
    struct Paystub {
        currency: Currency,
        net_pay_amount: MinorUnits,
        taxes: Vec<Tax>,
    }
    #[derive(Deserialize)]
    struct Simple {
        currency: Currency,
        amount: MinorUnits,
    }
    let json = r#"{"currency": "USD", "net_pay_amount": 29223, "taxes": [{"amount": 1200}, {"amount": "300"}]}"#;
    let stub: Paystub = serde_json::from_str(json).unwrap();
    let net = stub.net_pay_amount.with_currency(stub.currency);
    let taxes = stub
        .taxes
        .iter()
        .try_fold(Money::zero(stub.currency), |sum, tax| {
            sum.checked_add(tax.amount.with_currency(stub.currency))
        })
        .unwrap();
    assert_eq!(net.to_string(), "292.23 USD");
    assert_eq!(taxes.to_string(), "15.00 USD");
    assert_eq!(net.checked_add(taxes).unwrap().minor(), 30723);

    let simple: Simple = serde_json::from_str(r#"{ "currency": "USD", "amount": 29223 }"#).unwrap();
    assert_eq!(
        simple.amount.with_currency(simple.currency),
        Money::from_minor(29223, Currency::USD)
    );
}

#[test]
fn decimal_amount_serde() {
    // (JSON in, exact value as text, JSON written back)
    let cases: &[(&str, &str, &str)] = &[
        ("123.45", "123.45", "123.45"),
        ("1250.50", "1250.50", "1250.50"),
        ("0.1", "0.1", "0.1"),
        ("-0.1", "-0.1", "-0.1"),
        ("1e2", "100", "100"),
        ("1.5e2", "150", "150"),
        ("1.5E+2", "150", "150"),
        ("15e-1", "1.5", "1.5"),
        ("0", "0", "0"),
        ("-0", "0", "0"),
        ("0.00", "0.00", "0.00"),
        (r#""0.10""#, "0.10", "0.10"),
        (r#""-12.5""#, "-12.5", "-12.5"),
        (r#""1e2""#, "100", "100"),
        (
            "1234567890123456789012345678",
            "1234567890123456789012345678",
            "1234567890123456789012345678",
        ),
        (
            "0.1234567890123456789012345678",
            "0.1234567890123456789012345678",
            "0.1234567890123456789012345678",
        ),
        (
            "79228162514264337593543950335",
            "79228162514264337593543950335",
            "79228162514264337593543950335",
        ),
        (
            "1.0000000000000000000000000000000000",
            "1.0000000000000000000000000000",
            "1.0000000000000000000000000000",
        ),
        ("0e999999999999999999999", "0", "0"),
        (" 7.25 ", "7.25", "7.25"),
    ];
    for &(json, exact, written) in cases {
        let amount: DecimalAmount =
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(amount.to_string(), exact, "{json}");
        assert_eq!(amount.value(), dec(exact), "{json}");
        assert_eq!(serde_json::to_string(&amount).unwrap(), written, "{json}");
        let again: DecimalAmount = serde_json::from_str(written).unwrap();
        assert_eq!(again.to_string(), exact, "{json}");
    }
    // 0.1 is not 0.1000000000000000055511151231257827 (the nearest f64).
    let tenth: DecimalAmount = serde_json::from_str("0.1").unwrap();
    assert_eq!(tenth.value(), Decimal::new(1, 1));
    assert_eq!((tenth.value().mantissa(), tenth.value().scale()), (1, 1));

    for json in [
        "79228162514264337593543950336",
        "1e29",
        "0.00000000000000000000000000001",
        "1e-29",
        r#""1,5""#,
        r#""+1""#,
        r#"" 1""#,
        r#""abc""#,
        r#""""#,
        "null",
        "true",
        "[1]",
        r#"{"a":1}"#,
        "01",
        "1.",
        "NaN",
    ] {
        assert!(
            serde_json::from_str::<DecimalAmount>(json).is_err(),
            "{json}"
        );
    }
}

#[test]
fn decimal_amount_in_structs() {
    #[derive(Deserialize, Serialize, Debug, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Fee {
        fee_amount: DecimalAmount,
        maybe: Option<DecimalAmount>,
    }
    let fee: Fee = serde_json::from_str(r#"{"FeeAmount": 1250.50, "Maybe": null}"#).unwrap();
    assert_eq!(
        fee.fee_amount.to_money(Currency::USD).unwrap().minor(),
        125_050
    );
    assert_eq!(fee.maybe, None);
    assert_eq!(
        serde_json::to_string(&fee).unwrap(),
        r#"{"FeeAmount":1250.50,"Maybe":null}"#
    );
    let fee: Fee = serde_json::from_slice(br#"{"FeeAmount": "0.10", "Maybe": 2e0}"#).unwrap();
    assert_eq!(fee.maybe.unwrap().value(), Decimal::TWO);
    assert_eq!(
        fee.fee_amount.to_money(Currency::JPY),
        Err(MoneyError::TooManyDecimals {
            input: "0.10".into(),
            currency: Currency::JPY,
            exponent: 0
        })
    );
    let fee: Fee = serde_json::from_reader(&br#"{"FeeAmount": 3, "Maybe": 4}"#[..]).unwrap();
    assert_eq!(fee.fee_amount.value(), Decimal::from(3));
}

#[test]
fn decimal_amount_through_serde_buffering_is_a_clear_error() {
    #[derive(Deserialize, Debug)]
    #[serde(untagged)]
    #[allow(dead_code)]
    enum Either {
        Amount { value: DecimalAmount },
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        value: DecimalAmount,
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Outer {
        #[serde(flatten)]
        inner: Inner,
    }
    let untagged = serde_json::from_str::<Either>(r#"{"value": 0.1}"#)
        .unwrap_err()
        .to_string();
    let flattened = serde_json::from_str::<Outer>(r#"{"value": 0.1}"#)
        .unwrap_err()
        .to_string();
    assert!(untagged.contains("did not match any variant"), "{untagged}");
    assert!(
        flattened.contains("DecimalAmount must be deserialized directly by serde_json"),
        "{flattened}"
    );

    // The documented hazard: a serde_json::Value has already turned the
    // number into an f64, so short numbers survive and long ones do not.
    let short = serde_json::from_value::<DecimalAmount>(serde_json::json!(0.1)).unwrap();
    assert_eq!(short.value(), dec("0.1"));
    let long_text = "1234567890123456789012345678";
    let value: serde_json::Value = serde_json::from_str(long_text).unwrap();
    let long = serde_json::from_value::<DecimalAmount>(value).unwrap();
    assert_ne!(long.value(), dec(long_text));
}

#[test]
fn decimal_amount_from_str() {
    assert_eq!(
        "12.50".parse::<DecimalAmount>().unwrap().to_string(),
        "12.50"
    );
    assert_eq!(
        "-1.5e1".parse::<DecimalAmount>().unwrap().value(),
        Decimal::from(-15)
    );
    for bad in ["", "+1", "1.", ".1", " 1", "1e", "1e+", "0x1", "1_0", "١"] {
        assert!(
            matches!(
                bad.parse::<DecimalAmount>(),
                Err(MoneyError::InvalidAmount { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        "0.00000000000000000000000000001".parse::<DecimalAmount>(),
        Err(MoneyError::PrecisionExceeded { .. })
    ));
    assert_eq!("1e29".parse::<DecimalAmount>(), Err(MoneyError::Overflow));
}

fn any_currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::USD),
        Just(Currency::JPY),
        Just(kwd()),
        Just(clf()),
        Just(abc()),
        (0..=MAX_EXPONENT).prop_map(|e| Currency::with_exponent("ZZZ", e).unwrap()),
    ]
}

/// Reference rounding of `n / d` (d > 0) in plain i128 arithmetic, written
/// independently of the sign-and-magnitude implementation under test.
fn reference_round(n: i128, d: i128, mode: Rounding) -> i128 {
    let floor = n.div_euclid(d);
    let rem = n.rem_euclid(d);
    if rem == 0 {
        return floor;
    }
    let ceil = floor + 1;
    let toward_zero = if n >= 0 { floor } else { ceil };
    let away = if n >= 0 { ceil } else { floor };
    match mode {
        Rounding::Floor => floor,
        Rounding::Ceiling => ceil,
        Rounding::Down => toward_zero,
        Rounding::Up => away,
        _ => match (2 * rem).cmp(&d) {
            std::cmp::Ordering::Less => floor,
            std::cmp::Ordering::Greater => ceil,
            std::cmp::Ordering::Equal => match mode {
                Rounding::HalfUp => away,
                Rounding::HalfDown => toward_zero,
                _ if floor % 2 == 0 => floor,
                _ => ceil,
            },
        },
    }
}

proptest! {
    #[test]
    fn major_text_round_trips(minor in any::<i64>(), currency in any_currency()) {
        let money = Money::from_minor(minor, currency);
        let major = money.to_decimal().to_string();
        prop_assert_eq!(Money::from_major_str(&major, currency), Ok(money));
        prop_assert_eq!(Money::from_decimal(money.to_decimal(), currency), Ok(money));
        let shown = money.to_string();
        let (text, code) = shown.split_once(' ').unwrap();
        prop_assert_eq!(text, major.as_str());
        prop_assert_eq!(code, currency.code());
        let json = serde_json::to_string(&money).unwrap();
        prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);
    }

    #[test]
    fn from_major_str_never_panics(input in ".*", currency in any_currency()) {
        let _ = Money::from_major_str(&input, currency);
        let _ = input.parse::<DecimalAmount>();
        let _ = serde_json::from_str::<DecimalAmount>(&input);
        let _ = serde_json::from_str::<MinorUnits>(&input);
    }

    #[test]
    fn numeric_text_parses_consistently(
        input in "[-+]?[0-9]{0,22}(\\.[0-9]{0,22})?([eE][-+]?[0-9]{1,3})?",
        currency in any_currency(),
    ) {
        // Whenever both parsers accept a text they agree on its value, and a
        // Money parse is exactly its DecimalAmount parse in minor units.
        if let Ok(money) = Money::from_major_str(&input, currency) {
            let decimal = input.parse::<DecimalAmount>().unwrap();
            prop_assert_eq!(decimal.to_money(currency), Ok(money));
            prop_assert_eq!(money.to_decimal(), decimal.value());
        }
        if let Ok(decimal) = input.parse::<DecimalAmount>() {
            let json = serde_json::to_string(&decimal).unwrap();
            prop_assert_eq!(serde_json::from_str::<DecimalAmount>(&json).unwrap(), decimal);
        }
    }

    #[test]
    fn allocate_is_fair_and_complete(
        minor in any::<i64>(),
        ratios in proptest::collection::vec(0..1_000_u64, 1..12),
    ) {
        let money = Money::from_minor(minor, Currency::USD);
        let total: u64 = ratios.iter().sum();
        match money.allocate(&ratios) {
            Err(error) => prop_assert!(total == 0 && error == MoneyError::InvalidRatios),
            Ok(parts) => {
                prop_assert_eq!(parts.len(), ratios.len());
                let sum: i128 = parts.iter().map(|p| i128::from(p.minor())).sum();
                prop_assert_eq!(sum, i128::from(minor));
                for (part, &ratio) in parts.iter().zip(&ratios) {
                    // |part - minor × ratio / total| < 1, scaled by total.
                    let exact_scaled = i128::from(minor) * i128::from(ratio);
                    let diff = i128::from(part.minor()) * i128::from(total) - exact_scaled;
                    prop_assert!(diff.abs() < i128::from(total));
                    prop_assert!(ratio != 0 || part.is_zero());
                }
            }
        }
    }

    #[test]
    fn checked_add_sub_match_i128(a in any::<i64>(), b in any::<i64>()) {
        let x = Money::from_minor(a, Currency::USD);
        let y = Money::from_minor(b, Currency::USD);
        let sum = i64::try_from(i128::from(a) + i128::from(b)).ok();
        let diff = i64::try_from(i128::from(a) - i128::from(b)).ok();
        prop_assert_eq!(x.checked_add(y).ok().map(|m| m.minor()), sum);
        prop_assert_eq!(x.checked_sub(y).ok().map(|m| m.minor()), diff);
        prop_assert_eq!(x.checked_add(y).is_err(), sum.is_none());
    }

    #[test]
    fn mul_and_div_match_reference(
        minor in -1_000_000_000_000_i64..1_000_000_000_000,
        mantissa in -1_000_000_000_000_i64..1_000_000_000_000,
        scale in 0_u32..=10,
        mode_index in 0..7_usize,
    ) {
        let mode = MODES[mode_index];
        let factor = Decimal::new(mantissa, scale);
        let money = Money::from_minor(minor, Currency::USD);
        let pow = 10_i128.pow(scale);
        let product = reference_round(i128::from(minor) * i128::from(mantissa), pow, mode);
        prop_assert_eq!(
            money.mul_decimal(factor, mode).ok().map(|m| i128::from(m.minor())),
            (i64::try_from(product).is_ok()).then_some(product)
        );
        if mantissa != 0 {
            // minor ÷ (mantissa / 10^scale) = minor × 10^scale / mantissa;
            // flip both signs so the reference divisor is positive.
            let (n, d) = (i128::from(minor) * pow, i128::from(mantissa));
            let (n, d) = if d < 0 { (-n, -d) } else { (n, d) };
            let quotient = reference_round(n, d, mode);
            prop_assert_eq!(
                money.div_decimal(factor, mode).ok().map(|m| i128::from(m.minor())),
                (i64::try_from(quotient).is_ok()).then_some(quotient)
            );
        } else {
            prop_assert_eq!(money.div_decimal(factor, mode), Err(MoneyError::DivisionByZero));
        }
    }
}
