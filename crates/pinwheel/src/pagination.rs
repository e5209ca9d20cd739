//! Streams over Pinwheel's cursor-paginated lists, so callers never write the
//! cursor loop, never lose a row to an error, and never loop forever on a
//! server bug.
//!
//! Pinwheel's lists take `limit` (1–100) and `cursor` query parameters and
//! answer `{"data": [...], "meta": {"next_cursor": ...}}`; the first page has
//! no cursor, each next page passes the previous `next_cursor`, and the last
//! page has `next_cursor: null`.
//!
//! The design has three layers:
//!
//! - [`Paginated`], implemented for every list response type, exposes the
//!   items and `next_cursor` of one page.
//! - [`pages`] and [`items`] stream over any closure
//!   `FnMut(Option<String>) -> Future` that fetches the page for a cursor.
//!   The caller's filters live in the closure, so they are sent with every
//!   page. The decision after each page is a pure step ([`next_step`]).
//! - [`Listing`] wraps a generated request builder for the common case, and
//!   `Client` has one method per list operation ([`crate::Client::accounts`],
//!   [`crate::Client::paystubs`], ...).
//!
//! ```no_run
//! use futures::TryStreamExt;
//! # async fn demo(client: pinwheel::Client) -> pinwheel::Result<()> {
//! let connected: Vec<_> = client
//!     .accounts()
//!     .with(|request| request.connected(true)) // sent with every page
//!     .limit(100)?
//!     .items()
//!     .try_collect()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # The contract, and errors
//!
//! [`Listing::items`] yields every row of the listing exactly once, in the
//! server's order, or its stream ends with an error that says what happened:
//!
//! - Rows with an `id` are de-duplicated by it (16 bytes a row), so a page the
//!   server serves twice does not repeat them. Rows without one (company
//!   paystubs, earnings-stream payouts, API keys) are trusted to cursor
//!   progress: every row of every page fetched at a new cursor comes out, two
//!   identical rows included.
//! - A page that fails (after the runtime's retries) ends the stream with
//!   [`Error::Interrupted`]: every item of the pages before it has been
//!   delivered, none after. [`Error::resume_cursor`] is the cursor of the
//!   failed page; [`Listing::resume_from`] continues from there without gaps
//!   or duplicates.
//! - A `next_cursor` the listing has already requested would make it loop
//!   forever: the stream ends with [`Error::RepeatedCursor`]. For rows
//!   without an `id`, the page that sent it is held back (it may be the
//!   page before, served again) and the error says so.
//! - A server that answers new cursors with pages that bring nothing new
//!   (rows already seen, or the very page before again) ends the stream
//!   with [`Error::WalkStopped`] after [`Listing::stall_budget`] such pages
//!   in a row (3 by default).

use std::collections::HashSet;
use std::future::Future;
use std::num::NonZeroU64;

use client_core::call::CallOptions;
use futures::{Stream, StreamExt};

use crate::call::{Call, Response};
use crate::client::Client;
pub use crate::error::WalkStop;
use crate::error::{Error, Result};
use crate::types;
use pinwheel_client::builder;

/// The largest page Pinwheel serves.
pub const MAX_LIMIT: u64 = 100;

/// One page of a list response: its items and the cursor of the next page.
pub trait Paginated {
    /// The listed object (serialisable, so a walk can recognise a row it
    /// already yielded).
    type Item: serde::Serialize;

    /// The items of this page.
    fn items(&self) -> &[Self::Item];

    /// The cursor of the next page; `None` on the last page.
    fn next_cursor(&self) -> Option<&str>;

    /// The items of this page, owned.
    fn into_items(self) -> Vec<Self::Item>;

    /// An item's `id`, for the row types that have one.
    fn item_id(item: &Self::Item) -> Option<uuid::Uuid>;
}

