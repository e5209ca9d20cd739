//! Pinwheel's amounts as exact [`Money`], because pay data must never pass
//! through a float and an integer of cents means nothing without its
//! currency, which Pinwheel often puts on a parent object.
//!
//! The accessors are extension traits on the generated types; bring them in
//! with `use pinwheel::money::*;`. Each returns `Ok(None)` when the amount is
//! absent (Pinwheel sends `null` for amounts it could not read), an error
//! when an amount is present but its currency is missing or not a currency
//! code, and never rounds.
//!
//! # The rules, field by field
//!
//! Pinwheel sends amounts as integers in the currency's smallest unit (cents
//! for USD: $292.23 is `29223`), with an ISO 4217 code. [`Money`] binds the
//! integer to the currency and its exponent.
//!
//! | object | amounts | currency |
//! |---|---|---|
//! | paystubs: `PaystubObjResponseV20220302`, `PaystubWithEarningsResponseObj`, `CompanyPaystubObjResponse` ([`PaystubMoney`]) | `gross_pay_amount`, `net_pay_amount`, `check_amount`, `total_taxes`, `total_deductions`, `total_reimbursements`, `gross_pay_ytd`, `net_pay_ytd` | the paystub's `currency` |
//! | paystub lines ([`PaystubItemsMoney`], [`EarningsMoney`]) | `taxes[].amount`, `deductions[].amount`, `earnings[].amount`, `earnings[].rate` (per hour or unit) | **the parent paystub's** `currency` (the lines have none) |
//! | incomes: `IncomeObjResponse`, `CompanyIncomeObjResponse`, `IncomeResponseObj` ([`IncomeMoney`]) | `compensation_amount` (per `compensation_unit`) | the income's `currency` |
//! | `IncomeResponseObj.annual_incomes[]` ([`AnnualIncomeMoney`]) | `gross_pay_ytd`, `net_pay_ytd`, `total_deductions_ytd`, `total_reimbursements_ytd`, `total_taxes_ytd`, `earnings_ytds[].amount` | **the parent income's** `currency` |
//! | `ShiftObjResponse` ([`EarningsMoney`]) | `earnings[].amount`, `earnings[].rate` | **the shift's** `currency` |
//! | `AllocationAccountObjResponse` (direct deposit) ([`AmountMoney`]) | `amount` (set when `allocation_type` is `amount`) | its `currency` |
//! | `NetPayObjResponse` (earnings stream) ([`AmountMoney`]) | `amount` | its `currency` |
//! | `TaxFormW2` ([`W2Money`]) | `box_1`..`box_8`, `box_12[].amount`, `box_15_to_20[].box_16`..`box_19` | none sent: **USD**, because a W-2 is a US federal form |
//! | `UploadedW2Informed`, a parsed uploaded W-2 ([`UploadedW2Money`]) | `total_wages`, `state_wages`, `social_security_wages`, `medicare_wages`, `federal_taxes`, `state_taxes`, `social_security_taxes`, `medicare_taxes` (each a number or a string of whole cents) | none sent: **USD**, as for `TaxFormW2` |
//! | `UploadedPaystub` ([`UploadedPaystubMoney`]) | gross and net amounts and year-to-date | none sent: returned as [`MinorUnits`]; Pinwheel serves US payroll, so USD is the likely reading, but the API does not say |
//!
//! Not covered, on purpose:
//!
//! - Decimal fields that look like dollars rather than cents: the link-token
//!   request's `allocation.value` / `min_amount` and the employer, platform
//!   and search results' `min_amount` / `max_amount`. The API states no
//!   currency for them. They are JSON numbers, generated as exact
//!   [`DecimalAmount`]s (never floats); if you accept the dollars reading,
//!   `amount.to_money(Currency::USD)` converts exactly or fails, never rounds.
//! - `TaxFormW2.box_10` and `box_11`, which the API types as strings of an
//!   unstated format, and `DirectDepositAllocationDetail.value`, which is a
//!   percentage or an amount in an unstated unit.
//! - Percentages (`percentage`, `min_percentage`, `max_percentage`).
//!
//! ```
//! use pinwheel::money::{Currency, PaystubItemsMoney, PaystubMoney};
//! use pinwheel::types::PaystubObjResponseV20220302;
//!
//! let paystub: PaystubObjResponseV20220302 = serde_json::from_str(r#"{
//!     "id": null, "account_id": null, "pay_date": "2020-12-31", "currency": "USD",
//!     "gross_pay_amount": 480720, "net_pay_amount": 321609, "check_amount": 328609,
//!     "total_taxes": 94407, "total_deductions": 64704, "total_reimbursements": 7000,
//!     "created_at": null, "earnings": [], "deductions": [], "time_off": [],
//!     "taxes": [{"name": "Federal Income", "category": "federal_income", "amount": 65158}]
//! }"#)?;
//! let gross = paystub.gross_pay()?.expect("present");
//! assert_eq!(gross.to_string(), "4807.20 USD");
//! let federal = &paystub.taxes()?[0];
//! assert_eq!(federal.amount.map(|m| m.minor()), Some(65158));
//! assert_eq!(federal.amount.map(|m| m.currency()), Some(Currency::USD));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use client_core::money::{Currency, DecimalAmount, MinorUnits, Money, MoneyError, Rounding};

