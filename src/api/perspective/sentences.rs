//! Sentence spans for `spanAnnotations`, as Unicode code point offsets into the text
//! (Unicode sentence boundaries, UAX #29; surrounding whitespace is not part of a span).
//! The endpoint answers them in UTF-16 code units ([`Span::utf16`]), as Perspective's
//! clients index strings.

use unicode_segmentation::UnicodeSegmentation;

/// Most spans scored per request; longer texts have neighbouring sentences grouped.
pub const MAX_SPANS: usize = 32;

/// A span of `text`: code point offsets `[begin, end)` and its byte range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub begin: usize,
    pub end: usize,
    pub bytes: std::ops::Range<usize>,
}

impl Span {
    pub fn text<'a>(&self, text: &'a str) -> &'a str {
        &text[self.bytes.clone()]
    }

    /// `[begin, end)` in UTF-16 code units of `text` (an emoji outside the Basic
    /// Multilingual Plane is two).
    pub fn utf16(&self, text: &str) -> (usize, usize) {
        let begin = text[..self.bytes.start].encode_utf16().count();
        (begin, begin + self.text(text).encode_utf16().count())
    }
}

/// The sentences of `text`, at most [`MAX_SPANS`] of them.
pub fn sentences(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut chars_before = 0;
    let mut bytes_before = 0;
    for (offset, sentence) in text.split_sentence_bound_indices() {
        // Sentences are contiguous: count the chars between the last one and this one.
        chars_before += text[bytes_before..offset].chars().count();
        bytes_before = offset;
        let trimmed_start = sentence.trim_start();
        let lead = sentence.len() - trimmed_start.len();
        let body = trimmed_start.trim_end();
        if !body.is_empty() {
            let begin = chars_before + sentence[..lead].chars().count();
            let start_byte = offset + lead;
            spans.push(Span {
                begin,
                end: begin + body.chars().count(),
                bytes: start_byte..start_byte + body.len(),
            });
        }
    }
    group(spans)
}

/// Merge neighbours so at most [`MAX_SPANS`] remain.
fn group(spans: Vec<Span>) -> Vec<Span> {
    if spans.len() <= MAX_SPANS {
        return spans;
    }
    let per = spans.len().div_ceil(MAX_SPANS);
    spans
        .chunks(per)
        .map(|c| Span {
            begin: c[0].begin,
            end: c[c.len() - 1].end,
            bytes: c[0].bytes.start..c[c.len() - 1].bytes.end,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(usize, usize, &str)> {
        sentences(text)
            .iter()
            .map(|s| (s.begin, s.end, s.text(text)))
            .collect()
    }

    #[test]
    fn perspective_documentation_example() {
        // Perspective's AnalyzeComment example: spans [0,31) and [32,56).
        let text = "What kind of idiot name is foo? Sorry, I like your name.";
        assert_eq!(
            pairs(text),
            [
                (0, 31, "What kind of idiot name is foo?"),
                (32, 56, "Sorry, I like your name.")
            ]
        );
    }

    #[test]
    fn offsets_are_code_points() {
        let text = "Привет 👋🏽! Ты дурак. Ok";
        let got = pairs(text);
        assert_eq!(got[0], (0, 10, "Привет 👋🏽!"));
        assert_eq!(got[1], (11, 20, "Ты дурак."));
        assert_eq!(got[2], (21, 23, "Ok"));
    }

    #[test]
    fn utf16_offsets_slice_like_javascript() {
        let text = "Привет 👋🏽! Ты дурак. Ok";
        let units: Vec<u16> = text.encode_utf16().collect();
        let got: Vec<((usize, usize), String)> = sentences(text)
            .iter()
            .map(|s| {
                let (b, e) = s.utf16(text);
                ((b, e), String::from_utf16(&units[b..e]).unwrap())
            })
            .collect();
        assert_eq!(
            got,
            [
                ((0, 12), "Привет 👋🏽!".to_string()),
                ((13, 22), "Ты дурак.".to_string()),
                ((23, 25), "Ok".to_string())
            ]
        );
    }

    #[test]
    fn long_texts_are_grouped() {
        let text = "One. ".repeat(100);
        let got = sentences(&text);
        assert!(got.len() <= MAX_SPANS);
        assert_eq!(got[0].begin, 0);
        assert_eq!(got.last().unwrap().end, text.trim_end().chars().count());
    }
}
