//! Schema of rule lists in `config.toml` and the rule files it includes.
//!
//! ```toml
//! [rules]
//! include = ["rules/en.toml"]      # relative to config.toml's directory; each holds [[list]]
//! [[rules.list]]
//! name = "threats_en"
//! category = "threat"              # slur | threat | profanity | insult | spam | custom
//! action = "hold"                  # remove | hold | flag | allow
//! languages = ["en"]               # optional: en, ru, kk, uz, de, es, fr, it, pt, tr (the detected language);
//!                                  # applies to all languages when absent
//! terms = ["know where you live", "idiot*", { term = "i will kill you", action = "remove" }]
//! regex = ['\bpart\s+with\s+your\s+heads?\b', { pattern = '...', action = "remove" }]
//! normalize = { leet = false }     # optional switches, all default true
//! ```
//!
//! Values keep their position (`toml::Spanned`) and each list remembers the file it came
//! from, so problems are reported with the right file, line and column. Problems only
//! normalisation can find (a term that is empty once normalised) are found when
//! `scoring::rules` compiles the lists; `startup::load_config` runs both.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::ConfigError;
use crate::domain::Flags;
use crate::domain::Language;
use crate::domain::{Action, Category};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesSection {
    /// Rule files to load, relative to the config file's directory.
    pub include: Vec<Spanned<String>>,
    /// Lists written inline in the config file.
    pub list: Vec<RuleList>,
    /// Lists loaded from `include` by [`RulesSection::resolve`].
    #[serde(skip)]
    pub included: Vec<RuleList>,
}

/// One `[[list]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleList {
    pub name: Spanned<String>,
    pub category: Category,
    /// Default action of the list's terms and regexes.
    pub action: Action,
    /// Free text for operators; not used for matching.
    #[serde(default)]
    pub description: Option<String>,
    /// Languages the list applies to (e.g. `["ru"]`); empty means all.
    #[serde(default)]
    pub languages: Vec<Spanned<String>>,
    #[serde(default)]
    pub terms: Vec<Spanned<RuleEntry>>,
    #[serde(default)]
    pub regex: Vec<Spanned<RuleEntry>>,
    #[serde(default)]
    pub normalize: Flags,
    /// The file this list was read from.
    #[serde(skip)]
    pub source: Option<Arc<SourceText>>,
}

/// A term or regex, written either as a string or as a table with its own action:
/// `"idiot*"` or `{ term = "idiot*", action = "flag" }` (`pattern = ...` for regexes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleEntry {
    pub text: String,
    /// Overrides the list's action.
    pub action: Option<Action>,
}

/// A config or rule file's path and text, kept to turn byte spans into line and column.
pub struct SourceText {
    pub path: PathBuf,
    pub text: String,
}

impl fmt::Debug for SourceText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceText")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Top level of an included rule file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    list: Vec<RuleList>,
}

impl RulesSection {
    /// Parses a standalone rule file (top-level `[[list]]` tables).
    pub fn parse_file(path: &Path, text: &str) -> Result<Vec<RuleList>, ConfigError> {
        let file: RuleFile =
            toml::from_str(text).map_err(|e| ConfigError::from_toml(path, text, &e))?;
        let source = Arc::new(SourceText {
            path: path.to_path_buf(),
            text: text.to_string(),
        });
        Ok(file
            .list
            .into_iter()
            .map(|mut l| {
                l.source = Some(source.clone());
                l
            })
            .collect())
    }

    /// Loads included rule files and validates every list. Returns every problem found.
    /// Inline lists are reported without line numbers; [`RulesSection::resolve_in`] knows
    /// the config file and locates them.
    pub fn resolve(&mut self, base_dir: &Path) -> Vec<ConfigError> {
        self.load_includes(base_dir, None)
    }

    /// Like [`RulesSection::resolve`], knowing the config file (`file`, `source`) that
    /// holds this section.
    pub fn resolve_in(&mut self, file: &Path, source: &str, base_dir: &Path) -> Vec<ConfigError> {
        let config = Arc::new(SourceText {
            path: file.to_path_buf(),
            text: source.to_string(),
        });
        for list in &mut self.list {
            list.source.get_or_insert_with(|| config.clone());
        }
        self.load_includes(base_dir, Some(&config))
    }

