//! Every row of a list operation as one stream, fetched concurrently, in
//! order, each row exactly once even while other users insert and delete.
//!
//! # How a walk works
//!
//! PensionPro pages with `$skip`/`$top` (at most 1000 rows) and answers
//! `{Values, TotalCount}`. A walk:
//!
//! 1. orders the rows totally and stably: by the caller's `$orderby` with
//!    `Id` appended as a tie-breaker, or by `Id` alone (and adds `Id` to a
//!    `$select` that lacks it);
//! 2. fetches the first page alone, learns `TotalCount`, and plans the other
//!    windows; those are fetched concurrently (4 at a time by default, the
//!    runtime's limiter spacing them within the rate plan) and consumed in
//!    order, so rows come out in order;
//! 3. makes consecutive windows overlap by one row: with page size `P`,
//!    windows start at `skip = k·(P−1)`, so each window should begin with the
//!    last row of the one before.
//!
//! # Why no row is missed or repeated
//!
//! Rows that exist for the whole walk keep their relative order (the order
//! is total and on fixed keys), whatever is inserted or deleted around them.
//! Call `Y` the rows already yielded; by induction they are exactly the
//! surviving rows up to the last one yielded, plus perhaps some newcomers.
//! When the next window `W` (fetched at any time) contains a row of `Y`, take
//! the last such row `W[i]`: every surviving row not yet yielded sorts after
//! it, so it lies after `i` in `W` or beyond `W`'s end, where later windows
//! continue. The walk yields `W[i+1..]` minus rows already seen (rows are
//! deduplicated by `Id`), so nothing is repeated and, window by window,
//! nothing surviving is skipped. When `W` is shorter than `P`, it reached the
//! end of the data at the time it was fetched and the walk is complete.
//!
//! Normally `i = 0` (the overlap row). When `W` holds no row of `Y`,
//! deletions moved rows across the boundary (or emptied the window): the
//! walk drops the windows fetched ahead and steps back one window at a time
//! until it finds a row of `Y` (or reaches the start, where every unseen row
//! is new), then goes on sequentially from there. This costs requests only
//! when the data changed during the walk; an undisturbed walk costs one extra
//! row per page.
//!
//! After the last window, the largest `TotalCount` seen is compared with the
//! rows walked; if the server counts more (rows were appended while the walk
//! ran, or the server returned fewer rows per page than asked), the walk
//! fetches on from the last row for as long as that brings new rows, so a
//! count that disagrees with the rows cannot keep it going.
//!
//! Limits: a row whose sort key changes during the walk moves, and may be
//! missed or seen twice (deduplication by `Id` still prevents the latter).
//! Rows without an `Id` cannot be tracked: when the first page has no `Id`
//! at all the walk falls back to plain, non-overlapping pages.
//!
//! Errors surface as an `Err` item, after which the stream ends.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::num::{NonZeroU32, NonZeroUsize};

use client_core::call::CallOptions;
use futures::stream::{self, BoxStream, FuturesOrdered};
use futures::{FutureExt, StreamExt};
use pensionpro_client::types::{self, ErrorResponse};
use progenitor_client::ResponseValue;

use crate::auth::{Client, call_generated};
use crate::error::Result;
use crate::odata::{MAX_TOP, Query};

/// Rows per page unless configured otherwise: the server's maximum, which
/// spends the fewest calls.
pub const DEFAULT_PAGE_SIZE: NonZeroU32 = match NonZeroU32::new(MAX_TOP) {
    Some(size) => size,
    None => NonZeroU32::MIN,
};

/// Pages fetched at once unless configured otherwise.
pub const DEFAULT_CONCURRENCY: NonZeroUsize = match NonZeroUsize::new(4) {
    Some(pages) => pages,
    None => NonZeroUsize::MIN,
};

/// Full windows without a new row after which a walk gives up (see
/// `Walker::stalled`).
const MAX_STALLED_WINDOWS: u32 = 3;

/// A row of a list: anything with PensionPro's integer `Id`.
pub trait Row {
    /// The row's `Id`, when present.
    fn row_id(&self) -> Option<i64>;
}

/// A list response, `{Values, TotalCount}`.
pub trait ListPage: Send {
    /// The row type.
    type Row: Row + Send + 'static;

    /// The rows of this page and the total the server counts, if it said.
    fn into_parts(self) -> (Vec<Self::Row>, Option<u64>);
}

