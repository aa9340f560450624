//! The public thread page `/articles/{id}`: the thread exactly as readers see it through
//! the API (removed comments as placeholders, their replies kept), and a comment form that
//! posts to `POST /api/v1/comments` from an embedded script.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::view::display_time;
use super::{fail, render};
use crate::app::AppState;
use crate::domain::ArticleId;
use crate::store::articles;
use crate::store::comments::{self, ThreadNode};

const PAGE_SIZE: usize = 100;

pub struct NodeView {
    pub id: i64,
    pub author_name: String,
    pub body: String,
    pub created_at: String,
    pub created_display: String,
    pub removed: bool,
    pub replies: usize,
}

/// The tree flattened into open/close steps, so the template nests `<ol>`s without
/// recursion.
pub enum Step {
    Open(NodeView),
    Close,
}

fn flatten(nodes: Vec<ThreadNode>, out: &mut Vec<Step>) {
    for n in nodes {
        out.push(Step::Open(NodeView {
            id: n.id,
            author_name: n.author_name.unwrap_or_default(),
            body: n.body,
            created_display: display_time(&n.created_at),
            created_at: n.created_at,
            removed: n.removed,
            replies: n.replies.len(),
        }));
        flatten(n.replies, out);
        out.push(Step::Close);
    }
}

/// "1 Comment", "0 Comments", "12 Comments".
pub fn count_text(n: usize) -> String {
    if n == 1 {
        "1 Comment".into()
    } else {
        format!("{n} Comments")
    }
}

#[derive(Template)]
#[template(path = "web/thread.html")]
struct ThreadPage {
    article_id: String,
    title: String,
    url: Option<String>,
    closed: bool,
    count: usize,
    count_text: String,
    steps: Vec<Step>,
    next_href: Option<String>,
    /// `comments.max_chars`, counted by the form as the API counts (scalar values).
    max_chars: usize,
}

#[derive(Deserialize)]
pub struct ThreadQuery {
    cursor: Option<i64>,
}

fn csp(frame_ancestors: &[String]) -> HeaderValue {
    let ancestors = if frame_ancestors.is_empty() {
        "'none'".to_string()
    } else {
        frame_ancestors.join(" ")
    };
    let policy = super::CONSOLE_CSP.replace(
        "frame-ancestors 'none'",
        &format!("frame-ancestors {ancestors}"),
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(super::CONSOLE_CSP))
}

pub async fn page(
    State(app): State<AppState>,
    Path(article_id): Path<String>,
    Query(q): Query<ThreadQuery>,
) -> Response {
    let Ok(article_id) = ArticleId::parse("article_id", &article_id) else {
        return fail(StatusCode::NOT_FOUND, "not_found", "no such article", false);
    };
    let live = app.live();
    let db = app.store.reader();
    let loaded = async {
        let article = articles::read(db, article_id.as_str()).await?;
        let thread = comments::thread(
            db,
            article_id.as_str(),
            live.config.comments.hide_reported,
            q.cursor,
            PAGE_SIZE,
        )
        .await?;
        Ok::<_, crate::store::DbError>((article, thread))
    };
    let (article, thread) = match loaded.await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "loading a thread failed");
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "could not load the comments",
                false,
            );
        }
    };
    let mut steps = Vec::new();
    flatten(thread.comments, &mut steps);
    let next_href = thread.next_cursor.map(|c| {
        format!(
            "/articles/{}?cursor={c}",
            super::path_segment(article_id.as_str())
        )
    });
    let title = article
        .as_ref()
        .and_then(|a| a.title.clone())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| article_id.as_str().to_string());
    let mut res = render(&ThreadPage {
        article_id: article_id.as_str().to_string(),
        title,
        // Only web links: a stored `javascript:` URL must not become a link.
        url: article
            .as_ref()
            .and_then(|a| a.url.clone())
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        closed: article.as_ref().is_some_and(|a| a.closed),
        count: thread.count,
        count_text: count_text(thread.count),
        steps,
        next_href,
        max_chars: live.config.comments.max_chars,
    });
    res.headers_mut().insert(
        CONTENT_SECURITY_POLICY,
        csp(&live.config.console.thread_frame_ancestors),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_text_is_singular_for_one() {
        assert_eq!(count_text(0), "0 Comments");
        assert_eq!(count_text(1), "1 Comment");
        assert_eq!(count_text(2), "2 Comments");
    }

    #[test]
    fn frame_ancestors_follow_config() {
        assert!(
            csp(&[])
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        let v = csp(&["https://news.example".into()]);
        assert!(
            v.to_str()
                .unwrap()
                .contains("frame-ancestors https://news.example;")
        );
    }
}
