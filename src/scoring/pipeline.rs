//! The scoring pipeline: language → rules → classifier → identity counterfactual (when
//! needed) → policy.
//!
//! [`Scorer`] holds everything compiled from the config except the model. The synchronous
//! entry points ([`Scorer::score_with`], [`Scorer::score_batch_with`]) serve the CLI and
//! evaluation; the service runs the classifier through its async batcher and calls the
//! public steps itself: [`language::detect`], [`Scorer::check_rules`],
//! [`Scorer::counterfactual`], [`Scorer::verdict`] (or [`Scorer::unscored_verdict`] when
//! scoring failed). The detected language scopes the rule lists and picks the thresholds.

use super::classifier::{Classifier, ClassifierError};
use super::language::{self};
use super::policy::{Counterfactual, CounterfactualScores, DecisionInput, Policy};
use super::rules::RuleSet;
use crate::config::{Config, ConfigError};
use crate::domain::AuthorStanding;
use crate::domain::Language;
use crate::domain::RuleHit;
use crate::domain::Scores;
use crate::domain::Verdict;

pub struct Scorer {
    rules: RuleSet,
    policy: Policy,
}

impl Scorer {
    pub fn new(rules: RuleSet, policy: Policy) -> Scorer {
        Scorer { rules, policy }
    }

    /// Compile the rule lists and the `[policy]` section of a loaded config.
    pub fn from_config(config: &Config) -> Result<Scorer, Vec<ConfigError>> {
        let policy = Policy::new(&config.policy);
        let rules = RuleSet::compile(&config.rules);
        match (rules, policy) {
            (Ok(rules), Ok(policy)) => Ok(Scorer::new(rules, policy)),
            (rules, policy) => {
                let mut errors = rules.err().unwrap_or_default();
                if let Err(e) = policy {
                    errors.push(ConfigError::whole_file(
                        &config.source,
                        format!("policy.identity.terms: {e}"),
                    ));
                }
                Err(errors)
            }
        }
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn rules_version(&self) -> &str {
        self.rules.version()
    }

    /// Step 1: the rule hits for a text in `language` (its detected language): lists that
    /// name languages apply only to those, lists that name none to every text. A text
    /// without a language (no letters: "$#!7") is checked against every list.
    pub fn check_rules(&self, text: &str, language: Option<Language>) -> Vec<RuleHit> {
        self.rules.check(text, language.map(Language::code))
    }

    /// Step 2 (after the classifier): the text to re-score, if the policy needs one.
    pub fn counterfactual(
        &self,
        text: &str,
        scores: &Scores,
        hits: &[RuleHit],
        language: Option<Language>,
    ) -> Option<Counterfactual> {
        self.policy
            .counterfactual_text(text, scores, hits, language)
    }

    /// Step 3: decide and assemble the verdict.
    pub fn verdict(
        &self,
        model_id: &str,
        scores: Scores,
        hits: Vec<RuleHit>,
        counterfactual: Option<&CounterfactualScores>,
        author: AuthorStanding,
        language: Option<Language>,
    ) -> Verdict {
        let (verdict, reasons) = self.policy.decide(&DecisionInput {
            scores: &scores,
            counterfactual,
            hits: &hits,
            author,
            language,
        });
        Verdict {
            status: verdict,
            scores,
            hits,
            reasons,
            model_id: model_id.to_string(),
            rules_version: self.rules_version().to_string(),
            language,
        }
    }

    /// The verdict when the classifier failed or timed out: pending with reason `unscored`
    /// (zero scores; rule hits still recorded and applied).
    pub fn unscored_verdict(
        &self,
        model_id: &str,
        hits: Vec<RuleHit>,
        author: AuthorStanding,
        detail: &str,
        language: Option<Language>,
    ) -> Verdict {
        let (verdict, reasons) = self.policy.decide_unscored(&hits, author, detail);
        Verdict {
            status: verdict,
            scores: Scores::default(),
            hits,
            reasons,
            model_id: model_id.to_string(),
            rules_version: self.rules_version().to_string(),
            language,
        }
    }

    /// Score one text synchronously.
    pub fn score_with(
        &self,
        classifier: &dyn Classifier,
        text: &str,
        author: AuthorStanding,
    ) -> Result<Verdict, ClassifierError> {
        let mut verdicts = self.score_batch_with(classifier, &[text], author)?;
        Ok(verdicts.remove(0))
    }

    /// Score many texts with two `score_batch` calls at most: one for the texts, one for
    /// the counterfactual texts that the policy asks for.
    pub fn score_batch_with(
        &self,
        classifier: &dyn Classifier,
        texts: &[&str],
        author: AuthorStanding,
    ) -> Result<Vec<Verdict>, ClassifierError> {
        let languages: Vec<Option<Language>> = texts.iter().map(|t| language::detect(t)).collect();
        let hits: Vec<Vec<RuleHit>> = texts
            .iter()
            .zip(&languages)
            .map(|(t, &lang)| self.check_rules(t, lang))
            .collect();
        let scores = classifier.score_batch(texts)?;
        if scores.len() != texts.len() {
            return Err(ClassifierError::Inference(format!(
                "{} scores for {} texts",
                scores.len(),
                texts.len()
            )));
        }

        let wanted: Vec<(usize, Counterfactual)> = texts
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                self.counterfactual(t, &scores[i], &hits[i], languages[i])
                    .map(|c| (i, c))
            })
            .collect();
        let cf_texts: Vec<&str> = wanted.iter().map(|(_, c)| c.text.as_str()).collect();
        let cf_scores = if cf_texts.is_empty() {
            Vec::new()
        } else {
            classifier.score_batch(&cf_texts)?
        };
        let mut counterfactuals: Vec<Option<CounterfactualScores>> = vec![None; texts.len()];
        for ((i, cf), s) in wanted.into_iter().zip(cf_scores) {
            counterfactuals[i] = Some(cf.with_scores(s));
        }

        Ok(scores
            .into_iter()
            .zip(hits)
            .zip(counterfactuals)
            .zip(languages)
            .zip(texts)
            .map(|((((s, h), cf), lang), text)| {
                let model_id = classifier.model_id_for(text);
                self.verdict(model_id, s, h, cf.as_ref(), author, lang)
            })
            .collect())
    }
}
