//! Text → token ids, exactly as Keras `Tokenizer.texts_to_sequences` + `pad_sequences`
//! did when the model was trained (the padding itself is handled by the forward pass).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::scoring::classifier::ClassifierError;

/// `vocab.json` as written by `models/modgate_models/convert_bilstm.py`.
#[derive(Deserialize)]
struct VocabFile {
    num_words: usize,
    filters: String,
    lower: bool,
    split: String,
    maxlen: usize,
    labels: Vec<String>,
    word_index: HashMap<String, u32>,
}

#[derive(Debug)]
pub struct Tokenizer {
    word_index: HashMap<String, u32>,
    filters: Vec<char>,
    split: char,
    lower: bool,
    num_words: usize,
    maxlen: usize,
}

impl Tokenizer {
    /// Reads and checks `vocab.json`; `labels` must be the six labels in model order.
    pub fn load(path: &Path) -> Result<Tokenizer, ClassifierError> {
        let err = |message: String| ClassifierError::Load {
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let file: VocabFile =
            serde_json::from_slice(&bytes).map_err(|e| err(format!("invalid vocab: {e}")))?;
        let expected = crate::domain::Label::ALL.map(|l| l.as_str());
        if file.labels != expected {
            return Err(err(format!(
                "labels are {:?}, expected {expected:?}",
                file.labels
            )));
        }
        let mut split = file.split.chars();
        let (Some(split), None) = (split.next(), split.next()) else {
            return Err(err(format!(
                "split must be one character, got {:?}",
                file.split
            )));
        };
        if file.maxlen == 0 {
            return Err(err("maxlen must be at least 1".into()));
        }
        Ok(Tokenizer {
            word_index: file.word_index,
            filters: file.filters.chars().collect(),
            split,
            lower: file.lower,
            num_words: file.num_words,
            maxlen: file.maxlen,
        })
    }

    /// Sequence length the model was trained with (100).
    pub fn maxlen(&self) -> usize {
        self.maxlen
    }

    /// Size of the embedding the ids index into.
    pub fn num_words(&self) -> usize {
        self.num_words
    }

    /// Writes the ids of `text` into `out` (cleared first): known words with id < num_words,
    /// truncated to the LAST `maxlen` ids as Keras `pad_sequences(truncating="pre")` does.
    /// Left padding is implicit: the forward pass treats `maxlen - out.len()` leading
    /// steps as id 0.
    pub fn encode(&self, text: &str, out: &mut Vec<u32>) {
        out.clear();
        // Python `str.lower` and Rust `to_lowercase` both apply the full Unicode mapping
        // (including final sigma), so words match the trained vocabulary.
        let lowered;
        let text = if self.lower {
            lowered = text.to_lowercase();
            lowered.as_str()
        } else {
            text
        };
        let is_sep = |ch: char| ch == self.split || self.filters.contains(&ch);
        for word in text.split(is_sep).filter(|w| !w.is_empty()) {
            if let Some(&id) = self.word_index.get(word)
                && (id as usize) < self.num_words
            {
                out.push(id);
            }
        }
        if out.len() > self.maxlen {
            out.drain(..out.len() - self.maxlen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokenizer(words: &[(&str, u32)]) -> Tokenizer {
        Tokenizer {
            word_index: words.iter().map(|&(w, i)| (w.to_string(), i)).collect(),
            filters: "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n".chars().collect(),
            split: ' ',
            lower: true,
            num_words: 10,
            maxlen: 3,
        }
    }

    #[test]
    fn filters_split_and_lowercase() {
        let t = tokenizer(&[("you", 1), ("are", 2), ("dumb", 3), ("привет", 4)]);
        let mut out = Vec::new();
        t.encode("YOU,are...DUMB!", &mut out);
        assert_eq!(out, [1, 2, 3]);
        t.encode("ПРИВЕТ  zzz", &mut out);
        assert_eq!(out, [4]);
    }

    #[test]
    fn keeps_last_maxlen_ids_and_drops_rare_words() {
        let t = tokenizer(&[("a", 1), ("b", 2), ("c", 3), ("d", 4), ("rare", 10)]);
        let mut out = Vec::new();
        t.encode("a b rare c d", &mut out);
        assert_eq!(out, [2, 3, 4]);
    }

    #[test]
    fn only_the_split_char_separates_words() {
        // Keras splits on the split char only; a carriage return stays inside the word.
        let t = tokenizer(&[("a", 1), ("b", 2)]);
        let mut out = Vec::new();
        t.encode("a\rb a\tb", &mut out);
        assert_eq!(out, [1, 2]);
    }
}