use crate::error::{Error, Result};
use crate::types;

/// An amount of a line item (tax, deduction, earning) with its object.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct MoneyLine<'a, T> {
    /// The line as sent (name, category, hours, ...).
    pub item: &'a T,
    /// The line's amount; `None` when Pinwheel sent none.
    pub amount: Option<Money>,
    /// The line's rate (earnings only); `None` when absent or not applicable.
    pub rate: Option<Money>,
}

/// Reads a currency code; `field` names it in the error.
fn parse_currency(code: Option<String>, field: &'static str) -> Result<Option<Currency>> {
    code.map(|code| Currency::from_code(&code).map_err(|source| Error::Money { field, source }))
        .transpose()
}

/// Binds an amount to the currency of its object.
fn bind(
    amount: Option<i64>,
    currency: Option<Currency>,
    field: &'static str,
) -> Result<Option<Money>> {
    match (amount, currency) {
        (None, _) => Ok(None),
        (Some(minor), Some(currency)) => Ok(Some(Money::from_minor(minor, currency))),
        (Some(_), None) => Err(Error::MissingCurrency { field }),
    }
}

/// An object that carries an ISO 4217 `currency` for its amounts (and its
/// children's).
pub trait HasCurrency {
    /// The object's currency; `None` when Pinwheel sent none.
    fn currency(&self) -> Result<Option<Currency>>;
}

macro_rules! has_currency {
    ($($ty:ident),* $(,)?) => {$(
        impl HasCurrency for types::$ty {
            fn currency(&self) -> Result<Option<Currency>> {
                // The generated currency enums print their ISO code, also for
                // codes added after generation.
                parse_currency(self.currency.as_ref().map(ToString::to_string), "currency")
            }
        }
    )*};
}

has_currency!(
    PaystubObjResponseV20220302,
    PaystubWithEarningsResponseObj,
    CompanyPaystubObjResponse,
    IncomeObjResponse,
    CompanyIncomeObjResponse,
    IncomeResponseObj,
    ShiftObjResponse,
    AllocationAccountObjResponse,
    NetPayObjResponse,
);

/// The totals of a paystub, in the paystub's currency.
pub trait PaystubMoney: HasCurrency {
    /// Earnings before taxes and deductions (`gross_pay_amount`).
    fn gross_pay(&self) -> Result<Option<Money>>;
    /// Earnings after taxes and deductions (`net_pay_amount`).
    fn net_pay(&self) -> Result<Option<Money>>;
    /// The amount paid out (`check_amount`).
    fn check_amount(&self) -> Result<Option<Money>>;
    /// Taxes of the period (`total_taxes`).
    fn total_taxes(&self) -> Result<Option<Money>>;
    /// Deductions of the period (`total_deductions`).
    fn total_deductions(&self) -> Result<Option<Money>>;
    /// Reimbursements of the period (`total_reimbursements`).
    fn total_reimbursements(&self) -> Result<Option<Money>>;
    /// Gross pay year to date (`gross_pay_ytd`).
    fn gross_pay_ytd(&self) -> Result<Option<Money>>;
    /// Net pay year to date (`net_pay_ytd`).
    fn net_pay_ytd(&self) -> Result<Option<Money>>;
}

