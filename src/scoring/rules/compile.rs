//! Compiling rule lists: terms normalised into keys for one automaton per profile and view,
//! regexes into one set per profile and view, and the version hash.

use std::collections::{BTreeMap, HashMap};

use aho_corasick::{AhoCorasick, MatchKind};
use regex::{Regex, RegexBuilder, RegexSetBuilder};
use regex_syntax::hir::{Capture, Hir, HirKind, Look, Repetition};
use serde::Serialize;
use sha2::{Digest, Sha256};
use toml::Spanned;
use unicode_script::{Script, UnicodeScript};

use super::matcher::{Matcher, TermRule};
use super::{ListInfo, Profile, Rule, RuleSet, primary_subtag};
use crate::config::ConfigError;
use crate::config::rules::{RuleEntry, RuleList, RulesSection};
use crate::domain::Flags;
use crate::domain::{Action, Category};
use crate::scoring::normalize::words::is_word_char;
use crate::scoring::normalize::{NORMALIZER_VERSION, Target, View, normalize_term};

/// How regex rules are compiled everywhere (also used to validate config): case-insensitive
/// because text is case-folded but patterns may be written with capitals.
pub fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).case_insensitive(true).build()
}

/// `pattern` without its word-boundary assertions, for the prefilter set.
///
/// The regex crate's fast DFAs give up on Unicode `\b` as soon as the text has a non-ASCII
/// char (any Cyrillic comment), leaving a RegexSet to its slowest engine. Dropping the
/// assertions can only widen what a pattern matches, so the relaxed set still finds every
/// regex that might match; only those are then run with their real boundaries.
fn relaxed_pattern(pattern: &str) -> Result<String, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(true)
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())?;
    Ok(without_word_boundaries(&hir).to_string())
}

fn without_word_boundaries(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Look(look) if is_word_boundary(*look) => Hir::empty(),
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            sub: Box::new(without_word_boundaries(&r.sub)),
            ..r.clone()
        }),
        HirKind::Capture(c) => Hir::capture(Capture {
            sub: Box::new(without_word_boundaries(&c.sub)),
            ..c.clone()
        }),
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(without_word_boundaries).collect()),
        HirKind::Alternation(parts) => {
            Hir::alternation(parts.iter().map(without_word_boundaries).collect())
        }
        _ => hir.clone(),
    }
}

fn is_word_boundary(look: Look) -> bool {
    !matches!(
        look,
        Look::Start | Look::End | Look::StartLF | Look::EndLF | Look::StartCRLF | Look::EndCRLF
    )
}

#[derive(Default)]
struct ViewBuilder {
    keys: Vec<String>,
    key_index: HashMap<String, usize>,
    terms: Vec<Vec<TermRule>>,
    regexes: Vec<(String, usize)>,
}

impl ViewBuilder {
    fn add_term(&mut self, v: &View, rule: usize, open_start: bool, open_end: bool) {
        let key = v.squeezed.as_string();
        let chars = v.squeezed.chars();
        let term = TermRule {
            rule,
            runs: v.runs.clone(),
            check_start: !open_start && chars.first().is_some_and(|&c| is_word_char(c)),
            check_end: !open_end && chars.last().is_some_and(|&c| is_word_char(c)),
            open_start,
            open_end,
        };
        let next = self.keys.len();
        let i = *self.key_index.entry(key.clone()).or_insert(next);
        if i == next {
            self.keys.push(key);
            self.terms.push(Vec::new());
        }
        self.terms[i].push(term);
    }

