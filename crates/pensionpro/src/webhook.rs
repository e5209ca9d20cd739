//! A receiver for PensionPro's webhook, which must answer carefully: any
//! error response flips the webhook to State = Error and stops all delivery
//! until a person selects Reactivate in PensionPro. So the receiver answers
//! 401 only when the shared key is wrong, and 200 for everything sent with
//! the right key — new batches, repeated batches and batches it cannot read
//! (those are logged with `tracing` so the problem is seen, not answered).
//!
//! What is known (specs/pensionpro/evidence/FACTS.md section 8): one webhook per firm; changes to
//! Client, Contact, Plan, Project and Task records (add, update, delete) are
//! queued and POSTed in batches every five minutes; a "Shared Key" from the
//! webhook grid travels in a request header so the receiver can check the
//! sender; PensionPro sends a test request when the webhook is created, and
//! the webhook cannot be saved unless it succeeds.
//!
//! What is not known: the header's name and the payload's shape. So:
//!
//! - a blank shared key is refused when the receiver is built (it would
//!   authenticate any request with an empty header);
//! - [`WebhookReceiver::with_header`] names the header; set it once the name
//!   is seen in PensionPro's request log. Until then the key is accepted in
//!   any request header (compared in constant time, through SHA-256
//!   digests, so neither content nor length leaks). That fallback is safe
//!   because the key is secret and never empty: a request without it is
//!   refused whatever its headers say;
//! - the body may be a JSON array of changes, an object holding such an
//!   array under `items`, `Values`, `Changes`, `Events` or `Data` (any case),
//!   or a single change object; an empty body (the test request) is a batch
//!   of no changes;
//! - a change is an object whose entity type is read from `EntityType`,
//!   `Entity`, `EntityName` or `Type`, its id from `EntityId`, `Id` or
//!   `RecordId`, and its action from `Action`, `EventType`, `Event`,
//!   `ChangeType` or `Operation` (any case); values that match none of the
//!   known ones are kept as `Unknown`, and the whole object is kept in
//!   [`Change::raw`];
//! - a batch that cannot be read is answered 200 all the same, and handed
//!   back whole ([`Delivery::Malformed`] keeps its bytes) so nothing is lost.
//!
//! # Deliveries come at least once
//!
//! Every authenticated batch is handed out, repeats included: a change
//! notification says "record X changed", so processing it twice fetches X
//! twice and loses nothing, while a batch wrongly taken for a repeat would
//! lose a change. PensionPro's batches carry no delivery id the receiver
//! could rely on, and two batches can have identical bodies (the same record
//! changed twice), so de-duplication is opt-in: [`WebhookReceiver::with_dedupe`]
//! keeps a two-phase [`DeliveryLog`] keyed by a digest of the body. Then an
//! accepted batch carries a [`Receipt`] to [`WebhookReceiver::commit`] once
//! it has been processed; a batch redelivered before that (the process died
//! mid-batch) is handed out again, never lost.
//!
//! ```
//! use pensionpro::webhook::{Delivery, WebhookReceiver};
//! use reqwest::header::{HeaderMap, HeaderValue};
//!
//! let receiver = WebhookReceiver::new("shared-key-from-the-grid".into())?.with_header("x-shared-key")?;
//! let mut headers = HeaderMap::new();
//! headers.insert("x-shared-key", HeaderValue::from_static("shared-key-from-the-grid"));
//! let body = br#"[{"EntityType":"Plan","EntityId":309388,"Action":"Updated"}]"#;
//! let delivery = receiver.receive(&headers, body);
//! assert_eq!(delivery.status(), 200);
//! if let Delivery::Accepted(batch) = delivery {
//!     assert_eq!(batch.changes[0].id, Some(309388));
//!     // ... process the changes, then:
//!     receiver.commit(batch);
//! }
//! # Ok::<(), pensionpro::Error>(())
//! ```

use std::fmt;

pub use client_core::webhook::{Begin, DeliveryLog, Receipt};
use client_core::{ExposeSecret, SecretString};
use reqwest::header::{HeaderMap, HeaderName};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// The kind of record a change is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EntityType {
    /// A client (employer).
    Client,
    /// A contact.
    Contact,
    /// A plan.
    Plan,
    /// A project.
    Project,
    /// A task.
    Task,
    /// A type this crate does not know, as sent.
    Unknown(String),
}

/// What happened to the record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// The record was added.
    Added,
    /// The record was changed.
    Updated,
    /// The record was deleted.
    Deleted,
    /// An action this crate does not know, as sent.
    Unknown(String),
}

/// One change notification of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The kind of record.
    pub entity: EntityType,
    /// The record's `Id`, if the change carried one.
    pub id: Option<i64>,
    /// What happened.
    pub action: Action,
    /// The change as sent, for the fields this crate does not read.
    pub raw: Value,
}

/// An authenticated batch of changes to process.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub struct Batch {
    /// The changes, in the order sent (none for PensionPro's test request).
    pub changes: Vec<Change>,
    /// With de-duplication on: commit it once the batch is processed.
    pub receipt: Option<Receipt>,
}

