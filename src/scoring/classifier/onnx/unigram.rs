//! A SentencePiece (Unigram) vocabulary in a double-array trie, as a `tokenizers` model.
//!
//! The `tokenizers` crate's own Unigram model keeps its pieces in a trie with a hash map per
//! byte node, plus a hash map from piece to id: loading XLM-R's 250,002 pieces that way adds
//! 284 MB of resident memory, most of a modgate process running the e5 models. Here the
//! same pieces are one string, their scores, and a double-array trie (`yada`, the
//! Darts-clone layout that SentencePiece itself uses): 9.7 MB for all 250,002
//! (docs/models.md, "Memory").
//!
//! Only the model is replaced. The crate still normalises, pre-tokenises, adds special
//! tokens and post-processes. The best split follows the crate's `encode_optimized` step
//! for step (candidates in the same order, a later candidate wins only with a higher
//! score, runs of unknown characters fused into one token), so it gives the same tokens:
//! `tests/it/e5.rs` compares them with the crate's model over whole evaluation sets.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use tokenizers::models::unigram::{Unigram, UnigramTrainer};
use tokenizers::models::{ModelWrapper, TrainerWrapper};
use tokenizers::{
    DecoderWrapper, Model, NormalizerWrapper, PostProcessorWrapper, PreTokenizerWrapper, Token,
    TokenizerImpl,
};
use yada::DoubleArray;
use yada::builder::DoubleArrayBuilder;

/// How far below the lowest piece score an unknown character scores (the crate's and
/// SentencePiece's constant).
const UNKNOWN_PENALTY: f64 = 10.0;

/// The crate's tokenizer pipeline around a [`TokenModel`].
pub type PieceTokenizer = TokenizerImpl<
    TokenModel,
    NormalizerWrapper,
    PreTokenizerWrapper,
    PostProcessorWrapper,
    DecoderWrapper,
>;

/// Pieces in id order, one string after another.
#[derive(Clone, Default)]
pub struct Pieces {
    text: String,
    /// Where piece `i` ends in `text` (it starts where piece `i - 1` ends).
    ends: Vec<u32>,
    scores: Vec<f64>,
}

impl Pieces {
    pub fn push(&mut self, piece: &str, score: f64) {
        self.text.push_str(piece);
        self.ends.push(self.text.len() as u32);
        self.scores.push(score);
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn piece(&self, id: usize) -> &str {
        let start = if id == 0 {
            0
        } else {
            self.ends[id - 1] as usize
        };
        &self.text[start..self.ends[id] as usize]
    }

    pub fn score(&self, id: usize) -> f64 {
        self.scores[id]
    }

    fn iter(&self) -> impl Iterator<Item = (&str, f64)> + '_ {
        (0..self.len()).map(|id| (self.piece(id), self.scores[id]))
    }
}

/// A Unigram model whose pieces live in [`Pieces`] and a double-array trie.
#[derive(Clone)]
pub struct CompactUnigram {
    pieces: Pieces,
    /// Piece bytes to id.
    trie: DoubleArray<Vec<u8>>,
    unk_id: Option<u32>,
    unknown_score: f64,
}

impl CompactUnigram {
    /// Builds the trie. Fails on an empty vocabulary, an unknown id outside it, or a piece
    /// a double-array trie cannot hold (one with a NUL byte).
    pub fn new(pieces: Pieces, unk_id: Option<usize>) -> Result<CompactUnigram, String> {
        if pieces.is_empty() {
            return Err("the vocabulary is empty".into());
        }
        if unk_id.is_some_and(|u| u >= pieces.len()) {
            return Err("unk_id is outside the vocabulary".into());
        }
        if pieces.len() >= 1 << 31 {
            return Err("too many pieces".into());
        }
        // A piece listed twice answers with its last id, as the crate's hash map does.
        let mut keys: Vec<(&[u8], u32)> = pieces
            .iter()
            .enumerate()
            .filter(|(_, (p, _))| !p.is_empty())
            .map(|(id, (p, _))| (p.as_bytes(), id as u32))
            .collect();
        keys.sort_by(|a, b| a.0.cmp(b.0).then(b.1.cmp(&a.1)));
        keys.dedup_by(|later, first| later.0 == first.0);
        let bytes = DoubleArrayBuilder::build(&keys).map_err(|e| e.to_string())?;
        drop(keys);
        let trie = DoubleArray::new(bytes).map_err(|e| e.to_string())?;
        let lowest = pieces.scores.iter().copied().fold(f64::INFINITY, f64::min);
        Ok(CompactUnigram {
            pieces,
            trie,
            unk_id: unk_id.map(|u| u as u32),
            unknown_score: lowest - UNKNOWN_PENALTY,
        })
    }

