//! `/console/stats` (admins): the moderators' agreement with the system, drawn as
//! server-rendered SVG (no script, nothing inline for the CSP to refuse): the held
//! comments' approval rate per week, and per label the scores of the comments moderators
//! approved against those they removed, for one language or all.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::layout::Layout;
use super::session::ConsoleSession;
use super::{fail, render};
use crate::app::AppState;
use crate::domain::Label;
use crate::domain::Language;
use crate::learning::agreement::{self, AgreementReport, Group};
use crate::learning::{calibration, removed_as_abuse};
use crate::store::decisions::{self, DecisionFilter};
use crate::store::moderators::Role;

/// Chart area, in SVG user units.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 160.0;
const BINS: usize = 10;

pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    /// What a screen reader and a tooltip say.
    pub title: String,
    pub class: &'static str,
}

pub struct AxisLabel {
    pub x: String,
    pub text: String,
}

pub struct WeekChart {
    pub bars: Vec<Bar>,
    pub labels: Vec<AxisLabel>,
}

pub struct LabelChart {
    pub label: &'static str,
    pub approved: usize,
    pub removed: usize,
    pub bars: Vec<Bar>,
}

pub struct LanguageChoice {
    pub code: &'static str,
    pub name: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "web/stats.html")]
struct StatsPage {
    layout: Layout,
    language: String,
    languages: Vec<LanguageChoice>,
    report: AgreementReport,
    weeks: WeekChart,
    labels: Vec<LabelChart>,
    width: f64,
    height: f64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StatsQuery {
    language: Option<String>,
}

fn num(v: f64) -> String {
    format!("{v:.1}")
}

/// The held comments' approval rate per week (current model and rules).
fn week_chart(groups: &[Group]) -> WeekChart {
    let weeks = agreement::weekly_false_holds(groups);
    let slot = WIDTH / weeks.len().max(1) as f64;
    let mut bars = Vec::new();
    let mut labels = Vec::new();
    for (i, (week, held, false_holds)) in weeks.iter().enumerate() {
        let rate = if *held > 0 {
            *false_holds as f64 / *held as f64
        } else {
            0.0
        };
        let h = rate * HEIGHT;
        let x = i as f64 * slot + slot * 0.15;
        bars.push(Bar {
            x: num(x),
            y: num(HEIGHT - h),
            width: num(slot * 0.7),
            height: num(h),
            title: format!(
                "{week}: {false_holds} of {held} held comments approved ({:.0}%)",
                rate * 100.0
            ),
            class: "rate",
        });
        labels.push(AxisLabel {
            x: num(x + slot * 0.35),
            text: week.clone(),
        });
    }
    WeekChart { bars, labels }
}

/// Per label: how the scores of approved and of removed comments spread over ten bins.
fn label_charts(samples: &[(&decisions::DecisionRow, bool)]) -> Vec<LabelChart> {
    Label::ALL
        .iter()
        .map(|&label| {
            let mut counts = [[0usize; BINS]; 2];
            for (row, removed) in samples {
                let Some(v) = &row.verdict else { continue };
                let bin = ((v.scores.get(label) * BINS as f32) as usize).min(BINS - 1);
                counts[usize::from(*removed)][bin] += 1;
            }
            let approved: usize = counts[0].iter().sum();
            let removed: usize = counts[1].iter().sum();
            let most = counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
            let slot = WIDTH / BINS as f64;
            let mut bars = Vec::new();
            for (bin, pair) in counts[0].iter().zip(&counts[1]).enumerate() {
                for (side, n, class) in [(0, *pair.0, "approved"), (1, *pair.1, "removed")] {
                    let h = n as f64 / most * HEIGHT;
                    bars.push(Bar {
                        x: num(bin as f64 * slot + slot * (0.1 + 0.4 * side as f64)),
                        y: num(HEIGHT - h),
                        width: num(slot * 0.4),
                        height: num(h),
                        title: format!(
                            "{} {:.1}–{:.1}: {n} {class}",
                            label.as_str(),
                            bin as f64 / BINS as f64,
                            (bin + 1) as f64 / BINS as f64
                        ),
                        class,
                    });
                }
            }
            LabelChart {
                label: label.as_str(),
                approved,
                removed,
                bars,
            }
        })
        .collect()
}

pub async fn page(
    State(app): State<AppState>,
    session: ConsoleSession,
    Query(q): Query<StatsQuery>,
) -> Response {
    if session.moderator.role != Role::Admin {
        return fail(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the agreement figures are for admins",
            false,
        );
    }
    let language = q
        .language
        .as_deref()
        .and_then(Language::parse)
        .map(|l| l.code().to_string());
    let filter = DecisionFilter {
        since: None,
        language: language.clone(),
    };
    let loaded = async {
        let layout = Layout::new(&app, &session, "stats", None, "").await?;
        let rows = decisions::list(app.store.reader(), &filter).await?;
        let feedback =
            crate::store::feedback::scored(app.store.reader(), None, filter.language.as_deref())
                .await?;
        Ok::<_, crate::store::DbError>((layout, rows, feedback))
    };
    let (layout, rows, feedback) = match loaded.await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "loading decisions failed");
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "could not load the decisions",
                false,
            );
        }
    };
    let current = app.current_versions();
    let report = agreement::report(&rows, &feedback, &current);
    let (samples, _) = calibration::samples(&rows, &current);
    let samples: Vec<_> = samples
        .into_iter()
        .filter(|(row, _)| removed_as_abuse(row).is_some())
        .collect();
    render(&StatsPage {
        layout,
        languages: Language::ALL
            .iter()
            .map(|l| LanguageChoice {
                code: l.code(),
                name: l.name(),
                selected: Some(l.code()) == language.as_deref(),
            })
            .collect(),
        language: language.unwrap_or_default(),
        weeks: week_chart(&report.current),
        labels: label_charts(&samples),
        report,
        width: WIDTH,
        height: HEIGHT,
    })
}
