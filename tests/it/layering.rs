//! Dependencies between the crate's top-level modules run one way: a module may use
//! modules of lower layers only (`src/lib.rs` documents the layers). The check reads the
//! sources: every `crate::module` path outside comments is an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Lowest first. Modules in one layer are siblings and may not use each other.
const LAYERS: &[&[&str]] = &[
    &["domain"],
    &["config"],
    &["scoring", "store", "eval", "telemetry"],
    &["learning", "rescoring"],
    &["http"],
    &["metrics"],
    &["app"],
    &["usecases", "webhooks"],
    &["api", "web"],
    &["startup"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// `crate::name` paths in a file, ignoring comments.
fn crate_paths(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            // `modgate_crate::x` or `$crate::x` are not paths into this crate's modules.
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module → the top-level modules it uses.
fn module_map(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        let uses = map.entry(top.clone()).or_default();
        uses.extend(crate_paths(&source).into_iter().filter(|m| *m != top));
    }
    map
}

fn render(map: &BTreeMap<String, BTreeSet<String>>) -> String {
    map.iter()
        .map(|(m, uses)| {
            format!(
                "{m} -> {}",
                uses.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn modules_depend_on_lower_layers_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let map = module_map(&src);
    let mut problems = Vec::new();
    for (module, uses) in &map {
        let Some(own) = layer_of(module) else {
            problems.push(format!(
                "`{module}` is in no layer: add it to LAYERS and lib.rs"
            ));
            continue;
        };
        for used in uses {
            match layer_of(used) {
                None => problems.push(format!("`{module}` uses `{used}`, which is in no layer")),
                Some(layer) if layer >= own => problems.push(format!(
                    "`{module}` (layer {own}) uses `{used}` (layer {layer}): dependencies must point down"
                )),
                Some(_) => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\nmodule map:\n{}",
        problems.join("\n"),
        render(&map)
    );
}

#[test]
fn the_check_sees_paths_and_ignores_comments() {
    let source = "use crate::config::Config;\n// crate::web is only named here\nlet x = crate::store::now(); // crate::api\nmacro: $crate::inner\n";
    let found: Vec<String> = crate_paths(source).into_iter().collect();
    assert_eq!(found, ["config", "store"]);
}