    pub fn pieces(&self) -> &Pieces {
        &self.pieces
    }

    pub fn unk_id(&self) -> Option<u32> {
        self.unk_id
    }

    /// The id of a whole piece.
    fn id_of(&self, piece: &str) -> Option<u32> {
        // The trie cannot hold NUL bytes, and the empty piece is not in it.
        if piece.is_empty() || piece.contains('\0') {
            return None;
        }
        self.trie.exact_match_search(piece)
    }

    /// The best-scoring split of `word`: (start, end, id) in order, with runs of unknown
    /// characters fused into one span (its id: the piece it spells, or the unknown id).
    fn split(&self, word: &str) -> tokenizers::Result<Vec<(usize, usize, u32)>> {
        #[derive(Clone, Copy)]
        struct Best {
            id: u32,
            score: f64,
            /// Where the best path's last piece starts; `None` while unreached.
            start: Option<usize>,
        }
        let size = word.len();
        let mut best = vec![
            Best {
                id: 0,
                score: 0.0,
                start: None,
            };
            size + 1
        ];
        let bytes = word.as_bytes();
        let next_nul = |from: usize| {
            bytes[from..]
                .iter()
                .position(|&b| b == 0)
                .map_or(size, |p| from + p)
        };
        // The trie's search would read a NUL byte as its own end-of-key mark, and no piece
        // holds one, so each search stops before the next NUL.
        let mut nul = next_nul(0);
        let mut at = 0;
        for ch in word.chars() {
            if nul < at {
                nul = next_nul(at);
            }
            let so_far = best[at].score;
            let char_len = ch.len_utf8();
            let mut single_char_piece = false;
            for (id, end) in self.trie.common_prefix_search(&bytes[at..nul]) {
                let candidate = self.pieces.scores[id as usize] + so_far;
                let node = &mut best[at + end];
                if node.start.is_none() || candidate > node.score {
                    *node = Best {
                        id,
                        score: candidate,
                        start: Some(at),
                    };
                }
                single_char_piece |= end == char_len;
            }
            if !single_char_piece {
                let candidate = self.unknown_score + so_far;
                let node = &mut best[at + char_len];
                if node.start.is_none() || candidate > node.score {
                    *node = Best {
                        id: self.unk_id.ok_or("an unknown character, and no unk_id")?,
                        score: candidate,
                        start: Some(at),
                    };
                }
            }
            at += char_len;
        }
        let mut spans = Vec::new();
        let mut end = size;
        // End of the run of unknown characters being walked back over.
        let mut unknown_end = None;
        while end > 0 {
            let node = best[end];
            let start = node.start.expect("every character boundary is reached");
            if Some(node.id) == self.unk_id {
                unknown_end.get_or_insert(end);
            } else {
                if let Some(run_end) = unknown_end.take() {
                    spans.push(self.unknown_span(word, end, run_end));
                }
                spans.push((start, end, node.id));
            }
            end = start;
        }
        if let Some(run_end) = unknown_end {
            spans.push(self.unknown_span(word, 0, run_end));
        }
        spans.reverse();
        Ok(spans)
    }

    fn unknown_span(&self, word: &str, start: usize, end: usize) -> (usize, usize, u32) {
        let id = self
            .id_of(&word[start..end])
            .or(self.unk_id)
            .expect("unknown characters imply an unk_id");
        (start, end, id)
    }

    /// The same vocabulary for the crate's own model (saving, byte fallback).
    fn to_crate_model(&self, byte_fallback: bool) -> tokenizers::Result<Unigram> {
        let vocab = self
            .pieces
            .iter()
            .map(|(p, s)| (p.to_string(), s))
            .collect();
        Unigram::from(vocab, self.unk_id.map(|u| u as usize), byte_fallback)
    }
}

impl Model for CompactUnigram {
    type Trainer = UnigramTrainer;

    fn tokenize(&self, sequence: &str) -> tokenizers::Result<Vec<Token>> {
        Ok(self
            .split(sequence)?
            .into_iter()
            .map(|(start, end, id)| Token::new(id, sequence[start..end].to_string(), (start, end)))
            .collect())
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.id_of(token)
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        ((id as usize) < self.pieces.len()).then(|| self.pieces.piece(id as usize).to_string())
    }

    fn get_vocab(&self) -> HashMap<String, u32> {
        self.pieces
            .iter()
            .enumerate()
            .map(|(id, (p, _))| (p.to_string(), id as u32))
            .collect()
    }

    fn get_vocab_size(&self) -> usize {
        self.pieces.len()
    }

