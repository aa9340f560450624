//! `modgate eval`: score a labelled CSV file with the configured pipeline and report
//! ROC-AUC, precision/recall at the configured policy, and the same per group.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::io::Write;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use crate::domain::AuthorStanding;
use crate::eval::dataset::{self, Columns};
use crate::eval::report::{Item, Report};
use crate::scoring::policy::DecisionInput;

/// Texts per `score_batch` call: large enough to keep every core busy, small enough for a
/// smooth progress bar.
const BATCH: usize = 256;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// CSV file with a header row.
    pub file: PathBuf,
    /// Column holding the comment text.
    #[arg(long)]
    pub text_col: String,
    /// Column holding the gold label.
    #[arg(long)]
    pub label_col: String,
    /// Label value that means positive (default: numeric >= 0.5, `1` or `true`).
    #[arg(long)]
    pub positive: Option<String>,
    /// Also report per value of this column (e.g. `functionality`, `lang`).
    #[arg(long, conflicts_with = "group_by_identity_term")]
    pub group_col: Option<String>,
    /// Group rows by the configured identity terms (`[policy.identity] terms`) they
    /// mention, e.g. for bias_madlibs: per-term false-positive rate on non-toxic rows.
    #[arg(long)]
    pub group_by_identity_term: bool,
    /// Also print precision/recall of each label's score at a grid of thresholds.
    #[arg(long)]
    pub sweep: bool,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write every row's gold label and verdict to this file, one JSON object a line,
    /// for error analysis.
    #[arg(long)]
    pub dump: Option<PathBuf>,
}

pub fn run(config: Option<&Path>, args: EvalArgs) -> Result<ExitCode> {
    let config = super::load_config(config)?;
    let (scorer, classifier) = super::score::load_scoring(&config)?;
    let columns = Columns {
        text: args.text_col.clone(),
        label: args.label_col.clone(),
        positive: args.positive.clone(),
        group: args.group_col.clone(),
    };
    let examples = dataset::read_csv(&args.file, &columns)?;
    if args.positive.is_none() && !examples.iter().any(|e| e.label) {
        eprintln!(
            "warning: no positive labels in `{}`; pass --positive VALUE if positives are not 1/true",
            args.label_col
        );
    }

    // Hidden automatically when stderr is not a terminal.
    let progress = ProgressBar::new(examples.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} texts, {per_sec}, eta {eta}")
            .expect("valid template"),
    );
    let mut items = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(BATCH) {
        let texts: Vec<&str> = chunk.iter().map(|e| e.text.as_str()).collect();
        let verdicts =
            scorer.score_batch_with(classifier.as_ref(), &texts, AuthorStanding::default())?;
        for (example, verdict) in chunk.iter().zip(verdicts) {
            let groups = if args.group_by_identity_term {
                let terms = scorer.policy().identity_terms(&example.text);
                if terms.is_empty() {
                    vec!["(none)".to_string()]
                } else {
                    terms
                }
            } else {
                example.group.iter().cloned().collect()
            };
            // What the policy says without the counterfactual, to count what it changed.
            let (without_counterfactual, _) = scorer.policy().decide(&DecisionInput {
                scores: &verdict.scores,
                counterfactual: None,
                hits: &verdict.hits,
                author: AuthorStanding::default(),
                language: verdict.language,
            });
            items.push(Item {
                label: example.label,
                groups,
                verdict,
                without_counterfactual,
            });
        }
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    if let Some(path) = &args.dump {
        dump(path, &examples, &items)?;
    }

    let group_by = if args.group_by_identity_term {
        Some("identity_term")
    } else {
        args.group_col.as_deref()
    };
    let report = Report::compute(
        &args.file.display().to_string(),
        group_by,
        &items,
        args.sweep,
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(ExitCode::SUCCESS)
}

fn dump(path: &Path, examples: &[dataset::Example], items: &[Item]) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for (example, item) in examples.iter().zip(items) {
        let line = serde_json::json!({
            "text": example.text,
            "label": example.label,
            "groups": item.groups,
            "verdict": item.verdict,
        });
        writeln!(out, "{line}")?;
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))
}