macro_rules! paginated {
    ($($response:ident => $item:ident $(by $id:ident)?,)*) => {$(
        impl Paginated for types::$response {
            type Item = types::$item;

            fn items(&self) -> &[types::$item] {
                &self.data
            }

            fn next_cursor(&self) -> Option<&str> {
                self.meta.next_cursor.as_deref()
            }

            fn into_items(self) -> Vec<types::$item> {
                self.data
            }

            #[allow(unused_variables, reason = "rows without an id ignore it")]
            fn item_id(item: &types::$item) -> Option<uuid::Uuid> {
                None $(.or(item.$id))?
            }
        }
    )*};
}

// `by id`: the row type has an `id` to de-duplicate by.
paginated! {
    ListApiKeysResponse => ListApiKeyResponseData,
    ListAccountsResponse => PayrollAccountObjResponse by id,
    ListCompanyConnectionsResponse => CompanyConnectionBase by id,
    ListCompanyEmployeesResponse => CompanyIdentityObjResponse,
    ListCompanyEmploymentsResponse => CompanyEmploymentObjResponse,
    ListCompanyIncomesResponse => CompanyIncomeObjResponse,
    ListCompanyPaystubsResponse => CompanyPaystubObjResponse,
    ListEarningsStreamPayoutsResponse => EarningsStreamPayoutObjResponseV20230418,
    ListEmployersResponse => EmployerObjResponse by id,
    ListPlatformsResponse => PlatformObjResponse by id,
    ListEndUserAccountsResponse => PayrollAccountObjResponse by id,
    ListPaystubsResponse => PaystubObjResponseV20220302 by id,
    ListShiftsResponse => ShiftObjResponse by id,
    ListJobsResponse => JobObjResponseV20231122 by id,
    ListTaxFormsResponse => TaxFormObjResponseNoDocumentV20220622 by id,
    ListWebhooksResponse => WebhookObjResponse by id,
}

/// A generated request builder of a cursor-paginated list operation.
pub trait ListRequest<'a>:
    client_core::Request<Output = Self::Response, Error = types::ErrorResponse> + Sized + Send + 'a
{
    /// The operation's response.
    type Response: Paginated + Send + 'a;

    /// Sets the `cursor` query parameter.
    fn with_cursor(self, cursor: String) -> Self;

    /// Sets the `limit` query parameter.
    fn with_limit(self, limit: NonZeroU64) -> Self;
}

macro_rules! list_request {
    ($($builder:ident => $response:ident,)*) => {$(
        impl<'a> ListRequest<'a> for builder::$builder<'a> {
            type Response = types::$response;

            fn with_cursor(self, cursor: String) -> Self {
                self.cursor(cursor)
            }

            fn with_limit(self, limit: NonZeroU64) -> Self {
                self.limit(limit)
            }
        }
    )*};
}

list_request! {
    ListApiKeys => ListApiKeysResponse,
    ListAccounts => ListAccountsResponse,
    ListCompanyConnections => ListCompanyConnectionsResponse,
    ListCompanyEmployees => ListCompanyEmployeesResponse,
    ListCompanyEmployments => ListCompanyEmploymentsResponse,
    ListCompanyIncomes => ListCompanyIncomesResponse,
    ListCompanyPaystubs => ListCompanyPaystubsResponse,
    ListEarningsStreamPayouts => ListEarningsStreamPayoutsResponse,
    ListEmployers => ListEmployersResponse,
    ListPlatforms => ListPlatformsResponse,
    ListEndUserAccounts => ListEndUserAccountsResponse,
    ListPaystubs => ListPaystubsResponse,
    ListShifts => ListShiftsResponse,
    ListJobs => ListJobsResponse,
    ListTaxForms => ListTaxFormsResponse,
    ListWebhooks => ListWebhooksResponse,
}

/// Checks a page size against Pinwheel's `1..=100`.
pub fn check_limit(limit: u64) -> Result<NonZeroU64> {
    NonZeroU64::new(limit)
        .filter(|l| l.get() <= MAX_LIMIT)
        .ok_or(Error::InvalidLimit { limit })
}

