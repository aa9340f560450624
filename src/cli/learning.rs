//! `modgate calibrate` and `modgate export-decisions`: what the moderators' decisions say
//! about the thresholds, and the decisions as training rows ([`crate::learning`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::domain::Label;
use crate::learning::calibration::{self, Calibration};
use crate::learning::{CurrentVersions, export};
use crate::scoring::classifier::{self};
use crate::scoring::pipeline::Scorer;
use crate::store::decisions::{self, DecisionRow};

#[derive(clap::Args)]
pub struct CalibrateArgs {
    /// Only decisions from this date (2026-11-30) or RFC 3339 time on.
    #[arg(long)]
    pub since: Option<String>,
    /// Only comments detected as this language (en, ru, kk, uz, de, es, fr, it, pt, tr);
    /// default: each language with decisions, one after another.
    #[arg(long)]
    pub language: Option<String>,
    /// Only this label (toxic, severe_toxic, obscene, threat, insult, identity_hate);
    /// default: all six.
    #[arg(long)]
    pub label: Option<String>,
    /// The largest share of held comments moderators may approve (false holds).
    #[arg(long, default_value_t = 0.2)]
    pub max_false_holds: f64,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// CSV file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Only decisions from this date (2026-11-30) or RFC 3339 time on.
    #[arg(long)]
    pub since: Option<String>,
    /// Only comments detected as this language.
    #[arg(long)]
    pub language: Option<String>,
}

/// The decisions and what is in force now (loads the model to know its id).
fn read_decisions(
    config: Option<&Path>,
    since: Option<&str>,
    language: Option<&str>,
) -> Result<(Vec<DecisionRow>, CurrentVersions)> {
    let config = super::load_config(config)?;
    let filter = crate::learning::filter(since, language)
        .map_err(|e| anyhow::anyhow!("--{} {}", e.field, e.message))?;
    let scorer = Scorer::from_config(&config)
        .map_err(|errors| anyhow::anyhow!("invalid config: {} problems", errors.len()))?;
    let model = classifier::load(&config).context("loading the classifier")?;
    let current = CurrentVersions {
        model_ids: model.model_ids().into_iter().map(str::to_string).collect(),
        rules_version: scorer.rules_version().to_string(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let rows = runtime.block_on(async {
        let store = crate::startup::open_store(&config).await?;
        Ok::<_, anyhow::Error>(decisions::list(store.reader(), &filter).await?)
    })?;
    Ok((rows, current))
}

pub fn calibrate(config: Option<&Path>, args: CalibrateArgs) -> Result<ExitCode> {
    if !(0.0..=1.0).contains(&args.max_false_holds) {
        anyhow::bail!("--max-false-holds must be between 0 and 1");
    }
    let labels: Vec<Label> = match args.label.as_deref() {
        None => Label::ALL.to_vec(),
        Some(l) => vec![Label::parse(l).with_context(|| {
            format!(
                "--label {l}: expected one of {}",
                Label::ALL.map(Label::as_str).join(", ")
            )
        })?],
    };
    let (rows, current) = read_decisions(config, args.since.as_deref(), args.language.as_deref())?;
    let (samples, older) = calibration::samples(&rows, &current);
    let languages: Vec<Option<String>> = match &args.language {
        Some(_) => vec![samples.first().and_then(|(r, _)| r.language.clone())],
        None => {
            let mut seen: Vec<Option<String>> =
                samples.iter().map(|(r, _)| r.language.clone()).collect();
            seen.sort();
            seen.dedup();
            seen
        }
    };
    let mut results: Vec<Calibration> = Vec::new();
    for language in &languages {
        for &label in &labels {
            // Comments without a language (no letters) are calibrated with every language.
            results.push(calibration::calibrate(
                &samples,
                label,
                language.as_deref(),
                args.max_false_holds,
            ));
        }
    }
    let any = results.iter().any(|c| c.recommended.is_some());
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "max_false_holds": args.max_false_holds,
                "decisions": samples.len(),
                "older_model_decisions": older,
                "min_decisions": calibration::MIN_DECISIONS,
                "min_each": calibration::MIN_EACH,
                "calibrations": results,
            }))?
        );
    } else {
        print_tables(&results, samples.len(), older, args.max_false_holds);
    }
    if samples.is_empty() {
        eprintln!(
            "no decisions to calibrate on: at least {} per label and language, {} of them removals and {} approvals, are needed",
            calibration::MIN_DECISIONS,
            calibration::MIN_EACH,
            calibration::MIN_EACH
        );
    }
    Ok(if any {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn print_tables(results: &[Calibration], decisions: usize, older: usize, target: f64) {
    println!(
        "{decisions} decided comments scored by the current model ({older} decided on an older model's verdicts left out); target: at most {:.0}% false holds",
        target * 100.0
    );
    println!(
        "(precision and recall are over the comments moderators decided: held and reported ones)"
    );
    let mut paste = Vec::new();
    for c in results {
        let language = c.language.as_deref().unwrap_or("all languages");
        println!();
        println!(
            "{} / {language}: {} decisions, {} removed, {} approved",
            c.label, c.decisions, c.removed, c.approved
        );
        if let Some(why) = &c.refused {
            println!("  no threshold: {why}");
            if c.decisions < calibration::MIN_DECISIONS {
                continue;
            }
        }
        println!("  threshold  held  precision  recall  false holds");
        let pct =
            |v: Option<f64>| v.map_or("     -".to_string(), |v| format!("{:5.1}%", v * 100.0));
        for p in &c.points {
            let mark = if Some(p.threshold) == c.recommended {
                "  <-"
            } else {
                ""
            };
            println!(
                "  {:9.2}  {:4}  {:>9}  {:>6}  {:>11}{mark}",
                p.threshold,
                p.held,
                pct(p.precision),
                pct(p.recall),
                pct(p.false_hold_rate)
            );
        }
        if let Some(lines) = &c.config_lines {
            paste.push(lines.clone());
        }
    }
    if !paste.is_empty() {
        println!();
        println!("# config.toml lines (merge into the tables you already have):");
        for lines in paste {
            println!("{lines}");
        }
    }
}

pub fn export_decisions(config: Option<&Path>, args: ExportArgs) -> Result<ExitCode> {
    let (rows, current) = read_decisions(config, args.since.as_deref(), args.language.as_deref())?;
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let n = export::write_csv(&rows, &current, std::io::BufWriter::new(file))
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote {n} decided comments to {} (fine-tune with: cd models && .venv/bin/python -m modgate_models.train_e5_full ... --decisions {})",
        args.out.display(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