/// The OData options as the generated builders take them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListOptions {
    /// `$filter`.
    pub filter: Option<String>,
    /// `$expand`.
    pub expand: Option<String>,
    /// `$orderby`.
    pub orderby: Option<String>,
    /// `$select`.
    pub select: Option<String>,
    /// `$top`.
    pub top: Option<NonZeroU32>,
    /// `$skip`.
    pub skip: Option<i32>,
}

impl ListOptions {
    /// The options of a (validated) query.
    fn from_query(query: &Query) -> Result<Self> {
        query.validate()?;
        Ok(ListOptions {
            filter: query.filter_string(),
            expand: query.expand_string(),
            orderby: query.order_by_string(),
            select: query.select_string(),
            top: query.top_value(),
            skip: query
                .skip_value()
                .map(|skip| i32::try_from(skip).unwrap_or(i32::MAX)),
        })
    }
}

/// A generated list builder (`client.api().list_plans()`, ...): implemented
/// for all of them, so queries and walks work on every list operation.
pub trait ListRequest<'a>: Clone + Send + Sized + 'a {
    /// The response type, `{Values, TotalCount}`.
    type Page: ListPage;

    /// Sets the options that are `Some`, leaving the others as they are.
    fn apply(self, options: &ListOptions) -> Self;

    /// Sends the request (the builder's `send()`).
    fn send_page(
        self,
    ) -> impl Future<
        Output = std::result::Result<
            ResponseValue<Self::Page>,
            progenitor_client::Error<ErrorResponse>,
        >,
    > + Send
    + 'a;