/// What to do after a page, given its `next_cursor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Fetch the page at this cursor.
    Fetch(String),
    /// This was the last page.
    End,
    /// The server sent a cursor that was already requested: stop.
    Repeated(String),
}

/// The pure step after each page. `requested` holds every cursor the
/// listing has requested so far; a cursor to fetch is added to it.
///
/// A missing or empty `next_cursor` ends the listing: Pinwheel sends `null`
/// on the last page, and an empty cursor could only mean the first page
/// again.
pub fn next_step(requested: &mut HashSet<String>, next_cursor: Option<&str>) -> Next {
    match next_cursor {
        None | Some("") => Next::End,
        Some(cursor) if requested.contains(cursor) => Next::Repeated(cursor.to_owned()),
        Some(cursor) => {
            requested.insert(cursor.to_owned());
            Next::Fetch(cursor.to_owned())
        }
    }
}

/// One page of a listing, with the cursor it was fetched at.
#[derive(Debug, Clone)]
pub struct Page<R> {
    response: Response<R>,
    cursor: Option<String>,
    /// Whether its `next_cursor` was requested before.
    repeats: bool,
}

impl<R: Paginated> Page<R> {
    /// The items of the page.
    pub fn items(&self) -> &[R::Item] {
        self.response.get().items()
    }

    /// The items of the page, owned.
    pub fn into_items(self) -> Vec<R::Item> {
        self.response.into_inner().into_items()
    }

    /// The cursor this page was fetched at (`None` for the first page).
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// The cursor of the next page, as the server sent it.
    pub fn next_cursor(&self) -> Option<&str> {
        self.response.get().next_cursor()
    }

    /// The whole response, `meta` included.
    pub fn response(&self) -> &Response<R> {
        &self.response
    }

    /// The whole response, owned.
    pub fn into_response(self) -> Response<R> {
        self.response
    }
}

struct State<F> {
    fetch: F,
    /// The cursor of the next page to fetch; `None` when the listing is over.
    next: Option<Option<String>>,
    requested: HashSet<String>,
    pages: u64,
    /// An error to yield after the page that caused it.
    pending: Option<Error>,
}