    fn build(self) -> Result<Matcher, String> {
        let terms = if self.keys.is_empty() {
            None
        } else {
            // Standard semantics with overlapping search: every key ending anywhere is
            // reported, so a short term inside a longer one is not lost.
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&self.keys)
                .map_err(|e| format!("cannot build term automaton: {e}"))?;
            Some((ac, self.terms))
        };
        let regexes = if self.regexes.is_empty() {
            None
        } else {
            let relaxed = self
                .regexes
                .iter()
                .map(|(p, _)| relaxed_pattern(p))
                .collect::<Result<Vec<_>, _>>()?;
            let set = RegexSetBuilder::new(relaxed)
                .build()
                .map_err(|e| format!("cannot build regex set: {e}"))?;
            let each = self
                .regexes
                .iter()
                .map(|(p, rule)| build_regex(p).map(|r| (r, *rule)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            Some((set, each))
        };
        Ok(Matcher { terms, regexes })
    }
}

#[derive(Default)]
struct ProfileBuilder {
    lists: Vec<usize>,
    views: BTreeMap<Target, ViewBuilder>,
}

pub(super) fn compile(section: &RulesSection) -> Result<RuleSet, Vec<ConfigError>> {
    let errors = section.validate();
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut errors = Vec::new();
    let mut lists = Vec::new();
    let mut rules = Vec::new();
    let mut profiles: BTreeMap<Flags, ProfileBuilder> = BTreeMap::new();
    for (li, list) in section.lists().enumerate() {
        lists.push(ListInfo {
            name: list.name.get_ref().clone(),
            category: list.category,
            languages: list
                .languages
                .iter()
                .map(|l| primary_subtag(l.get_ref()))
                .collect(),
        });
        let flags = list.normalize;
        let profile = profiles.entry(flags).or_default();
        profile.lists.push(li);
        for term in &list.terms {
            let entry = term.get_ref();
            let written = entry.text.trim();
            let (open_start, open_end) = (written.starts_with('*'), written.ends_with('*'));
            let core = written.trim_matches('*');
            let rule = rules.len();
            rules.push(Rule {
                list: li,
                text: written.to_string(),
                action: entry.action.unwrap_or(list.action),
            });
            let views = term_views(core, &flags);
            if views.is_empty() {
                errors.push(list.error_at(
                    term.span(),
                    format!("term `{written}` is empty after normalisation"),
                ));
            }
            for (target, v) in views {
                let builder = profile.views.entry(target).or_default();
                builder.add_term(&v, rule, open_start, open_end);
            }
        }
        for regex in &list.regex {
            let entry = regex.get_ref();
            let rule = rules.len();
            rules.push(Rule {
                list: li,
                text: entry.text.clone(),
                action: entry.action.unwrap_or(list.action),
            });
            // Cyrillic patterns run on the native view, which spells ё as е.
            let (target, pattern) = if entry.text.chars().any(|c| c.script() == Script::Cyrillic) {
                let folded = entry.text.replace('ё', "е").replace('Ё', "Е");
                (Target::Native, folded)
            } else {
                (Target::Latin, entry.text.clone())
            };
            let builder = profile.views.entry(target).or_default();
            builder.regexes.push((pattern, rule));
        }
    }
    let mut built = Vec::new();
    for (flags, p) in profiles {
        let mut matchers = Vec::new();
        for (target, vb) in p.views {
            match vb.build() {
                Ok(m) => matchers.push((target, m)),
                Err(message) => errors.push(ConfigError::whole_file(
                    std::path::Path::new("[rules]"),
                    message,
                )),
            }
        }
        if !matchers.is_empty() {
            built.push(Profile {
                flags,
                lists: p.lists,
                matchers,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(RuleSet {
        lists,
        rules,
        profiles: built,
        version: version(section),
    })
}

/// The views a term is compiled in: Latin terms in the Latin view; terms in another script
/// (Cyrillic) in the native view, and also in the Latin view when every letter has a Latin
/// look-alike, so "сука" typed as Latin "cyka" still hits.
fn term_views(core: &str, flags: &Flags) -> Vec<(Target, View)> {
    let latin = normalize_term(core, flags, Target::Latin);
    if latin.squeezed.is_empty() {
        return Vec::new();
    }
    let native = normalize_term(core, flags, Target::Native);
    let foreign = |v: &View| {
        v.squeezed
            .chars()
            .iter()
            .any(|c| c.is_alphabetic() && c.script() != Script::Latin)
    };
    if !foreign(&native) {
        return vec![(Target::Latin, latin)];
    }
    let mut views = vec![(Target::Native, native)];
    if !foreign(&latin) {
        views.push((Target::Latin, latin));
    }
    views
}

#[derive(Serialize)]
struct CanonicalList<'a> {
    name: &'a str,
    category: Category,
    action: Action,
    languages: Vec<&'a str>,
    normalize: Flags,
    terms: Vec<(&'a str, Option<Action>)>,
    regex: Vec<(&'a str, Option<Action>)>,
}

#[derive(Serialize)]
struct Canonical<'a> {
    format: u32,
    normalizer: u32,
    lists: Vec<CanonicalList<'a>>,
}

/// sha256 of a canonical JSON rendering of the effective rules: independent of file
/// layout, comments and formatting, changed by any list, term, action or switch.
fn version(section: &RulesSection) -> String {
    let canonical = Canonical {
        format: 1,
        normalizer: NORMALIZER_VERSION,
        lists: section.lists().map(canonical_list).collect(),
    };
    let json = serde_json::to_vec(&canonical).expect("serialisable");
    let digest = Sha256::digest(&json);
    hex::encode(&digest[..8])
}

fn canonical_list(list: &RuleList) -> CanonicalList<'_> {
    CanonicalList {
        name: list.name.get_ref(),
        category: list.category,
        action: list.action,
        languages: list
            .languages
            .iter()
            .map(|l| l.get_ref().as_str())
            .collect(),
        normalize: list.normalize,
        terms: entries(&list.terms),
        regex: entries(&list.regex),
    }
}

fn entries(v: &[Spanned<RuleEntry>]) -> Vec<(&str, Option<Action>)> {
    v.iter()
        .map(|e| (e.get_ref().text.as_str(), e.get_ref().action))
        .collect()
}