    /// Applies a query's options (all of them, `$top` and `$skip` included).
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidQuery`] when the query is invalid.
    fn with_query(self, query: &Query) -> Result<Self> {
        Ok(self.apply(&ListOptions::from_query(query)?))
    }
}

macro_rules! rows {
    ($($row:ident),* $(,)?) => {$(
        impl Row for types::$row {
            fn row_id(&self) -> Option<i64> {
                self.id.map(i64::from)
            }
        }
    )*};
}

rows!(
    Address,
    Client,
    Contact,
    ContactPhoneNumberLink,
    DistributionFile,
    Distribution,
    Employee,
    EmployeePlanRole,
    EmployerData,
    FeeSchedule,
    FeeScheduleTemplate,
    InvestmentProviderLink,
    LegalPlanFile,
    Lookup,
    Note,
    Participant,
    PlanContactRole,
    PlanCycle,
    Plan,
    PlanServicesProvidedLink,
    ProjectField,
    ProjectFile,
    Project,
    ProjectTemplate,
    TaskGroup,
    TaskItem,
    Task,
    TimeEntry,
    ToDoComment,
    ToDo,
    Worktray,
    WorktrayMember,
);

macro_rules! pages {
    ($($page:ident => $row:ident),* $(,)?) => {$(
        impl ListPage for types::$page {
            type Row = types::$row;

            fn into_parts(self) -> (Vec<types::$row>, Option<u64>) {
                let total = self.total_count.and_then(|total| u64::try_from(total).ok());
                (self.values.unwrap_or_default(), total)
            }
        }
    )*};
}

pages!(
    AddressListResponse => Address,
    ClientListResponse => Client,
    ContactListResponse => Contact,
    ContactPhoneNumberLinkListResponse => ContactPhoneNumberLink,
    DistributionFileListResponse => DistributionFile,
    DistributionListResponse => Distribution,
    EmployeeListResponse => Employee,
    EmployeePlanRoleListResponse => EmployeePlanRole,
    EmployerDataListResponse => EmployerData,
    FeeScheduleListResponse => FeeSchedule,
    FeeScheduleTemplateListResponse => FeeScheduleTemplate,
    InvestmentProviderLinkListResponse => InvestmentProviderLink,
    LegalPlanFileListResponse => LegalPlanFile,
    LookupListResponse => Lookup,
    NoteListResponse => Note,
    ParticipantListResponse => Participant,
    PlanContactRoleListResponse => PlanContactRole,
    PlanCycleListResponse => PlanCycle,
    PlanListResponse => Plan,
    PlanServicesProvidedLinkListResponse => PlanServicesProvidedLink,
    ProjectFieldListResponse => ProjectField,
    ProjectFileListResponse => ProjectFile,
    ProjectListResponse => Project,
    ProjectTemplateListResponse => ProjectTemplate,
    TaskGroupListResponse => TaskGroup,
    TaskItemListResponse => TaskItem,
    TaskListResponse => Task,
    TimeEntryListResponse => TimeEntry,
    ToDoCommentListResponse => ToDoComment,
    ToDoListResponse => ToDo,
    WorktrayListResponse => Worktray,
    WorktrayMemberListResponse => WorktrayMember,
);

macro_rules! list_requests {
    ($($builder:ident => $page:ident),* $(,)?) => {$(
        impl<'a> ListRequest<'a> for pensionpro_client::builder::$builder<'a> {
            type Page = types::$page;

            fn apply(self, options: &ListOptions) -> Self {
                let mut request = self;
                if let Some(filter) = &options.filter {
                    request = request.filter(filter.clone());
                }
                if let Some(expand) = &options.expand {
                    request = request.expand(expand.clone());
                }
                if let Some(orderby) = &options.orderby {
                    request = request.orderby(orderby.clone());
                }
                if let Some(select) = &options.select {
                    request = request.select(select.clone());
                }
                if let Some(top) = options.top {
                    request = request.top(top);
                }
                if let Some(skip) = options.skip {
                    request = request.skip(skip);
                }
                request
            }

            fn send_page(
                self,
            ) -> impl Future<
                Output = std::result::Result<
                    ResponseValue<Self::Page>,
                    progenitor_client::Error<ErrorResponse>,
                >,
            > + Send
            + 'a {
                self.send()
            }
        }
    )*};
}

list_requests!(
    ListAddresses => AddressListResponse,
    ListClients => ClientListResponse,
    ListContacts => ContactListResponse,
    ListDistributionFilesForProject => DistributionFileListResponse,
    ListDistributions => DistributionListResponse,
    ListEmployeePlanRoles => EmployeePlanRoleListResponse,
    ListEmployeePlanRolesForPlan => EmployeePlanRoleListResponse,
    ListEmployees => EmployeeListResponse,
    ListEmployerData => EmployerDataListResponse,
    ListEntityTypes => LookupListResponse,
    ListFeeScheduleTemplates => FeeScheduleTemplateListResponse,
    ListFeeSchedulesForPlan => FeeScheduleListResponse,
    ListForm5500Types => LookupListResponse,
    ListInvestmentProviderLinksForPlan => InvestmentProviderLinkListResponse,
    ListInvestmentProviders => LookupListResponse,
    ListLegalPlanFilesForPlan => LegalPlanFileListResponse,
    ListNotesForClient => NoteListResponse,
    ListNotesForContact => NoteListResponse,
    ListNotesForPlan => NoteListResponse,
    ListNotesForProject => NoteListResponse,
    ListNotesForTask => NoteListResponse,
    ListParticipantsForProject => ParticipantListResponse,
    ListPhoneNumberLinksForContact => ContactPhoneNumberLinkListResponse,
    ListPlanContactRoles => PlanContactRoleListResponse,
    ListPlanContactRolesForPlan => PlanContactRoleListResponse,
    ListPlanCyclesForPlan => PlanCycleListResponse,
    ListPlanGroups => LookupListResponse,
    ListPlanServicesProvidedLinks => PlanServicesProvidedLinkListResponse,
    ListPlanServicesProvidedLinksForPlan => PlanServicesProvidedLinkListResponse,
    ListPlans => PlanListResponse,
    ListPlansForClient => PlanListResponse,
    ListProjectFields => ProjectFieldListResponse,
    ListProjectFieldsForPlan => ProjectFieldListResponse,
    ListProjectFieldsForProject => ProjectFieldListResponse,
    ListProjectFilesForProject => ProjectFileListResponse,
    ListProjectTemplates => ProjectTemplateListResponse,
    ListProjects => ProjectListResponse,
    ListProjectsForPlan => ProjectListResponse,
    ListTaskGroups => TaskGroupListResponse,
    ListTaskGroupsForProject => TaskGroupListResponse,
    ListTaskItemsForTask => TaskItemListResponse,
    ListTasks => TaskListResponse,
    ListTasksForProject => TaskListResponse,
    ListTasksForTaskGroup => TaskListResponse,
    ListTimeEntries => TimeEntryListResponse,
    ListToDoCommentsForToDo => ToDoCommentListResponse,
    ListToDos => ToDoListResponse,
    ListToDosForPlan => ToDoListResponse,
    ListToDosForProject => ToDoListResponse,
    ListWorktrayMembers => WorktrayMemberListResponse,
    ListWorktrays => WorktrayListResponse,
);

/// How a walk pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageOptions {
    page_size: NonZeroU32,
    concurrency: NonZeroUsize,
}

impl Default for PageOptions {
    fn default() -> Self {
        Self {
            page_size: DEFAULT_PAGE_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

impl PageOptions {
    /// Rows per page, 2 to 1000 (values outside are clamped: the overlap
    /// between windows needs two rows, the server allows 1000).
    #[must_use]
    pub fn page_size(mut self, rows: u32) -> Self {
        let rows = rows.clamp(2, MAX_TOP);
        self.page_size = NonZeroU32::new(rows).unwrap_or(DEFAULT_PAGE_SIZE);
        self
    }

    /// Pages fetched at once after the first.
    #[must_use]
    pub fn concurrency(mut self, pages: NonZeroUsize) -> Self {
        self.concurrency = pages;
        self
    }
}

/// The rows of a walk.
pub type Rows<'a, T> = BoxStream<'a, Result<T>>;

impl Client {
    /// Every row of a list operation matching `query`, as a stream; see the
    /// [module docs](crate::pagination) for how it pages. In a walk, the
    /// query's `$top` is the page size and `$skip` where the walk starts.
    ///
    /// ```no_run
    /// # async fn demo(client: pensionpro::Client) -> pensionpro::Result<()> {
    /// use futures::TryStreamExt;
    /// use pensionpro::odata::{Query, field};
    ///
    /// let query = Query::new().filter(field("Status.DisplayName").eq("Active"));
    /// let plans: Vec<_> = client.list(client.api().list_plans(), &query).try_collect().await?;
    /// println!("{} active plans", plans.len());
    /// # Ok(()) }
    /// ```
    pub fn list<'a, R>(&self, request: R, query: &Query) -> Rows<'a, <R::Page as ListPage>::Row>
    where
        R: ListRequest<'a>,
    {
        let mut options = PageOptions::default().concurrency(self.inner.page_concurrency);
        if let Some(top) = query.top_value() {
            options = options.page_size(top.get());
        }
        walk(request, query, options)
    }