/// Streams the pages fetched by `fetch`, starting at `start` (`None`: the
/// first page). `fetch` returns this crate's result; this is the core the
/// other streams are built on.
pub(crate) fn pages_of<'a, R, F, Fut>(
    start: Option<String>,
    fetch: F,
) -> impl Stream<Item = Result<Page<R>>> + Send + 'a
where
    R: Paginated + Send + 'a,
    F: FnMut(Option<String>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Response<R>>> + Send + 'a,
{
    let state = State {
        fetch,
        requested: start.iter().cloned().collect(),
        next: Some(start),
        pages: 0,
        pending: None,
    };
    futures::stream::unfold(state, |mut state| async move {
        if let Some(error) = state.pending.take() {
            return Some((Err(error), state));
        }
        let cursor = state.next.take()?;
        match (state.fetch)(cursor.clone()).await {
            Err(error) => {
                let error = Error::Interrupted {
                    resume_cursor: cursor,
                    pages: state.pages,
                    source: Box::new(error),
                };
                Some((Err(error), state))
            }
            Ok(response) => {
                state.pages += 1;
                let mut repeats = false;
                match next_step(&mut state.requested, response.get().next_cursor()) {
                    Next::Fetch(next) => state.next = Some(Some(next)),
                    Next::End => {}
                    Next::Repeated(repeated) => {
                        repeats = true;
                        state.pending = Some(Error::RepeatedCursor {
                            cursor: repeated,
                            context: Box::new(response.context()),
                        });
                    }
                }
                Some((
                    Ok(Page {
                        response,
                        cursor,
                        repeats,
                    }),
                    state,
                ))
            }
        }
    })
}

/// Pages in a row that bring nothing new before a listing stops.
pub const DEFAULT_STALL_BUDGET: u32 = 3;

/// What a listing of items keeps between pages.
struct Items<S, T> {
    pages: std::pin::Pin<Box<S>>,
    /// `id`s yielded so far (rows that have one).
    seen: HashSet<uuid::Uuid>,
    /// A digest of the page before, for rows without `id`s.
    previous: Option<(u64, u64)>,
    /// Pages without ids identical to the page before, held back until a
    /// different page (or the end) shows they were real.
    held: Vec<Vec<T>>,
    stalled: u32,
    budget: u32,
    pages_done: u64,
    done: bool,
}

/// Flattens a stream of pages into a stream of items, keeping the contract
/// in the module docs; an error stays one item and ends the stream.
fn flatten<'a, R, S>(pages: S, budget: u32) -> impl Stream<Item = Result<R::Item>> + Send + 'a
where
    R: Paginated + Send + 'a,
    R::Item: Send + 'a,
    S: Stream<Item = Result<Page<R>>> + Send + 'a,
{
    let state = Items {
        pages: Box::pin(pages),
        seen: HashSet::new(),
        previous: None,
        held: Vec::new(),
        stalled: 0,
        budget,
        pages_done: 0,
        done: false,
    };
    let items = futures::stream::unfold(state, |mut state| async move {
        loop {
            if state.done {
                return None;
            }
            let page = match state.pages.next().await {
                // The end: pages held back were real.
                None => {
                    state.done = true;
                    let rows: Vec<_> = state.held.drain(..).flatten().map(Ok).collect();
                    return Some((rows, state));
                }
                Some(Ok(page)) => page,
                Some(Err(error)) => {
                    // A failed page: pages held back were fetched at new
                    // cursors, so they were real. A repeated cursor: they
                    // may have been the loop, and stay back.
                    state.done = true;
                    let mut rows: Vec<_> = if matches!(error, Error::RepeatedCursor { .. }) {
                        Vec::new()
                    } else {
                        state.held.drain(..).flatten().map(Ok).collect()
                    };
                    rows.push(Err(error));
                    return Some((rows, state));
                }
            };
            state.pages_done += 1;
            // The page whose next cursor was requested before: for rows
            // without ids it may be the page before again, so it stays back.
            let repeats = page.repeats;
            let cursor = page.next_cursor().map(str::to_owned);
            let items = page.into_items();
            let count = items.len();
            let keyed = items.iter().any(|item| R::item_id(item).is_some());
            let fresh: Vec<R::Item> = if keyed {
                items
                    .into_iter()
                    .filter(|item| R::item_id(item).is_none_or(|id| state.seen.insert(id)))
                    .collect()
            } else if repeats {
                Vec::new()
            } else {
                let digest = digest(&items);
                let again = state.previous == Some(digest) && count > 0;
                state.previous = Some(digest);
                if again {
                    state.held.push(items);
                    Vec::new()
                } else {
                    let mut rows: Vec<_> = state.held.drain(..).flatten().collect();
                    rows.extend(items);
                    rows
                }
            };
            // Nothing new at a cursor that promises more (an empty page, ids
            // already seen, the page before again): a step towards a loop.
            if fresh.is_empty() && !repeats && cursor.is_some() {
                state.stalled += 1;
                if state.stalled >= state.budget {
                    state.done = true;
                    let error = Error::WalkStopped {
                        pages: state.pages_done,
                        reason: WalkStop::NoProgress {
                            pages: state.stalled,
                        },
                        resume_cursor: cursor,
                    };
                    return Some((vec![Err(error)], state));
                }
                continue;
            }
            if !fresh.is_empty() {
                state.stalled = 0;
            }
            return Some((fresh.into_iter().map(Ok).collect(), state));
        }
    })
    .flat_map(futures::stream::iter);
    // A page's items are ready at once: they spend tokio's budget, so a
    // long walk gives its thread back now and then.
    client_core::stream::cooperative(items)
}

/// Two independent 64-bit hashes of a page's rows as JSON. Rows that cannot
/// be serialised get a fresh digest, so they are never taken for a repeat.
fn digest<T: serde::Serialize>(items: &[T]) -> (u64, u64) {
    use std::hash::{Hash, Hasher};
    static UNIQUE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let Ok(bytes) = serde_json::to_vec(items) else {
        return (
            u64::MAX,
            UNIQUE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        );
    };
    let mut first = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut first);
    let mut second = std::collections::hash_map::DefaultHasher::new();
    0xA5u8.hash(&mut second);
    bytes.hash(&mut second);
    (first.finish(), second.finish())
}

