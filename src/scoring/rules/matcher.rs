//! Matching one normalised view against the compiled terms and regexes of one profile.

use aho_corasick::AhoCorasick;
use regex::{Regex, RegexSet};

use super::Found;
use crate::scoring::normalize::words::{is_boundary_after, is_boundary_before, is_word_char};
use crate::scoring::normalize::{Haystack, Mapped, View};

/// A term compiled for one view. Several terms may share one normalised key.
#[derive(Clone, Debug)]
pub(super) struct TermRule {
    pub rule: usize,
    /// Run length each key char needs in the text ("kill" → k1 i1 l2).
    pub runs: Vec<u32>,
    /// Whole-word checks on each side (off for `*` wildcards and non-word edges).
    pub check_start: bool,
    pub check_end: bool,
    /// `*` on that side: the hit is widened to the whole word for highlighting.
    pub open_start: bool,
    pub open_end: bool,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Matcher {
    /// One automaton over all distinct keys; `keys[pattern id]` are the terms behind a key.
    pub terms: Option<(AhoCorasick, Vec<Vec<TermRule>>)>,
    /// One set (patterns without word boundaries) to find which regexes may match, then
    /// each of those regexes for its real matches and spans.
    pub regexes: Option<(RegexSet, Vec<(Regex, usize)>)>,
}

impl Matcher {
    /// Appends to `found` every match of an active rule in `v`.
    pub fn scan(&self, v: &View, active: &impl Fn(usize) -> bool, found: &mut Vec<Found>) {
        if let Some((ac, keys)) = &self.terms {
            let hay = Haystack::new(&v.squeezed);
            let chars = v.squeezed.chars();
            for m in ac.find_overlapping_iter(&hay.text) {
                let (start, end) = (hay.char_index(m.start()), hay.char_index(m.end()));
                for term in &keys[m.pattern().as_usize()] {
                    let fits = active(term.rule)
                        && (!term.check_start || is_boundary_before(chars, start))
                        && (!term.check_end || is_boundary_after(chars, end))
                        && v.runs[start..end]
                            .iter()
                            .zip(&term.runs)
                            .all(|(have, need)| have >= need);
                    if fits {
                        let (s, e) = widen(chars, start, end, term.open_start, term.open_end);
                        push(found, &v.squeezed, s, e, term.rule);
                    }
                }
            }
        }
        if let Some((set, regexes)) = &self.regexes {
            let hay = Haystack::new(&v.text);
            for i in set.matches(&hay.text).iter() {
                let (regex, rule) = &regexes[i];
                if !active(*rule) {
                    continue;
                }
                for m in regex.find_iter(&hay.text).filter(|m| !m.is_empty()) {
                    let (start, end) = (hay.char_index(m.start()), hay.char_index(m.end()));
                    push(found, &v.text, start, end, *rule);
                }
            }
        }
    }
}

/// Extends a wildcard match over the rest of its word ("idiot*" in "idiots").
fn widen(
    chars: &[char],
    mut start: usize,
    mut end: usize,
    left: bool,
    right: bool,
) -> (usize, usize) {
    if left {
        while start > 0 && is_word_char(chars[start - 1]) {
            start -= 1;
        }
    }
    if right {
        while end < chars.len() && is_word_char(chars[end]) {
            end += 1;
        }
    }
    (start, end)
}

fn push(found: &mut Vec<Found>, mapped: &Mapped, start: usize, end: usize, rule: usize) {
    if let Some(o) = mapped.original_span(start..end) {
        found.push(Found {
            start: o.start,
            end: o.end,
            rule,
        });
    }
}
