//! Word-level steps: whitespace, letters split by separators, leetspeak, repeated letters;
//! and the whole-word boundary test used by the matcher.

use std::ops::Range;

use unicode_normalization::char::is_combining_mark;

use super::confusables::is_cyrillic;
use super::mapped::Mapped;
use super::unicode::APOSTROPHE;

/// Letters, digits and combining marks make up words. Apostrophes are handled separately
/// by the boundary test (Uzbek oʻ, English clitics).
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Characters that stand for letters in leetspeak and so may sit inside a word.
fn is_leet_symbol(c: char) -> bool {
    c == '@' || c == '$'
}

fn is_wordish(c: char) -> bool {
    is_word_char(c) || is_leet_symbol(c)
}

/// Characters used to space out the letters of a word ("s.w.i.n.e", "s-w-i-n-e").
/// Apostrophes are never separators: they are part of Uzbek letters.
pub fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | ','
                | '-'
                | '_'
                | '*'
                | '/'
                | '\\'
                | '|'
                | '+'
                | '~'
                | ':'
                | ';'
                | '='
                | '^'
                | '·'
                | '•'
                | '‐'
                | '‑'
                | '‒'
                | '–'
                | '—'
                | '―'
        )
}

/// Maximal runs of chars satisfying `pred`.
pub fn runs(chars: &[char], pred: impl Fn(char) -> bool) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &c) in chars.iter().enumerate() {
        match (pred(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..chars.len());
    }
    out
}

/// Turns every run of whitespace (newlines, tabs, NBSP ...) into one space, so phrases
/// match across line breaks and double spaces. The space covers the whole run.
pub fn collapse_whitespace(input: &Mapped) -> Mapped {
    let mut out = Mapped::with_capacity(input.len());
    let mut in_space = false;
    for (c, o) in input.iter() {
        if c.is_whitespace() {
            if in_space {
                out.extend_last(o);
            } else {
                out.push(' ', o);
            }
            in_space = true;
        } else {
            out.push(c, o);
            in_space = false;
        }
    }
    out
}

/// Least number of spaced-out single letters joined into a word: "a b" in a sentence is
/// left alone, "s w i n e" is joined.
pub const MIN_JOINED: usize = 3;
/// Longest gap of separators between spaced-out letters ("s. w. i" has two).
const MAX_GAP: usize = 3;

/// Joins runs of at least [`MIN_JOINED`] single letters separated by short runs of
/// separators: "s.w.i.n.e", "s w i n e", "s_w_i_n_e" → "swine". The separators are
/// dropped; the joined word's span still covers them.
pub fn join_separated(input: &Mapped) -> Mapped {
    let chars = input.chars();
    let n = chars.len();
    let wordish: Vec<bool> = chars.iter().map(|&c| is_wordish(c)).collect();
    let single =
        |i: usize| wordish[i] && (i == 0 || !wordish[i - 1]) && (i + 1 == n || !wordish[i + 1]);
    let mut out = Mapped::with_capacity(n);
    let mut i = 0;
    while i < n {
        if !single(i) {
            out.push(chars[i], input.origins()[i]);
            i += 1;
            continue;
        }
        let mut tokens = vec![i];
        let mut j = i;
        'extend: loop {
            for gap in 1..=MAX_GAP {
                let next = j + gap + 1;
                if next > n || !is_separator(chars[j + gap]) {
                    break 'extend;
                }
                if next < n && single(next) {
                    tokens.push(next);
                    j = next;
                    continue 'extend;
                }
            }
            break;
        }
        let has_letter = tokens.iter().any(|&t| chars[t].is_alphabetic());
        if tokens.len() >= MIN_JOINED && has_letter {
            for &t in &tokens {
                out.push(chars[t], input.origins()[t]);
            }
            i = j + 1;
        } else {
            out.push(chars[i], input.origins()[i]);
            i += 1;
        }
    }
    out
}

/// Leetspeak reading of a digit or symbol inside a Latin word; `one_as` is the reading
/// of "1" (it stands for both "i" and "l": callers try both).
fn leet_latin(c: char, one_as: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => one_as,
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '@' => 'a',
        '$' => 's',
        _ => return None,
    })
}