/// Streams the pages of any list operation. `fetch` sends the request for a
/// cursor (`None`: the first page) with the caller's filters; `start` is the
/// cursor to begin at (`None`: the beginning).
///
/// ```no_run
/// use futures::TryStreamExt;
/// use pinwheel::Call;
/// # async fn demo(client: pinwheel::Client) -> pinwheel::Result<()> {
/// let pages = pinwheel::pagination::pages(None, |cursor| {
///     let mut request = client.list_jobs().limit(50);
///     if let Some(cursor) = cursor {
///         request = request.cursor(cursor);
///     }
///     request.send()
/// });
/// let pages: Vec<_> = pages.try_collect().await?;
/// # Ok(())
/// # }
/// ```
pub fn pages<'a, R, F, Fut>(
    start: Option<String>,
    fetch: F,
) -> impl Stream<Item = Result<Page<R>>> + Send + 'a
where
    R: Paginated + Send + 'a,
    F: FnMut(Option<String>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Response<R>>> + Send + 'a,
{
    pages_of(start, fetch)
}

/// Streams the items of any list operation; see [`pages`].
pub fn items<'a, R, F, Fut>(
    start: Option<String>,
    fetch: F,
) -> impl Stream<Item = Result<R::Item>> + Send + 'a
where
    R: Paginated + Send + 'a,
    R::Item: Send + 'a,
    F: FnMut(Option<String>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Response<R>>> + Send + 'a,
{
    flatten(pages(start, fetch), DEFAULT_STALL_BUDGET)
}

/// A list operation ready to stream: a generated request builder with the
/// caller's filters, a page size and a starting cursor.
pub struct Listing<'a, B> {
    make: Box<dyn Fn() -> B + Send + Sync + 'a>,
    limit: Option<NonZeroU64>,
    start: Option<String>,
    options: CallOptions,
    stall_budget: u32,
}

