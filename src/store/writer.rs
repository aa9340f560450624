//! The write path. Every write of the service goes through here, on the single writer
//! connection, so SQLite never sees two of our writers compete for its lock.
//!
//! Comment intake uses group commit: concurrent inserts are queued to one task that
//! writes up to `max_batch` of them in one transaction (a refused comment writes nothing,
//! so it does not undo the others) and answers each only after COMMIT. A group takes a
//! fixed number of round trips to the connection's thread whatever its size
//! ([`comments::insert_group`]), so the writer's serial work per comment stays small.
//! With `synchronous = FULL` that is one fsync per batch instead of one per comment.
//!
//! Every write here that changes comments or articles is an accounted write (see
//! [`super::versions`]): it holds the connection from before its first statement until
//! after it has bumped the versions of the articles it changed, which happens after COMMIT
//! and before the caller is answered. So a reader sees an accepted comment, a decision or a
//! report on the next read, cached threads included.

use tokio::sync::{mpsc, oneshot};

use super::articles::{self, Article, ArticleUpdate};
use super::authors::Author;
use super::comments::{self, Inserted, IntakeError, IntakeMeta};
use super::moderation::{self, Actor, DecisionError, DecisionOutcome};
use super::reports::{self, ReportError, ReportOutcome};
use super::{Conn, DbError, Store};
use crate::domain::comment::NewComment;
use crate::domain::moderation::{AuthorAction, DecisionAction};
use crate::domain::{Status, Verdict};

struct InsertJob {
    new: NewComment,
    verdict: Verdict,
    meta: IntakeMeta,
    reply: oneshot::Sender<Result<Inserted, IntakeError>>,
}

#[derive(Clone)]
pub struct Writer {
    store: Store,
    /// `None` when group commit is off: each comment commits on its own.
    intake: Option<mpsc::Sender<InsertJob>>,
}

impl Writer {
    /// `max_batch` > 1 turns on group commit for comment intake.
    pub fn new(store: Store, max_batch: usize) -> Writer {
        let intake = (max_batch > 1).then(|| {
            let (tx, rx) = mpsc::channel(max_batch * 8);
            tokio::spawn(group_commit(store.clone(), rx, max_batch));
            tx
        });
        Writer { store, intake }
    }

    /// Store a comment and its verdict; returns once committed.
    pub async fn insert_comment(
        &self,
        new: NewComment,
        verdict: Verdict,
        meta: IntakeMeta,
    ) -> Result<Inserted, IntakeError> {
        let Some(intake) = &self.intake else {
            let mut conn = self.store.writer().acquire().await?;
            let accounted = self.store.versions().begin();
            let inserted = comments::insert(conn.conn(), &new, &verdict, &meta).await?;
            match inserted.duplicate {
                true => accounted.finish([], []),
                false => accounted.finish([new.article_id.as_str()], [inserted.id]),
            }
            return Ok(inserted);
        };
        let (reply, rx) = oneshot::channel();
        let job = InsertJob {
            new,
            verdict,
            meta,
            reply,
        };
        intake
            .send(job)
            .await
            .map_err(|_| IntakeError::Db(DbError::PoolClosed))?;
        rx.await.map_err(|_| IntakeError::Db(DbError::PoolClosed))?
    }

    pub async fn upsert_article(
        &self,
        id: &str,
        update: ArticleUpdate,
    ) -> Result<Article, DbError> {
        let mut conn = self.store.writer().acquire().await?;
        let accounted = self.store.versions().begin();
        let article = articles::upsert(conn.conn(), id, &update).await?;
        accounted.finish([id], []);
        Ok(article)
    }

    pub async fn add_report(
        &self,
        comment_id: i64,
        reason: &str,
        note: Option<String>,
        client_ip: Option<String>,
        reports_to_queue: u32,
    ) -> Result<ReportOutcome, ReportError> {
        let mut conn = self.store.writer().acquire().await?;
        let accounted = self.store.versions().begin();
        let outcome = reports::add(
            conn.conn(),
            comment_id,
            reason,
            note.as_deref(),
            client_ip.as_deref(),
            reports_to_queue,
        )
        .await?;
        let articles = articles_of(conn.conn(), &[comment_id]).await?;
        accounted.finish(articles.iter().map(String::as_str), [comment_id]);
        Ok(outcome)
    }

