//! The service over real HTTP on a real port with a temporary SQLite file.

use crate::common;

use common::{THREAD, spawn_app, spawn_with, test_config};
use modgate::store::moderators::Role;
use serde_json::{Value, json};

fn find(nodes: &[Value], id: i64) -> Option<&Value> {
    for n in nodes {
        if n["id"] == id {
            return Some(n);
        }
        if let Some(found) = find(n["replies"].as_array().unwrap(), id) {
            return Some(found);
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_queue_and_log_end_to_end() {
    let app = spawn_app().await;
    let article = "kz-csto-2022";

    // Post the thread as top-level comments.
    let mut ids = Vec::new();
    let mut statuses = Vec::new();
    for (i, text) in THREAD.iter().enumerate() {
        let (code, body) = app
            .post_comment(article, None, &format!("reader{i}"), text)
            .await;
        assert_eq!(code, 201, "comment {i}: {body}");
        assert!(body["message"].is_string());
        assert!(
            body.get("scores").is_none(),
            "scores are not shown to the author"
        );
        ids.push(body["id"].as_i64().unwrap());
        statuses.push(body["status"].as_str().unwrap().to_string());
    }
    for i in [0, 1, 2] {
        assert_ne!(
            statuses[i],
            "published",
            "comment {} must not be published",
            i + 1
        );
    }
    for i in [3, 5, 6, 7] {
        assert_eq!(
            statuses[i],
            "published",
            "comment {} must be published",
            i + 1
        );
    }

    // Replies: none under a held comment (readers cannot see it: refused like a missing
    // parent), one under a published comment that a moderator removes later, one under a
    // published comment that stays.
    if statuses[0] == "pending" {
        let (code, out) = app
            .post_comment(article, Some(ids[0]), "replier", "I disagree with this.")
            .await;
        assert_eq!(
            (code, out["error"]["code"].as_str()),
            (422, Some("parent_not_found"))
        );
    }
    let (code, r1) = app
        .post_comment(
            article,
            Some(ids[6]),
            "replier",
            "I disagree with this, but let us keep it civil.",
        )
        .await;
    assert_eq!(code, 201, "{r1}");
    let reply_kept = r1["id"].as_i64().unwrap();
    let (code, r2) = app
        .post_comment(article, Some(ids[3]), "replier2", "Agreed, well said.")
        .await;
    assert_eq!(code, 201, "{r2}");
    let reply_to_published = r2["id"].as_i64().unwrap();

    // Held comments are not in the public thread, nor are replies under them.
    let (code, thread) = app
        .get_json(&format!("/api/v1/articles/{article}/comments"))
        .await;
    assert_eq!(code, 200);
    let comments = thread["comments"].as_array().unwrap();
    assert!(find(comments, ids[0]).is_none());
    assert_eq!(
        find(comments, ids[6]).unwrap()["replies"][0]["id"],
        reply_kept
    );
    assert_eq!(
        find(comments, ids[3]).unwrap()["replies"][0]["id"],
        reply_to_published
    );

    // A moderator works the queue.
    let token = app.moderator_token("aigerim", Role::Moderator).await;
    let (code, queue) = app
        .mod_get(&token, "/api/v1/moderation/queue?state=pending&sort=oldest")
        .await;
    assert_eq!(code, 200, "{queue}");
    let queued: Vec<i64> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["comment"]["id"].as_i64().unwrap())
        .collect();
    for i in [0, 1, 2] {
        if statuses[i] == "pending" {
            assert!(
                queued.contains(&ids[i]),
                "held comment {} is in the queue",
                i + 1
            );
        }
    }
    let item = &queue["items"][0];
    assert!(item["verdict"]["scores"]["toxic"].is_number());
    assert!(
        item["verdict"]["model_id"]
            .as_str()
            .unwrap()
            .starts_with("bilstm")
    );
    assert!(item["verdict"]["rules_version"].is_string());
    assert!(item["author"]["history"]["pending"].as_i64().unwrap() >= 1);
    assert_eq!(item["article"]["id"], article);

    // Remove comment 1 (the reply under it stays), approve a reply-less one if held.
    if statuses[0] == "pending" {
        let (code, out) = app
            .mod_post(
                &token,
                &format!("/api/v1/moderation/comments/{}/decision", ids[0]),
                &json!({"action": "remove", "reason": "hate_speech", "note": "dehumanising"}),
            )
            .await;
        assert_eq!(code, 200, "{out}");
        assert_eq!(out["status"], "removed");
    }
    // Removing again is an invalid transition.
    let (code, out) = app
        .mod_post(
            &token,
            &format!("/api/v1/moderation/comments/{}/decision", ids[0]),
            &json!({"action": "remove", "reason": "hate_speech"}),
        )
        .await;
    assert_eq!(code, 409, "{out}");
    assert_eq!(out["error"]["code"], "invalid_transition");
    // Remove without a reason is refused, naming the field.
    let (code, out) = app
        .mod_post(
            &token,
            &format!("/api/v1/moderation/comments/{}/decision", ids[4]),
            &json!({"action": "remove"}),
        )
        .await;
    assert_eq!(code, 422, "{out}");
    assert_eq!(out["error"]["field"], "reason");

    // Bulk-remove the other two held ones.
    let held: Vec<i64> = [1, 2]
        .iter()
        .filter(|&&i| statuses[i] == "pending")
        .map(|&i| ids[i])
        .collect();
    if !held.is_empty() {
        let (code, out) = app
            .mod_post(
                &token,
                "/api/v1/moderation/decisions",
                &json!({"ids": held, "action": "remove", "reason": "threat"}),
            )
            .await;
        assert_eq!(code, 200, "{out}");
        assert!(
            out["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["ok"] == true),
            "{out}"
        );
    }

    // A published comment with a reply is removed; the reply stays under the placeholder.
    let (code, out) = app
        .mod_post(
            &token,
            &format!("/api/v1/moderation/comments/{}/decision", ids[6]),
            &json!({"action": "remove", "reason": "off_topic"}),
        )
        .await;
    assert_eq!(code, 200, "{out}");

    // Comment 5 is not constrained by the policy; if it was held, a moderator approves it.
    if statuses[4] == "pending" {
        let (code, _) = app
            .mod_post(
                &token,
                &format!("/api/v1/moderation/comments/{}/decision", ids[4]),
                &json!({"action": "approve"}),
            )
            .await;
        assert_eq!(code, 200);
    }

    // The public thread keeps its shape.
    let (_, thread) = app
        .get_json(&format!("/api/v1/articles/{article}/comments"))
        .await;
    let comments = thread["comments"].as_array().unwrap();
    let removed = find(comments, ids[0]).expect("removed comment keeps its place");
    assert_eq!(removed["removed"], true);
    assert_eq!(
        removed["body"],
        "Comment removed for violating comments policy"
    );
    assert!(
        removed.get("author_name").is_none(),
        "no author on a placeholder"
    );
    assert!(
        !removed.to_string().contains("swine"),
        "no original text on a placeholder"
    );
    let removed_with_reply = find(comments, ids[6]).expect("removed comment keeps its place");
    assert_eq!(removed_with_reply["removed"], true);
    assert_eq!(
        removed_with_reply["replies"][0]["id"], reply_kept,
        "replies under a removed comment stay"
    );
    // Every comment is visible now (published or placeholder), plus the 2 replies.
    let visible = THREAD.len() + 2;
    assert_eq!(thread["count"], visible as i64);
    // Oldest first.
    let top: Vec<i64> = comments.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    let mut sorted = top.clone();
    sorted.sort();
    assert_eq!(top, sorted);

    // Replies to a removed comment are refused.
    let (code, out) = app.post_comment(article, Some(ids[0]), "x", "hello").await;
    assert_eq!(code, 422);
    assert_eq!(out["error"]["field"], "parent_id");

    // The moderation log names the moderator and the reason.
    let (code, log) = app.mod_get(&token, "/api/v1/moderation/log").await;
    assert_eq!(code, 200);
    let entries = log["entries"].as_array().unwrap();
    let by_mod: Vec<&Value> = entries.iter().filter(|e| e["actor"] == "aigerim").collect();
    assert!(by_mod.iter().any(|e| e["comment_id"] == ids[0]
        && e["action"] == "remove"
        && e["reason"] == "hate_speech"
        && e["old_status"] == "pending"
        && e["new_status"] == "removed"));

    // Restore brings it back; the removed queue shrinks.
    let (code, _) = app
        .mod_post(
            &token,
            &format!("/api/v1/moderation/comments/{}/decision", ids[0]),
            &json!({"action": "restore"}),
        )
        .await;
    assert_eq!(code, 200);
    let (_, approved) = app
        .mod_get(&token, "/api/v1/moderation/queue?state=approved")
        .await;
    assert!(
        approved["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["comment"]["id"] == ids[0])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderation_routes_need_a_token() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/moderation/queue",
        "/api/v1/moderation/log",
        "/api/v1/moderation/counts",
    ] {
        let (code, body) = app.get_json(path).await;
        assert_eq!(code, 401, "{path}");
        assert_eq!(body["error"]["code"], "unauthorized");
        let (code, _) = app.mod_get("mgt_0000000000000000_bogus", path).await;
        assert_eq!(code, 401, "{path} with a bogus token");
    }
    let token = app.moderator_token("mod1", Role::Moderator).await;
    let (code, _) = app.mod_get(&token, "/api/v1/moderation/moderators").await;
    assert_eq!(code, 403, "admin-only route refuses a moderator");
    let admin = app.moderator_token("boss", Role::Admin).await;
    let (code, _) = app.mod_get(&admin, "/api/v1/moderation/moderators").await;
    assert_eq!(code, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_move_a_comment_into_the_reported_queue() {
    let app = spawn_app().await;
    let (code, c) = app
        .post_comment(
            "a-rep",
            None,
            "nurlan",
            "The bridge opens on Monday, according to the city.",
        )
        .await;
    assert_eq!(code, 201);
    assert_eq!(c["status"], "published");
    let id = c["id"].as_i64().unwrap();
    let threshold = app.state.live().config.comments.reports_to_queue;
    let token = app.moderator_token("m", Role::Moderator).await;
    for n in 1..=threshold {
        let (code, out) = app
            .report_from(
                &format!("192.0.2.{n}"),
                id,
                &json!({"reason": "spam", "note": "ad"}),
            )
            .await;
        assert_eq!(code, 201, "{out}");
        let (_, q) = app
            .mod_get(&token, "/api/v1/moderation/queue?state=reported")
            .await;
        let in_queue = q["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["comment"]["id"] == id);
        assert_eq!(in_queue, n >= threshold, "after {n} reports");
    }
    let (_, q) = app
        .mod_get(&token, "/api/v1/moderation/queue?state=reported")
        .await;
    assert_eq!(q["items"][0]["reports"]["count"], threshold as i64);
    assert_eq!(
        q["items"][0]["reports"]["reasons"]["spam"],
        threshold as i64
    );
    // Still visible in the thread (hide_reported is off by default).
    let (_, thread) = app.get_json("/api/v1/articles/a-rep/comments").await;
    assert_eq!(thread["count"], 1);
    // Approving clears it from the reported queue.
    let (code, _) = app
        .mod_post(
            &token,
            &format!("/api/v1/moderation/comments/{id}/decision"),
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(code, 200);
    let (_, q) = app
        .mod_get(&token, "/api/v1/moderation/queue?state=reported")
        .await;
    assert!(q["items"].as_array().unwrap().is_empty());
    // After that approval the bar doubles, and one client counts once however often it
    // reports: the same reader flooding reports is answered with its first report.
    let in_reported = || async {
        let (_, q) = app
            .mod_get(&token, "/api/v1/moderation/queue?state=reported")
            .await;
        q["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["comment"]["id"] == id)
    };
    let (code, first) = app
        .report_from("198.51.100.1", id, &json!({"reason": "spam"}))
        .await;
    assert_eq!(code, 201, "{first}");
    for _ in 0..10 {
        let (code, again) = app
            .report_from("198.51.100.1", id, &json!({"reason": "offensive"}))
            .await;
        assert_eq!(code, 200, "{again}");
        assert_eq!(again["id"], first["id"]);
    }
    assert!(
        !in_reported().await,
        "one client re-queued an approved comment"
    );
    for n in 2..=(2 * threshold) {
        assert!(!in_reported().await, "re-queued after {} clients", n - 1);
        let (code, out) = app
            .report_from(&format!("198.51.100.{n}"), id, &json!({"reason": "spam"}))
            .await;
        assert_eq!(code, 201, "{out}");
    }
    assert!(in_reported().await, "twice the reports re-queue it");
    // Bad report reason.
    let (code, out) = app
        .post_json(
            &format!("/api/v1/comments/{id}/reports"),
            &json!({"reason": "boring"}),
        )
        .await;
    assert_eq!(code, 422);
    assert_eq!(out["error"]["field"], "reason");
    // Report notes follow the rules of every other free text.
    for note in ["nul\u{0}", "bell\u{7}", "x\u{202E}y", "\u{200B}"] {
        let (code, out) = app
            .report_from("203.0.113.9", id, &json!({"reason": "spam", "note": note}))
            .await;
        assert_eq!(code, 422, "{note:?}: {out}");
        assert_eq!(out["error"]["field"], "note", "{note:?}: {out}");
    }
    let (code, _) = app
        .post_json(
            "/api/v1/comments/999999/reports",
            &json!({"reason": "spam"}),
        )
        .await;
    assert_eq!(code, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (code, first) = app
        .post_comment("a1", None, "ann", "A first, fine comment.")
        .await;
    assert_eq!(code, 201);
    let first_id = first["id"].as_i64().unwrap();
    let (code, other) = app
        .post_comment("a2", None, "ann", "On another article.")
        .await;
    assert_eq!(code, 201);
    let other_id = other["id"].as_i64().unwrap();
    let before = (
        app.count_rows("comments").await,
        app.count_rows("verdicts").await,
    );

    let long = "я".repeat(1501);
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"author_name": "a", "body": "x"}), 422, "article_id"),
        (
            json!({"article_id": "", "author_name": "a", "body": "x"}),
            422,
            "article_id",
        ),
        (
            json!({"article_id": 7, "author_name": "a", "body": "x"}),
            422,
            "article_id",
        ),
        (json!({"article_id": "a1", "body": "x"}), 422, "author_name"),
        (
            json!({"article_id": "a1", "author_name": ["a"], "body": "x"}),
            422,
            "author_name",
        ),
        (json!({"article_id": "a1", "author_name": "a"}), 422, "body"),
        (
            json!({"article_id": "a1", "author_name": "a", "body": "   \n "}),
            422,
            "body",
        ),
        (
            json!({"article_id": "a1", "author_name": "a", "body": long}),
            422,
            "body",
        ),
        // Nothing visible, control characters, bidi overrides, stacked combining marks.
        (
            json!({"article_id": "a1", "author_name": "a", "body": "\u{200B}\u{FEFF}"}),
            422,
            "body",
        ),
        (
            json!({"article_id": "a1", "author_name": "a", "body": "beep\u{7}\u{1b}[2J"}),
            422,
            "body",
        ),
        (
            json!({"article_id": "a1", "author_name": "a", "body": "evil\u{202E}txt.exe"}),
            422,
            "body",
        ),
        (
            json!({"article_id": "a1", "author_name": "a", "body": format!("a{}", "\u{0301}".repeat(1499))}),
            422,
            "body",
        ),
        (
            json!({"article_id": "a1", "author_name": "a\nb", "body": "x"}),
            422,
            "author_name",
        ),
        (
            json!({"article_id": "a1", "author_name": "a", "body": 5}),
            422,
            "body",
        ),
        (
            json!({"article_id": "a1", "author_name": "a", "body": "x", "author_email": "not-an-email"}),
            422,
            "author_email",
        ),
        (
            json!({"article_id": "a1", "author_name": "a", "body": "x", "parent_id": "12"}),
            422,
            "parent_id",
        ),
        (
            json!({"article_id": "a1", "author_name": "a", "body": "x", "parent_id": 987654}),
            422,
            "parent_id",
        ),
        (
            json!({"article_id": "a1", "author_name": "a", "body": "x", "parent_id": other_id}),
            422,
            "parent_id",
        ),
        (json!(["not", "an", "object"]), 422, "body"),
    ];
    for (input, code, field) in &cases {
        let (got, out) = app.post_json("/api/v1/comments", input).await;
        assert_eq!(got, *code, "input {input}: {out}");
        assert_eq!(out["error"]["field"], *field, "input {input}: {out}");
        assert!(out["error"]["message"].as_str().unwrap().len() > 5);
    }

    // Raw bodies: malformed JSON, invalid UTF-8, wrong content type, oversize.
    let raw = |body: Vec<u8>, ct: &'static str| {
        app.client
            .post(app.url("/api/v1/comments"))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let r = raw(b"{\"article_id\": \"a1\", ".to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "malformed_json"
    );
    let mut bad = br#"{"article_id": "a1", "author_name": "a", "body": ""#.to_vec();
    bad.extend_from_slice(&[0xff, 0xfe]);
    bad.extend_from_slice(b"\"}");
    let r = raw(bad, "application/json").await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_utf8"
    );
    let r = raw(b"body=hi".to_vec(), "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    let huge = format!(
        r#"{{"article_id": "a1", "author_name": "a", "body": "{}"}}"#,
        "x".repeat(200_000)
    );
    let r = raw(huge.into_bytes(), "application/json").await.unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let r = raw(deep.into_bytes(), "application/json").await.unwrap();
    assert_eq!(r.status().as_u16(), 400);

    let after = (
        app.count_rows("comments").await,
        app.count_rows("verdicts").await,
    );
    assert_eq!(before, after, "nothing stored by refused requests");
    assert_eq!(
        app.count_rows("articles").await,
        2,
        "no article created by refused requests"
    );

    // A closed article refuses new comments.
    let token = app.moderator_token("admin", Role::Admin).await;
    let r = app
        .client
        .put(app.url("/api/v1/articles/a1"))
        .bearer_auth(&token)
        .json(&json!({"title": "Bridge", "closed": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (code, out) = app
        .post_comment("a1", Some(first_id), "bob", "late reply")
        .await;
    assert_eq!(code, 409, "{out}");
    assert_eq!(out["error"]["code"], "article_closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_everything() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let db = dir.path().join("modgate.db");
    let config = test_config(&db);
    let app = spawn_with(config.clone(), dir.clone()).await;
    let (code, c) = app
        .post_comment("persist", None, "ann", "Kept across restarts.")
        .await;
    assert_eq!(code, 201);
    let id = c["id"].as_i64().unwrap();
    let token = app.moderator_token("keeper", Role::Moderator).await;
    let (code, _) = app
        .mod_post(
            &token,
            &format!("/api/v1/moderation/comments/{id}/decision"),
            &json!({"action": "remove", "reason": "spam"}),
        )
        .await;
    assert_eq!(code, 200);
    app.server.abort();
    let _ = app.server.await;
    app.state.store.close().await;

    let app2 = spawn_with(config, dir).await;
    let (_, thread) = app2.get_json("/api/v1/articles/persist/comments").await;
    assert_eq!(thread["count"], 1);
    assert_eq!(thread["comments"][0]["removed"], true);
    let (code, log) = app2.mod_get(&token, "/api/v1/moderation/log").await;
    assert_eq!(code, 200, "the token still works after a restart");
    assert_eq!(log["entries"][0]["actor"], "keeper");
}

/// Makes `author` pre-moderated (through a first, published comment on `article`), so every
/// later comment of theirs is held.
async fn premoderate(app: &common::TestApp, token: &str, article: &str, author: &str) {
    let (code, first) = app
        .post_comment(article, None, author, "A first, ordinary comment.")
        .await;
    assert_eq!(code, 201, "{first}");
    let (code, out) = app
        .mod_post(
            token,
            "/api/v1/moderation/authors",
            &json!({"comment_id": first["id"], "action": "premoderate", "reason": "spam"}),
        )
        .await;
    assert_eq!(code, 200, "{out}");
}

/// A reply to a held comment is refused exactly like a reply to a comment that does not
/// exist (readers cannot see the parent, and nothing may go live under it); once the
/// parent is approved, replies are accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_to_a_held_comment_are_refused_like_a_missing_parent() {
    let app = spawn_app().await;
    let token = app.moderator_token("mod", Role::Moderator).await;
    premoderate(&app, &token, "held-parent", "quiet").await;
    let (code, held) = app
        .post_comment(
            "held-parent",
            None,
            "quiet",
            "A second comment, held for review.",
        )
        .await;
    assert_eq!(code, 201, "{held}");
    assert_eq!(held["status"], "pending");

    let (code, reply) = app
        .post_comment(
            "held-parent",
            held["id"].as_i64(),
            "reader",
            "I agree with this.",
        )
        .await;
    let (missing_code, missing) = app
        .post_comment("held-parent", Some(999_999), "reader", "I agree with this.")
        .await;
    assert_eq!(code, 422, "{reply}");
    assert_eq!(reply["error"]["code"], "parent_not_found");
    assert_eq!(
        (code, &reply),
        (missing_code, &missing),
        "the answers differ"
    );

    let path = format!("/api/v1/moderation/comments/{}/decision", held["id"]);
    let (code, out) = app
        .mod_post(&token, &path, &json!({"action": "approve"}))
        .await;
    assert_eq!(code, 200, "{out}");
    let (code, reply) = app
        .post_comment(
            "held-parent",
            held["id"].as_i64(),
            "reader",
            "I agree with this.",
        )
        .await;
    assert_eq!(code, 201, "{reply}");
}

/// Posting under someone's e-mail with another name does not rename them for moderators:
/// each comment shows the name it was posted with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_under_a_known_email_does_not_rename_its_author() {
    let app = spawn_app().await;
    let token = app.moderator_token("mod", Role::Moderator).await;
    let post = |name: &'static str, body: &'static str| {
        let app = &app;
        async move {
            app.post_json(
                "/api/v1/comments",
                &json!({"article_id": "names", "author_name": name,
                        "author_email": "aida@example.org", "body": body}),
            )
            .await
        }
    };
    let (code, first) = post("Aida", "The first comment, by Aida.").await;
    assert_eq!(code, 201, "{first}");
    let (code, second) = post("Mallory", "A second one, under Aida's e-mail.").await;
    assert_eq!(code, 201, "{second}");
    for (c, name) in [(&first, "Aida"), (&second, "Mallory")] {
        let (code, item) = app
            .mod_get(&token, &format!("/api/v1/moderation/comments/{}", c["id"]))
            .await;
        assert_eq!(code, 200, "{item}");
        assert_eq!(item["author"]["name"], name, "{item}");
        assert_eq!(item["author"]["key"], "email:aida@example.org");
    }
}

/// Two moderators decide one held comment at the same moment (approve and remove): with
/// the status they saw, exactly one decision applies and the other gets 409
/// `status_changed`, so the comment is never briefly public on its way to removal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_decisions_on_one_comment_do_not_both_apply() {
    let app = spawn_app().await;
    let token = app.moderator_token("mod", Role::Moderator).await;
    premoderate(&app, &token, "conflict", "held").await;
    for trial in 0..8 {
        let (code, c) = app
            .post_comment(
                "conflict",
                None,
                "held",
                &format!("Held comment number {trial}."),
            )
            .await;
        assert_eq!((code, c["status"].as_str()), (201, Some("pending")), "{c}");
        let path = format!("/api/v1/moderation/comments/{}/decision", c["id"]);
        let approve = json!({"action": "approve", "expected_status": "pending"});
        let remove = json!({"action": "remove", "reason": "spam", "expected_status": "pending"});
        let (a, r) = tokio::join!(
            app.mod_post(&token, &path, &approve),
            app.mod_post(&token, &path, &remove)
        );
        let mut codes = [a.0, r.0];
        codes.sort();
        assert_eq!(codes, [200, 409], "trial {trial}: {a:?} {r:?}");
        let loser = if a.0 == 409 { &a.1 } else { &r.1 };
        assert_eq!(loser["error"]["code"], "status_changed", "{loser}");
        let (_, log) = app
            .mod_get(
                &token,
                &format!("/api/v1/moderation/log?comment_id={}", c["id"]),
            )
            .await;
        let decisions = log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "approve" || e["action"] == "remove")
            .count();
        assert_eq!(decisions, 1, "{log}");
    }
    // A stale status is refused even alone; a bad one names the field.
    let (code, c) = app
        .post_comment("conflict", None, "held", "One more held comment.")
        .await;
    assert_eq!(code, 201);
    let path = format!("/api/v1/moderation/comments/{}/decision", c["id"]);
    let (code, out) = app
        .mod_post(
            &token,
            &path,
            &json!({"action": "remove", "reason": "spam", "expected_status": "published"}),
        )
        .await;
    assert_eq!(
        (code, out["error"]["code"].as_str()),
        (409, Some("status_changed"))
    );
    let (code, out) = app
        .mod_post(
            &token,
            &path,
            &json!({"action": "approve", "expected_status": "gone"}),
        )
        .await;
    assert_eq!(
        (code, out["error"]["field"].as_str()),
        (422, Some("expected_status")),
        "{out}"
    );
}