impl<B> std::fmt::Debug for Listing<'_, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listing")
            .field("limit", &self.limit)
            .field("start", &self.start)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<'a, B: ListRequest<'a>> Listing<'a, B> {
    /// A listing of the requests `make` builds, e.g.
    /// `Listing::new(|| client.list_jobs())`.
    pub fn new(make: impl Fn() -> B + Send + Sync + 'a) -> Self {
        Self {
            make: Box::new(make),
            limit: None,
            start: None,
            options: CallOptions::default(),
            stall_budget: DEFAULT_STALL_BUDGET,
        }
    }

    /// Applies `configure` (filters, path parameters) to the request of every page.
    #[must_use]
    pub fn with(self, configure: impl Fn(B) -> B + Send + Sync + 'a) -> Self {
        let make = self.make;
        Self {
            make: Box::new(move || configure(make())),
            ..self
        }
    }

    /// The page size, 1 to 100 (Pinwheel's default is 25 on most lists).
    pub fn limit(mut self, limit: u64) -> Result<Self> {
        self.limit = Some(check_limit(limit)?);
        Ok(self)
    }

    /// Starts at `cursor` instead of the first page, e.g. the
    /// [`Error::resume_cursor`] of an interrupted listing.
    #[must_use]
    pub fn resume_from(mut self, cursor: impl Into<String>) -> Self {
        self.start = Some(cursor.into());
        self
    }

    /// Per-call options (deadline, timeout, retry) for every page.
    #[must_use]
    pub fn call_options(mut self, options: CallOptions) -> Self {
        self.options = options;
        self
    }

    /// Pages in a row that bring no new row (each fetched at a new cursor)
    /// before [`Listing::items`] stops with [`Error::WalkStopped`]
    /// (default [`DEFAULT_STALL_BUDGET`], at least 1).
    #[must_use]
    pub fn stall_budget(mut self, pages: u32) -> Self {
        self.stall_budget = pages.max(1);
        self
    }

    /// Streams the pages.
    pub fn pages(self) -> impl Stream<Item = Result<Page<B::Response>>> + Send + 'a {
        let Listing {
            make,
            limit,
            start,
            options,
            stall_budget: _,
        } = self;
        pages_of(start, move |cursor| {
            let mut request = make();
            if let Some(limit) = limit {
                request = request.with_limit(limit);
            }
            if let Some(cursor) = cursor {
                request = request.with_cursor(cursor);
            }
            request.send_with(options.clone())
        })
    }

    /// Streams the items of every page.
    pub fn items(self) -> impl Stream<Item = Result<<B::Response as Paginated>::Item>> + Send + 'a
    where
        <B::Response as Paginated>::Item: Send + 'a,
    {
        let budget = self.stall_budget;
        flatten(self.pages(), budget)
    }
}