    /// Apply one decision to many comments in one transaction; one result per id, in order.
    /// A comment whose transition is invalid is reported and skipped; the others apply.
    pub async fn decide(
        &self,
        ids: Vec<i64>,
        action: DecisionAction,
        expected: Option<Status>,
        reason: Option<&str>,
        note: Option<String>,
        actor: Actor,
    ) -> Result<Vec<Result<DecisionOutcome, DecisionError>>, DbError> {
        let mut conn = self.store.writer().acquire().await?;
        let accounted = self.store.versions().begin();
        let mut tx = conn.begin().await?;
        let mut results = Vec::with_capacity(ids.len());
        for id in ids {
            match moderation::decide_in(
                tx.conn(),
                id,
                action,
                expected,
                reason,
                note.as_deref(),
                &actor,
            )
            .await
            {
                Err(DecisionError::Db(e)) => return Err(e),
                r => results.push(r),
            }
        }
        tx.commit().await?;
        let changed: Vec<i64> = results.iter().flatten().map(|o| o.id).collect();
        let articles = articles_of(conn.conn(), &changed).await?;
        accounted.finish(articles.iter().map(String::as_str), changed);
        Ok(results)
    }

    /// Changes only the author's row (no comment): not an accounted write.
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

/// Drain queued inserts into transactions of up to `max_batch` comments.
async fn group_commit(store: Store, mut rx: mpsc::Receiver<InsertJob>, max_batch: usize) {
    let mut jobs = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut jobs, max_batch).await > 0 {
        let batch: Vec<InsertJob> = std::mem::take(&mut jobs);
        match commit_batch(&store, &batch).await {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                // The transaction failed as a whole: nothing of this batch is stored.
                tracing::error!(error = %e, n = batch.len(), "group commit failed");
                for job in batch {
                    let _ = job
                        .reply
                        .send(Err(IntakeError::Db(DbError::Protocol(e.to_string()))));
                }
            }
        }
    }
}

/// The articles of these comments (an article id never changes).
async fn articles_of(conn: Conn<'_>, comment_ids: &[i64]) -> Result<Vec<String>, DbError> {
    if comment_ids.is_empty() {
        return Ok(Vec::new());
    }
    match conn {
        Conn::Sqlite(c) => {
            let ids =
                serde_json::to_string(comment_ids).map_err(|e| DbError::Encode(Box::new(e)))?;
            sqlx::query_scalar(
                "SELECT DISTINCT article_id FROM comments WHERE id IN (SELECT value FROM json_each($1))",
            )
            .bind(ids)
            .fetch_all(&mut *c)
            .await
        }
        Conn::Postgres(c) => {
            sqlx::query_scalar("SELECT DISTINCT article_id FROM comments WHERE id = ANY($1)")
                .bind(comment_ids)
                .fetch_all(&mut *c)
                .await
        }
    }
}

async fn commit_batch(
    store: &Store,
    batch: &[InsertJob],
) -> Result<Vec<Result<Inserted, IntakeError>>, DbError> {
    let mut conn = store.writer().acquire().await?;
    let accounted = store.versions().begin();
    let mut tx = conn.begin().await?;
    let group: Vec<comments::Intake<'_>> = batch
        .iter()
        .map(|job| (&job.new, &job.verdict, &job.meta))
        .collect();
    // A refused comment writes nothing, so it needs no savepoint to undo.
    let results = comments::insert_group(tx.conn(), &group).await?;
    tx.commit().await?;
    let stored = || {
        batch.iter().zip(&results).filter_map(|(job, r)| match r {
            Ok(i) if !i.duplicate => Some((job.new.article_id.as_str(), i.id)),
            _ => None,
        })
    };
    accounted.finish(stored().map(|(a, _)| a), stored().map(|(_, id)| id));
    Ok(results)
}