    /// [`Client::list`] with explicit paging options.
    pub fn list_with<'a, R>(
        &self,
        request: R,
        query: &Query,
        options: PageOptions,
    ) -> Rows<'a, <R::Page as ListPage>::Row>
    where
        R: ListRequest<'a>,
    {
        walk(request, query, options)
    }
}

/// Starts a walk; see the module docs.
pub fn walk<'a, R>(
    request: R,
    query: &Query,
    options: PageOptions,
) -> Rows<'a, <R::Page as ListPage>::Row>
where
    R: ListRequest<'a>,
{
    let mut query = query.clone();
    // Without an order, or with one that may tie, `Id` makes it total.
    if !query.orders_by_id() {
        query = query.order_by("Id");
    }
    if query.selects_without_id() {
        query = query.select(["Id"]);
    }
    let start = query.skip_value().unwrap_or(0);
    let base = match request.with_query(&query) {
        Ok(base) => base,
        Err(error) => return stream::once(async move { Err(error) }).boxed(),
    };
    let walker = Walker {
        base,
        page_size: options.page_size.get(),
        concurrency: options.concurrency.get(),
        start,
        queue: VecDeque::from([start]),
        inflight: FuturesOrdered::new(),
        seen: HashSet::new(),
        keyed: None,
        sequential: false,
        max_total: None,
        extending: false,
        stalled: 0,
        done: false,
    };
    stream::unfold(walker, |mut walker| async move {
        let batch = walker.next_batch().await?;
        Some((batch, walker))
    })
    .flat_map(|batch| {
        let items: Vec<Result<_>> = match batch {
            Ok(rows) => rows.into_iter().map(Ok).collect(),
            Err(error) => vec![Err(error)],
        };
        stream::iter(items)
    })
    .boxed()
}

type Fetched<T> = (u32, Result<(Vec<T>, Option<u64>)>);

struct Walker<'a, R: ListRequest<'a>> {
    base: R,
    page_size: u32,
    concurrency: usize,
    start: u32,
    /// Window starts not yet requested.
    queue: VecDeque<u32>,
    /// Windows requested, consumed in the order they were queued.
    inflight: FuturesOrdered<futures::future::BoxFuture<'a, Fetched<<R::Page as ListPage>::Row>>>,
    /// `Id`s yielded so far.
    seen: HashSet<i64>,
    /// Whether rows carry `Id`s (decided by the first page).
    keyed: Option<bool>,
    /// After a divergence the walk goes on one window at a time.
    sequential: bool,
    max_total: Option<u64>,
    /// Whether the walk is past its planned end because the count said more.
    extending: bool,
    /// Full windows in a row that brought nothing new.
    stalled: u32,
    done: bool,
}

