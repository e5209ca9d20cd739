//! PensionPro's amounts as exact values, because fees and balances must not
//! pass through a float.
//!
//! The generated types decode `FeeAmount`, `AccountBalance`,
//! `BasisPointReimbursement`, `HoursWorked` and `PercentageCompleted` as
//! [`DecimalAmount`]s read from the JSON text. PensionPro is a US service and
//! sends no currency, so money fields become [`Money`] in USD. The others are
//! not money: hours and percentages stay decimals, and so does
//! `BasisPointReimbursement`, whose name says basis points (its unit is not
//! documented).
//!
//! ```
//! let item: pensionpro::types::FeeScheduleItem =
//!     serde_json::from_str(r#"{"FeeAmount": 1250.50}"#).unwrap();
//! let fee = pensionpro::money::fee_amount(&item)?.unwrap();
//! assert_eq!(fee.to_string(), "1250.50 USD");
//! # Ok::<(), pensionpro::Error>(())
//! ```

pub use client_core::money::{Currency, Decimal, DecimalAmount, Money, Rounding};

use pensionpro_client::types;

use crate::error::{Error, Result};

/// An amount in US dollars, exactly.
///
/// # Errors
///
/// [`Error::InvalidAmount`] when the amount has more than two decimal places
/// or is beyond the range of [`Money`]; round it yourself with
/// [`Decimal::round_dp_with_strategy`] if a rounded value is acceptable.
pub fn usd(amount: DecimalAmount) -> Result<Money> {
    amount
        .to_money(Currency::USD)
        .map_err(|error| Error::InvalidAmount {
            message: error.to_string(),
            context: Box::default(),
        })
}

fn optional_usd(amount: Option<DecimalAmount>) -> Result<Option<Money>> {
    amount.map(usd).transpose()
}

/// A fee schedule item's `FeeAmount` in USD.
///
/// # Errors
///
/// See [`usd`].
pub fn fee_amount(item: &types::FeeScheduleItem) -> Result<Option<Money>> {
    optional_usd(item.fee_amount)
}

/// A client's `AccountBalance` in USD (the field comes from an unverified
/// source and may be absent in v2).
///
/// # Errors
///
/// See [`usd`].
pub fn account_balance(client: &types::Client) -> Result<Option<Money>> {
    optional_usd(client.account_balance)
}

/// A time entry's `HoursWorked`.
pub fn hours_worked(entry: &types::TimeEntry) -> Option<Decimal> {
    entry.hours_worked.map(DecimalAmount::value)
}

/// A to-do's `PercentageCompleted`.
pub fn percentage_completed(todo: &types::ToDo) -> Option<Decimal> {
    todo.percentage_completed.map(DecimalAmount::value)
}

/// An investment provider link's `BasisPointReimbursement`, as sent.
pub fn basis_point_reimbursement(link: &types::InvestmentProviderLink) -> Option<Decimal> {
    link.basis_point_reimbursement.map(DecimalAmount::value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_decode_exactly_and_become_usd() {
        let item: types::FeeScheduleItem =
            serde_json::from_str(r#"{"FeeAmount": 0.1, "Id": 3}"#).unwrap();
        assert_eq!(fee_amount(&item).unwrap().unwrap().minor(), 10);
        let item: types::FeeScheduleItem = serde_json::from_str(r#"{"FeeAmount": null}"#).unwrap();
        assert_eq!(fee_amount(&item).unwrap(), None);
        let client: types::Client =
            serde_json::from_str(r#"{"AccountBalance": 12345678901234.99}"#).unwrap();
        assert_eq!(
            account_balance(&client).unwrap().unwrap().minor(),
            1_234_567_890_123_499
        );
    }

    #[test]
    fn sub_cent_amounts_are_an_error_not_a_rounding() {
        let item: types::FeeScheduleItem =
            serde_json::from_str(r#"{"FeeAmount": 12.345}"#).unwrap();
        assert!(matches!(
            fee_amount(&item),
            Err(Error::InvalidAmount { .. })
        ));
    }

    #[test]
    fn non_money_decimals_stay_decimals() {
        let entry: types::TimeEntry = serde_json::from_str(r#"{"HoursWorked": 1.25}"#).unwrap();
        assert_eq!(hours_worked(&entry), Some(Decimal::new(125, 2)));
        let todo: types::ToDo = serde_json::from_str(r#"{"PercentageCompleted": 50}"#).unwrap();
        assert_eq!(percentage_completed(&todo), Some(Decimal::new(50, 0)));
        let link: types::InvestmentProviderLink =
            serde_json::from_str(r#"{"BasisPointReimbursement": 2.5}"#).unwrap();
        assert_eq!(basis_point_reimbursement(&link), Some(Decimal::new(25, 1)));
    }
}
