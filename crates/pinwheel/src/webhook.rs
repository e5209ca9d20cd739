//! Receiving Pinwheel webhooks: signature verification, the event envelope,
//! and de-duplication, because a webhook endpoint is public and deliveries
//! come at least once.
//!
//! # Verifying a delivery
//!
//! Pinwheel signs each delivery with the API secret of the key that
//! registered the webhook. The request carries:
//!
//! - `x-timestamp`: Unix seconds, e.g. `1609205925`;
//! - `x-pinwheel-signature`: `v2=` followed by the lowercase hex
//!   HMAC-SHA256, keyed with the API secret, of the bytes
//!   `v2:{x-timestamp}:{raw body}`.
//!
//! [`Verifier`] recomputes the HMAC over the raw body exactly as received
//! (never over re-serialised JSON), compares in constant time, and then
//! checks that the timestamp lies within a tolerance (default
//! [`DEFAULT_TOLERANCE`], five minutes, in the past or the future), which
//! limits how long a captured delivery can be replayed. Pinwheel documents
//! no replay window, so the tolerance is configurable. The clock is a
//! parameter (`*_at` methods), so tests need no real time.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use pinwheel::webhook::{self, Verifier};
//!
//! let body = br#"{"event": "account.added", "event_id": "5a141122-4235-4fa1-bd76-0628573880b0", "payload": {}}"#;
//! let signature = webhook::sign(&"test-secret".into(), "1609205925", body);
//! assert_eq!(signature, "v2=3c524d0150a2d29fe0599017ac0d22ca9661d428c13ff2993b05bf3f3f23f228");
//!
//! let verifier = Verifier::new("test-secret")?;
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1609205925 + 10);
//! verifier.verify_at(Some(&signature), Some("1609205925"), body, now)?;
//! let envelope = webhook::Envelope::from_slice(body)?;
//! assert_eq!(envelope.event, webhook::Event::AccountAdded);
//! # Ok::<(), pinwheel::Error>(())
//! ```
//!
//! # Delivery is at least once: de-duplicate on `event_id`
//!
//! Pinwheel redelivers when your endpoint does not answer 200 within 15
//! seconds, so the same event can arrive more than once; each event has a
//! unique `event_id`. Record the ids you have processed (in the database
//! transaction that applies the event, ideally) and skip repeats.
//! [`DeliveryLog`] is a small, bounded, in-memory example of that, in two
//! phases: an id is only remembered once [`DeliveryLog::commit`] says the
//! event was processed, so a crash mid-event does not lose it. It forgets
//! across restarts and is per process, so a durable store is the real answer
//! for anything that moves money.
//!
//! # Unknown events
//!
//! Pinwheel adds event names without notice; they decode as
//! [`Event::Unknown`] with the name kept, and the payload is always kept as
//! JSON, so a new event never makes a delivery fail to parse.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use client_core::{ExposeSecret, SecretString};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;

pub use crate::error::WebhookRejection;
use crate::error::{Error, Result};

/// The header carrying the signature, `v2=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-pinwheel-signature";
/// The header carrying the Unix time the delivery was signed at.
pub const TIMESTAMP_HEADER: &str = "x-timestamp";
/// The header naming the registered webhook the delivery belongs to.
pub const WEBHOOK_ID_HEADER: &str = "x-pinwheel-webhook-id";
/// How far a delivery's timestamp may lie from the receiver's clock, either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// The signature scheme's version prefix, in the header and in the signed message.
const SCHEME: &str = "v2";

fn reject(reason: WebhookRejection) -> Error {
    Error::Webhook { reason }
}

/// The HMAC of one delivery under one secret.
fn mac(secret: &SecretString, timestamp: &str, body: &[u8]) -> Option<Hmac<Sha256>> {
    // HMAC accepts keys of any length, so this never fails; the `Option`
    // only avoids a panic path.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).ok()?;
    mac.update(SCHEME.as_bytes());
    mac.update(b":");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    Some(mac)
}

/// The `x-pinwheel-signature` value Pinwheel would send for `body` signed at
/// `timestamp` with `secret`: for your own tests of a webhook endpoint.
pub fn sign(secret: &SecretString, timestamp: &str, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default();
    format!("{SCHEME}={digest}")
}

