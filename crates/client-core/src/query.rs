//! What generated requests call to add an optional query parameter.

use serde::Serialize;

/// Adds an optional query parameter to a request being built, and nothing
/// when it is absent.
///
/// progenitor hands every optional parameter to `RequestBuilder::query`,
/// set or not; for an absent one that takes the URL's query apart and puts
/// it back for nothing. The generator calls [`OptionalQuery::query_some`]
/// instead, which adds a present value exactly as progenitor's
/// `QueryParam` does.
pub trait OptionalQuery: Sized {
    /// `self` with `name` set from `value`, or `self` unchanged for `None`.
    #[must_use]
    fn query_some<T: Serialize>(self, name: &str, value: &Option<T>) -> Self;
}

impl OptionalQuery for reqwest::RequestBuilder {
    fn query_some<T: Serialize>(self, name: &str, value: &Option<T>) -> Self {
        match value {
            Some(_) => self.query(&progenitor_client::QueryParam::new(name, value)),
            None => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OptionalQuery as _;

    /// The URL progenitor's own call and `query_some` produce, side by side.
    fn both<T: serde::Serialize>(name: &str, value: &Option<T>) -> (String, String) {
        let client = reqwest::Client::new();
        let base = || client.get("http://example.test/v2/plans?$top=5");
        let progenitor = base()
            .query(&progenitor_client::QueryParam::new(name, value))
            .build()
            .map(|r| r.url().to_string())
            .unwrap_or_else(|e| e.to_string());
        let ours = base()
            .query_some(name, value)
            .build()
            .map(|r| r.url().to_string())
            .unwrap_or_else(|e| e.to_string());
        (progenitor, ours)
    }

    #[test]
    fn adds_what_progenitor_adds_and_nothing_for_none() {
        let cases = [
            both::<String>("$filter", &None),
            both("$filter", &Some("Name eq 'a&b'".to_owned())),
            both("$skip", &Some(0_i32)),
            both("ids", &Some(vec![1_u32, 2, 3])),
            both::<Vec<u32>>("ids", &Some(Vec::new())),
            both("flag", &Some(true)),
        ];
        for (progenitor, ours) in cases {
            assert_eq!(ours, progenitor);
        }
        // And on a URL without a query, an absent value leaves none behind.
        let client = reqwest::Client::new();
        let url = client
            .get("http://example.test/v2/plans")
            .query_some::<String>("$filter", &None)
            .build()
            .map(|r| r.url().to_string());
        assert_eq!(url.ok().as_deref(), Some("http://example.test/v2/plans"));
    }
}
