//! Typed configuration from `config.toml`, with environment overrides and errors that name
//! file, line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use locate::{Index, Key, Locator};

use crate::domain::Label;
use crate::domain::Language;

pub mod console;
pub mod locate;
pub mod perspective;
pub mod rules;
pub mod webhooks;

pub const ENV_CONFIG: &str = "MODGATE_CONFIG";
pub const ENV_BIND: &str = "MODGATE_BIND";
pub const ENV_DATABASE: &str = "MODGATE_DATABASE";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub comments: CommentsConfig,
    #[serde(default)]
    pub model: ModelConfig,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub rules: rules::RulesSection,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub console: console::ConsoleConfig,
    #[serde(default)]
    pub perspective: perspective::PerspectiveConfig,
    /// `[[webhooks]]` endpoints; none by default.
    #[serde(default)]
    pub webhooks: Vec<webhooks::WebhookConfig>,
    /// Directory of the config file; relative paths inside the config resolve against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Path of the file this was loaded from.
    #[serde(skip)]
    pub source: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// `text` or `json`.
    pub log_format: LogFormat,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".parse().expect("valid default"),
            log_format: LogFormat::Text,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// The SQLite file (the embedded default), when no `url` is set.
    pub path: PathBuf,
    /// `postgres://user:password@host:port/database`: PostgreSQL instead of SQLite, so
    /// that several instances can share the data.
    pub url: Option<String>,
    /// PostgreSQL only: connections each instance keeps open at most (plus one for change
    /// notifications). Instances × (this + 1) must stay under the server's max_connections.
    pub max_connections: u32,
    /// Most comments committed in one transaction (group commit); 1 commits each alone.
    pub group_commit_max: usize,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            path: PathBuf::from("modgate.db"),
            url: None,
            max_connections: 12,
            group_commit_max: 64,
        }
    }
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

/// The database a config selects (see [`Config::database`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres { url: String, max_connections: u32 },
}

/// `postgres://` or `postgresql://`, the schemes PostgreSQL's own clients accept.
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommentsConfig {
    /// Maximum body length in Unicode scalar values, after trimming.
    pub max_chars: usize,
    pub required_fields: Vec<String>,
    /// Reader reports after which a published comment enters the `reported` queue.
    pub reports_to_queue: u32,
    /// Hide a comment from the public thread while it sits in the reported queue.
    pub hide_reported: bool,
    /// What happens to a banned author's new comments: `hold` or `reject`.
    pub banned_authors: BannedAction,
    /// Memory (MiB) for serialised public threads kept until a write touches their
    /// article; 0 turns the cache off.
    pub thread_cache_mb: usize,
}

impl CommentsConfig {
    /// What a new comment must satisfy, for [`crate::domain::comment::NewComment::parse`].
    pub fn rules(&self) -> crate::domain::comment::CommentRules<'_> {
        crate::domain::comment::CommentRules {
            max_chars: self.max_chars,
            required_fields: &self.required_fields,
        }
    }
}

impl Default for CommentsConfig {
    fn default() -> Self {
        CommentsConfig {
            max_chars: 1500,
            required_fields: vec!["article_id".into(), "author_name".into(), "body".into()],
            reports_to_queue: 3,
            hide_reported: false,
            banned_authors: BannedAction::Hold,
            thread_cache_mb: 32,
        }
    }
}