/// The headers of a delivery of `body` signed at `timestamp` (Unix seconds):
/// signature, timestamp and JSON content type, for your own tests.
pub fn signed_headers(secret: &SecretString, timestamp: u64, body: &[u8]) -> HeaderMap {
    let timestamp = timestamp.to_string();
    let mut headers = HeaderMap::new();
    let values = [
        (SIGNATURE_HEADER, sign(secret, &timestamp, body)),
        (TIMESTAMP_HEADER, timestamp),
        ("content-type", "application/json".to_owned()),
    ];
    for (name, value) in values {
        // Hex digits, decimal digits and a media type are always valid
        // header values; nothing is skipped in practice.
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    headers
}

/// Checks that deliveries come from Pinwheel and are fresh.
///
/// Several secrets can be accepted at once, for the time of a key rotation
/// (Pinwheel does not document which key signs while two are active).
#[derive(Clone)]
pub struct Verifier {
    secrets: Vec<SecretString>,
    tolerance: Duration,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

/// A secret that can sign: anything but blank (a blank secret is public,
/// and would verify deliveries anyone can sign).
fn signing_secret(secret: impl Into<SecretString>) -> Result<SecretString> {
    let secret = secret.into();
    if secret.expose_secret().trim().is_empty() {
        return Err(Error::config(
            "the webhook secret is blank; use the API secret of the key that registered the webhook",
        ));
    }
    Ok(secret)
}

impl Verifier {
    /// A verifier for deliveries signed with `secret`, the API secret of the
    /// key that registered the webhook.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the secret is blank.
    pub fn new(secret: impl Into<SecretString>) -> Result<Self> {
        Ok(Self {
            secrets: vec![signing_secret(secret)?],
            tolerance: DEFAULT_TOLERANCE,
        })
    }

    /// Also accepts deliveries signed with `secret` (during a key rotation).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the secret is blank.
    pub fn also_accept(mut self, secret: impl Into<SecretString>) -> Result<Self> {
        self.secrets.push(signing_secret(secret)?);
        Ok(self)
    }

    /// How far the timestamp may be from now, either way (default five minutes).
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies a delivery against the system clock.
    ///
    /// `signature` and `timestamp` are the values of the
    /// `x-pinwheel-signature` and `x-timestamp` headers (`None` when absent),
    /// `body` the raw request body.
    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
    ) -> Result<()> {
        self.verify_at(signature, timestamp, body, SystemTime::now())
    }

    /// Verifies a delivery as of `now`.
    pub fn verify_at(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<()> {
        let signature = signature.ok_or_else(|| reject(WebhookRejection::MissingSignature))?;
        let timestamp = timestamp.ok_or_else(|| reject(WebhookRejection::MissingTimestamp))?;
        let candidates = parse_signatures(signature);
        if candidates.is_empty() {
            return Err(reject(WebhookRejection::MalformedSignature));
        }
        // Every secret is tried against every candidate, so the time taken
        // does not depend on which one matched.
        let mut matched = false;
        for secret in &self.secrets {
            for candidate in &candidates {
                if let Some(mac) = mac(secret, timestamp, body) {
                    matched |= mac.verify_slice(candidate).is_ok();
                }
            }
        }
        if !matched {
            return Err(reject(WebhookRejection::SignatureMismatch));
        }
        check_freshness(timestamp, now, self.tolerance)
    }

    /// Verifies a delivery from its request headers, against the system clock.
    pub fn verify_headers(&self, headers: &HeaderMap, body: &[u8]) -> Result<()> {
        self.verify_headers_at(headers, body, SystemTime::now())
    }

    /// Verifies a delivery from its request headers, as of `now`.
    pub fn verify_headers_at(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<()> {
        let signature = header(
            headers,
            SIGNATURE_HEADER,
            WebhookRejection::MalformedSignature,
        )?;
        let timestamp = header(
            headers,
            TIMESTAMP_HEADER,
            WebhookRejection::MalformedTimestamp,
        )?;
        self.verify_at(signature, timestamp, body, now)
    }

    /// Verifies a delivery, then decodes its envelope.
    pub fn parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<Envelope> {
        self.parse_at(headers, body, SystemTime::now())
    }

    /// Verifies a delivery as of `now`, then decodes its envelope.
    pub fn parse_at(&self, headers: &HeaderMap, body: &[u8], now: SystemTime) -> Result<Envelope> {
        self.verify_headers_at(headers, body, now)?;
        Envelope::from_slice(body)
    }
}

/// A header's value as text; a value that is not visible ASCII is malformed.
fn header<'h>(
    headers: &'h HeaderMap,
    name: &str,
    malformed: WebhookRejection,
) -> Result<Option<&'h str>> {
    headers
        .get(name)
        .map(|value| value.to_str().map_err(|_| reject(malformed)))
        .transpose()
}

/// The `v2=` digests of a signature header. Entries are separated by commas
/// or whitespace so that a future header with several signatures (e.g.
/// during a rotation) still verifies; entries of other schemes are ignored.
fn parse_signatures(header: &str) -> Vec<Vec<u8>> {
    header
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|entry| entry.strip_prefix("v2="))
        .filter_map(|digest| hex::decode(digest).ok())
        .filter(|digest| digest.len() == 32)
        .collect()
}

