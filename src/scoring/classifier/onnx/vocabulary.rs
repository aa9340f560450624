//! Trimming a SentencePiece (Unigram) vocabulary when the tokenizer is loaded.
//!
//! The `tokenizers` crate keeps a Unigram vocabulary in a trie with a hash map per node:
//! XLM-R's 250,002 pieces take about 260 MB of memory, most of a modgate process (measured
//! with the Python binding of the same crate: 261 MB for the full `tokenizer.json`, the
//! same 261 MB without its normaliser, 116 MB for its first 147,000 pieces). modgate reads
//! Latin- and Cyrillic-script languages, so the tokenizer keeps only the pieces made of
//! Latin, Cyrillic and script-neutral characters (digits, punctuation, symbols, emoji,
//! combining marks), plus every single-character piece and the lowest-scoring piece (the
//! penalty for an unknown character is derived from its score).
//!
//! Why that changes nothing for those languages: the tokenizer picks the best-scoring split
//! of a word among the pieces that spell it. A word of kept characters is spelt only by
//! kept pieces, so its best split, and therefore its token ids as the model numbers them,
//! are the same as with the full vocabulary. A word in another script loses its longer
//! pieces and is split into shorter ones (single characters at worst), never into unknown
//! tokens that the full vocabulary would have avoided.
//!
//! Kept pieces keep their order, so the tokenizer's ids are renumbered; the model still
//! expects its own, and [`trim`] returns the map back.

use serde_json::Value;
use unicode_script::{Script, UnicodeScript};

/// SentencePiece's word-start marker, part of many pieces.
const WORD_START: char = '\u{2581}';

/// Whether a piece is kept: every character Latin, Cyrillic or script-neutral, or a single
/// character of any script.
pub fn keeps(piece: &str) -> bool {
    let chars = || piece.chars().filter(|&c| c != WORD_START);
    chars().nth(1).is_none()
        || chars().all(|c| {
            matches!(
                c.script(),
                Script::Latin | Script::Cyrillic | Script::Common | Script::Inherited
            )
        })
}

/// Trim a `tokenizer.json` in place. Returns the model id of each new id, or `None` (the
/// JSON untouched) when it is not a Unigram model, nothing would be dropped, or an added or
/// special token would change its id.
pub fn trim(tokenizer: &mut Value) -> Option<Vec<u32>> {
    let model = tokenizer.get("model")?;
    if model.get("type")?.as_str()? != "Unigram" {
        return None;
    }
    let vocab = model.get("vocab")?.as_array()?;
    // The penalty for an unknown character is derived from the lowest piece score, so the
    // piece holding it stays too and splits around unknown characters do not move.
    let score = |entry: &Value| entry.get(1).and_then(Value::as_f64).unwrap_or(0.0);
    let lowest = (0..vocab.len()).min_by(|&a, &b| score(&vocab[a]).total_cmp(&score(&vocab[b])))?;
    let mut model_ids = Vec::new();
    let mut new_of_old = vec![None; vocab.len()];
    for (old, entry) in vocab.iter().enumerate() {
        if old == lowest || keeps(entry.get(0)?.as_str()?) {
            new_of_old[old] = Some(model_ids.len() as u64);
            model_ids.push(old as u32);
        }
    }
    if model_ids.len() == vocab.len() {
        return None;
    }
    // Added tokens (<s>, </s>, <pad>, <unk>…) and the unknown id must keep their numbers:
    // the post-processor and the model's config name them by id.
    let same = |old: u64| new_of_old.get(old as usize).copied().flatten() == Some(old);
    let added_ok = tokenizer
        .get("added_tokens")
        .and_then(Value::as_array)
        .is_none_or(|added| {
            added
                .iter()
                .all(|t| t.get("id").and_then(Value::as_u64).is_some_and(same))
        });
    let unk_ok = model.get("unk_id").and_then(Value::as_u64).is_none_or(same);
    if !added_ok || !unk_ok {
        return None;
    }
    let kept: Vec<Value> = model_ids
        .iter()
        .map(|&old| vocab[old as usize].clone())
        .collect();
    tokenizer["model"]["vocab"] = Value::Array(kept);
    Some(model_ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_latin_cyrillic_neutral_and_single_characters() {
        for piece in [
            "▁hello",
            "▁привет",
            "қазақ",
            "oʻ",
            "▁123",
            "!!",
            "😀",
            "▁",
            "中",
            "▁é",
        ] {
            assert!(keeps(piece), "{piece}");
        }
        for piece in ["▁中国", "مرحبا", "▁γεια", "ab中"] {
            assert!(!keeps(piece), "{piece}");
        }
    }

    #[test]
    fn trims_and_maps_ids_back() {
        let mut json = serde_json::json!({
            "added_tokens": [{"id": 0, "content": "<s>"}, {"id": 1, "content": "<unk>"}],
            "model": {"type": "Unigram", "unk_id": 1, "vocab": [
                ["<s>", 0.0], ["<unk>", 0.0], ["▁中国", -5.0], ["▁the", -2.0], ["中", -6.0],
                ["國", -7.0], ["▁日本", -9.0], ["▁한국", -8.0]
            ]}
        });
        let map = trim(&mut json).unwrap();
        // "▁日本" has the lowest score: kept for the unknown-character penalty.
        assert_eq!(map, [0, 1, 3, 4, 5, 6]);
        assert_eq!(json["model"]["vocab"].as_array().unwrap().len(), 6);
        assert_eq!(json["model"]["vocab"][2][0], "▁the");
        // Nothing to drop: untouched.
        assert_eq!(trim(&mut json), None);
    }
}