macro_rules! paystub_money {
    ($($ty:ident),* $(,)?) => {$(
        impl PaystubMoney for types::$ty {
            fn gross_pay(&self) -> Result<Option<Money>> {
                bind(self.gross_pay_amount, self.currency()?, "gross_pay_amount")
            }
            fn net_pay(&self) -> Result<Option<Money>> {
                bind(self.net_pay_amount, self.currency()?, "net_pay_amount")
            }
            fn check_amount(&self) -> Result<Option<Money>> {
                bind(self.check_amount, self.currency()?, "check_amount")
            }
            fn total_taxes(&self) -> Result<Option<Money>> {
                bind(self.total_taxes, self.currency()?, "total_taxes")
            }
            fn total_deductions(&self) -> Result<Option<Money>> {
                bind(self.total_deductions, self.currency()?, "total_deductions")
            }
            fn total_reimbursements(&self) -> Result<Option<Money>> {
                bind(self.total_reimbursements, self.currency()?, "total_reimbursements")
            }
            fn gross_pay_ytd(&self) -> Result<Option<Money>> {
                bind(self.gross_pay_ytd, self.currency()?, "gross_pay_ytd")
            }
            fn net_pay_ytd(&self) -> Result<Option<Money>> {
                bind(self.net_pay_ytd, self.currency()?, "net_pay_ytd")
            }
        }
    )*};
}

paystub_money!(
    PaystubObjResponseV20220302,
    PaystubWithEarningsResponseObj,
    CompanyPaystubObjResponse,
);

/// The tax and deduction lines of a paystub, in the paystub's currency.
pub trait PaystubItemsMoney: HasCurrency {
    /// Each tax line with its amount.
    fn taxes(&self) -> Result<Vec<MoneyLine<'_, types::TaxObjPublicResponseItem>>>;
    /// Each deduction line with its amount.
    fn deductions(&self) -> Result<Vec<MoneyLine<'_, types::DeductionObjPublicResponseItem>>>;
}

impl PaystubItemsMoney for types::PaystubObjResponseV20220302 {
    fn taxes(&self) -> Result<Vec<MoneyLine<'_, types::TaxObjPublicResponseItem>>> {
        let currency = self.currency()?;
        self.taxes
            .iter()
            .flatten()
            .map(|item| {
                Ok(MoneyLine {
                    item,
                    amount: bind(item.amount, currency, "taxes[].amount")?,
                    rate: None,
                })
            })
            .collect()
    }

    fn deductions(&self) -> Result<Vec<MoneyLine<'_, types::DeductionObjPublicResponseItem>>> {
        let currency = self.currency()?;
        self.deductions
            .iter()
            .flatten()
            .map(|item| {
                Ok(MoneyLine {
                    item,
                    amount: bind(item.amount, currency, "deductions[].amount")?,
                    rate: None,
                })
            })
            .collect()
    }
}

/// Earnings lines (amount and rate) in the currency of their parent
/// paystub or shift.
pub trait EarningsMoney: HasCurrency {
    /// The generated type of one earnings line.
    type Earning;

    /// Each earnings line with its amount and rate.
    fn earnings(&self) -> Result<Vec<MoneyLine<'_, Self::Earning>>>;
}

macro_rules! earnings_money {
    ($($ty:ident => $line:ident),* $(,)?) => {$(
        impl EarningsMoney for types::$ty {
            type Earning = types::$line;

            fn earnings(&self) -> Result<Vec<MoneyLine<'_, types::$line>>> {
                let currency = self.currency()?;
                self.earnings
                    .iter().flatten()
                    .map(|item| {
                        Ok(MoneyLine {
                            item,
                            amount: bind(item.amount, currency, "earnings[].amount")?,
                            rate: bind(item.rate, currency, "earnings[].rate")?,
                        })
                    })
                    .collect()
            }
        }
    )*};
}

