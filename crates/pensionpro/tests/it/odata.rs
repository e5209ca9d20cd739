//! OData filters: a user's value can never change a filter's structure, and
//! a query reaches the wire as the generated builders send it.

use httpmock::MockServer;
use pensionpro::Call;
use pensionpro::odata::{Query, field};
use pensionpro::pagination::ListRequest;
use pensionpro::types;
use pensionpro_httpmock::MockServerExt;
use proptest::prelude::*;

use crate::support::client;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(String),
    Open,
    Close,
    Comma,
}

/// A small OData tokenizer, written independently of the renderer, so the
/// test reads the filter the way a server would.
fn tokenize(filter: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = filter.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '\'' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            text.push(*other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Text(text));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                tokens.push(Token::Number(chars[start..i].iter().collect()));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || "._".contains(chars[i]))
                {
                    i += 1;
                }
                tokens.push(Token::Word(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character {other:?}")),
        }
    }
    Ok(tokens)
}

fn word(text: &str) -> Token {
    Token::Word(text.to_owned())
}

proptest! {
    #[test]
    fn a_string_value_is_one_literal_whatever_it_holds(value in any::<String>()) {
        let rendered = field("Name").eq(value.as_str()).to_string();
        let tokens = tokenize(&rendered).unwrap();
        prop_assert_eq!(tokens, vec![word("Name"), word("eq"), Token::Text(value.clone())]);
        // Quotes always balance: the literal's quotes plus doubled inner ones.
        prop_assert_eq!(rendered.matches('\'').count(), 2 + 2 * value.matches('\'').count());
    }

    #[test]
    fn no_value_can_inject_an_operator(
        value in "[a-zA-Z' ()=]{0,40}( or | and |' or '1' eq '1)?[a-zA-Z' ]{0,10}",
    ) {
        let filter = field("Name")
            .eq(value.as_str())
            .and(field("SearchText").contains(value.as_str()))
            .and(field("Id").gt(5));
        let tokens = tokenize(&filter.to_string()).unwrap();
        let expected = vec![
            word("Name"), word("eq"), Token::Text(value.clone()),
            word("and"),
            word("contains"), Token::Open, word("SearchText"), Token::Comma,
            Token::Text(value.clone()), Token::Close,
            word("and"),
            word("Id"), word("gt"), Token::Number("5".into()),
        ];
        prop_assert_eq!(tokens, expected);
    }
}

#[test]
fn the_tokenizer_itself_sees_an_injection() {
    // Guards the property test: spliced text would split into more tokens.
    let spliced = "Name eq 'x' or Id gt 0 or Name eq 'y'";
    assert!(tokenize(spliced).unwrap().contains(&word("or")));
    assert!(tokenize("Name eq 'x").is_err());
}

#[tokio::test]
async fn a_query_reaches_the_wire_through_any_list_builder() {
    let server = MockServer::start_async().await;
    let mock = server.list_projects(|when, then| {
        when.filter("ProjectStatus.DisplayName eq 'Completed' and Name eq 'O''Brien 401(k)'")
            .expand("Plan.Status,Plan.PlanType")
            .orderby("CompletedOn desc")
            .select("Id,Name")
            .top(std::num::NonZeroU32::new(50))
            .skip(100);
        then.ok(&serde_json::from_str::<types::ProjectListResponse>(
            r#"{"Values": [{"Id": 1, "Name": "O'Brien 401(k)"}], "TotalCount": 101}"#,
        )
        .unwrap());
    });
    let query = Query::new()
        .filter(field("ProjectStatus.DisplayName").eq("Completed"))
        .filter(field("Name").eq("O'Brien 401(k)"))
        .expand("Plan.Status")
        .expand("Plan.PlanType")
        .order_by_desc("CompletedOn")
        .select(["Id", "Name"])
        .skip(100)
        .top(50)
        .unwrap();
    let client = client(&server.base_url());
    let request = client.list_projects().with_query(&query).unwrap();
    let page = request.send().await.unwrap();
    mock.assert_async().await;
    assert_eq!(
        page.values.as_ref().unwrap()[0].name.as_deref(),
        Some("O'Brien 401(k)")
    );
}

#[test]
fn an_invalid_query_is_refused_before_any_request() {
    let client = client("http://127.0.0.1:9");
    let query = Query::new().order_by("Name desc, Id");
    let error = client.list_plans().with_query(&query).unwrap_err();
    assert!(
        matches!(error, pensionpro::Error::InvalidQuery { .. }),
        "{error:?}"
    );
}
