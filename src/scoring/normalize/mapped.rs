//! Text under normalisation: every char remembers which chars of the ORIGINAL text it came
//! from, so a match found in normalised text can be highlighted in what the reader wrote.

use std::ops::Range;

/// Half-open range of char offsets into the original text. Never empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    pub start: usize,
    pub end: usize,
}

impl Origin {
    pub fn new(start: usize, end: usize) -> Origin {
        debug_assert!(start < end, "empty origin {start}..{end}");
        Origin { start, end }
    }

    /// The smallest origin covering both.
    pub fn union(self, other: Origin) -> Origin {
        Origin {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A normalised string as parallel vectors of chars and their origins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapped {
    chars: Vec<char>,
    origins: Vec<Origin>,
}

impl Mapped {
    /// The identity mapping of `text`: char `i` comes from original char `i`.
    pub fn new(text: &str) -> Mapped {
        let chars: Vec<char> = text.chars().collect();
        let origins = (0..chars.len()).map(|i| Origin::new(i, i + 1)).collect();
        Mapped { chars, origins }
    }

    pub fn with_capacity(n: usize) -> Mapped {
        Mapped {
            chars: Vec::with_capacity(n),
            origins: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, c: char, origin: Origin) {
        self.chars.push(c);
        self.origins.push(origin);
    }

    /// Widens the origin of the last char (used when a dropped char belongs to it).
    pub fn extend_last(&mut self, origin: Origin) -> bool {
        match self.origins.last_mut() {
            Some(last) => {
                *last = last.union(origin);
                true
            }
            None => false,
        }
    }

    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (char, Origin)> + '_ {
        self.chars.iter().copied().zip(self.origins.iter().copied())
    }

    pub fn as_string(&self) -> String {
        self.chars.iter().collect()
    }

    /// Origins as `(start, end)` pairs; handy in tests.
    pub fn origin_pairs(&self) -> Vec<(usize, usize)> {
        self.origins.iter().map(|o| (o.start, o.end)).collect()
    }

    /// The original char range covered by normalised chars `range` (non-empty range).
    pub fn original_span(&self, range: Range<usize>) -> Option<Origin> {
        self.origins[range].iter().copied().reduce(Origin::union)
    }
}

/// A [`Mapped`] rendered as a UTF-8 string for byte-oriented matchers (Aho-Corasick, regex),
/// with a way back from byte offsets to char indices.
pub struct Haystack {
    pub text: String,
    /// Byte offset at which each char starts.
    starts: Vec<usize>,
}

impl Haystack {
    pub fn new(mapped: &Mapped) -> Haystack {
        let mut text = String::with_capacity(mapped.len());
        let mut starts = Vec::with_capacity(mapped.len());
        for &c in mapped.chars() {
            starts.push(text.len());
            text.push(c);
        }
        Haystack { text, starts }
    }

    /// Char index of a byte offset that lies on a char boundary (or at the end).
    pub fn char_index(&self, byte: usize) -> usize {
        self.starts.partition_point(|&s| s < byte)
    }
}