/// Abuse limits. Rates are per minute; 0 disables a limit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub posts_per_minute_per_ip: u32,
    pub posts_per_minute_per_author: u32,
    pub reports_per_minute_per_ip: u32,
    /// Failed console sign-ins per minute for one (address, name) pair before that address
    /// is refused for the name (three times this over all names); failures from elsewhere
    /// only slow a name down. 0 turns the limit off.
    pub sign_in_attempts_per_minute: u32,
    /// Identical posts (same author, article, body) within this window return the first id.
    pub duplicate_window_secs: u64,
    pub max_body_bytes: usize,
    pub request_timeout_ms: u64,
    pub max_bulk_ids: usize,
    /// Header carrying the client IP set by a trusted reverse proxy (e.g.
    /// "x-forwarded-for"); unset means the socket peer address is used.
    pub trusted_proxy_header: Option<String>,
    /// Days after which stored client IPs are deleted; 0 keeps them.
    pub ip_retention_days: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            posts_per_minute_per_ip: 30,
            posts_per_minute_per_author: 10,
            reports_per_minute_per_ip: 20,
            sign_in_attempts_per_minute: 10,
            duplicate_window_secs: 600,
            max_body_bytes: 64 * 1024,
            request_timeout_ms: 10_000,
            max_bulk_ids: 500,
            trusted_proxy_header: None,
            ip_retention_days: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BannedAction {
    Hold,
    Reject,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// `bilstm` (default, pure Rust) or `onnx` (a Hugging Face style directory with
    /// model.onnx, tokenizer.json and config.json, run by ONNX Runtime).
    pub backend: Backend,
    /// Model directory, relative to the config file.
    pub dir: PathBuf,
    /// Dynamic batching: most texts per forward pass, and longest wait for a batch to fill.
    /// With 0 (the default) the scoring worker takes what is queued and never waits:
    /// batches still fill under load, while one batch is being scored.
    pub batch_size: usize,
    pub batch_wait_ms: u64,
    /// Scoring budget per request; over it the comment is stored as pending/unscored.
    pub timeout_ms: u64,
    /// `onnx` backend: path of `libonnxruntime.so` (relative to the config file); unset
    /// falls back to the `ORT_DYLIB_PATH` environment variable.
    #[serde(default)]
    pub onnx_runtime: Option<PathBuf>,
    /// `onnx` backend: intra-op threads per forward pass; 0 lets ONNX Runtime decide.
    #[serde(default)]
    pub threads: usize,
    /// `onnx` backend: forward passes run side by side per model, one scoring worker each.
    /// They share one ONNX Runtime session, so the weights are in memory once. With
    /// `threads = 1`, one per core: on two cores, 2 score ×2 the comments of 1 session of
    /// 2 threads end to end (docs/onnx.md, "Runtime settings"). With `threads = 0` the
    /// passes share one intra-op thread pool and contend for it.
    #[serde(default = "one")]
    pub sessions: usize,
    /// `onnx` backend, cascade models (`first.onnx` + `rest.onnx`): let the first stage
    /// decide alone the windows its exit rule bounds (`config.json` `cascade`); false runs
    /// every window through all layers, as the whole model would.
    #[serde(default = "yes")]
    pub cascade: bool,
    /// `onnx` backend: modgate label → the model's label name (its `id2label`). Labels
    /// not listed map to the model label of the same name; with none they score 0.
    #[serde(default)]
    pub label_map: BTreeMap<String, String>,
    /// `onnx` backend: tokens per window, overriding the model's own maximum.
    #[serde(default)]
    pub max_tokens: Option<usize>,
    /// `onnx` backend: most windows of `max_tokens` scored per text (first, last and
    /// evenly spread between; 0 scores them all). Comments (1,500 characters) fit in one
    /// or two; Perspective requests may carry 20 KB. Rule lists always read all of it.
    #[serde(default = "default_max_windows")]
    pub max_windows: usize,
    /// `onnx` backend with a SentencePiece (Unigram) vocabulary: which pieces the tokenizer
    /// keeps in memory. `full` (default) keeps them all (about 10 MB for XLM-R's 250,002 in
    /// the compact trie). `latin-cyrillic` keeps the pieces made of Latin, Cyrillic and
    /// script-neutral characters plus every single-character piece: text in those scripts
    /// tokenises exactly as with the full vocabulary, text in other scripts is split into
    /// smaller pieces; it saves about 3 MB now, and loads more slowly.
    #[serde(default)]
    pub vocabulary: Vocabulary,
    /// `[model.languages]`: comments detected as a language scored by another model, e.g.
    /// `ru = { backend = "onnx", dir = "models/e5-toxic-int8" }`. The ONNX Runtime library
    /// and thread count are the ones above.
    #[serde(default)]
    pub languages: BTreeMap<Spanned<String>, ModelRoute>,
}

/// The classifier backends. An enum, so a misspelt backend is a config error with its line
/// and column (`modgate check-config` finds it) rather than a failure at model load.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Bilstm,
    Onnx,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Bilstm => "bilstm",
            Backend::Onnx => "onnx",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// See [`ModelConfig::vocabulary`].
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Vocabulary {
    LatinCyrillic,
    #[default]
    Full,
}