/// How the receiver judged one request, and what to answer.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum Delivery {
    /// A batch to process (possibly empty, like PensionPro's test request):
    /// process the changes, answer 200, then [`WebhookReceiver::commit`] it.
    Accepted(Batch),
    /// With de-duplication on: a batch committed before. Answer 200 and do
    /// nothing.
    Duplicate,
    /// Authenticated, but not readable. Answer 200 anyway, or PensionPro stops
    /// delivering until someone reactivates the webhook; the bytes are kept
    /// here so the batch can be stored and looked at, not lost.
    Malformed {
        /// Why the body could not be read.
        reason: String,
        /// The body as received.
        body: Vec<u8>,
    },
    /// The shared key is missing or wrong: answer 401.
    Unauthorized,
}

impl Delivery {
    /// The HTTP status to answer with: 401 for a bad key, 200 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Delivery::Unauthorized => 401,
            Delivery::Accepted(_) | Delivery::Duplicate | Delivery::Malformed { .. } => 200,
        }
    }

    /// The changes to process (none unless the batch was accepted).
    pub fn changes(&self) -> &[Change] {
        match self {
            Delivery::Accepted(batch) => &batch.changes,
            _ => &[],
        }
    }
}

/// Checks, parses and (optionally) de-duplicates webhook requests; share
/// one per process.
pub struct WebhookReceiver {
    header: Option<HeaderName>,
    key_digest: [u8; 32],
    dedupe: Option<DeliveryLog>,
}

impl fmt::Debug for WebhookReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("header", &self.header)
            .field("shared_key", &"[redacted]")
            .field("dedupe", &self.dedupe.is_some())
            .finish()
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl WebhookReceiver {
    /// A receiver for the webhook with this shared key.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the key is blank: it would authenticate any
    /// request carrying an empty header.
    pub fn new(shared_key: SecretString) -> Result<Self> {
        let key = shared_key.expose_secret().trim();
        if key.is_empty() {
            return Err(Error::config(
                "the webhook's shared key is blank; copy it from PensionPro's webhook grid",
            ));
        }
        Ok(Self {
            header: None,
            key_digest: digest(key.as_bytes()),
            dedupe: None,
        })
    }

    /// Accepts the key only in header `name`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `name` cannot be a header name.
    pub fn with_header(mut self, name: &str) -> Result<Self> {
        let name = HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
            .map_err(|_| Error::config(format!("`{name}` is not a valid header name")))?;
        self.header = Some(name);
        Ok(self)
    }

    /// Recognises batches committed before by a digest of their body (see
    /// the module docs for what that means for identical batches).
    #[must_use]
    pub fn with_dedupe(mut self, log: DeliveryLog) -> Self {
        self.dedupe = Some(log);
        self
    }

    /// Whether the request carries the shared key.
    pub fn authenticate(&self, headers: &HeaderMap) -> bool {
        let candidates: Box<dyn Iterator<Item = _>> = match &self.header {
            Some(name) => Box::new(headers.get_all(name).iter()),
            None => Box::new(headers.values()),
        };
        // Every candidate is compared, so the time taken does not say which
        // header (if any) matched. The key is never blank, so an empty value
        // never matches.
        let mut matched = subtle::Choice::from(0u8);
        for value in candidates {
            let candidate = digest(value.as_bytes().trim_ascii());
            matched |= candidate.ct_eq(&self.key_digest);
        }
        matched.into()
    }

    /// Judges one request: its headers and its raw body.
    pub fn receive(&self, headers: &HeaderMap, body: &[u8]) -> Delivery {
        if !self.authenticate(headers) {
            tracing::warn!("webhook request without the shared key; answering 401");
            return Delivery::Unauthorized;
        }
        let trimmed = body.trim_ascii();
        let changes = if trimmed.is_empty() {
            Vec::new()
        } else {
            match parse_batch(trimmed) {
                Ok(changes) => changes,
                Err(reason) => {
                    tracing::error!(%reason, bytes = body.len(), "unreadable webhook batch; answering 200 so delivery goes on");
                    return Delivery::Malformed {
                        reason,
                        body: body.to_vec(),
                    };
                }
            }
        };
        let receipt = match &self.dedupe {
            None => None,
            Some(log) => {
                let key: String = digest(trimmed).iter().map(|b| format!("{b:02x}")).collect();
                match log.begin(key) {
                    Begin::New(receipt) => Some(receipt),
                    Begin::Done => {
                        tracing::info!("webhook batch processed before; acknowledged");
                        return Delivery::Duplicate;
                    }
                }
            }
        };
        Delivery::Accepted(Batch { changes, receipt })
    }

    /// Records `batch` as processed (with de-duplication on; otherwise it
    /// does nothing).
    pub fn commit(&self, batch: Batch) {
        if let (Some(log), Some(receipt)) = (&self.dedupe, batch.receipt) {
            log.commit(receipt);
        }
    }
}

