//! The moderation log: who did what, newest first.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::layout::Layout;
use super::session::ConsoleSession;
use super::view::display_time;
use super::{fail, render};
use crate::app::AppState;
use crate::store::moderation::{self, LogRow};

const PAGE_SIZE: i64 = 100;

pub struct Entry {
    pub created_at: String,
    pub created_display: String,
    pub actor: String,
    pub action: String,
    pub comment_id: Option<i64>,
    pub author_key: Option<String>,
    pub reason: String,
    pub note: String,
    pub change: String,
}

impl From<LogRow> for Entry {
    fn from(r: LogRow) -> Entry {
        let change = match (r.old_status.as_deref(), r.new_status.as_deref()) {
            (Some(a), Some(b)) => format!("{a} → {b}"),
            (None, Some(b)) => format!("→ {b}"),
            _ => String::new(),
        };
        Entry {
            created_display: display_time(&r.created_at),
            created_at: r.created_at,
            actor: r.actor,
            action: r.action,
            comment_id: r.comment_id,
            author_key: r.author_key,
            reason: r.reason.unwrap_or_default(),
            note: r.note.unwrap_or_default(),
            change,
        }
    }
}

#[derive(Template)]
#[template(path = "web/log.html")]
struct LogPage {
    layout: Layout,
    entries: Vec<Entry>,
    next_href: Option<String>,
}

#[derive(Deserialize)]
pub struct LogQuery {
    cursor: Option<i64>,
}

pub async fn page(
    State(app): State<AppState>,
    session: ConsoleSession,
    Query(q): Query<LogQuery>,
) -> Response {
    let loaded = async {
        let layout = Layout::new(&app, &session, "log", None, "").await?;
        let rows = moderation::list(app.store.reader(), q.cursor, PAGE_SIZE + 1, None).await?;
        Ok::<_, crate::store::DbError>((layout, rows))
    };
    let (layout, mut rows) = match loaded.await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "loading the moderation log failed");
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "could not load the log",
                false,
            );
        }
    };
    let next_href = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| format!("/console/log?cursor={}", r.id))
    } else {
        None
    };
    render(&LogPage {
        layout,
        entries: rows.into_iter().map(Entry::from).collect(),
        next_href,
    })
}