fn check_freshness(timestamp: &str, now: SystemTime, tolerance: Duration) -> Result<()> {
    let signed: u64 = timestamp
        .trim()
        .parse()
        .map_err(|_| reject(WebhookRejection::MalformedTimestamp))?;
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let tolerance = tolerance.as_secs();
    if now >= signed {
        let age_secs = now - signed;
        if age_secs > tolerance {
            return Err(reject(WebhookRejection::Expired { age_secs }));
        }
    } else {
        let ahead_secs = signed - now;
        if ahead_secs > tolerance {
            return Err(reject(WebhookRejection::FromTheFuture { ahead_secs }));
        }
    }
    Ok(())
}

macro_rules! events {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// A webhook event name. Names Pinwheel adds later decode as
        /// [`Event::Unknown`], keeping the name.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Event {
            $($(#[$doc])* $variant,)*
            /// An event this version of the crate does not know.
            Unknown(String),
        }

        impl Event {
            /// Every event documented for API version 2025-07-08.
            pub const KNOWN: &'static [Event] = &[$(Event::$variant,)*];

            /// The event name as Pinwheel writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Event::$variant => $name,)*
                    Event::Unknown(name) => name,
                }
            }
        }

        impl From<&str> for Event {
            fn from(name: &str) -> Self {
                match name {
                    $($name => Event::$variant,)*
                    other => Event::Unknown(other.to_owned()),
                }
            }
        }
    };
}

events! {
    /// A payroll account was connected through Link.
    AccountAdded = "account.added",
    /// An account's monitoring status changed.
    AccountMonitoringStatusUpdated = "account.monitoring_status.updated",
    /// Pinwheel recommends connecting further accounts for the user.
    AccountAdditionalConnectionsRecommended = "account.additional_connections_recommended",
    /// A direct deposit switch job finished.
    DirectDepositSwitchAdded = "direct_deposit_switch.added",
    /// Direct deposit allocations were retrieved.
    DirectDepositAllocationsAdded = "direct_deposit_allocations.added",
    /// Income data was retrieved.
    IncomeAdded = "income.added",
    /// Employment data was retrieved.
    EmploymentAdded = "employment.added",
    /// Identity data was retrieved.
    IdentityAdded = "identity.added",
    /// Paystubs were retrieved.
    PaystubsAdded = "paystubs.added",
    /// Paystub documents were retrieved.
    PaystubsDocumentsAdded = "paystubs.documents.added",
    /// Seven days of paystubs are synced.
    PaystubsSevenDaysSynced = "paystubs.seven_days_synced",
    /// Thirty days of paystubs are synced.
    PaystubsThirtyDaysSynced = "paystubs.thirty_days_synced",
    /// Ninety days of paystubs are synced.
    PaystubsNinetyDaysSynced = "paystubs.ninety_days_synced",
    /// All paystubs are synced.
    PaystubsFullySynced = "paystubs.fully_synced",
    /// Shifts were retrieved.
    ShiftsAdded = "shifts.added",
    /// Seven days of shifts are synced.
    ShiftsSevenDaysSynced = "shifts.seven_days_synced",
    /// Thirty days of shifts are synced.
    ShiftsThirtyDaysSynced = "shifts.thirty_days_synced",
    /// Ninety days of shifts are synced.
    ShiftsNinetyDaysSynced = "shifts.ninety_days_synced",
    /// All shifts are synced.
    ShiftsFullySynced = "shifts.fully_synced",
    /// Tax forms were retrieved.
    TaxFormsAdded = "tax_forms.added",
    /// Documents were added.
    DocumentsAdded = "documents.added",
    /// Verification reports were refreshed.
    VerificationReportsRefreshed = "verification_reports.refreshed",
    /// Earnings stream payouts were refreshed.
    EarningsStreamPayoutsRefreshed = "earnings_stream.payouts.refreshed",
    /// A company connection's status changed.
    CompanyConnectStatusUpdated = "company_connect.status.updated",
    /// Company census data was added.
    CompanyConnectCensusAdded = "company_connect.census.added",
    /// Company employment data was added.
    CompanyConnectEmploymentsAdded = "company_connect.employments.added",
    /// Company income data was added.
    CompanyConnectIncomesAdded = "company_connect.incomes.added",
    /// Paycheck viewer data was added.
    PaycheckViewerAdded = "paycheck_viewer.added",
    /// A bill was added.
    BillAdded = "bill.added",
    /// A bill was updated.
    BillUpdated = "bill.updated",
    /// A bill was removed.
    BillRemoved = "bill.removed",
    /// A bill reminder is due.
    BillReminder = "bill.reminder",
    /// A bill switch was added.
    BillSwitchAdded = "bill_switch.added",
    /// A bill switch was cancelled.
    BillSwitchCancelled = "bill_switch.cancelled",
}