earnings_money!(
    PaystubObjResponseV20220302 => EarningObjPublicResponseItem,
    PaystubWithEarningsResponseObj => EarningObjPublicResponseItem,
    ShiftObjResponse => ShiftEarningObjPublicResponseItem,
);

/// The compensation of an income, in the income's currency.
pub trait IncomeMoney: HasCurrency {
    /// Pay per `compensation_unit` (`compensation_amount`).
    fn compensation(&self) -> Result<Option<Money>>;
}

macro_rules! income_money {
    ($($ty:ident),* $(,)?) => {$(
        impl IncomeMoney for types::$ty {
            fn compensation(&self) -> Result<Option<Money>> {
                bind(self.compensation_amount, self.currency()?, "compensation_amount")
            }
        }
    )*};
}

income_money!(
    IncomeObjResponse,
    CompanyIncomeObjResponse,
    IncomeResponseObj
);

/// One year of an income's totals, in the parent income's currency.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AnnualIncome<'a> {
    /// The year as sent.
    pub item: &'a types::AnnualIncomeResponseObj,
    /// `gross_pay_ytd`.
    pub gross_pay_ytd: Option<Money>,
    /// `net_pay_ytd`.
    pub net_pay_ytd: Option<Money>,
    /// `total_deductions_ytd`.
    pub total_deductions_ytd: Option<Money>,
    /// `total_reimbursements_ytd`.
    pub total_reimbursements_ytd: Option<Money>,
    /// `total_taxes_ytd`.
    pub total_taxes_ytd: Option<Money>,
    /// `earnings_ytds[]` by category.
    pub earnings_ytds: Vec<MoneyLine<'a, types::EarningsYtds>>,
}

/// The yearly totals of an income.
pub trait AnnualIncomeMoney: HasCurrency {
    /// Each year's totals.
    fn annual_incomes(&self) -> Result<Vec<AnnualIncome<'_>>>;
}

impl AnnualIncomeMoney for types::IncomeResponseObj {
    fn annual_incomes(&self) -> Result<Vec<AnnualIncome<'_>>> {
        let currency = self.currency()?;
        self.annual_incomes
            .iter()
            .flatten()
            .map(|item| {
                let earnings_ytds = item
                    .earnings_ytds
                    .iter()
                    .flatten()
                    .map(|line| {
                        Ok(MoneyLine {
                            item: line,
                            amount: bind(line.amount, currency, "earnings_ytds[].amount")?,
                            rate: None,
                        })
                    })
                    .collect::<Result<_>>()?;
                Ok(AnnualIncome {
                    item,
                    gross_pay_ytd: bind(item.gross_pay_ytd, currency, "gross_pay_ytd")?,
                    net_pay_ytd: bind(item.net_pay_ytd, currency, "net_pay_ytd")?,
                    total_deductions_ytd: bind(
                        item.total_deductions_ytd,
                        currency,
                        "total_deductions_ytd",
                    )?,
                    total_reimbursements_ytd: bind(
                        item.total_reimbursements_ytd,
                        currency,
                        "total_reimbursements_ytd",
                    )?,
                    total_taxes_ytd: bind(item.total_taxes_ytd, currency, "total_taxes_ytd")?,
                    earnings_ytds,
                })
            })
            .collect()
    }
}

/// An object with one `amount` next to its `currency`.
pub trait AmountMoney: HasCurrency {
    /// The amount.
    fn amount(&self) -> Result<Option<Money>>;
}

macro_rules! amount_money {
    ($($ty:ident),* $(,)?) => {$(
        impl AmountMoney for types::$ty {
            fn amount(&self) -> Result<Option<Money>> {
                bind(self.amount, self.currency()?, "amount")
            }
        }
    )*};
}

amount_money!(AllocationAccountObjResponse, NetPayObjResponse);

fn usd(amount: Option<i64>) -> Option<Money> {
    amount.map(|minor| Money::from_minor(minor, Currency::USD))
}

/// The state boxes of a W-2, in USD.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct W2StateMoney<'a> {
    /// The boxes as sent (`box_15_state`, ...).
    pub item: &'a types::W2Box15To20,
    /// State wages.
    pub box_16: Option<Money>,
    /// State income tax.
    pub box_17: Option<Money>,
    /// Local wages.
    pub box_18: Option<Money>,
    /// Local income tax.
    pub box_19: Option<Money>,
}

