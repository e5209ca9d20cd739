//! Money on the spec's own example payloads: every amount typed as exact
//! `Money` in the right currency, including amounts whose currency sits on
//! the parent object.

use httpmock::MockServer;
use pinwheel::Call;
use pinwheel::money::{
    AmountMoney, AnnualIncomeMoney, Currency, EarningsMoney, HasCurrency, IncomeMoney, Money,
    PaystubItemsMoney, PaystubMoney, W2Money,
};
use pinwheel::{Error, types};
use pinwheel_httpmock::MockServerExt;
use serde_json::Value;

use crate::support::{client, fixture};

fn usd(minor: i64) -> Option<Money> {
    Some(Money::from_minor(minor, Currency::USD))
}

fn minors<T>(lines: &[pinwheel::money::MoneyLine<'_, T>]) -> Vec<Option<i64>> {
    lines.iter().map(|l| l.amount.map(|m| m.minor())).collect()
}

#[tokio::test]
async fn paystubs_from_the_wire_have_exact_totals_and_lines_in_the_paystub_currency() {
    let server = MockServer::start_async().await;
    let account_id: uuid::Uuid = "5c1952df-3a84-4f28-8318-58291452061f".parse().unwrap();
    server.list_paystubs(|when, then| {
        when.account_id(&account_id);
        then.into_inner()
            .status(200)
            .header("content-type", "application/json")
            .body(fixture("paystubs.json"));
    });
    let client = client(&server);
    let page = client
        .list_paystubs()
        .account_id(account_id)
        .send()
        .await
        .unwrap();
    let paystub = &page.data[0];

    assert_eq!(paystub.currency().unwrap(), Some(Currency::USD));
    assert_eq!(paystub.gross_pay().unwrap(), usd(480720));
    assert_eq!(paystub.net_pay().unwrap(), usd(321609));
    assert_eq!(paystub.check_amount().unwrap(), usd(328609));
    assert_eq!(paystub.gross_pay_ytd().unwrap(), usd(6971151));
    assert_eq!(paystub.net_pay_ytd().unwrap(), usd(4357992));
    assert_eq!(paystub.total_taxes().unwrap(), usd(94407));
    assert_eq!(paystub.total_deductions().unwrap(), usd(64704));
    assert_eq!(paystub.total_reimbursements().unwrap(), usd(7000));
    assert_eq!(
        paystub.gross_pay().unwrap().unwrap().to_string(),
        "4807.20 USD"
    );

    let taxes = paystub.taxes().unwrap();
    assert_eq!(minors(&taxes), [Some(65158), Some(29249)]);
    assert!(
        taxes
            .iter()
            .all(|t| t.amount.unwrap().currency() == Currency::USD)
    );
    assert_eq!(taxes[0].item.name.as_deref(), Some("Federal Income"));
    // The lines add up to the total the paystub states.
    let total = taxes
        .iter()
        .try_fold(Money::zero(Currency::USD), |sum, t| {
            sum.checked_add(t.amount.unwrap())
        })
        .unwrap();
    assert_eq!(Some(total), paystub.total_taxes().unwrap());

    let deductions = paystub.deductions().unwrap();
    assert_eq!(minors(&deductions), [Some(7012), Some(57692)]);

    let earnings = paystub.earnings().unwrap();
    assert_eq!(minors(&earnings), [Some(380720), Some(100000)]);
    assert_eq!(earnings[0].rate, usd(4759));
    // The bonus line has `"rate": null`: absent, not zero.
    assert_eq!(earnings[1].rate, None);
}

#[test]
fn the_same_integers_mean_other_amounts_in_other_currencies() {
    let mut paystub: Value = serde_json::from_str(&fixture("paystubs.json")).unwrap();
    paystub["data"][0]["currency"] = "JPY".into();
    let page: types::ListPaystubsResponse = serde_json::from_str(&paystub.to_string()).unwrap();
    let paystub = &page.data[0];
    let gross = paystub.gross_pay().unwrap().unwrap();
    assert_eq!(gross.currency(), Currency::JPY);
    assert_eq!(gross.to_string(), "480720 JPY");
    assert_eq!(
        paystub.taxes().unwrap()[0].amount.unwrap().currency(),
        Currency::JPY
    );
}

#[test]
fn an_amount_without_a_currency_is_an_error_not_a_guess() {
    let mut paystub: Value = serde_json::from_str(&fixture("paystubs.json")).unwrap();
    paystub["data"][0]["currency"] = Value::Null;
    let page: types::ListPaystubsResponse = serde_json::from_str(&paystub.to_string()).unwrap();
    let paystub = &page.data[0];
    assert!(matches!(
        paystub.gross_pay(),
        Err(Error::MissingCurrency {
            field: "gross_pay_amount"
        })
    ));
    assert!(matches!(
        paystub.taxes(),
        Err(Error::MissingCurrency {
            field: "taxes[].amount"
        })
    ));
}

#[test]
fn company_paystubs_and_incomes() {
    let page: types::ListCompanyPaystubsResponse =
        serde_json::from_str(&fixture("company_paystubs.json")).unwrap();
    let paystub = &page.data[0];
    assert_eq!(paystub.gross_pay().unwrap(), usd(480720));
    assert_eq!(paystub.net_pay_ytd().unwrap(), usd(4357992));
    assert_eq!(paystub.total_reimbursements().unwrap(), usd(7000));

    let page: types::ListCompanyIncomesResponse =
        serde_json::from_str(&fixture("company_incomes.json")).unwrap();
    assert_eq!(page.data[0].compensation().unwrap(), usd(400000));
}

#[test]
fn an_account_income() {
    // The spec's example omits the response's `meta`, so its `data` is read.
    let example: Value = serde_json::from_str(&fixture("income.json")).unwrap();
    let income: types::IncomeObjResponse =
        serde_json::from_str(&example["data"].to_string()).unwrap();
    let compensation = income.compensation().unwrap().unwrap();
    assert_eq!(compensation, Money::from_minor(400000, Currency::USD));
    assert_eq!(compensation.to_string(), "4000.00 USD");
}

#[test]
fn annual_incomes_and_their_paystubs_use_the_income_currency() {
    let report: types::GetVoieReportResponse =
        serde_json::from_str(&fixture("verification_report_voie.json")).unwrap();
    let employments = report.data.employments.as_ref().unwrap();
    let income = employments[0].income.as_ref().unwrap();
    assert_eq!(income.compensation().unwrap(), usd(4000));

    let years = income.annual_incomes().unwrap();
    assert_eq!(years.len(), 1);
    let year = &years[0];
    assert_eq!(year.item.year.as_deref(), Some("2022"));
    assert_eq!(year.gross_pay_ytd, usd(11000));
    assert_eq!(year.net_pay_ytd, usd(9950));
    assert_eq!(year.total_deductions_ytd, usd(64704));
    assert_eq!(year.total_reimbursements_ytd, usd(7000));
    assert_eq!(year.total_taxes_ytd, usd(94407));
    assert_eq!(minors(&year.earnings_ytds), [Some(10000), Some(1000)]);

    let paystubs = income.paystubs.as_ref().unwrap();
    assert_eq!(paystubs.len(), 2);
    assert_eq!(paystubs[1].gross_pay_ytd().unwrap(), usd(6490431));
    assert_eq!(
        minors(&paystubs[0].earnings().unwrap()),
        [Some(380720), Some(100000)]
    );
}

#[test]
fn shift_earnings_use_the_shift_currency() {
    let page: types::ListShiftsResponse = serde_json::from_str(&fixture("shifts.json")).unwrap();
    let earnings = page.data[0].earnings().unwrap();
    assert_eq!(minors(&earnings), [Some(23000), Some(1509)]);
    assert_eq!(earnings[0].rate, usd(2875));
    assert_eq!(earnings[1].rate, usd(4311));
}

#[test]
fn direct_deposit_allocations_and_earnings_stream_net_pay() {
    // The spec's example omits the response's `meta`, so its `data` is read.
    let example: Value = serde_json::from_str(&fixture("direct_deposit_allocations.json")).unwrap();
    let allocations: types::DdAllocationObjResponse =
        serde_json::from_str(&example["data"].to_string()).unwrap();
    let amounts: Vec<_> = allocations
        .allocations
        .iter()
        .flatten()
        .map(|a| a.amount().unwrap())
        .collect();
    // The remainder allocation has no amount.
    assert_eq!(amounts, [usd(50000), usd(5000), None]);

    let net_pay: types::NetPayObjResponse =
        serde_json::from_str(r#"{"amount": 10000, "currency": "USD"}"#).unwrap();
    assert_eq!(net_pay.amount().unwrap(), usd(10000));
}

#[test]
fn w2_boxes_are_usd_cents() {
    let example: Value = serde_json::from_str(&fixture("tax_form.json")).unwrap();
    // The whole example decodes as sent: `year` is the string "2021" where the
    // document says integer, and `box_14` is null where it says list (both
    // accepted through the overlay).
    let _: types::TaxFormObjResponseV20220622 =
        serde_json::from_str(&example["data"].to_string()).unwrap();
    let parsed = example["data"]["parsed_data"].clone();
    assert!(parsed["box_14"].is_null());
    let w2: types::TaxFormW2 = serde_json::from_str(&parsed.to_string()).unwrap();
    assert_eq!(w2.box_1(), usd(2350000));
    assert_eq!(w2.box_1().unwrap().to_string(), "23500.00 USD");
    assert_eq!(w2.box_2(), usd(150000));
    assert_eq!(w2.box_3(), usd(2350000));
    assert_eq!(w2.box_4(), usd(145700));
    assert_eq!(w2.box_5(), usd(2350000));
    assert_eq!(w2.box_6(), usd(34057));
    assert_eq!(w2.box_7(), None);
    assert_eq!(w2.box_8(), None);
    assert_eq!(minors(&w2.box_12()), [Some(2000), Some(5000)]);
    let states = w2.state_boxes();
    assert_eq!(states[0].box_16, usd(2350000));
    assert_eq!(states[0].box_17, usd(80000));
    assert_eq!(states[0].box_18, None);
    assert_eq!(states[0].item.box_15_state.as_deref(), Some("CA"));
}

#[test]
fn employer_amount_limits_are_exact_decimals_of_major_units() {
    // These are JSON numbers believed to be dollars, not integer cents.
    let employer: types::GetEmployerResponse =
        serde_json::from_str(&fixture("employer.json")).unwrap();
    let max = employer.data.max_amount.unwrap();
    assert_eq!(max.to_string(), "9999.0");
    assert_eq!(
        max.to_money(Currency::USD).unwrap(),
        Money::from_minor(999900, Currency::USD)
    );
    let min = employer.data.min_amount.unwrap();
    assert_eq!(min.to_money(Currency::USD).unwrap().minor(), 100);
}

#[test]
fn a_currency_code_pinwheel_adds_later_still_reads_and_garbage_is_an_error() {
    let with_currency = |code: &str| {
        let mut paystub: Value = serde_json::from_str(&fixture("paystubs.json")).unwrap();
        paystub["data"][0]["currency"] = code.into();
        let page: types::ListPaystubsResponse = serde_json::from_str(&paystub.to_string()).unwrap();
        page.data.into_iter().next().unwrap()
    };
    // A well-formed code the generated enum does not list decodes as its
    // unknown variant and reads with the default exponent 2.
    let paystub = with_currency("ZZZ");
    let gross = paystub.gross_pay().unwrap().unwrap();
    assert_eq!(gross.currency().code(), "ZZZ");
    assert_eq!(gross.minor(), 480720);
    // Something that is not a currency code is an error, not a guess.
    let paystub = with_currency("US Dollar");
    assert!(matches!(
        paystub.gross_pay(),
        Err(Error::Money {
            field: "currency",
            ..
        })
    ));
}

#[test]
fn earnings_stream_net_pay_entries() {
    let page: types::ListEarningsStreamPayoutsResponse =
        serde_json::from_str(&fixture("earnings_stream_payouts.json")).unwrap();
    // The payout's `earnings` are untyped in the API document; each entry's
    // `net_pay` has the shape of `NetPayObjResponse` (integers only, so
    // going through `Value` loses nothing).
    let net_pays: Vec<Option<Money>> = page.data[0]
        .earnings
        .iter()
        .flatten()
        .map(|entry| {
            let net_pay: types::NetPayObjResponse =
                serde_json::from_value(entry["net_pay"].clone()).unwrap();
            net_pay.amount().unwrap()
        })
        .collect();
    assert_eq!(
        net_pays,
        [usd(10000), usd(5000), usd(7500), usd(5000), usd(10000)]
    );
}
