//! One commit group written with `insert_group` (a fixed number of statements for the whole
//! group) gives each comment the answer it would get alone: refusals, duplicates of stored
//! comments and of earlier comments in the same group, and the rows of the accepted ones.

use modgate::domain::ArticleId;
use modgate::domain::Scores;
use modgate::domain::comment::NewComment;
use modgate::domain::{Status, Verdict};
use modgate::store::Store;
use modgate::store::articles::ArticleUpdate;
use modgate::store::comments::{self, Inserted, IntakeError, IntakeMeta};
use modgate::store::writer::Writer;
use sqlx::Row;

fn comment(
    article: &str,
    parent: Option<i64>,
    name: &str,
    email: Option<&str>,
    body: &str,
) -> NewComment {
    NewComment {
        article_id: ArticleId::parse("article_id", article).unwrap(),
        parent_id: parent,
        author_name: name.into(),
        author_email: email.map(Into::into),
        body: body.into(),
    }
}

fn verdict(status: Status) -> Verdict {
    Verdict {
        status,
        scores: Scores([0.25, 0.5, 0.125, 0.0, 0.75, 0.0]),
        hits: Vec::new(),
        reasons: Vec::new(),
        model_id: "test-model".into(),
        rules_version: "test-rules".into(),
        language: None,
    }
}

fn meta(window: u64) -> IntakeMeta {
    IntakeMeta {
        client_ip: Some("192.0.2.7".into()),
        language: Some("en".into()),
        duplicate_window_secs: window,
        skip_webhook_events: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_answers_each_comment_as_if_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("g.db")).await.unwrap();
    let writer = Writer::new(store.clone(), 1);
    let closed = ArticleUpdate {
        closed: Some(true),
        ..Default::default()
    };
    writer.upsert_article("closed", closed).await.unwrap();
    let stored = |new: NewComment, status| {
        let writer = writer.clone();
        async move {
            writer
                .insert_comment(new, verdict(status), meta(600))
                .await
                .unwrap()
        }
    };
    let first = stored(comment("a", None, "Ann", None, "First!"), Status::Published).await;
    let elsewhere = stored(
        comment("b", None, "Bo", None, "Other article."),
        Status::Published,
    )
    .await;
    let gone = stored(
        comment("a", None, "Cy", None, "Removed one."),
        Status::Removed,
    )
    .await;

    let group = [
        (
            comment("a", None, "Dee", Some("dee@example.org"), "Hello"),
            Status::Published,
            600,
        ),
        (
            comment("a", None, "Dee", Some("dee@example.org"), "Hello"),
            Status::Published,
            600,
        ),
        (
            comment("closed", None, "Eve", None, "Too late"),
            Status::Published,
            600,
        ),
        (
            comment("a", Some(999_999), "Fay", None, "To nobody"),
            Status::Published,
            600,
        ),
        (
            comment("a", Some(elsewhere.id), "Gil", None, "Wrong thread"),
            Status::Published,
            600,
        ),
        (
            comment("a", Some(gone.id), "Hal", None, "Under a removed one"),
            Status::Published,
            600,
        ),
        (
            comment("a", Some(first.id), "Ivy", None, "A held reply"),
            Status::Pending,
            600,
        ),
        (
            comment("a", None, "Ann", None, "First!"),
            Status::Published,
            600,
        ),
        (
            comment("a", None, "Dee Renamed", Some("dee@example.org"), "Hello"),
            Status::Published,
            0,
        ),
    ];
    let verdicts: Vec<Verdict> = group.iter().map(|(_, s, _)| verdict(*s)).collect();
    let metas: Vec<IntakeMeta> = group.iter().map(|(_, _, w)| meta(*w)).collect();
    let intake: Vec<comments::Intake<'_>> = group
        .iter()
        .zip(verdicts.iter().zip(&metas))
        .map(|((new, _, _), (v, m))| (new, v, m))
        .collect();
    let mut conn = store.writer().acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    let results = comments::insert_group(tx.conn(), &intake).await.unwrap();
    tx.commit().await.unwrap();
    drop(conn);

    let ok = |i: usize| -> Inserted { *results[i].as_ref().unwrap() };
    let new0 = ok(0);
    assert!(!new0.duplicate && new0.status == Status::Published);
    assert_eq!(
        ok(1),
        Inserted {
            duplicate: true,
            ..new0
        },
        "duplicate inside the group"
    );
    assert!(matches!(results[2], Err(IntakeError::ArticleClosed)));
    assert!(matches!(results[3], Err(IntakeError::ParentNotFound)));
    assert!(matches!(results[4], Err(IntakeError::ParentNotFound)));
    assert!(matches!(results[5], Err(IntakeError::ParentRemoved)));
    let held = ok(6);
    assert!(!held.duplicate && held.status == Status::Pending);
    assert_eq!(
        ok(7),
        Inserted {
            duplicate: true,
            ..first
        },
        "duplicate of a stored comment"
    );
    let again = ok(8);
    assert!(!again.duplicate, "no duplicate window for this one");
    let ids = [new0.id, held.id, again.id];
    assert!(
        ids[0] > gone.id && ids[1] == ids[0] + 1 && ids[2] == ids[1] + 1,
        "{ids:?}"
    );

    // This test is about SQLite's group commit: its own file, read directly.
    let modgate::store::Pool::Sqlite(db) = store.reader() else {
        unreachable!("Store::open opens SQLite")
    };
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(db)
            .await
            .unwrap()
    };
    assert_eq!(count("SELECT COUNT(*) FROM comments").await, 6);
    assert_eq!(count("SELECT COUNT(*) FROM verdicts").await, 6);
    assert_eq!(
        count("SELECT COUNT(*) FROM moderation_log WHERE action = 'auto_hold'").await,
        1
    );
    let row = sqlx::query(
        "SELECT article_id, parent_id, author_key, body, status, max_score, language, client_ip
             FROM comments WHERE id = ?",
    )
    .bind(held.id)
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>("article_id"), "a");
    assert_eq!(row.get::<Option<i64>, _>("parent_id"), Some(first.id));
    assert_eq!(row.get::<String, _>("author_key"), "name:ivy");
    assert_eq!(row.get::<String, _>("body"), "A held reply");
    assert_eq!(row.get::<String, _>("status"), "pending");
    assert_eq!(row.get::<f64, _>("max_score"), 0.75);
    assert_eq!(
        row.get::<Option<String>, _>("language").as_deref(),
        Some("en")
    );
    assert_eq!(
        row.get::<Option<String>, _>("client_ip").as_deref(),
        Some("192.0.2.7")
    );
    let (log_comment, log_status): (i64, String) = sqlx::query_as(
        "SELECT comment_id, new_status FROM moderation_log WHERE action = 'auto_hold'",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!((log_comment, log_status.as_str()), (held.id, "pending"));
    let scores: String = sqlx::query_scalar("SELECT scores FROM verdicts WHERE comment_id = ?")
        .bind(again.id)
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(scores, serde_json::to_string(&verdicts[8].scores).unwrap());
    // The author's display name is the first one posted: a later post under the same
    // e-mail does not rename the author (each comment keeps its own name).
    let name: String = sqlx::query_scalar("SELECT display_name FROM authors WHERE key = ?")
        .bind("email:dee@example.org")
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(name, "Dee");
    let closed_exists: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM comments WHERE article_id = 'closed'")
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!(closed_exists, 0);
    store.close().await;
}
