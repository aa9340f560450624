//! Trimming a SentencePiece (Unigram) vocabulary when the tokenizer is loaded
//! (`[model] vocabulary = "latin-cyrillic"`).
//!
//! The tokenizer keeps only the pieces made of Latin, Cyrillic and script-neutral characters
//! (digits, punctuation, symbols, emoji, combining marks), plus every single-character piece
//! and the lowest-scoring piece (the penalty for an unknown character is derived from its
//! score). With the `tokenizers` crate's own trie this saved about 130 MB; with the compact
//! one ([`super::unigram`]) it saves about 3 MB, so `full` is the default. It would matter
//! again with an embedding matrix trimmed to the same pieces.
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

use unicode_script::{Script, UnicodeScript};

use super::unigram::{CompactUnigram, Pieces};

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

/// Trim a Unigram model. Returns the trimmed model and the model id of each of its ids, or
/// `None` when nothing would be dropped, or an added or special token (`added_ids`: <s>,
/// </s>, <pad>, <unk>…) or the unknown id would change its id: the post-processor and the
/// model's config name them by id.
pub fn trim(
    model: &CompactUnigram,
    added_ids: impl IntoIterator<Item = u32>,
) -> Option<(CompactUnigram, Vec<u32>)> {
    let pieces = model.pieces();
    // The penalty for an unknown character is derived from the lowest piece score, so the
    // piece holding it stays too and splits around unknown characters do not move.
    let lowest = (0..pieces.len()).min_by(|&a, &b| pieces.score(a).total_cmp(&pieces.score(b)))?;
    let mut kept = Pieces::default();
    let mut model_ids = Vec::new();
    let new_of_old: Vec<Option<u32>> = (0..pieces.len())
        .map(|old| {
            let keep = old == lowest || keeps(pieces.piece(old));
            keep.then(|| {
                kept.push(pieces.piece(old), pieces.score(old));
                model_ids.push(old as u32);
                model_ids.len() as u32 - 1
            })
        })
        .collect();
    if model_ids.len() == pieces.len() {
        return None;
    }
    let same = |old: u32| new_of_old.get(old as usize).copied().flatten() == Some(old);
    if !added_ids.into_iter().all(same) || !model.unk_id().is_none_or(same) {
        return None;
    }
    let unk_id = model.unk_id().map(|u| u as usize);
    Some((CompactUnigram::new(kept, unk_id).ok()?, model_ids))
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
        let mut pieces = Pieces::default();
        for (piece, score) in [
            ("<s>", 0.0),
            ("<unk>", 0.0),
            ("▁中国", -5.0),
            ("▁the", -2.0),
            ("中", -6.0),
            ("國", -7.0),
            ("▁日本", -9.0),
            ("▁한국", -8.0),
        ] {
            pieces.push(piece, score);
        }
        let model = CompactUnigram::new(pieces, Some(1)).unwrap();
        let (trimmed, map) = trim(&model, [0, 1]).unwrap();
        // "▁日本" has the lowest score: kept for the unknown-character penalty.
        assert_eq!(map, [0, 1, 3, 4, 5, 6]);
        assert_eq!(trimmed.pieces().len(), 6);
        assert_eq!(trimmed.pieces().piece(2), "▁the");
        // Nothing to drop: no new model.
        assert!(trim(&trimmed, [0, 1]).is_none());
        // An added token that would move: not trimmed.
        assert!(trim(&model, [0, 1, 3]).is_none());
    }
}