impl<'a, R: ListRequest<'a>> Walker<'a, R> {
    /// The distance between window starts: one row less than a page while
    /// windows overlap.
    fn step(&self) -> u32 {
        if self.keyed == Some(false) {
            self.page_size
        } else {
            self.page_size - 1
        }
    }

    fn fetch(&mut self, skip: u32) {
        let top = NonZeroU32::new(self.page_size).unwrap_or(DEFAULT_PAGE_SIZE);
        let request = self.base.clone().apply(&ListOptions {
            skip: Some(i32::try_from(skip).unwrap_or(i32::MAX)),
            top: Some(top),
            ..ListOptions::default()
        });
        let future = async move {
            let page = call_generated(CallOptions::default(), request.send_page()).await;
            (skip, page.map(ListPage::into_parts))
        };
        self.inflight.push_back(future.boxed());
    }

    fn abandon_ahead(&mut self) {
        self.inflight = FuturesOrdered::new();
        self.queue.clear();
    }

    /// Plans the windows after the first from the total the server counts.
    fn plan(&mut self, total: u64) {
        let (page, step) = (u64::from(self.page_size), u64::from(self.step()));
        let mut previous = u64::from(self.start);
        while previous + page < total {
            previous += step;
            match u32::try_from(previous) {
                Ok(skip) => self.queue.push_back(skip),
                Err(_) => break,
            }
        }
    }

    async fn next_batch(&mut self) -> Option<Result<Vec<<R::Page as ListPage>::Row>>> {
        loop {
            if self.done {
                return None;
            }
            let limit = if self.sequential { 1 } else { self.concurrency };
            while self.inflight.len() < limit {
                let Some(skip) = self.queue.pop_front() else {
                    break;
                };
                self.fetch(skip);
            }
            let Some((skip, page)) = self.inflight.next().await else {
                self.done = true;
                return None;
            };
            let (rows, total) = match page {
                Ok(page) => page,
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            };
            if let Some(total) = total {
                self.max_total = Some(self.max_total.map_or(total, |max| max.max(total)));
            }
            let full = rows.len() >= self.page_size as usize;
            let first = self.keyed.is_none();
            if first {
                self.keyed = Some(rows.iter().any(|row| row.row_id().is_some()));
                match total {
                    Some(total) if full => self.plan(total),
                    _ => {}
                }
            }
            if self.keyed == Some(false) {
                if full && self.queue.is_empty() && self.inflight.is_empty() {
                    self.queue.push_back(skip.saturating_add(self.page_size));
                }
                return Some(Ok(rows));
            }

            // The last row of this window that was already yielded; at the
            // start of the walk there is nothing before the window to miss.
            let anchor = rows
                .iter()
                .rposition(|row| row.row_id().is_some_and(|id| self.seen.contains(&id)));
            let from = match anchor {
                Some(index) => index + 1,
                None if skip <= self.start => 0,
                None => {
                    // Rows moved across the boundary: step back until a
                    // window holds a row already yielded.
                    self.abandon_ahead();
                    self.sequential = true;
                    self.queue
                        .push_back(skip.saturating_sub(self.step()).max(self.start));
                    continue;
                }
            };
            let len = u64::try_from(rows.len()).unwrap_or(u64::MAX);
            let fresh: Vec<_> = rows
                .into_iter()
                .skip(from)
                .filter(|row| match row.row_id() {
                    Some(id) => self.seen.insert(id),
                    None => true,
                })
                .collect();
            let end = u64::from(skip).saturating_add(len);
            self.stalled = if fresh.is_empty() {
                self.stalled + 1
            } else {
                0
            };
            if full && self.stalled >= MAX_STALLED_WINDOWS {
                // Only a server that ignores `$skip` serves full windows of
                // old rows again and again; stop instead of looping.
                tracing::warn!(skip, "list walk stopped: full pages without new rows");
                self.done = true;
            } else if full {
                if self.queue.is_empty() && self.inflight.is_empty() {
                    self.queue.push_back(skip.saturating_add(self.step()));
                }
            } else {
                // This window reached the end of the data when it was
                // fetched. Re-check the count: rows appended since then are
                // fetched from the last row on, while that brings new rows.
                self.abandon_ahead();
                let more = self.max_total.is_some_and(|total| total > end);
                let progress = !self.extending || !fresh.is_empty();
                if more && end > 0 && progress {
                    self.extending = true;
                    self.sequential = true;
                    self.queue
                        .push_back(u32::try_from(end - 1).unwrap_or(u32::MAX));
                } else {
                    self.done = true;
                }
            }
            return Some(Ok(fresh));
        }
    }
}