/// The money boxes of a W-2, in USD cents (a W-2 is a US federal form; the
/// API sends no currency).
pub trait W2Money {
    /// Box 1: wages, tips, other compensation.
    fn box_1(&self) -> Option<Money>;
    /// Box 2: federal income tax withheld.
    fn box_2(&self) -> Option<Money>;
    /// Box 3: social security wages.
    fn box_3(&self) -> Option<Money>;
    /// Box 4: social security tax withheld.
    fn box_4(&self) -> Option<Money>;
    /// Box 5: Medicare wages and tips.
    fn box_5(&self) -> Option<Money>;
    /// Box 6: Medicare tax withheld.
    fn box_6(&self) -> Option<Money>;
    /// Box 7: social security tips.
    fn box_7(&self) -> Option<Money>;
    /// Box 8: allocated tips.
    fn box_8(&self) -> Option<Money>;
    /// Box 12 entries with their amounts.
    fn box_12(&self) -> Vec<MoneyLine<'_, types::W2Box12>>;
    /// Boxes 15 to 20, one entry per state.
    fn state_boxes(&self) -> Vec<W2StateMoney<'_>>;
}

impl W2Money for types::TaxFormW2 {
    fn box_1(&self) -> Option<Money> {
        usd(self.box_1)
    }
    fn box_2(&self) -> Option<Money> {
        usd(self.box_2)
    }
    fn box_3(&self) -> Option<Money> {
        usd(self.box_3)
    }
    fn box_4(&self) -> Option<Money> {
        usd(self.box_4)
    }
    fn box_5(&self) -> Option<Money> {
        usd(self.box_5)
    }
    fn box_6(&self) -> Option<Money> {
        usd(self.box_6)
    }
    fn box_7(&self) -> Option<Money> {
        usd(self.box_7)
    }
    fn box_8(&self) -> Option<Money> {
        usd(self.box_8)
    }
    fn box_12(&self) -> Vec<MoneyLine<'_, types::W2Box12>> {
        self.box_12
            .iter()
            .flatten()
            .map(|item| MoneyLine {
                item,
                amount: usd(item.amount),
                rate: None,
            })
            .collect()
    }
    fn state_boxes(&self) -> Vec<W2StateMoney<'_>> {
        self.box_15_to_20
            .iter()
            .flatten()
            .map(|item| W2StateMoney {
                item,
                box_16: usd(item.box_16),
                box_17: usd(item.box_17),
                box_18: usd(item.box_18),
                box_19: usd(item.box_19),
            })
            .collect()
    }
}

/// The totals of a paystub a user uploaded, as minor units: the API sends no
/// currency for them. The lines (`earnings`, `taxes`, `deductions`) have
/// `amount` and `amount_ytd` in the same unit; read them with
/// [`MinorUnits::from`].
pub trait UploadedPaystubMoney {
    /// `gross_pay_amount`.
    fn gross_pay(&self) -> Option<MinorUnits>;
    /// `net_pay_amount`.
    fn net_pay(&self) -> Option<MinorUnits>;
    /// `gross_pay_ytd`.
    fn gross_pay_ytd(&self) -> Option<MinorUnits>;
    /// `net_pay_ytd`.
    fn net_pay_ytd(&self) -> Option<MinorUnits>;
}

impl UploadedPaystubMoney for types::UploadedPaystub {
    fn gross_pay(&self) -> Option<MinorUnits> {
        self.gross_pay_amount.map(MinorUnits)
    }
    fn net_pay(&self) -> Option<MinorUnits> {
        self.net_pay_amount.map(MinorUnits)
    }
    fn gross_pay_ytd(&self) -> Option<MinorUnits> {
        self.gross_pay_ytd.map(MinorUnits)
    }
    fn net_pay_ytd(&self) -> Option<MinorUnits> {
        self.net_pay_ytd.map(MinorUnits)
    }
}