/// One method per cursor-paginated list operation. Path parameters are
/// arguments; filters go through [`Listing::with`].
impl Client {
    /// A listing of `make`'s requests.
    fn listing<'a, B: ListRequest<'a>>(
        &self,
        make: impl Fn() -> B + Send + Sync + 'a,
    ) -> Listing<'a, B> {
        Listing::new(make)
    }

    /// `GET /accounts`: payroll accounts (filters `connected`, `monitoring_status`).
    pub fn accounts(&self) -> Listing<'_, builder::ListAccounts<'_>> {
        self.listing(move || self.api().list_accounts())
    }

    /// `GET /end_users/{end_user_id}/accounts`: one end user's payroll accounts.
    pub fn end_user_accounts(
        &self,
        end_user_id: impl Into<String>,
    ) -> Listing<'_, builder::ListEndUserAccounts<'_>> {
        let end_user_id = end_user_id.into();
        self.listing(move || {
            self.api()
                .list_end_user_accounts()
                .end_user_id(end_user_id.clone())
        })
    }

    /// `GET /company_connections`.
    pub fn company_connections(&self) -> Listing<'_, builder::ListCompanyConnections<'_>> {
        self.listing(move || self.api().list_company_connections())
    }

    /// `GET /company_connections/{id}/census`: the connection's employees.
    pub fn company_census(
        &self,
        company_connection_id: uuid::Uuid,
    ) -> Listing<'_, builder::ListCompanyEmployees<'_>> {
        self.listing(move || {
            self.api()
                .list_company_employees()
                .company_connection_id(company_connection_id)
        })
    }

    /// `GET /company_connections/{id}/employments`.
    pub fn company_employments(
        &self,
        company_connection_id: uuid::Uuid,
    ) -> Listing<'_, builder::ListCompanyEmployments<'_>> {
        self.listing(move || {
            self.api()
                .list_company_employments()
                .company_connection_id(company_connection_id)
        })
    }

    /// `GET /company_connections/{id}/incomes`.
    pub fn company_incomes(
        &self,
        company_connection_id: uuid::Uuid,
    ) -> Listing<'_, builder::ListCompanyIncomes<'_>> {
        self.listing(move || {
            self.api()
                .list_company_incomes()
                .company_connection_id(company_connection_id)
        })
    }

    /// `GET /company_connections/{id}/paystubs/{employee_external_id}`
    /// (filters `from_pay_date`, `to_pay_date`).
    pub fn company_paystubs(
        &self,
        company_connection_id: uuid::Uuid,
        employee_external_id: impl Into<String>,
    ) -> Listing<'_, builder::ListCompanyPaystubs<'_>> {
        let employee_external_id = employee_external_id.into();
        self.listing(move || {
            self.api()
                .list_company_paystubs()
                .company_connection_id(company_connection_id)
                .employee_external_id(employee_external_id.clone())
        })
    }

    /// `GET /end_users/{end_user_id}/earnings_stream/payouts`.
    pub fn earnings_stream_payouts(
        &self,
        end_user_id: impl Into<String>,
    ) -> Listing<'_, builder::ListEarningsStreamPayouts<'_>> {
        let end_user_id = end_user_id.into();
        self.listing(move || {
            self.api()
                .list_earnings_stream_payouts()
                .end_user_id(end_user_id.clone())
        })
    }

    /// `GET /employers` (filter `last_updated`).
    pub fn employers(&self) -> Listing<'_, builder::ListEmployers<'_>> {
        self.listing(move || self.api().list_employers())
    }

    /// `GET /platforms` (filters `type_`, `include_esps`, `last_updated`).
    pub fn platforms(&self) -> Listing<'_, builder::ListPlatforms<'_>> {
        self.listing(move || self.api().list_platforms())
    }

    /// `GET /accounts/{account_id}/paystubs`, newest first (filters
    /// `from_pay_date`, `to_pay_date`).
    pub fn paystubs(&self, account_id: uuid::Uuid) -> Listing<'_, builder::ListPaystubs<'_>> {
        self.listing(move || self.api().list_paystubs().account_id(account_id))
    }

    /// `GET /accounts/{account_id}/shifts`, newest first (date filters).
    pub fn shifts(&self, account_id: uuid::Uuid) -> Listing<'_, builder::ListShifts<'_>> {
        self.listing(move || self.api().list_shifts().account_id(account_id))
    }

    /// `GET /jobs`: completed Link jobs (filters `account_id`, `job_types`,
    /// `outcome`, timestamps, ...).
    pub fn jobs(&self) -> Listing<'_, builder::ListJobs<'_>> {
        self.listing(move || self.api().list_jobs())
    }

    /// `GET /accounts/{account_id}/tax_forms`, newest first (filters
    /// `from_year`, `to_year`).
    pub fn tax_forms(&self, account_id: uuid::Uuid) -> Listing<'_, builder::ListTaxForms<'_>> {
        self.listing(move || self.api().list_tax_forms().account_id(account_id))
    }

    /// `GET /webhooks`: the webhooks registered for this key.
    pub fn webhooks(&self) -> Listing<'_, builder::ListWebhooks<'_>> {
        self.listing(move || self.api().list_webhooks())
    }
}