impl Event {
    /// Whether the event reports the outcome of a job, the kind named after
    /// a job type (`income.added`, `paystubs.added`, ...). Their payloads
    /// have the job shape of [`JobEvent`].
    pub fn is_job_event(&self) -> bool {
        matches!(
            self,
            Event::DirectDepositSwitchAdded
                | Event::DirectDepositAllocationsAdded
                | Event::IncomeAdded
                | Event::EmploymentAdded
                | Event::IdentityAdded
                | Event::PaystubsAdded
                | Event::ShiftsAdded
                | Event::TaxFormsAdded
        )
    }
}

impl FromStr for Event {
    type Err = std::convert::Infallible;

    fn from_str(name: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Event::from(name))
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(Event::from(name.as_str()))
    }
}

/// The body of every delivery: `{"event", "event_id", "payload"}`.
///
/// Fields Pinwheel adds later are ignored; the payload is kept as JSON
/// because its shape depends on the event and on the webhook's version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Envelope {
    /// The event name.
    pub event: Event,
    /// Unique per event: the key to de-duplicate redeliveries on.
    pub event_id: String,
    /// The event's data.
    #[serde(default)]
    pub payload: serde_json::Value,
}

impl Envelope {
    /// Decodes a (verified) delivery body.
    pub fn from_slice(body: &[u8]) -> Result<Envelope> {
        serde_json::from_slice(body).map_err(|source| Error::WebhookPayload { source })
    }

    /// The payload decoded as `T`.
    ///
    /// The payload is held as a `serde_json::Value`, which stores decimal
    /// numbers as floats; to decode a payload with decimal amounts exactly,
    /// decode the raw body into your own envelope type instead.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.payload).map_err(|source| Error::WebhookPayload { source })
    }

    /// The payload of an `account.added` event; `None` for other events.
    pub fn account_added(&self) -> Result<Option<AccountAdded>> {
        match self.event {
            Event::AccountAdded => self.payload_as().map(Some),
            _ => Ok(None),
        }
    }

    /// The payload of a job event ([`Event::is_job_event`]); `None` for other events.
    pub fn job(&self) -> Result<Option<JobEvent>> {
        if self.event.is_job_event() {
            self.payload_as().map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Accepts ISO 8601 date-times with `T` or a space between date and time,
/// because Pinwheel's own examples use both.
fn lenient_datetime<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(&text)
        .or_else(|_| DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1)))
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(serde::de::Error::custom)
}

/// The payload of `account.added`. Every field is optional because the
/// payload's shape depends on the webhook's version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccountAdded {
    /// The new payroll account.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Your id of the end user.
    #[serde(default)]
    pub end_user_id: Option<String>,
    /// The link token the user connected with.
    #[serde(default)]
    pub link_token_id: Option<String>,
    /// The payroll platform.
    #[serde(default)]
    pub platform_id: Option<String>,
    /// The payroll platform's name.
    #[serde(default)]
    pub platform_name: Option<String>,
    /// The platform's type (`payroll`, `time_and_attendance`, `tax`, ...).
    #[serde(default)]
    pub platform_type: Option<String>,
    /// When the account was created.
    #[serde(default, deserialize_with = "lenient_datetime")]
    pub created_at: Option<DateTime<Utc>>,
    /// Whether the account is connected.
    #[serde(default)]
    pub connected: Option<bool>,
    /// The account's monitoring status (`active`, `degraded`, ...).
    #[serde(default)]
    pub monitoring_status: Option<String>,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobOutcome {
    /// The job succeeded; the data is ready to fetch.
    Success,
    /// The job failed; see `error_type` and `error_code`.
    Error,
    /// The job is still running; a success or error event follows within 24 hours.
    Pending,
    /// An outcome this version of the crate does not know.
    Unknown(String),
}

