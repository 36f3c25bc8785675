//! 公示 — notice boards: publishing one for several cases, the boards staff see, and the
//! public board of a division (no sign-in; only the whitelisted fields exist there).

use chrono::NaiveDate;
use minzheng_domain::cases::{board_scope, NoticeBatch, PublicNotice};
use minzheng_domain::{Actor, DivisionCode};
use minzheng_store::cases as store;

use crate::{App, Error, Result};

/// The notices duty of [`App`].
pub struct Notices<'a> {
    app: &'a App,
}

impl App {
    pub fn notices(&self) -> Notices<'_> {
        Notices { app: self }
    }
}

impl Notices<'_> {
    /// Publishes one board for several cases of one village or township awaiting their
    /// notice; returns the board's id. Each case's step is the state machine's decision.
    pub async fn publish(
        &self,
        actor: &Actor,
        division_code: &str,
        case_ids: &[i64],
        on: NaiveDate,
    ) -> Result<i64> {
        self.app
            .cases()
            .publish_notice(actor, division_code, case_ids, on)
            .await
    }

    /// The boards of the actor's townships, newest first (the latest 200).
    pub async fn list(&self, actor: &Actor) -> Result<Vec<NoticeBatch>> {
        Ok(store::batches(self.app.store(), &board_scope(&actor.scope), None).await?)
    }

    /// One board, for its print page.
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<NoticeBatch> {
        store::batches(self.app.store(), &board_scope(&actor.scope), Some(id))
            .await?
            .pop()
            .ok_or(Error::NotFound("该公示"))
    }

    /// What is on the boards of a division and everything inside it on `on`. Public: no
    /// actor, and only whitelisted fields. Read from the read replica when there is one
    /// (a board just published shows there a moment later; the staff's own list of
    /// boards, where they land after publishing, reads the primary).
    pub async fn public(
        &self,
        division: &DivisionCode,
        on: NaiveDate,
    ) -> Result<Vec<PublicNotice>> {
        Ok(store::public_notices(self.app.reader(), division, on).await?)
    }

    /// The full name of a division for the public board (四川省雅安市雨城区东城街道); the
    /// divisions are public. Not found when no such division is on record.
    pub async fn public_place(&self, division: &DivisionCode) -> Result<String> {
        let all = minzheng_domain::Scope::all();
        let path = minzheng_store::divisions::path(self.app.reader(), &all, division).await?;
        if path.last().is_none_or(|d| d.code != division.as_str()) {
            return Err(crate::Error::NotFound("该地区"));
        }
        Ok(path.into_iter().map(|d| d.name).collect())
    }
}