/// Whole cents sent as a number or as a string of digits, in USD.
fn usd_cents(
    decimal: Option<&DecimalAmount>,
    text: Option<&str>,
    field: &'static str,
) -> Result<Option<Money>> {
    let amount = match (decimal, text) {
        (Some(amount), _) => *amount,
        (None, Some(text)) => text
            .parse::<DecimalAmount>()
            .map_err(|source| Error::Money { field, source })?,
        (None, None) => return Ok(None),
    };
    let value = amount.value();
    let invalid = |reason| Error::Money {
        field,
        source: MoneyError::InvalidAmount {
            input: value.to_string(),
            reason,
        },
    };
    if !value.fract().is_zero() {
        return Err(invalid("not a whole number of cents"));
    }
    let whole = value.trunc();
    let minor = i64::try_from(whole.mantissa() / 10_i128.pow(whole.scale()))
        .map_err(|_| invalid("more cents than an i64 holds"))?;
    Ok(Some(Money::from_minor(minor, Currency::USD)))
}

/// The amounts of an uploaded W-2 that Pinwheel parsed
/// (`UploadedW2Informed`, the `w2` variant of a document's `parsed_data`),
/// as USD [`Money`]. Each is sent as a number or a string of whole cents
/// (`6500100` is $65,001.00); `Ok(None)` when absent, an error when it is
/// not a whole number of cents.
pub trait UploadedW2Money {
    /// `total_wages`.
    fn total_wages(&self) -> Result<Option<Money>>;
    /// `state_wages`.
    fn state_wages(&self) -> Result<Option<Money>>;
    /// `social_security_wages`.
    fn social_security_wages(&self) -> Result<Option<Money>>;
    /// `medicare_wages`.
    fn medicare_wages(&self) -> Result<Option<Money>>;
    /// `federal_taxes`.
    fn federal_taxes(&self) -> Result<Option<Money>>;
    /// `state_taxes`.
    fn state_taxes(&self) -> Result<Option<Money>>;
    /// `social_security_taxes`.
    fn social_security_taxes(&self) -> Result<Option<Money>>;
    /// `medicare_taxes`.
    fn medicare_taxes(&self) -> Result<Option<Money>>;
}

/// Each amount of an uploaded W-2 is its own generated union of a number
/// and a string; they share the two variants.
macro_rules! uploaded_w2_amounts {
    ($($field:ident: $union:ident),* $(,)?) => {
        impl UploadedW2Money for types::UploadedW2Informed {
            $(
                fn $field(&self) -> Result<Option<Money>> {
                    match &self.$field {
                        Some(types::$union::DecimalAmount(amount)) => {
                            usd_cents(Some(amount), None, stringify!($field))
                        }
                        Some(types::$union::String(text)) => usd_cents(None, Some(text), stringify!($field)),
                        None => Ok(None),
                    }
                }
            )*
        }
    };
}

uploaded_w2_amounts!(
    total_wages: TotalWages,
    state_wages: StateWages,
    social_security_wages: SocialSecurityWages,
    medicare_wages: MedicareWages,
    federal_taxes: FederalTaxes,
    state_taxes: StateTaxes,
    social_security_taxes: SocialSecurityTaxes,
    medicare_taxes: MedicareTaxes,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amount_without_currency_is_an_error_and_no_amount_is_none() {
        assert!(matches!(
            bind(Some(5), None, "check_amount"),
            Err(Error::MissingCurrency {
                field: "check_amount"
            })
        ));
        assert_eq!(bind(None, None, "check_amount").ok(), Some(None));
        assert_eq!(
            bind(Some(-5), Some(Currency::JPY), "x").ok().flatten(),
            Some(Money::from_minor(-5, Currency::JPY))
        );
    }

    #[test]
    fn currency_codes_are_checked() {
        assert_eq!(
            parse_currency(Some("KWD".into()), "currency")
                .ok()
                .flatten()
                .map(|c| c.exponent()),
            Some(3)
        );
        assert!(matches!(
            parse_currency(Some("US Dollar".into()), "currency"),
            Err(Error::Money {
                field: "currency",
                ..
            })
        ));
        assert_eq!(parse_currency(None, "currency").ok(), Some(None));
    }
}
