//! Building and running the service: config → store → classifier → router → serve,
//! plus config reload (SIGHUP and file changes) and graceful shutdown.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use tokio::net::TcpListener;

pub mod router;

pub use router::router;

use crate::app::{AppState, Live};
use crate::config::{Config, ConfigError};
use crate::metrics::Metrics;
use crate::scoring::batcher::{Batcher, BatcherConfig};
use crate::scoring::classifier::{
    self, Classifier, ClassifierError, UNAVAILABLE_MODEL_ID, Unavailable,
};
use crate::scoring::pipeline::Scorer;
use crate::scoring::rules::RuleSet;
use crate::store::Store;

/// A service bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    config_path: PathBuf,
}

fn config_errors(errors: Vec<crate::config::ConfigError>) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    anyhow::anyhow!("invalid config:\n{}", lines.join("\n"))
}

impl Application {
    pub async fn build(config: Config) -> Result<Application> {
        let model = load_classifier(&config);
        Self::build_with_classifier(config, model).await
    }

    /// Build with a given classifier (tests wrap the real model to inject faults).
    pub async fn build_with_classifier(
        config: Config,
        model: Arc<dyn Classifier>,
    ) -> Result<Application> {
        let scorer = Scorer::from_config(&config).map_err(config_errors)?;
        let store = open_store(&config).await?;
        // A missing or broken model does not stop the service: comments are then stored
        // as pending/unscored and re-scored when a model loads.
        let batcher = Batcher::new(model, BatcherConfig::from(&config.model))
            .context("starting the scoring workers")?;
        let listener = TcpListener::bind(config.server.bind)
            .await
            .with_context(|| format!("binding {}", config.server.bind))?;
        let config_path = config.source.clone();
        let state = AppState::new(store, batcher, Live { config, scorer }, Metrics::new());
        Ok(Application {
            listener,
            state,
            config_path,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serve until SIGTERM/SIGINT, then finish in-flight requests and close the database.
    pub async fn run(self) -> Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serve until `stop` completes, then shut down as [`Application::run`] does.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let router = router::router(self.state.clone());
        tokio::spawn(watch_config(self.state.clone(), self.config_path.clone()));
        tokio::spawn(recover_unscored(self.state.clone()));
        tokio::spawn(forget_old_ips(self.state.clone()));
        if let Err(e) = self
            .state
            .store
            .checkpoint_in_background(Duration::from_millis(100))
            .await
        {
            tracing::warn!(error = %e, "no background checkpointer; the writer checkpoints");
        }
        // Cached threads: notice writes by other processes and settle unaccounted ones.
        tokio::spawn(crate::store::versions::watch(
            self.state.store.clone(),
            crate::store::versions::WATCH_INTERVAL,
        ));
        let webhooks = crate::webhooks::DeliveryWorker::spawn(self.state.clone());
        tracing::info!(addr = %self.local_addr(), "modgate listening");
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop)
        .await?;
        // Undelivered webhook events stay in the outbox for the next start.
        webhooks.stop(Duration::from_secs(10)).await;
        tracing::info!("shutting down: closing database");
        self.state.store.close().await;
        Ok(())
    }
}

/// The configured database (SQLite file or PostgreSQL), migrated.
pub async fn open_store(config: &Config) -> Result<Store> {
    let location = match config.database() {
        crate::config::Database::Sqlite(path) => crate::store::Location::Sqlite(path),
        crate::config::Database::Postgres {
            url,
            max_connections,
        } => crate::store::Location::Postgres {
            url,
            max_connections,
        },
    };
    Store::connect(&location)
        .await
        .with_context(|| format!("opening database {location}"))
}

/// The configured classifier, or [`Unavailable`] (logged) when it cannot be loaded.
fn load_classifier(config: &Config) -> Arc<dyn Classifier> {
    match classifier::load(config) {
        Ok(model) => {
            tracing::info!(model_id = model.model_id(), "classifier loaded");
            model
        }
        Err(e) => {
            tracing::error!(error = %e, "classifier unavailable; comments will be held as unscored");
            Arc::new(Unavailable {
                reason: e.to_string(),
            })
        }
    }
}

/// While no model is loaded, retry loading it; once one is, re-score the comments that
/// were stored unscored (pending with reason `unscored`). Not while comments are still
/// being stored unscored: under overload re-scoring would take the cores from new comments.
async fn recover_unscored(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    let mut failures = state.metrics.scoring_failures();
    loop {
        tick.tick().await;
        let now = state.metrics.scoring_failures();
        let overloaded = now != failures;
        failures = now;
        let live = state.live();
        if state.batcher.model_id().as_ref() == UNAVAILABLE_MODEL_ID {
            let config = live.config.clone();
            let loaded = tokio::task::spawn_blocking(move || classifier::load(&config)).await;
            match loaded {
                Ok(Ok(model)) => {
                    tracing::info!(model_id = model.model_id(), "classifier loaded");
                    state.batcher.swap(model);
                }
                _ => continue,
            }
        } else if overloaded {
            continue;
        }
        // Several instances on PostgreSQL take turns (one scores each comment).
        let _turn = match crate::store::rescore::recovery_turn(state.store.writer()).await {
            Ok(Some(turn)) => turn,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "re-scoring unscored comments: no turn");
                continue;
            }
        };
        // Small pages through the scoring lanes: a page waits its turn like a comment.
        let opts = crate::rescoring::RescoreRun {
            status: Some(crate::domain::Status::Pending),
            only_unscored: true,
            dry_run: false,
            page_size: 16,
        };
        let classifier = Arc::new(state.queued_classifier());
        // New comments come first: once one is stored unscored again (the lanes are full),
        // the backlog waits for the next quiet spell instead of taking the model from them.
        let started = state.metrics.scoring_failures();
        let intake_overflows = || state.metrics.scoring_failures() != started;
        let run = crate::rescoring::run_until(
            &state.store,
            &live.scorer,
            classifier,
            &opts,
            intake_overflows,
            |_| {},
        );
        match run.await {
            Ok(0) => {}
            Ok(n) => tracing::info!(changed = n, "re-scored comments stored while unscored"),
            Err(crate::rescoring::RescoreError::Classifier(ClassifierError::Busy(_))) => {
                tracing::debug!("re-scoring unscored comments deferred: the model is busy");
            }
            Err(e) => tracing::warn!(error = %e, "re-scoring unscored comments failed"),
        }
    }
}

