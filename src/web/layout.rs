//! What every console page shows around its content: who is signed in, the queue tabs
//! with their counts, the CSRF token for forms and scripts.

use super::session::ConsoleSession;
use crate::app::AppState;
use crate::store::DbError;
use crate::store::queue::{self, QueueState};

pub struct Tab {
    pub key: &'static str,
    pub label: &'static str,
    pub count: Option<i64>,
    pub href: String,
}

pub struct Layout {
    pub title: String,
    pub moderator: String,
    pub csrf: String,
    /// Key of the current tab (`pending`, …, `log`).
    pub active: &'static str,
    pub tabs: Vec<Tab>,
    pub undo_ms: u64,
}

fn label(s: QueueState) -> &'static str {
    match s {
        QueueState::Pending => "Pending",
        QueueState::Reported => "Reported",
        QueueState::Removed => "Removed",
        QueueState::Approved => "Approved",
    }
}

impl Layout {
    /// `filter` is the query string (without `?`) kept when switching tabs.
    pub async fn new(
        app: &AppState,
        session: &ConsoleSession,
        active: &'static str,
        article_id: Option<&str>,
        filter: &str,
    ) -> Result<Layout, DbError> {
        let counts = queue::counts(app.store.reader(), article_id).await?;
        let suffix = if filter.is_empty() {
            String::new()
        } else {
            format!("?{filter}")
        };
        let mut tabs: Vec<Tab> = counts
            .into_iter()
            .map(|(state, n)| Tab {
                key: state.as_str(),
                label: label(state),
                count: Some(n),
                href: format!("/console/queue/{}{suffix}", state.as_str()),
            })
            .collect();
        tabs.push(Tab {
            key: "log",
            label: "Moderation log",
            count: None,
            href: "/console/log".into(),
        });
        if session.moderator.role == crate::store::moderators::Role::Admin {
            tabs.push(Tab {
                key: "stats",
                label: "Agreement",
                count: None,
                href: "/console/stats".into(),
            });
        }
        let title = tabs
            .iter()
            .find(|t| t.key == active)
            .map(|t| t.label)
            .unwrap_or("Console");
        Ok(Layout {
            title: format!("{title} · modgate"),
            moderator: session.moderator.name.clone(),
            csrf: session.csrf_token(),
            active,
            tabs,
            undo_ms: app.live().config.console.undo_seconds * 1000,
        })
    }
}