#[cfg(test)]
mod walk_tests;

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;
    use serde_json::json;

    use super::*;

    #[test]
    fn limits_outside_one_to_a_hundred_are_typed_errors() {
        assert!(matches!(
            check_limit(0),
            Err(Error::InvalidLimit { limit: 0 })
        ));
        assert!(matches!(
            check_limit(101),
            Err(Error::InvalidLimit { limit: 101 })
        ));
        assert_eq!(check_limit(1).map(NonZeroU64::get).ok(), Some(1));
        assert_eq!(check_limit(100).map(NonZeroU64::get).ok(), Some(100));
    }

    #[test]
    fn the_step_follows_cursors_and_stops_on_null_empty_or_repeated() {
        let mut requested = HashSet::new();
        assert_eq!(
            next_step(&mut requested, Some("a")),
            Next::Fetch("a".into())
        );
        assert_eq!(
            next_step(&mut requested, Some("b")),
            Next::Fetch("b".into())
        );
        assert_eq!(
            next_step(&mut requested, Some("a")),
            Next::Repeated("a".into())
        );
        assert_eq!(next_step(&mut requested, None), Next::End);
        assert_eq!(next_step(&mut requested, Some("")), Next::End);
    }

    fn page(ids: &[&str], next: Option<&str>) -> types::ListWebhooksResponse {
        let data: Vec<_> = ids
            .iter()
            .map(|id| {
                json!({
                    "url": "https://example.com/webhook_endpoint",
                    "id": id,
                    "created_at": "2020-11-06T15:59:13.530178+00:00",
                    "last_updated": "2020-11-06T16:00:00.530178+00:00",
                    "enabled_events": ["income.added", "employment.added"],
                    "status": "active",
                    "version": "2023-04-18"
                })
            })
            .collect();
        serde_json::from_value(
            json!({"data": data, "meta": {"count": ids.len(), "next_cursor": next}}),
        )
        .unwrap()
    }

    fn ok(body: types::ListWebhooksResponse) -> Result<Response<types::ListWebhooksResponse>> {
        Ok(Response::new(
            progenitor_client::ResponseValue::new(
                body,
                reqwest::StatusCode::OK,
                http::HeaderMap::new(),
            ),
            client_core::call::CallReport::default(),
        ))
    }

    const A: &str = "0e0c0a3d-4a5f-4ad3-8c1c-2b9f0f4c3f01";
    const B: &str = "0e0c0a3d-4a5f-4ad3-8c1c-2b9f0f4c3f02";
    const C: &str = "0e0c0a3d-4a5f-4ad3-8c1c-2b9f0f4c3f03";

    #[tokio::test]
    async fn pages_follow_next_cursor_until_null() {
        let seen = std::sync::Mutex::new(Vec::new());
        let stream = pages_of(None, |cursor: Option<String>| {
            seen.lock().unwrap().push(cursor.clone());
            let body = match cursor.as_deref() {
                None => page(&[A], Some("c2")),
                Some("c2") => page(&[B], Some("c3")),
                _ => page(&[C], None),
            };
            std::future::ready(ok(body))
        });
        let items: Vec<_> = flatten(stream, DEFAULT_STALL_BUDGET)
            .try_collect()
            .await
            .unwrap();
        let ids: Vec<_> = items.iter().map(|w| w.id.unwrap().to_string()).collect();
        assert_eq!(ids, [A, B, C]);
        assert_eq!(
            *seen.lock().unwrap(),
            [None, Some("c2".to_owned()), Some("c3".to_owned())]
        );
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_with_the_cursor_to_resume_from() {
        let stream = pages_of(None, |cursor: Option<String>| {
            std::future::ready(match cursor.as_deref() {
                None => ok(page(&[A, B], Some("c2"))),
                _ => Err(Error::InvalidLimit { limit: 0 }),
            })
        });
        let results: Vec<_> = flatten(stream, DEFAULT_STALL_BUDGET).collect().await;
        assert_eq!(results.len(), 3);
        assert!(results[0].is_ok() && results[1].is_ok());
        let error = results[2].as_ref().unwrap_err();
        assert_eq!(error.resume_cursor(), Some("c2"));
        assert!(matches!(error, Error::Interrupted { pages: 1, .. }));
    }

    #[tokio::test]
    async fn a_cycle_of_cursors_ends_after_the_page_that_closes_it() {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let stream = pages_of(Some("c1".to_owned()), |cursor: Option<String>| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::future::ready(match cursor.as_deref() {
                Some("c1") => ok(page(&[A], Some("c2"))),
                _ => ok(page(&[B], Some("c1"))),
            })
        });
        let results: Vec<_> = stream.collect().await;
        assert_eq!(results.len(), 3);
        assert_eq!(results[0].as_ref().unwrap().cursor(), Some("c1"));
        assert_eq!(results[1].as_ref().unwrap().cursor(), Some("c2"));
        assert!(matches!(
            &results[2],
            Err(Error::RepeatedCursor { cursor, .. }) if cursor == "c1"
        ));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
