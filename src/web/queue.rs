//! The queue views: Pending, Reported, Removed, Approved.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::layout::Layout;
use super::session::ConsoleSession;
use super::view::{ItemView, REMOVAL_REASONS};
use super::{fail, render};
use crate::app::AppState;
use crate::domain::Language;
use crate::store::articles::{self, ArticleChoice};
use crate::store::queue::{self, Cursor, QueueQuery, QueueState, Sort};

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct Filter {
    article_id: Option<String>,
    language: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[derive(Template)]
#[template(path = "web/queue.html")]
struct QueuePage {
    layout: Layout,
    state: &'static str,
    items: Vec<ItemView>,
    articles: Vec<ArticleChoice>,
    /// The detected languages to filter by: (code, name).
    languages: Vec<(&'static str, &'static str)>,
    article_id: String,
    language: String,
    sort: &'static str,
    reasons: &'static [(&'static str, &'static str)],
    /// This page's URL, where form posts return to.
    back: String,
    next_href: Option<String>,
}

fn sort_name(s: Sort) -> &'static str {
    match s {
        Sort::Oldest => "oldest",
        Sort::Newest => "newest",
        Sort::Score => "score",
    }
}

pub async fn page(
    State(app): State<AppState>,
    session: ConsoleSession,
    Path(state): Path<String>,
    Query(f): Query<Filter>,
) -> Response {
    let Some(state) = QueueState::parse(&state) else {
        return fail(StatusCode::NOT_FOUND, "not_found", "no such queue", false);
    };
    let article_id = non_empty(&f.article_id);
    // Comments carry their detected language's code; anything else filters nothing.
    let language = non_empty(&f.language)
        .and_then(|l| Language::parse(&l))
        .map(|l| l.code().to_string());
    let sort = f
        .sort
        .as_deref()
        .and_then(Sort::parse)
        .unwrap_or(Sort::Oldest);
    let query = QueueQuery {
        state,
        article_id: article_id.clone(),
        language: language.clone(),
        sort,
        // A stale or hand-edited cursor just starts from the top.
        cursor: f
            .cursor
            .as_deref()
            .and_then(Cursor::decode)
            .filter(|c| c.continues(sort)),
        limit: PAGE_SIZE,
    };
    let mut keep: Vec<(&str, &str)> = Vec::new();
    if let Some(a) = &article_id {
        keep.push(("article_id", a));
    }
    if let Some(l) = &language {
        keep.push(("language", l));
    }
    if sort != Sort::Oldest {
        keep.push(("sort", sort_name(sort)));
    }
    let filter = serde_html_form::to_string(&keep).unwrap_or_default();

    let db = app.store.reader();
    let loaded = async {
        let layout = Layout::new(
            &app,
            &session,
            state.as_str(),
            article_id.as_deref(),
            &filter,
        )
        .await?;
        let page = queue::list(db, &query).await?;
        let articles = articles::with_comments(db, 500).await?;
        Ok::<_, crate::store::DbError>((layout, page, articles))
    };
    let (layout, page, articles) = match loaded.await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "loading the queue failed");
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "could not load the queue",
                false,
            );
        }
    };
    let live = app.live();
    let policy = &live.config.policy;
    let base = format!("/console/queue/{}", state.as_str());
    let with = |extra: Option<(&str, &str)>| {
        let mut q = keep.clone();
        q.extend(extra);
        let qs = serde_html_form::to_string(&q).unwrap_or_default();
        if qs.is_empty() {
            base.clone()
        } else {
            format!("{base}?{qs}")
        }
    };
    let back = with(f.cursor.as_deref().map(|c| ("cursor", c)));
    let next_href = page
        .next_cursor
        .as_deref()
        .map(|c| with(Some(("cursor", c))));
    render(&QueuePage {
        layout,
        state: state.as_str(),
        items: page
            .items
            .into_iter()
            .map(|i| ItemView::new(i, policy))
            .collect(),
        articles,
        languages: Language::ALL.map(|l| (l.code(), l.name())).to_vec(),
        article_id: article_id.unwrap_or_default(),
        language: language.unwrap_or_default(),
        sort: sort_name(sort),
        reasons: &REMOVAL_REASONS,
        back,
        next_href,
    })
}