    fn save(&self, folder: &Path, prefix: Option<&str>) -> tokenizers::Result<Vec<PathBuf>> {
        self.to_crate_model(false)?.save(folder, prefix)
    }

    fn get_trainer(&self) -> UnigramTrainer {
        UnigramTrainer::default()
    }
}

/// The model of a `tokenizer.json`: a Unigram vocabulary held compactly, or whatever else
/// the crate reads (WordPiece for minilm-toxic, BPE, a Unigram with byte fallback).
#[derive(Clone)]
pub enum TokenModel {
    Compact(CompactUnigram),
    Crate(Box<ModelWrapper>),
}

impl Model for TokenModel {
    type Trainer = TrainerWrapper;

    fn tokenize(&self, sequence: &str) -> tokenizers::Result<Vec<Token>> {
        match self {
            TokenModel::Compact(m) => m.tokenize(sequence),
            TokenModel::Crate(m) => m.tokenize(sequence),
        }
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        match self {
            TokenModel::Compact(m) => m.token_to_id(token),
            TokenModel::Crate(m) => m.token_to_id(token),
        }
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        match self {
            TokenModel::Compact(m) => m.id_to_token(id),
            TokenModel::Crate(m) => m.id_to_token(id),
        }
    }

    fn get_vocab(&self) -> HashMap<String, u32> {
        match self {
            TokenModel::Compact(m) => m.get_vocab(),
            TokenModel::Crate(m) => m.get_vocab(),
        }
    }

    fn get_vocab_size(&self) -> usize {
        match self {
            TokenModel::Compact(m) => m.get_vocab_size(),
            TokenModel::Crate(m) => m.get_vocab_size(),
        }
    }

    fn save(&self, folder: &Path, prefix: Option<&str>) -> tokenizers::Result<Vec<PathBuf>> {
        match self {
            TokenModel::Compact(m) => m.save(folder, prefix),
            TokenModel::Crate(m) => m.save(folder, prefix),
        }
    }

    fn get_trainer(&self) -> TrainerWrapper {
        match self {
            TokenModel::Compact(m) => TrainerWrapper::UnigramTrainer(m.get_trainer()),
            TokenModel::Crate(m) => m.get_trainer(),
        }
    }
}

impl<'de> Deserialize<'de> for TokenModel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TokenModelVisitor)
    }
}

/// Reads a `"model"` object. A Unigram vocabulary is streamed straight into [`Pieces`]
/// (never a JSON value per piece); other fields and other models are kept as JSON values
/// and handed to the crate.
struct TokenModelVisitor;

