//! Get-modify-put for PensionPro's updates, because a PUT replaces the whole
//! object: an update built from scratch would blank every field it leaves
//! out, and one without `Id` and `DataKey` is refused or hits the wrong row.
//!
//! [`Client::update_with`] fetches the current record, lets the caller
//! change it, puts back `Id` and `DataKey` exactly as fetched (whatever the
//! closure did to them) and sends the whole object.

use std::future::Future;

use pensionpro_client::types;

use crate::call::{Call, Response};
use crate::client::Client;
use crate::error::{Error, Result};

/// A record PensionPro identifies by `Id` and `DataKey`.
pub trait Entity: Clone {
    /// The record's `Id`.
    fn id(&self) -> Option<i32>;
    /// The record's `DataKey`.
    fn data_key(&self) -> Option<&str>;
    /// Restores `Id` and `DataKey` from `original`.
    fn keep_identity_of(&mut self, original: &Self);
}

macro_rules! entities {
    ($($entity:ident),* $(,)?) => {$(
        impl Entity for types::$entity {
            fn id(&self) -> Option<i32> {
                self.id
            }

            fn data_key(&self) -> Option<&str> {
                self.data_key.as_deref()
            }

            fn keep_identity_of(&mut self, original: &Self) {
                self.id = original.id;
                self.data_key.clone_from(&original.data_key);
            }
        }
    )*};
}

// Every entity the document has a PUT for.
entities!(
    Contact,
    Distribution,
    EmployeePlanRole,
    FeeSchedule,
    FeeScheduleItem,
    InvestmentProviderLink,
    LegalPlanFile,
    Note,
    Plan,
    PlanContactRole,
    PlanCycle,
    Project,
    ProjectFile,
    TaskItem,
    ToDo,
);

impl Client {
    /// Fetches a record with `get`, changes it with `modify`, and replaces it
    /// with `put`, keeping the fetched `Id` and `DataKey`; returns the PUT's
    /// response.
    ///
    /// ```no_run
    /// # async fn demo(client: pensionpro::Client) -> pensionpro::Result<()> {
    /// use pensionpro::Call;
    /// let api = client.api();
    /// let plan = client
    ///     .update_with(
    ///         || api.get_plan().plan_id(309388).send(),
    ///         |plan| plan.search_text = Some("priority".into()),
    ///         |plan| api.update_plan().plan_id(309388).body(plan).send(),
    ///     )
    ///     .await?;
    /// # let _ = plan; Ok(()) }
    /// ```
    pub async fn update_with<T, G, GF, M, P, PF>(
        &self,
        get: G,
        modify: M,
        put: P,
    ) -> Result<Response<T>>
    where
        T: Entity,
        G: FnOnce() -> GF,
        GF: Future<Output = Result<Response<T>>>,
        M: FnOnce(&mut T),
        P: FnOnce(T) -> PF,
        PF: Future<Output = Result<Response<T>>>,
    {
        // Boxed: two copies of a large entity would otherwise sit in the
        // caller's future.
        let current = Box::pin(get()).await?.into_inner();
        Box::pin(self.replace_with(current, modify, put)).await
    }

    /// Changes a record the caller already holds (for entities without a
    /// single GET, such as notes) and replaces it with `put`, keeping its
    /// `Id` and `DataKey`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when `current` has no `Id` or `DataKey`:
    /// it did not come from PensionPro and a PUT would replace nothing.
    pub async fn replace_with<T, M, P, PF>(
        &self,
        current: T,
        modify: M,
        put: P,
    ) -> Result<Response<T>>
    where
        T: Entity,
        M: FnOnce(&mut T),
        P: FnOnce(T) -> PF,
        PF: Future<Output = Result<Response<T>>>,
    {
        if current.id().is_none() || current.data_key().is_none() {
            return Err(Error::invalid_request(
                "the record has no Id or DataKey; fetch it before updating",
            ));
        }
        let mut changed = current.clone();
        modify(&mut changed);
        changed.keep_identity_of(&current);
        drop(current);
        Box::pin(put(changed)).await
    }

    /// Changes plan `plan_id` (GET, modify, PUT).
    pub async fn update_plan(
        &self,
        plan_id: i32,
        modify: impl FnOnce(&mut types::Plan),
    ) -> Result<Response<types::Plan>> {
        let api = self.api();
        self.update_with(
            || api.get_plan().plan_id(plan_id).send(),
            modify,
            |plan| api.update_plan().plan_id(plan_id).body(plan).send(),
        )
        .await
    }

    /// Changes project `project_id` (GET, modify, PUT).
    pub async fn update_project(
        &self,
        project_id: i32,
        modify: impl FnOnce(&mut types::Project),
    ) -> Result<Response<types::Project>> {
        let api = self.api();
        self.update_with(
            || api.get_project().project_id(project_id).send(),
            modify,
            |project| {
                api.update_project()
                    .project_id(project_id)
                    .body(project)
                    .send()
            },
        )
        .await
    }

    /// Changes contact `contact_id` (GET, modify, PUT).
    pub async fn update_contact(
        &self,
        contact_id: i32,
        modify: impl FnOnce(&mut types::Contact),
    ) -> Result<Response<types::Contact>> {
        let api = self.api();
        self.update_with(
            || api.get_contact().contact_id(contact_id).send(),
            modify,
            |contact| {
                api.update_contact()
                    .contact_id(contact_id)
                    .body(contact)
                    .send()
            },
        )
        .await
    }

    /// Changes to-do `todo_id` (GET, modify, PUT; needs the To-Dos category).
    pub async fn update_to_do(
        &self,
        todo_id: i32,
        modify: impl FnOnce(&mut types::ToDo),
    ) -> Result<Response<types::ToDo>> {
        let api = self.api();
        self.update_with(
            || api.get_to_do().todo_id(todo_id).send(),
            modify,
            |todo| api.update_to_do().todo_id(todo_id).body(todo).send(),
        )
        .await
    }

    /// Changes a note the caller listed (there is no GET of a single note)
    /// and PUTs it back (needs the Notes category).
    pub async fn update_note(
        &self,
        note: types::Note,
        modify: impl FnOnce(&mut types::Note),
    ) -> Result<Response<types::Note>> {
        let api = self.api();
        let note_id = note.id.unwrap_or_default();
        self.replace_with(note, modify, |note| {
            api.update_note().note_id(note_id).body(note).send()
        })
        .await
    }
}
