//! Rule lists compiled into one Aho-Corasick automaton and one RegexSet per normalisation
//! profile, so the cost per comment does not grow with the number of terms.
//!
//! A comment is normalised ([`crate::scoring::normalize`]) into a Latin-folded view and a
//! native-script view; each term is compiled in the view of its own script. Term matches
//! are kept only on whole words (a trailing or leading `*` opens that side), regex matches
//! as the regex says. Hits of `allow` rules suppress the other hits they overlap.

use crate::domain::{Action, Category, RuleHit};

use crate::config::ConfigError;
use crate::config::rules::RulesSection;
use crate::scoring::normalize::{Target, View, prepare, view};

mod compile;
mod matcher;

use matcher::Matcher;

pub use compile::build_regex;

/// Hits of one check, with the hits that `allow` rules suppressed (for explanations).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Hits in force, including the `allow` hits themselves, sorted by start.
    pub hits: Vec<RuleHit>,
    /// Hits dropped because an `allow` hit overlaps them.
    pub suppressed: Vec<RuleHit>,
}

impl Checked {
    /// The strongest action among hits in force (`Allow` counts as none).
    pub fn strongest(&self) -> Option<Action> {
        self.hits
            .iter()
            .map(|h| h.action)
            .filter(|&a| a != Action::Allow)
            .max()
    }
}

/// A list's identity and scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListInfo {
    pub name: String,
    pub category: Category,
    /// Lower-case primary language subtags; empty means all languages.
    pub languages: Vec<String>,
}

impl ListInfo {
    fn applies(&self, lang: Option<&str>) -> bool {
        match lang {
            None => true,
            Some(l) => self.languages.is_empty() || self.languages.iter().any(|x| x == l),
        }
    }
}

/// One term or regex of a list, with its effective action.
#[derive(Clone, Debug)]
struct Rule {
    list: usize,
    text: String,
    action: Action,
}

/// Lists sharing one set of normalisation switches, matched together.
#[derive(Clone, Debug)]
struct Profile {
    flags: crate::domain::Flags,
    /// Lists with rules in this profile (to skip it when none applies to the language).
    lists: Vec<usize>,
    matchers: Vec<(Target, Matcher)>,
}

/// Compiled rule lists.
#[derive(Clone, Debug)]
pub struct RuleSet {
    lists: Vec<ListInfo>,
    rules: Vec<Rule>,
    profiles: Vec<Profile>,
    version: String,
}

/// A raw match: which rule, and where in the original text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    start: usize,
    end: usize,
    rule: usize,
}

impl RuleSet {
    /// Compiles every list of `section` (inline and included). Returns every problem found.
    pub fn compile(section: &RulesSection) -> Result<RuleSet, Vec<ConfigError>> {
        compile::compile(section)
    }

    /// Stable hash (sha256 hex) of the effective rules and normaliser version, recorded
    /// with every verdict.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn lists(&self) -> &[ListInfo] {
        &self.lists
    }

    /// Number of terms and regexes.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Hits in force for `text`, sorted by start; `allow` hits are included, hits they
    /// suppress are not. A list with `languages` applies when `lang` is `None` or listed.
    pub fn check(&self, text: &str, lang: Option<&str>) -> Vec<RuleHit> {
        self.check_explained(text, lang).hits
    }

    /// Like [`RuleSet::check`], also returning the suppressed hits.
    pub fn check_explained(&self, text: &str, lang: Option<&str>) -> Checked {
        let lang = lang.map(primary_subtag);
        let active: Vec<bool> = self
            .lists
            .iter()
            .map(|l| l.applies(lang.as_deref()))
            .collect();
        let rule_active = |rule: usize| active[self.rules[rule].list];
        let mut found = Vec::new();
        for profile in &self.profiles {
            if !profile.lists.iter().any(|&l| active[l]) {
                continue;
            }
            let prepared = prepare(text, &profile.flags);
            for (target, matcher) in &profile.matchers {
                let mut scan = |v: &View| matcher.scan(v, &rule_active, &mut found);
                let first = view(&prepared, &profile.flags, *target, 'i');
                scan(&first);
                if first.ambiguous_one {
                    scan(&view(&prepared, &profile.flags, *target, 'l'));
                }
            }
        }
        self.explain(found)
    }

    fn explain(&self, mut found: Vec<Found>) -> Checked {
        found.sort_unstable();
        found.dedup();
        let hits: Vec<RuleHit> = found
            .into_iter()
            .map(|f| {
                let rule = &self.rules[f.rule];
                let list = &self.lists[rule.list];
                RuleHit {
                    list: list.name.clone(),
                    category: list.category,
                    term: rule.text.clone(),
                    action: rule.action,
                    start: f.start,
                    end: f.end,
                }
            })
            .collect();
        let mut checked = Checked::default();
        for hit in &hits {
            if hit.allowed_by(&hits) {
                checked.suppressed.push(hit.clone());
            } else {
                checked.hits.push(hit.clone());
            }
        }
        checked
    }
}

/// "ru-RU" → "ru".
fn primary_subtag(lang: &str) -> String {
    lang.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}
