//! 救助标准和参数 — dated, regional parameters: the table the administration page shows,
//! adding a value (never editing one: a new figure is a new row with its own effective
//! date, so cases decided earlier keep theirs), and seeding a whole set.

use minzheng_domain::params::{parse_new_param, NewParam, ParamEntry, ParamInputError, ParamRow};
use minzheng_domain::repricing::{effective_month, programs_following, reprices};
use minzheng_domain::{Actor, ParamSet, YearMonth};
use minzheng_store::{append_audit, params as store, AuditEvent};

use crate::repricing::Prepared;
use crate::{App, Authorize, Error, Permission, Result};

/// A value added and the 调整标准 batches it prepared.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Added {
    pub id: i64,
    /// The month the new amounts are paid from, when the value can change amounts.
    pub repricing_month: Option<YearMonth>,
    /// The batches prepared (none when no enrolment's amount changes).
    pub repricing: Option<Prepared>,
    /// Why the preparation failed (the value is added all the same; the preparation may
    /// be run again from the 调标批次 page or the command line).
    pub repricing_error: Option<String>,
}

/// The parameters duty of [`App`].
pub struct Params<'a> {
    pub(crate) app: &'a App,
}

impl App {
    pub fn params(&self) -> Params<'_> {
        Params { app: self }
    }
}

impl Params<'_> {
    /// The rows (of one program, when given), newest first within each key. Every
    /// signed-in user may read them.
    pub async fn list(&self, _actor: &Actor, program: Option<&str>) -> Result<Vec<ParamRow>> {
        Ok(store::list(self.app.store(), program).await?)
    }

    /// All parameters as a resolvable set (what the rules read on a date and region).
    pub async fn set(&self, _actor: &Actor) -> Result<ParamSet> {
        Ok(store::load(self.app.store()).await?)
    }

    /// Whether the actor may add values (for drawing the form).
    pub fn may_add(&self, actor: &Actor) -> bool {
        actor.may(Permission::ManageParams)
    }

    /// Adds a dated value; returns its row id.
    pub async fn add(&self, actor: &Actor, input: &NewParam) -> Result<i64> {
        Ok(self.add_entry(actor, input).await?.0)
    }

    /// Adds a dated value and, when it can change monthly amounts, prepares the 调整标准
    /// batches of its region from its effective month (`app.repricing().prepare_standard`,
    /// in a transaction of its own after the value's): the city admin's new standard is
    /// before the directors as batches to sign at once.
    pub async fn add_and_reprice(&self, actor: &Actor, input: &NewParam) -> Result<Added> {
        let (id, entry) = self.add_entry(actor, input).await?;
        let mut added = Added {
            id,
            repricing_month: None,
            repricing: None,
            repricing_error: None,
        };
        let program = entry.key.program;
        if !reprices(entry.key.name) || programs_following(program).is_empty() {
            return Ok(added);
        }
        let month = effective_month(entry.effective_from);
        added.repricing_month = Some(month);
        match self
            .app
            .repricing()
            .prepare_standard(actor, program, month, Some(entry.region().as_str()))
            .await
        {
            Ok(p) => added.repricing = Some(p),
            Err(e) => added.repricing_error = Some(e.to_string()),
        }
        Ok(added)
    }

    pub(crate) async fn add_entry(
        &self,
        actor: &Actor,
        input: &NewParam,
    ) -> Result<(i64, ParamEntry)> {
        actor.require_or(
            Permission::ManageParams,
            "只有市民政局管理员可以维护救助参数",
        )?;
        let entry = parse_new_param(input, &actor.scope).map_err(|e| match e {
            ParamInputError::Field(f) => crate::cases::field_error(f),
            ParamInputError::OutsideScope => Error::NotFound("该地区"),
        })?;
        let st = self.app.store();
        if !minzheng_store::divisions::exists(st, entry.region().as_str()).await? {
            return Err(Error::NotFound("该地区"));
        }
        // The set checks type, scope and duplicates against what is stored.
        let mut set = store::load(st).await?;
        set.insert(entry.clone())
            .map_err(|e| Error::field("value_json", e.to_string()))?;
        let mut tx = st.begin_write().await?;
        let id = store::insert(&mut tx, actor, &entry).await?;
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "param.add",
                entity_type: "param",
                entity_id: &id.to_string(),
                scope_code: entry.region().as_str(),
                before: None,
                after: Some(serde_json::json!({
                    "program": entry.key.program.as_str(), "name": entry.key.name.code(),
                    "region": entry.region().as_str(),
                    "urban_rural": entry.scope.urban_rural.map(|u| u.as_str()),
                    "effective_from": entry.effective_from.to_string(),
                    "value": entry.value, "source": entry.source,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((id, entry))
    }

    /// Writes a whole set (demo seeding, first install) in one transaction with one audit
    /// record; rows already present are left alone. Returns how many were added.
    pub async fn seed(&self, actor: &Actor, set: &ParamSet) -> Result<usize> {
        actor.require_or(
            Permission::ManageParams,
            "只有市民政局管理员可以维护救助参数",
        )?;
        let mut tx = self.app.store().begin_write().await?;
        let n = store::insert_missing(&mut tx, actor, set).await?;
        if n > 0 {
            append_audit(
                &mut tx,
                actor,
                AuditEvent {
                    action: "param.seed",
                    entity_type: "param",
                    entity_id: "",
                    scope_code: "",
                    before: None,
                    after: Some(serde_json::json!({ "rows": n })),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}