/// Leetspeak reading inside a Cyrillic word ("п0шел", "3десь", "6лин").
fn leet_cyrillic(c: char) -> Option<char> {
    Some(match c {
        '0' => 'о',
        '3' => 'з',
        '4' => 'ч',
        '6' => 'б',
        '@' => 'а',
        _ => return None,
    })
}

/// A word holding a run of three or more digits that are not all the same ("id107028412",
/// "covid2019") is an identifier or a number with a prefix, not leetspeak; a repeated
/// digit ("sw111ne") still reads as a stretched letter.
fn looks_like_number(word: &[char]) -> bool {
    word.split(|c| !c.is_ascii_digit())
        .any(|run| run.len() >= 3 && run.iter().any(|&d| d != run[0]))
}

/// Replaces leetspeak digits and symbols with letters, but only inside words that contain
/// letters and do not look like numbers, so "2024", "5 people" and "id107" stay as they are. Returns whether a "1" was read, in
/// which case the caller should also try `one_as = 'l'`.
pub fn leet(input: &Mapped, one_as: char) -> (Mapped, bool) {
    let chars = input.chars();
    let mut out: Vec<char> = chars.to_vec();
    let mut read_one = false;
    for word in runs(chars, is_wordish) {
        let w = &chars[word.clone()];
        let has_leet = w.iter().any(|&c| c.is_ascii_digit() || is_leet_symbol(c));
        if !has_leet || !w.iter().any(|c| c.is_alphabetic()) || looks_like_number(w) {
            continue;
        }
        let cyrillic = w.iter().any(|&c| is_cyrillic(c));
        for i in word {
            let mapped = if cyrillic {
                leet_cyrillic(chars[i])
            } else {
                leet_latin(chars[i], one_as)
            };
            if let Some(m) = mapped {
                read_one |= chars[i] == '1' && !cyrillic;
                out[i] = m;
            }
        }
    }
    let mut result = Mapped::with_capacity(out.len());
    for (c, o) in out.into_iter().zip(input.origins().iter().copied()) {
        result.push(c, o);
    }
    (result, read_one)
}

/// Collapses runs of one repeated letter to a single letter ("swiiiine" → "swine") and
/// returns each kept letter's run length. Terms are squeezed the same way and remember
/// their own run lengths, so "kill"/"ass" still need a double letter in the text (and
/// "as" does not hit "ass") while "kiiiill" still hits "kill".
pub fn squeeze(input: &Mapped) -> (Mapped, Vec<u32>) {
    let mut out = Mapped::with_capacity(input.len());
    let mut counts: Vec<u32> = Vec::with_capacity(input.len());
    let mut prev: Option<char> = None;
    for (c, o) in input.iter() {
        if c.is_alphabetic() && prev == Some(c) {
            out.extend_last(o);
            *counts.last_mut().expect("a previous char") += 1;
        } else {
            out.push(c, o);
            counts.push(1);
        }
        prev = Some(c);
    }
    (out, counts)
}

/// English clitics after an apostrophe ("swine's", "idiots'll"), squeezed as text is.
const CLITICS: &[&str] = &["s", "t", "d", "m", "l", "ll", "re", "ve"];

/// Whether a match may start at `start`: no word char right before it. An apostrophe right
/// before counts as inside a word when a letter precedes it (Uzbek "oʻg'ri", "o'ldir").
pub fn is_boundary_before(chars: &[char], start: usize) -> bool {
    if start == 0 {
        return true;
    }
    let prev = chars[start - 1];
    if prev == APOSTROPHE {
        return !(start >= 2 && is_word_char(chars[start - 2]));
    }
    !is_word_char(prev)
}

/// Whether a match may end at `end`: no word char right after it. An apostrophe right after
/// is a boundary when followed by an English clitic or by no word at all, and inside the
/// word otherwise (Uzbek "bo'ri" does not hit a term "bo").
pub fn is_boundary_after(chars: &[char], end: usize) -> bool {
    let Some(&next) = chars.get(end) else {
        return true;
    };
    if next == APOSTROPHE {
        let rest = &chars[end + 1..];
        let len = rest.iter().take_while(|&&c| is_word_char(c)).count();
        if len == 0 {
            return true;
        }
        let word: String = rest[..len].iter().collect();
        return CLITICS.contains(&word.as_str());
    }
    !is_word_char(next)
}