    fn load_includes(&mut self, base_dir: &Path, config: Option<&SourceText>) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        self.included.clear();
        for include in &self.include {
            let path = base_dir.join(include.get_ref());
            let loaded = std::fs::read_to_string(&path)
                .map_err(|e| {
                    let message = format!("cannot read rules file {}: {e}", path.display());
                    match config {
                        Some(c) => {
                            ConfigError::at_offset(&c.path, &c.text, include.span().start, message)
                        }
                        None => ConfigError::whole_file(&path, message),
                    }
                })
                .and_then(|text| Self::parse_file(&path, &text));
            match loaded {
                Ok(lists) => self.included.extend(lists),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            errors = self.validate();
        }
        errors
    }

    /// Inline lists, then included ones.
    pub fn lists(&self) -> impl Iterator<Item = &RuleList> {
        self.list.iter().chain(&self.included)
    }

    /// Problems that need no normalisation to find: empty or duplicate names, empty terms,
    /// bad language codes, invalid regexes.
    pub fn validate(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let mut names: HashMap<&str, &RuleList> = HashMap::new();
        for list in self.lists() {
            let name = list.name.get_ref().as_str();
            if name.trim().is_empty() {
                errors.push(list.error_at(list.name.span(), "list name is empty"));
            } else if let Some(first) = names.get(name) {
                let (file, line) = first.location(first.name.span());
                errors.push(list.error_at(
                    list.name.span(),
                    format!("duplicate list name `{name}` (first defined at {file}:{line})"),
                ));
            } else {
                names.insert(name, list);
            }
            for lang in &list.languages {
                let code = lang.get_ref();
                // Lists are scoped by the detected language, so only its codes ever match.
                if !Language::ALL.iter().any(|l| l.code() == code) {
                    errors.push(list.error_at(
                        lang.span(),
                        format!(
                            "list `{name}`: `{code}` is not a detected language (expected one of {})",
                            Language::codes()
                        ),
                    ));
                }
            }
            for term in &list.terms {
                let text = term.get_ref().text.trim().trim_matches('*');
                if text.trim().is_empty() {
                    errors.push(list.error_at(term.span(), format!("list `{name}`: empty term")));
                }
            }
            for regex in &list.regex {
                let pattern = &regex.get_ref().text;
                // Syntax only; `scoring::rules` builds it case-insensitive.
                if let Err(e) = regex::Regex::new(pattern) {
                    errors.push(
                        list.error_at(regex.span(), format!("list `{name}`: invalid regex: {e}")),
                    );
                } else if pattern.is_empty() {
                    errors.push(list.error_at(regex.span(), format!("list `{name}`: empty regex")));
                }
            }
        }
        errors
    }
}

impl RuleList {
    /// A problem at a byte span of this list's file.
    pub fn error_at(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        match &self.source {
            Some(s) => ConfigError::at_offset(&s.path, &s.text, span.start, message),
            None => ConfigError::whole_file(Path::new("[rules]"), message),
        }
    }

    fn location(&self, span: Range<usize>) -> (String, usize) {
        let e = self.error_at(span, "");
        (e.file.display().to_string(), e.line.unwrap_or(0))
    }
}

impl<'de> Deserialize<'de> for RuleEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RuleEntryVisitor)
    }
}

struct RuleEntryVisitor;

impl<'de> Visitor<'de> for RuleEntryVisitor {
    type Value = RuleEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a table like { term = \"...\", action = \"flag\" }")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RuleEntry, E> {
        Ok(RuleEntry {
            text: v.to_string(),
            action: None,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RuleEntry, A::Error> {
        let mut text: Option<String> = None;
        let mut action: Option<Action> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "term" | "pattern" => {
                    if text.is_some() {
                        return Err(de::Error::duplicate_field("term"));
                    }
                    text = Some(map.next_value()?);
                }
                "action" => action = Some(map.next_value()?),
                other => {
                    return Err(de::Error::unknown_field(
                        other,
                        &["term", "pattern", "action"],
                    ));
                }
            }
        }
        let text = text.ok_or_else(|| de::Error::missing_field("term"))?;
        Ok(RuleEntry { text, action })
    }
}
