//! Every row of a list operation as one stream, fetched concurrently, in
//! order: each row that exists for the whole walk exactly once, or an error
//! that says why not.
//!
//! # The contract
//!
//! A walk yields every row that existed from before its first request until
//! after its last **exactly once and in order** (the walk's order, see
//! below). A row inserted or deleted while the walk runs comes out at most
//! once. When the walk cannot keep that promise it does not end quietly: its
//! stream ends with [`Error::WalkStopped`](crate::Error::WalkStopped) (no progress within the request
//! budget) or [`Error::Interrupted`](crate::Error::Interrupted) (a page failed after the runtime's
//! retries). Both carry the number of rows yielded and a [`ResumePoint`];
//! [`PageOptions::resume_after`] takes the walk up again after the last row
//! it yielded, wherever that row has moved.
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
//!    runtime's limiter spacing them within the rate plan; fewer when the
//!    pages would exceed the memory budget, [`PageOptions::memory`], 24 MiB
//!    by default) and consumed in order, so rows come out in order;
//! 3. makes consecutive windows overlap by one row: with page size `P`,
//!    windows start at `skip = k·(P−1)`, so each window should begin with the
//!    last row of the one before.
//!
//! # Why no row is missed or repeated
//!
//! Rows that exist for the whole walk keep their relative order (the order
//! is total and on fixed keys), whatever is inserted or deleted around them.
//! Call `Y` the rows already yielded. When a window `W` (fetched at any time,
//! even a stale copy of an earlier answer) contains a row of `Y`, take the
//! last such row `W[i]`: every surviving row not yet yielded sorts after it,
//! so it lies after `i` in `W` or beyond `W`'s end, where later windows
//! continue. The walk yields `W[i+1..]` minus rows already seen (rows are
//! deduplicated by `Id`), so nothing is repeated and, window by window,
//! nothing surviving is skipped. Rows are only ever yielded after such an
//! anchor (or, before anything was yielded, from the start).
//!
//! The walk ends only when a window asked for at the last row's position
//! holds that row alone: the end of the data at that time. A window shorter
//! than asked is therefore checked with one more request from its last row,
//! so a server that shortens pages cannot end a walk early; an undisturbed
//! walk pays one extra request for it ([`PageOptions::trust_total_count`]
//! saves it where `TotalCount` can be trusted).
//!
//! When a window holds no row of `Y`, deletions moved rows back across its
//! start (or rows inserted ahead pushed the window's rows past it): the walk
//! drops the windows fetched ahead and searches around the last row's
//! position, backwards first and each time twice as far, one window at a
//! time. When a full window holds only rows of `Y`, rows inserted ahead
//! moved the rest by a window or more: the walk jumps ahead, further each
//! time, and learns from where it finds the last row how far rows move per
//! request. Requests that bring no new row count against a budget of such
//! requests in a row ([`PageOptions::stall_budget`], 20 by default; progress
//! resets it); when it runs out the walk stops with [`Error::WalkStopped`](crate::Error::WalkStopped). A server that ignores `$skip`, or
//! inserts ahead of the walk faster than it can page, ends there.
//!
//! Limits: a row whose sort key changes during the walk moves, and may be
//! missed or seen twice (deduplication by `Id` still prevents the latter).
//! A row inserted during the walk may come out anywhere after the rows
//! yielded before it. Rows without an `Id` cannot be tracked: when the first
//! page has no `Id` at all the walk pages plainly, without these guarantees.
//! What a walk keeps per row is its `Id` (in a compressed bitmap); what it holds in
//! rows is the page being read and the pages fetched ahead, within the
//! memory budget, each row as its JSON text. A row is decoded when it is
//! taken: one that does not decode then ends the walk with
//! [`Error::Interrupted`](crate::Error::Interrupted) around the call's
//! [`Error::Decode`](crate::Error::Decode), after the rows before it and
//! with the point to resume after the last of them. A row that is not an
//! object, or whose `Id` is not an integer, fails its page as a whole.

mod lazy;
#[cfg(test)]
mod tests;
mod walker;

use std::num::{NonZeroU32, NonZeroUsize};

use futures::stream::{self, BoxStream};
use futures::{FutureExt, StreamExt};
use pensionpro_client::types::{self, ErrorResponse};

use crate::client::Client;
pub use crate::client::{DEFAULT_CONCURRENCY, DEFAULT_PAGE_MEMORY};
use crate::error::Result;
pub use crate::error::{ResumePoint, WalkStop};
use crate::odata::{MAX_TOP, Query};
use walker::{Settings, Walker};

/// Rows per page unless configured otherwise: the server's maximum, which
/// spends the fewest calls.
pub const DEFAULT_PAGE_SIZE: NonZeroU32 = match NonZeroU32::new(MAX_TOP) {
    Some(size) => size,
    None => NonZeroU32::MIN,
};