impl<'de> Visitor<'de> for TokenModelVisitor {
    type Value = TokenModel;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a tokenizer model object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TokenModel, A::Error> {
        let mut fields = serde_json::Map::new();
        let mut pieces = None;
        while let Some(key) = map.next_key::<String>()? {
            let unigram = fields.get("type").and_then(Value::as_str) == Some("Unigram");
            if key == "vocab" && unigram {
                pieces = Some(map.next_value::<Pieces>()?);
            } else {
                fields.insert(key, map.next_value()?);
            }
        }
        let unigram = fields.get("type").and_then(Value::as_str) == Some("Unigram");
        let pieces = match (pieces, unigram, fields.remove("vocab")) {
            (Some(pieces), _, _) => pieces,
            // "type" came after "vocab".
            (None, true, Some(vocab)) => Pieces::deserialize(vocab).map_err(de::Error::custom)?,
            (None, _, vocab) => {
                if let Some(vocab) = vocab {
                    fields.insert("vocab".into(), vocab);
                }
                return ModelWrapper::deserialize(Value::Object(fields))
                    .map(|m| TokenModel::Crate(Box::new(m)))
                    .map_err(de::Error::custom);
            }
        };
        let unk_id = match fields.get("unk_id") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| de::Error::custom("unk_id: expected an id"))?
                    as usize,
            ),
        };
        let byte_fallback = fields
            .get("byte_fallback")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        // Byte fallback, and pieces a double-array trie cannot hold, stay with the crate.
        if byte_fallback || pieces.text.is_empty() || pieces.text.contains('\0') {
            let vocab = pieces.iter().map(|(p, s)| (p.to_string(), s)).collect();
            return Unigram::from(vocab, unk_id, byte_fallback)
                .map(|m| TokenModel::Crate(Box::new(ModelWrapper::Unigram(m))))
                .map_err(de::Error::custom);
        }
        CompactUnigram::new(pieces, unk_id)
            .map(TokenModel::Compact)
            .map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Pieces {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PiecesVisitor;
        impl<'de> Visitor<'de> for PiecesVisitor {
            type Value = Pieces;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of [piece, score] pairs")
            }

            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Pieces, S::Error> {
                let mut pieces = Pieces::default();
                if let Some(n) = seq.size_hint() {
                    pieces.ends.reserve(n);
                    pieces.scores.reserve(n);
                }
                while let Some((piece, score)) = seq.next_element::<(String, f64)>()? {
                    pieces.push(&piece, score);
                }
                pieces.text.shrink_to_fit();
                Ok(pieces)
            }
        }
        deserializer.deserialize_seq(PiecesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(list: &[(&str, f64)]) -> Pieces {
        let mut p = Pieces::default();
        for (piece, score) in list {
            p.push(piece, *score);
        }
        p
    }

    fn crate_ids(model: &Unigram, text: &str) -> Vec<(u32, String, (usize, usize))> {
        model
            .tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| (t.id, t.value, t.offsets))
            .collect()
    }

    fn compact_ids(model: &CompactUnigram, text: &str) -> Vec<(u32, String, (usize, usize))> {
        model
            .tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| (t.id, t.value, t.offsets))
            .collect()
    }

    #[test]
    fn splits_as_the_crate_does() {
        // The crate's own doc example, plus ties, multi-byte characters, unknown runs
        // (fused, and one that spells a piece), a duplicate piece and a NUL character.
        let list = [
            ("<unk>", 0.0),
            ("a", 0.0),
            ("b", 0.0),
            ("c", 0.0),
            ("d", 0.0),
            ("cd", 1.0),
            ("ab", 2.0),
            ("abc", 5.0),
            ("abcd", 10.0),
            ("▁", -1.0),
            ("▁п", -2.0),
            ("при", -3.0),
            ("▁привет", -4.0),
            ("р", -5.0),
            ("и", -5.0),
            ("в", -6.0),
            ("е", -6.0),
            ("т", -6.0),
            ("п", -6.0),
            ("ри", -8.0),
            ("xy", -1.0),
            ("ab", -9.0),
            ("😀", -7.0),
        ];
        let compact = CompactUnigram::new(pieces(&list), Some(0)).unwrap();
        let vocab = list.iter().map(|(p, s)| (p.to_string(), *s)).collect();
        let reference = Unigram::from(vocab, Some(0), false).unwrap();
        for text in [
            "abcdacdxx",
            "▁привет",
            "▁приветик",
            "приветxy",
            "zzqab",
            "ab😀😀zz😀",
            "a\0b",
            "",
            "é",
            "ddd",
        ] {
            assert_eq!(
                compact_ids(&compact, text),
                crate_ids(&reference, text),
                "{text:?}"
            );
        }
        assert_eq!(compact.token_to_id("ab"), reference.token_to_id("ab"));
        assert_eq!(compact.token_to_id("a\0"), None);
        assert_eq!(compact.id_to_token(5).as_deref(), Some("cd"));
        assert_eq!(compact.get_vocab(), reference.get_vocab());
    }

    #[test]
    fn reads_a_tokenizer_file_and_hands_other_models_to_the_crate() {
        let unigram = r#"{"type": "Unigram", "unk_id": 0,
            "vocab": [["<unk>", 0.0], ["▁a", -1.0], ["b", -2.0]], "byte_fallback": false}"#;
        let model: TokenModel = serde_json::from_str(unigram).unwrap();
        assert!(matches!(model, TokenModel::Compact(_)));
        assert_eq!(model.token_to_id("b"), Some(2));
        let late_type =
            r#"{"unk_id": 0, "vocab": [["<unk>", 0.0], ["b", -2.0]], "type": "Unigram"}"#;
        let model: TokenModel = serde_json::from_str(late_type).unwrap();
        assert!(matches!(model, TokenModel::Compact(_)));
        let byte_fallback = r#"{"type": "Unigram", "unk_id": 0,
            "vocab": [["<unk>", 0.0], ["<0x41>", -1.0]], "byte_fallback": true}"#;
        let model: TokenModel = serde_json::from_str(byte_fallback).unwrap();
        assert!(matches!(&model, TokenModel::Crate(m) if matches!(**m, ModelWrapper::Unigram(_))));
        let wordpiece = serde_json::json!({"type": "WordPiece", "unk_token": "[UNK]",
            "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
            "vocab": {"[UNK]": 0, "hello": 1}});
        let model: TokenModel = serde_json::from_value(wordpiece).unwrap();
        assert!(
            matches!(&model, TokenModel::Crate(m) if matches!(**m, ModelWrapper::WordPiece(_)))
        );
        assert_eq!(model.token_to_id("hello"), Some(1));
        let bad = r#"{"type": "Unigram", "unk_id": 7, "vocab": [["<unk>", 0.0]]}"#;
        assert!(serde_json::from_str::<TokenModel>(bad).is_err());
    }
}
