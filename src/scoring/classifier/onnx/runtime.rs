//! Loading the ONNX Runtime shared library and the one process-wide environment.
//!
//! `ort` is built with `load-dynamic`: nothing is linked or downloaded at build time, the
//! library is opened at run time from `[model] onnx_runtime` (else `ORT_DYLIB_PATH`). Once
//! loaded it stays for the life of the process (ONNX Runtime allows one environment), so a
//! config reload that names another library keeps the first one and says so.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;

use crate::scoring::classifier::ClassifierError;

/// The environment variable `ort` itself reads; honoured when the config names no library.
pub const ENV_DYLIB: &str = "ORT_DYLIB_PATH";

/// What `models/fetch-models.sh` installs, for error messages.
const HINT: &str = "models/fetch-models.sh puts the library of the PyPI onnxruntime wheel at \
                    models/onnxruntime/libonnxruntime.so.1.31.1; point [model] onnx_runtime \
                    (or ORT_DYLIB_PATH) at it";

static ENVIRONMENT: OnceLock<(Environment, PathBuf)> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

/// The library to load: the configured path, else `ORT_DYLIB_PATH`.
pub fn library_path(configured: Option<&Path>) -> Result<PathBuf, ClassifierError> {
    let path = match configured {
        Some(p) => p.to_path_buf(),
        None => match std::env::var_os(ENV_DYLIB) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => {
                return Err(ClassifierError::Load {
                    path: "[model] onnx_runtime".into(),
                    message: format!(
                        "no ONNX Runtime library configured and {ENV_DYLIB} is not set; {HINT}"
                    ),
                });
            }
        },
    };
    // `ort` would resolve a relative path against the executable's directory first.
    Ok(std::path::absolute(&path).unwrap_or(path))
}

/// Loads the library (first call) and returns the process-wide environment.
pub fn environment(library: &Path) -> Result<&'static Environment, ClassifierError> {
    let load_err = |message: String| ClassifierError::Load {
        path: library.display().to_string(),
        message,
    };
    if !library.is_file() {
        return Err(load_err(format!(
            "ONNX Runtime library not found (expected libonnxruntime.so, ONNX Runtime >= 1.{}); {HINT}",
            ort::MINOR_VERSION
        )));
    }
    let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((env, loaded)) = ENVIRONMENT.get() {
        if loaded != library {
            tracing::warn!(
                loaded = %loaded.display(),
                configured = %library.display(),
                "ONNX Runtime is already loaded from another path; a restart is needed to switch libraries"
            );
        }
        return Ok(env);
    }
    let builder =
        ort::init_from(library).map_err(|e| load_err(format!("cannot load ONNX Runtime: {e}")))?;
    let env = builder
        .with_name("modgate")
        .build()
        .map_err(|e| load_err(format!("cannot create the ONNX Runtime environment: {e}")))?;
    tracing::info!(library = %library.display(), "ONNX Runtime loaded");
    Ok(&ENVIRONMENT.get_or_init(|| (env, library.to_path_buf())).0)
}