/// Keys (lower case, without `_`) that may hold the array of changes.
const BATCH_KEYS: &[&str] = &[
    "items",
    "values",
    "changes",
    "events",
    "data",
    "notifications",
];
const ENTITY_KEYS: &[&str] = &[
    "entitytype",
    "entity",
    "entityname",
    "type",
    "entitytypename",
];
const ID_KEYS: &[&str] = &["entityid", "id", "recordid", "objectid"];
const ACTION_KEYS: &[&str] = &["action", "eventtype", "event", "changetype", "operation"];

/// Parses a batch; the error says why the body is not one.
pub fn parse_batch(body: &[u8]) -> std::result::Result<Vec<Change>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|error| format!("not JSON: {error}"))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(object) => match lookup(&object, BATCH_KEYS) {
            Some(Value::Array(items)) => items.clone(),
            _ if lookup(&object, ENTITY_KEYS).is_some() => vec![Value::Object(object)],
            _ => return Err("an object with neither a list of changes nor an entity type".into()),
        },
        other => return Err(format!("a JSON {} instead of a batch", kind(&other))),
    };
    let mut changes = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Object(object) => changes.push(change(object)),
            other => tracing::warn!(
                kind = kind(&other),
                "webhook change that is not an object; skipped"
            ),
        }
    }
    Ok(changes)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Normalises a key or value for comparison: lower case, letters and digits only.
fn normal(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn lookup<'a>(object: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|wanted| {
        object
            .iter()
            .find(|(key, _)| normal(key) == *wanted)
            .map(|(_, value)| value)
    })
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn change(object: Map<String, Value>) -> Change {
    let entity = match lookup(&object, ENTITY_KEYS).and_then(text) {
        Some(name) => match normal(&name).trim_end_matches('s') {
            "client" => EntityType::Client,
            "contact" => EntityType::Contact,
            "plan" => EntityType::Plan,
            "project" => EntityType::Project,
            "task" => EntityType::Task,
            _ => EntityType::Unknown(name),
        },
        None => EntityType::Unknown(String::new()),
    };
    let action = match lookup(&object, ACTION_KEYS).and_then(text) {
        Some(name) => match normal(&name).as_str() {
            "add" | "added" | "insert" | "inserted" | "create" | "created" | "new" => Action::Added,
            "update" | "updated" | "modify" | "modified" | "edit" | "edited" | "change"
            | "changed" => Action::Updated,
            "delete" | "deleted" | "remove" | "removed" => Action::Deleted,
            _ => Action::Unknown(name),
        },
        None => Action::Unknown(String::new()),
    };
    let id = lookup(&object, ID_KEYS).and_then(|value| match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    });
    Change {
        entity,
        id,
        action,
        raw: Value::Object(object),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_shapes_parse() {
        let shapes: [&[u8]; 4] = [
            br#"[{"EntityType":"Plan","EntityId":1,"Action":"Add"}]"#,
            br#"{"items":[{"entityType":"plans","id":"1","eventType":"created"}]}"#,
            br#"{"Values":[{"Entity":"PLAN","Id":1,"ChangeType":"Insert"}],"Count":1}"#,
            br#"{"EntityType":"Plan","EntityId":1,"Action":"added"}"#,
        ];
        for body in shapes {
            let changes = parse_batch(body).unwrap();
            assert_eq!(changes.len(), 1, "{}", String::from_utf8_lossy(body));
            assert_eq!(changes[0].entity, EntityType::Plan);
            assert_eq!(changes[0].id, Some(1));
            assert_eq!(changes[0].action, Action::Added);
        }
    }

    #[test]
    fn unknown_values_are_kept() {
        let changes = parse_batch(
            br#"[{"EntityType":"Invoice","EntityId":7,"Action":"Archived","Extra":true},
                {"EntityType":"Task","EntityId":8,"Action":"Deleted"},
                {"EntityType":"Contact","EntityId":9,"Action":"Modified"},
                {"EntityType":"Client","Action":"Update"},
                {"EntityType":"Project","Id":10,"Event":"Remove"}, 5]"#,
        )
        .unwrap();
        assert_eq!(changes.len(), 5);
        assert_eq!(changes[0].entity, EntityType::Unknown("Invoice".into()));
        assert_eq!(changes[0].action, Action::Unknown("Archived".into()));
        assert_eq!(changes[0].raw["Extra"], Value::Bool(true));
        assert_eq!(
            (&changes[1].entity, &changes[1].action),
            (&EntityType::Task, &Action::Deleted)
        );
        assert_eq!(changes[2].action, Action::Updated);
        assert_eq!(
            (changes[3].id, &changes[3].entity),
            (None, &EntityType::Client)
        );
        assert_eq!(
            (changes[4].id, &changes[4].action),
            (Some(10), &Action::Deleted)
        );
    }

    #[test]
    fn non_batches_are_reasons() {
        for body in [
            &b"not json"[..],
            b"42",
            br#"{"hello":"world"}"#,
            b"\"text\"",
        ] {
            assert!(
                parse_batch(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let receiver = WebhookReceiver::new("very-secret-key".into()).unwrap();
        assert!(!format!("{receiver:?}").contains("very-secret-key"));
    }
}
