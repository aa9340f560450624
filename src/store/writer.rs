//! The write path. Every write of the service goes through here, on the single writer
//! connection, so SQLite never sees two of our writers compete for its lock.

use super::articles::{self, Article, ArticleUpdate};
use super::authors::Author;
use super::comments::{self, Inserted, IntakeError, IntakeMeta};
use super::moderation::{self, Actor, DecisionError, DecisionOutcome};
use super::reports::{self, ReportError, ReportOutcome};
use super::{DbError, Store};
use crate::domain::comment::NewComment;
use crate::domain::moderation::{AuthorAction, DecisionAction};
use crate::scoring::Verdict;

#[derive(Clone)]
pub struct Writer {
    store: Store,
}

impl Writer {
    pub fn new(store: Store) -> Writer {
        Writer { store }
    }

    /// Store a comment and its verdict in one transaction; returns once committed.
    pub async fn insert_comment(
        &self,
        new: NewComment,
        verdict: Verdict,
        meta: IntakeMeta,
    ) -> Result<Inserted, IntakeError> {
        comments::insert(self.store.writer(), &new, &verdict, &meta).await
    }

    pub async fn upsert_article(&self, id: &str, update: ArticleUpdate) -> Result<Article, DbError> {
        articles::upsert(self.store.writer(), id, &update).await
    }

    pub async fn add_report(
        &self,
        comment_id: i64,
        reason: &str,
        note: Option<String>,
        client_ip: Option<String>,
        reports_to_queue: u32,
    ) -> Result<ReportOutcome, ReportError> {
        reports::add(
            self.store.writer(),
            comment_id,
            reason,
            note.as_deref(),
            client_ip.as_deref(),
            reports_to_queue,
        )
        .await
    }

    /// Apply one decision to many comments in one transaction; one result per id, in order.
    /// A comment whose transition is invalid is reported and skipped; the others apply.
    pub async fn decide(
        &self,
        ids: Vec<i64>,
        action: DecisionAction,
        reason: Option<&str>,
        note: Option<String>,
        actor: Actor,
    ) -> Result<Vec<Result<DecisionOutcome, DecisionError>>, DbError> {
        let mut tx = self.store.writer().begin().await?;
        let mut results = Vec::with_capacity(ids.len());
        for id in ids {
            match moderation::decide_in(&mut tx, id, action, reason, note.as_deref(), &actor).await {
                Err(DecisionError::Db(e)) => return Err(e),
                r => results.push(r),
            }
        }
        tx.commit().await?;
        Ok(results)
    }

    pub async fn set_author_standing(
        &self,
        author_key: String,
        action: AuthorAction,
        reason: Option<String>,
        note: Option<String>,
        actor: Actor,
    ) -> Result<Option<Author>, DbError> {
        moderation::set_author_standing(
            self.store.writer(),
            &author_key,
            action,
            reason.as_deref(),
            note.as_deref(),
            &actor,
        )
        .await
    }
}