impl JobOutcome {
    /// The outcome as Pinwheel writes it.
    pub fn as_str(&self) -> &str {
        match self {
            JobOutcome::Success => "success",
            JobOutcome::Error => "error",
            JobOutcome::Pending => "pending",
            JobOutcome::Unknown(other) => other,
        }
    }
}

impl Serialize for JobOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JobOutcome {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Ok(match String::deserialize(deserializer)?.as_str() {
            "success" => JobOutcome::Success,
            "error" => JobOutcome::Error,
            "pending" => JobOutcome::Pending,
            other => JobOutcome::Unknown(other.to_owned()),
        })
    }
}

/// The payload of a job event (`employment.added`, `paystubs.added`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobEvent {
    /// The payroll account the job ran for.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Your id of the end user.
    #[serde(default)]
    pub end_user_id: Option<String>,
    /// How the job ended.
    #[serde(default)]
    pub outcome: Option<JobOutcome>,
    /// The error's specific code, when the outcome is an error.
    #[serde(default)]
    pub error_code: Option<String>,
    /// The error's class, when the outcome is an error.
    #[serde(default)]
    pub error_type: Option<String>,
    /// Job parameters (e.g. the switch's action and allocation).
    #[serde(default)]
    pub params: Option<serde_json::Value>,
    /// When the job ended.
    #[serde(default, deserialize_with = "lenient_datetime")]
    pub timestamp: Option<DateTime<Utc>>,
    /// The job's name (`paystubs`, `income`, ...).
    #[serde(default)]
    pub name: Option<String>,
    /// The link token the job was started with.
    #[serde(default)]
    pub link_token_id: Option<String>,
    /// The job's id (deprecated by Pinwheel).
    #[serde(default)]
    pub id: Option<String>,
}

/// Two-phase memory of processed event ids: [`DeliveryLog::begin`] when a
/// delivery arrives, [`DeliveryLog::commit`] once it has been processed, so a
/// delivery begun but never finished (the process died) is processed again
/// when Pinwheel redelivers it.
///
/// ```
/// use pinwheel::webhook::{Begin, DeliveryLog};
///
/// let log = DeliveryLog::default();
/// let Begin::New(receipt) = log.begin("5a141122-4235-4fa1-bd76-0628573880b0") else { unreachable!() };
/// // ... apply the event, then:
/// log.commit(receipt);
/// assert_eq!(log.begin("5a141122-4235-4fa1-bd76-0628573880b0"), Begin::Done);
/// ```
pub use client_core::webhook::{Begin, DeliveryLog, Receipt};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_34_known_events_and_names_round_trip() {
        assert_eq!(Event::KNOWN.len(), 34);
        for event in Event::KNOWN {
            assert_eq!(&Event::from(event.as_str()), event);
            assert!(!matches!(event, Event::Unknown(_)));
        }
        assert_eq!(
            Event::from("payroll.exploded"),
            Event::Unknown("payroll.exploded".into())
        );
    }

    #[test]
    fn signature_parsing_accepts_several_entries_and_ignores_other_schemes() {
        let digest = "ab".repeat(32);
        assert_eq!(parse_signatures(&format!("v2={digest}")).len(), 1);
        assert_eq!(
            parse_signatures(&format!("v1=zz, v2={digest},v2={digest}")).len(),
            2
        );
        assert!(parse_signatures("v2=abc").is_empty());
        assert!(parse_signatures(&format!("v2={}", "zz".repeat(32))).is_empty());
        assert!(parse_signatures(&digest).is_empty());
    }

    #[test]
    fn freshness_is_checked_both_ways_with_inclusive_bounds() {
        let at = |secs: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        let tolerance = Duration::from_secs(300);
        assert!(check_freshness("1000", at(1300), tolerance).is_ok());
        assert!(check_freshness("1300", at(1000), tolerance).is_ok());
        assert!(matches!(
            check_freshness("1000", at(1301), tolerance),
            Err(Error::Webhook {
                reason: WebhookRejection::Expired { age_secs: 301 }
            })
        ));
        assert!(matches!(
            check_freshness("1301", at(1000), tolerance),
            Err(Error::Webhook {
                reason: WebhookRejection::FromTheFuture { ahead_secs: 301 }
            })
        ));
        assert!(matches!(
            check_freshness("-5", at(1000), tolerance),
            Err(Error::Webhook {
                reason: WebhookRejection::MalformedTimestamp
            })
        ));
    }
}