fn default_max_windows() -> usize {
    3
}

/// One entry of `[model.languages]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelRoute {
    pub backend: Backend,
    /// Model directory, relative to the config file.
    pub dir: PathBuf,
    #[serde(default)]
    pub label_map: BTreeMap<String, String>,
    #[serde(default)]
    pub max_tokens: Option<usize>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            backend: Backend::Bilstm,
            dir: PathBuf::from("models/bilstm"),
            batch_size: 32,
            batch_wait_ms: 0,
            timeout_ms: 2000,
            onnx_runtime: None,
            threads: 0,
            sessions: 1,
            cascade: true,
            label_map: BTreeMap::new(),
            max_tokens: None,
            max_windows: default_max_windows(),
            vocabulary: Vocabulary::default(),
            languages: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Score at or above which the comment is held for review.
    pub hold_at: Option<f32>,
    /// Score at or above which the comment is removed.
    pub remove_at: Option<f32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Per label (`toxic`, `severe_toxic`, `obscene`, `threat`, `insult`, `identity_hate`).
    pub thresholds: BTreeMap<String, Threshold>,
    /// Per detected language (`[policy.languages.ru.thresholds]`): overrides of
    /// `thresholds` for comments in that language.
    pub languages: BTreeMap<Spanned<String>, LanguagePolicy>,
    pub identity: IdentityConfig,
}

/// `[policy.languages.CODE]`: the policy for comments detected as one language. A later
/// per-language `[model]` choice belongs here too.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LanguagePolicy {
    /// Per label, replacing that label's `[policy.thresholds]` entry; labels not named keep
    /// it, and `label = {}` turns the label's thresholds off for this language.
    pub thresholds: BTreeMap<Spanned<String>, Spanned<Threshold>>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        let mut thresholds = BTreeMap::new();
        thresholds.insert(
            "toxic".to_string(),
            Threshold {
                hold_at: Some(0.8),
                remove_at: None,
            },
        );
        PolicyConfig {
            thresholds,
            languages: BTreeMap::new(),
            identity: IdentityConfig::default(),
        }
    }
}

impl PolicyConfig {
    /// The `[policy.thresholds]` entry of a label.
    pub fn threshold(&self, label: Label) -> Option<Threshold> {
        self.thresholds.get(label.as_str()).copied()
    }

    /// The threshold of a label for comments in `language`: its
    /// `[policy.languages.CODE.thresholds]` entry if there is one, else
    /// [`PolicyConfig::threshold`].
    pub fn threshold_for(&self, label: Label, language: Option<Language>) -> Option<Threshold> {
        let overridden = language.and_then(|lang| {
            let policy = self
                .languages
                .iter()
                .find(|(code, _)| code.get_ref() == lang.code())?
                .1;
            policy
                .thresholds
                .iter()
                .find(|(name, _)| name.get_ref() == label.as_str())
                .map(|(_, t)| *t.get_ref())
        });
        match overridden {
            Some(t) => Some(t).filter(|t| t.hold_at.is_some() || t.remove_at.is_some()),
            None => self.threshold(label),
        }
    }
}

