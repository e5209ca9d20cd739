//! Static descriptions of a document's operations, emitted by the code generator.
//!
//! progenitor tells a hook only the operation id of a request. The runtime also
//! needs the method, the path template and the document's extensions, so the
//! generator writes them into a sorted table that is searched by id.

/// The extension that marks an operation whose responses carry credentials.
pub const SENSITIVE_RESPONSE: &str = "x-sensitive-response";

/// One operation of an OpenAPI document, as the generator saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The operation id in progenitor's snake-case form: the generated method's
    /// name, and what `OperationInfo::operation_id` carries.
    pub id: &'static str,
    /// The HTTP method in upper case.
    pub method: &'static str,
    /// The path template as written in the document, e.g. `/v1/accounts/{account_id}`.
    pub path: &'static str,
    /// The operation's `x-` extensions whose values are strings, sorted by name.
    pub extensions: &'static [(&'static str, &'static str)],
}

impl Operation {
    /// The stand-in for an id the table does not know (a hand-built request, or a
    /// table from another document).
    pub const UNKNOWN: Operation = Operation {
        id: "",
        method: "",
        path: "",
        extensions: &[],
    };

    /// Whether the operation's responses carry credentials (a token, a new
    /// key): its document says so with `x-sensitive-response: true`, and then
    /// no error keeps any part of its body.
    pub fn sensitive_response(&self) -> bool {
        self.extension(SENSITIVE_RESPONSE) == Some("true")
    }

    /// The value of the extension `name` (e.g. `x-pii-category`), if the operation has it.
    pub fn extension(&self, name: &str) -> Option<&'static str> {
        self.extensions
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| *value)
    }
}

/// All operations of one document, sorted by id.
#[derive(Debug, Clone, Copy)]
pub struct Operations(&'static [Operation]);

impl Operations {
    /// Wraps a table. The generator emits it sorted by id; an unsorted table
    /// only makes [`Operations::get`] miss, it never panics.
    pub const fn new(table: &'static [Operation]) -> Self {
        Self(table)
    }

    /// Looks an operation up by id; unknown ids get [`Operation::UNKNOWN`].
    pub fn get(&self, id: &str) -> &'static Operation {
        match self.0.binary_search_by(|op| op.id.cmp(id)) {
            Ok(index) => self.0.get(index).unwrap_or(&Operation::UNKNOWN),
            Err(_) => &Operation::UNKNOWN,
        }
    }

    /// Every operation, sorted by id.
    pub fn all(&self) -> &'static [Operation] {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TABLE: &[Operation] = &[
        Operation {
            id: "a_get",
            method: "GET",
            path: "/a",
            extensions: &[("x-pii-category", "Notes")],
        },
        Operation {
            id: "b_post",
            method: "POST",
            path: "/b",
            extensions: &[],
        },
    ];

    #[test]
    fn lookup_finds_known_ids_and_falls_back_for_unknown_ones() {
        let ops = Operations::new(TABLE);
        assert_eq!(ops.get("b_post").path, "/b");
        assert_eq!(ops.get("a_get").extension("x-pii-category"), Some("Notes"));
        assert_eq!(ops.get("zzz"), &Operation::UNKNOWN);
        assert_eq!(ops.get("b_post").extension("x-pii-category"), None);
    }
}