/// Requests in a row without a new row a walk may make before it stops.
pub const DEFAULT_STALL_BUDGET: u32 = 20;

/// A row of a list: anything with PensionPro's integer `Id`.
pub trait Row {
    /// The row's `Id`, when present.
    fn row_id(&self) -> Option<i64>;
}

/// A list response, `{Values, TotalCount}`.
pub trait ListPage: Send {
    /// The row type.
    type Row: Row + serde::de::DeserializeOwned + Send + 'static;

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

/// A generated list builder (`client.list_plans()`, ...): implemented
/// for all of them, so queries and walks work on every list operation.
pub trait ListRequest<'a>:
    client_core::Request<Output = Self::Page, Error = ErrorResponse>
    + client_core::JsonRequest
    + Clone
    + Send
    + Sized
    + 'a
{
    /// The response type, `{Values, TotalCount}`.
    type Page: ListPage;

    /// Sets the options that are `Some`, leaving the others as they are.
    fn apply(self, options: &ListOptions) -> Self;

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
    memory: usize,
    stall_budget: u32,
    trust_total: bool,
    resume: Option<ResumePoint>,
}

impl Default for PageOptions {
    fn default() -> Self {
        Self {
            page_size: DEFAULT_PAGE_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            memory: DEFAULT_PAGE_MEMORY,
            stall_budget: DEFAULT_STALL_BUDGET,
            trust_total: false,
            resume: None,
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

    /// What the pages of a walk may take in memory, in bytes: the page
    /// being read, the next one once it has come, and the pages fetched
    /// ahead (default
    /// [`DEFAULT_PAGE_MEMORY`]). Rows are held as their JSON text until
    /// taken, so a page is measured as the text of its rows plus a few
    /// words each; with the largest page seen so far as the estimate, the
    /// walk fetches `min(concurrency, memory / page - 2)` pages at once, at
    /// least one.
    #[must_use]
    pub fn memory(mut self, bytes: usize) -> Self {
        self.memory = bytes;
        self
    }

    /// Requests in a row that bring no new row the walk may make before it
    /// stops with [`Error::WalkStopped`](crate::Error::WalkStopped) (default [`DEFAULT_STALL_BUDGET`]).
    #[must_use]
    pub fn stall_budget(mut self, requests: u32) -> Self {
        self.stall_budget = requests;
        self
    }

    /// Ends the walk at a short page when the largest `TotalCount` seen says
    /// it is the last, instead of confirming with one more request. Saves a
    /// request per walk (a second one for a list that fits one page); a
    /// server that both shortens a page and undercounts would end the walk
    /// early.
    #[must_use]
    pub fn trust_total_count(mut self) -> Self {
        self.trust_total = true;
        self
    }

    /// Takes a walk up again after the row of `point` (from
    /// [`Error::resume_point`](crate::Error::resume_point)), with the same query.
    #[must_use]
    pub fn resume_after(mut self, point: ResumePoint) -> Self {
        self.resume = Some(point);
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
    /// let plans: Vec<_> = client.list(client.list_plans(), &query).try_collect().await?;
    /// println!("{} active plans", plans.len());
    /// # Ok(()) }
    /// ```
    pub fn list<'a, R>(&self, request: R, query: &Query) -> Rows<'a, <R::Page as ListPage>::Row>
    where
        R: ListRequest<'a>,
    {
        let mut options = PageOptions::default()
            .concurrency(self.inner.page_concurrency)
            .memory(self.inner.page_memory);
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

/// Starts a walk over `request` (a list builder of a client, which sends
/// every page through that client's runtime); see the module docs.
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
    let fetch = Box::new(move |skip: u32, top: u32| {
        let top = NonZeroU32::new(top).unwrap_or(DEFAULT_PAGE_SIZE);
        let request = base.clone().apply(&ListOptions {
            skip: Some(i32::try_from(skip).unwrap_or(i32::MAX)),
            top: Some(top),
            ..ListOptions::default()
        });
        async move {
            let page = client_core::request::send_as::<_, lazy::RawPage>(
                request,
                client_core::call::CallOptions::default(),
                crate::error::parse_error_body,
            )
            .await?;
            lazy::window(page, skip)
        }
        .boxed()
    });
    let settings = Settings {
        page: options.page_size.get(),
        concurrency: options.concurrency.get(),
        memory: options.memory,
        start,
        stall_budget: options.stall_budget,
        trust_total: options.trust_total,
        resume: options.resume,
    };
    let batches = stream::unfold(Walker::new(fetch, settings), |mut walker| async move {
        let batch = walker.next_batch().await?;
        Some((batch, walker))
    })
    .boxed();
    // Each row is decoded when the consumer takes it; a page's rows are
    // ready at once, so the walk spends tokio's budget and yields now and
    // then (its requests in flight progress meanwhile).
    client_core::stream::cooperative(lazy::Taken::new(batches, options.resume)).boxed()
}