/// What is wrong with threshold `name` (`label = { hold_at, remove_at }`), if anything;
/// `table` names the table for messages (`policy.thresholds`).
fn threshold_problems(table: &str, name: &str, t: &Threshold) -> Vec<String> {
    let mut problems = Vec::new();
    if Label::parse(name).is_none() {
        problems.push(format!(
            "{table}: unknown label `{name}` (expected one of toxic, severe_toxic, obscene, threat, insult, identity_hate)"
        ));
    }
    for (what, v) in [("hold_at", t.hold_at), ("remove_at", t.remove_at)] {
        if let Some(v) = v
            && !(0.0..=1.0).contains(&v)
        {
            problems.push(format!("{table}.{name}.{what}: {v} is outside 0..=1"));
        }
    }
    if let (Some(h), Some(r)) = (t.hold_at, t.remove_at)
        && r < h
    {
        problems.push(format!(
            "{table}.{name}: remove_at ({r}) is below hold_at ({h})"
        ));
    }
    problems
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// Re-score model-only holds/removals with identity terms replaced by `placeholder`.
    pub enabled: bool,
    pub terms: Vec<String>,
    pub placeholder: String,
    /// When the identity term was the cause: `publish`, or `hold` with reason
    /// `identity_term_sensitivity`.
    pub on_sensitivity: SensitivityAction,
    /// The labels whose model-only holds the check may lower (default: all six), so it can
    /// be kept only where held-out rows show that it helps.
    pub labels: Vec<Label>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            enabled: true,
            terms: Vec::new(),
            placeholder: "person".into(),
            on_sensitivity: SensitivityAction::Publish,
            labels: Label::ALL.to_vec(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitivityAction {
    Publish,
    Hold,
}

/// A configuration problem, located in a file where possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => {
                write!(f, "{}:{}:{}: {}", self.file.display(), l, c, self.message)
            }
            _ => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub fn whole_file(file: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// An error at a byte offset of `source` (the text of `file`).
    pub fn at_offset(file: &Path, source: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = line_col(source, offset);
        ConfigError {
            file: file.to_path_buf(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }

    pub fn from_toml(file: &Path, source: &str, err: &toml::de::Error) -> Self {
        let message = err.message().to_string();
        match err.span() {
            Some(span) => ConfigError::at_offset(file, source, span.start, message),
            None => ConfigError::whole_file(file, message),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

impl Config {
    /// The config path: `--config` if given, else `MODGATE_CONFIG`, else `config.toml`.
    pub fn resolve_path(cli: Option<&Path>) -> PathBuf {
        if let Some(p) = cli {
            return p.to_path_buf();
        }
        match std::env::var_os(ENV_CONFIG) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => PathBuf::from("config.toml"),
        }
    }

    /// Parse and validate a config file (and the rule files it includes), then apply
    /// environment overrides.
    pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
        let mut config = Self::load_file(path)?;
        config.apply_env().map_err(|e| vec![e])?;
        Ok(config)
    }

    /// Parse and validate without environment overrides (used by `check-config`).
    pub fn load_file(path: &Path) -> Result<Config, Vec<ConfigError>> {
        let source = std::fs::read_to_string(path)
            .map_err(|e| vec![ConfigError::whole_file(path, format!("cannot read: {e}"))])?;
        Self::parse(path, &source)
    }

    pub fn parse(path: &Path, source: &str) -> Result<Config, Vec<ConfigError>> {
        let mut config: Config =
            toml::from_str(source).map_err(|e| vec![ConfigError::from_toml(path, source, &e)])?;
        config.source = path.to_path_buf();
        config.base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let mut errors = config.validate(path, source);
        errors.extend(config.rules.resolve_in(path, source, &config.base_dir));
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }

    fn validate(&self, path: &Path, source: &str) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let loc = Locator::new(path, source);
        if let Some(url) = &self.database.url {
            let steps = [Key("database"), Key("url")];
            if !is_postgres_url(url) {
                errors.push(loc.value_error(
                    &steps,
                    "database.url must be a PostgreSQL URL: postgres://user:password@host:port/database \
                     (for SQLite, set database.path instead)",
                ));
            } else if let Err(e) = url.parse::<sqlx::postgres::PgConnectOptions>() {
                errors.push(loc.value_error(&steps, format!("database.url: {e}")));
            }
        }
        if self.database.max_connections == 0 {
            errors.push(loc.value_error(
                &[Key("database"), Key("max_connections")],
                "database.max_connections must be at least 1",
            ));
        }
        for (name, t) in &self.policy.thresholds {
            for message in threshold_problems("policy.thresholds", name, t) {
                errors.push(loc.key_error(&[Key("policy"), Key("thresholds"), Key(name)], message));
            }
        }
        for (code, policy) in &self.policy.languages {
            let at = |offset: usize, message: String| {
                ConfigError::at_offset(path, source, offset, message)
            };
            let known = Language::ALL.iter().any(|l| l.code() == code.get_ref());
            if !known {
                errors.push(at(
                    code.span().start,
                    format!(
                        "policy.languages: `{}` is not a detected language (expected one of {})",
                        code.get_ref(),
                        Language::codes()
                    ),
                ));
            }
            let table = format!("policy.languages.{}.thresholds", code.get_ref());
            for (name, t) in &policy.thresholds {
                for message in threshold_problems(&table, name.get_ref(), t.get_ref()) {
                    errors.push(at(name.span().start, message));
                }
            }
        }
        for code in self.model.languages.keys() {
            if !Language::ALL.iter().any(|l| l.code() == code.get_ref()) {
                errors.push(ConfigError::at_offset(
                    path,
                    source,
                    code.span().start,
                    format!(
                        "model.languages: `{}` is not a detected language (expected one of {})",
                        code.get_ref(),
                        Language::codes()
                    ),
                ));
            }
        }
        if self.comments.max_chars == 0 {
            errors.push(loc.value_error(
                &[Key("comments"), Key("max_chars")],
                "comments.max_chars must be at least 1",
            ));
        }
        const FIELDS: [&str; 5] = [
            "article_id",
            "parent_id",
            "author_name",
            "author_email",
            "body",
        ];
        for (i, f) in self.comments.required_fields.iter().enumerate() {
            if !FIELDS.contains(&f.as_str()) {
                errors.push(loc.value_error(
                    &[Key("comments"), Key("required_fields"), Index(i)],
                    format!(
                        "comments.required_fields: unknown field `{f}` (expected one of {})",
                        FIELDS.join(", ")
                    ),
                ));
            }
        }
        for name in self.model.label_map.keys() {
            if Label::parse(name).is_none() {
                errors.push(loc.key_error(
                    &[Key("model"), Key("label_map"), Key(name)],
                    format!(
                        "model.label_map: unknown label `{name}` (expected one of toxic, severe_toxic, obscene, threat, insult, identity_hate)"
                    ),
                ));
            }
        }
        if self.model.batch_size == 0 {
            errors.push(loc.value_error(
                &[Key("model"), Key("batch_size")],
                "model.batch_size must be at least 1",
            ));
        }
        errors.extend(self.perspective.validate(&loc));
        errors.extend(webhooks::validate(&self.webhooks, &loc));
        errors
    }

    /// `MODGATE_BIND` and `MODGATE_DATABASE` override the file.
    pub fn apply_env(&mut self) -> Result<(), ConfigError> {
        if let Ok(bind) = std::env::var(ENV_BIND)
            && !bind.is_empty()
        {
            self.server.bind = bind.parse().map_err(|e| {
                ConfigError::whole_file(
                    Path::new(ENV_BIND),
                    format!("`{bind}` is not an address like 127.0.0.1:8080: {e}"),
                )
            })?;
        }
        if let Some(db) = std::env::var_os(ENV_DATABASE)
            && !db.is_empty()
        {
            // A PostgreSQL URL, or an SQLite path; either replaces both settings of the file.
            match db.to_str().filter(|s| is_postgres_url(s)) {
                Some(url) => self.database.url = Some(url.to_string()),
                None => {
                    self.database.path = PathBuf::from(db);
                    self.database.url = None;
                }
            }
        }
        Ok(())
    }

    /// A path from the config, resolved against the config file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// Where the data lives: PostgreSQL when `database.url` is set, else the SQLite file.
    pub fn database(&self) -> crate::config::Database {
        match &self.database.url {
            Some(url) => Database::Postgres {
                url: url.clone(),
                max_connections: self.database.max_connections,
            },
            None => Database::Sqlite(self.database_path()),
        }
    }

    pub fn database_path(&self) -> PathBuf {
        // The database path is taken relative to the working directory when it came from
        // the environment, else relative to the config file.
        if std::env::var_os(ENV_DATABASE).is_some_and(|v| !v.is_empty()) {
            self.database.path.clone()
        } else {
            self.resolve(&self.database.path)
        }
    }

    pub fn model_dir(&self) -> PathBuf {
        self.resolve(&self.model.dir)
    }

    /// `[model] onnx_runtime` resolved against the config file, if set.
    pub fn onnx_runtime_path(&self) -> Option<PathBuf> {
        self.model.onnx_runtime.as_deref().map(|p| self.resolve(p))
    }
}