/// Retention: delete client IPs of comments older than `limits.ip_retention_days`, hourly.
async fn forget_old_ips(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let days = state.live().config.limits.ip_retention_days;
        if days == 0 {
            continue;
        }
        match crate::store::comments::forget_old_ips(state.store.writer(), days).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, days, "deleted old client IPs"),
            Err(e) => tracing::warn!(error = %e, "deleting old client IPs failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Reload rules and thresholds on SIGHUP and when the config or a rule file changes.
async fn watch_config(state: AppState, path: PathBuf) {
    #[cfg(unix)]
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut last = fingerprint(&state);
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        #[cfg(unix)]
        let signalled = async {
            match hup.as_mut() {
                Some(h) => {
                    h.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let signalled = std::future::pending::<()>();
        let forced = tokio::select! {
            _ = signalled => true,
            _ = tick.tick() => false,
        };
        let now = fingerprint(&state);
        if forced || now != last {
            reload(&state, &path);
            last = fingerprint(&state);
        }
    }
}

/// Modification times of the config file and every rule file it includes.
fn fingerprint(state: &AppState) -> Vec<(PathBuf, Option<SystemTime>)> {
    let live = state.live();
    let mut files = vec![live.config.source.clone()];
    files.extend(
        live.config
            .rules
            .include
            .iter()
            .map(|f| live.config.resolve(Path::new(f.get_ref()))),
    );
    files
        .into_iter()
        .map(|f| {
            let m = std::fs::metadata(&f).and_then(|m| m.modified()).ok();
            (f, m)
        })
        .collect()
}

/// Load and check a config as the service would: parsed and validated (`Config::load`),
/// then its rule lists compiled, so a term that normalises to nothing is reported with
/// its FILE:LINE:COL like any other problem.
pub fn load_config(path: &Path) -> Result<Config, Vec<ConfigError>> {
    let config = Config::load(path)?;
    RuleSet::compile(&config.rules)?;
    Ok(config)
}

/// [`load_config`] without environment overrides: the file as written (`check-config`).
pub fn check_config_file(path: &Path) -> Result<Config, Vec<ConfigError>> {
    let config = Config::load_file(path)?;
    RuleSet::compile(&config.rules)?;
    Ok(config)
}

/// Load, validate and swap in a new config; on any error keep the old one.
pub fn reload(state: &AppState, path: &Path) -> bool {
    let result = Config::load(path).and_then(|config| {
        let scorer = Scorer::from_config(&config)?;
        Ok(Live { config, scorer })
    });
    match result {
        Ok(live) => {
            let old = state.live();
            let version = live.scorer.rules_version().to_string();
            if live.config.server.bind != old.config.server.bind
                || live.config.database() != old.config.database()
            {
                tracing::warn!("server.bind and the database take effect after a restart");
            }
            state.replace_live(live);
            tracing::info!(rules_version = %version, "config reloaded");
            true
        }
        Err(errors) => {
            for e in &errors {
                tracing::error!(error = %e, "config reload rejected; keeping the previous config");
            }
            false
        }
    }
}
