//! Unicode-level steps: invisible characters, apostrophes, NFKC, stray combining marks and
//! case folding. Each keeps the origin map.

use unicode_normalization::char::{
    canonical_combining_class, compose, decompose_compatible, is_combining_mark,
};
use unicode_normalization::{IsNormalized, is_nfkc_quick};

use super::mapped::{Mapped, Origin};

/// Default_Ignorable_Code_Point ranges (Unicode DerivedCoreProperties): zero-width spaces and
/// joiners, bidi controls, soft hyphen, variation selectors, tag characters and fillers.
/// They render as nothing, so they only ever serve to split a word for a matcher.
const INVISIBLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFF8}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

pub fn is_invisible(c: char) -> bool {
    c >= '\u{AD}' && INVISIBLE.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Drops zero-width, bidi-control and other default-ignorable characters.
pub fn strip_invisible(input: &Mapped) -> Mapped {
    let mut out = Mapped::with_capacity(input.len());
    for (c, o) in input.iter() {
        if !is_invisible(c) {
            out.push(c, o);
        }
    }
    out
}

/// The one apostrophe every variant folds to.
pub const APOSTROPHE: char = '\'';

/// Apostrophe look-alikes used in Uzbek Latin (oʻ, gʻ, tutuq belgisi) and in typed English.
pub fn is_apostrophe_variant(c: char) -> bool {
    matches!(
        c,
        '\'' | '`'
            | '\u{00B4}' // acute accent
            | '\u{02B9}' // modifier prime
            | '\u{02BB}' // modifier turned comma (Uzbek oʻ, gʻ)
            | '\u{02BC}' // modifier apostrophe (Uzbek tutuq belgisi)
            | '\u{02BD}' // modifier reversed comma
            | '\u{2018}'
            | '\u{2019}'
            | '\u{201B}'
            | '\u{2032}' // prime
            | '\u{FF07}' // full-width apostrophe
    )
}

/// Folds apostrophe variants to `'`, so Uzbek oʻ / o' / o` / o’ all read the same. Runs
/// before NFKC because NFKC would turn U+00B4 into a space plus a combining accent.
pub fn fold_apostrophes(input: &Mapped) -> Mapped {
    let mut out = Mapped::with_capacity(input.len());
    for (c, o) in input.iter() {
        out.push(
            if is_apostrophe_variant(c) {
                APOSTROPHE
            } else {
                c
            },
            o,
        );
    }
    out
}

/// Unicode NFKC with origins: full-width, mathematical and other compatibility forms become
/// plain letters, and base + combining mark compose.
///
/// Implemented as the UAX #15 algorithm (compatibility decomposition per char, canonical
/// ordering, canonical composition) over (char, origin) pairs, using the tables of the
/// `unicode-normalization` crate; a composed char's origin covers all its parts. The output
/// string equals `unicode_normalization`'s `nfkc()` (checked by a property test).
pub fn nfkc(input: &Mapped) -> Mapped {
    // Most text (all ASCII, or precomposed Cyrillic) is already NFKC: skip the work.
    if is_nfkc_quick(input.chars().iter().copied()) == IsNormalized::Yes {
        return input.clone();
    }
    let mut decomposed: Vec<(char, Origin)> = Vec::with_capacity(input.len());
    for (c, o) in input.iter() {
        decompose_compatible(c, |d| decomposed.push((d, o)));
    }
    canonical_order(&mut decomposed);
    compose_all(&decomposed)
}

/// Stable sort of each run of non-starters by combining class (UAX #15 canonical ordering).
fn canonical_order(chars: &mut [(char, Origin)]) {
    let mut i = 0;
    while i < chars.len() {
        if canonical_combining_class(chars[i].0) == 0 {
            i += 1;
            continue;
        }
        let run_end = chars[i..]
            .iter()
            .position(|&(c, _)| canonical_combining_class(c) == 0)
            .map_or(chars.len(), |p| i + p);
        chars[i..run_end].sort_by_key(|&(c, _)| canonical_combining_class(c));
        i = run_end;
    }
}

/// Canonical composition: each char joins the last starter unless blocked by a char in
/// between of class 0 or of class >= its own.
fn compose_all(chars: &[(char, Origin)]) -> Mapped {
    let mut out = Mapped::with_capacity(chars.len());
    let mut out_chars: Vec<char> = Vec::with_capacity(chars.len());
    let mut out_origins: Vec<Origin> = Vec::with_capacity(chars.len());
    let mut starter: Option<usize> = None;
    // Class of the last char appended after the starter, if any (None: adjacent).
    let mut last_class: Option<u8> = None;
    for &(c, o) in chars {
        let class = canonical_combining_class(c);
        if let Some(s) = starter {
            let blocked = matches!(last_class, Some(l) if l == 0 || l >= class);
            if !blocked && let Some(composed) = compose(out_chars[s], c) {
                out_chars[s] = composed;
                out_origins[s] = out_origins[s].union(o);
                continue;
            }
        }
        if class == 0 {
            starter = Some(out_chars.len());
            last_class = None;
        } else {
            last_class = Some(class);
        }
        out_chars.push(c);
        out_origins.push(o);
    }
    for (c, o) in out_chars.into_iter().zip(out_origins) {
        out.push(c, o);
    }
    out
}

/// Drops combining marks left after NFKC (no precomposed letter exists for them): the
/// strike-through and "Zalgo" marks used to split words for a matcher. A dropped mark's
/// origin joins the char before it, so highlights cover it.
pub fn strip_marks(input: &Mapped) -> Mapped {
    let mut out = Mapped::with_capacity(input.len());
    for (c, o) in input.iter() {
        if is_combining_mark(c) {
            if !out.extend_last(o) {
                // A mark with nothing before it has no letter to belong to; keeping it is
                // harmless and keeps every original char accounted for.
                out.push(c, o);
            }
        } else {
            out.push(c, o);
        }
    }
    out
}

/// Lower-cases (full Unicode mapping; a char may become several, all with its origin).
pub fn case_fold(input: &Mapped) -> Mapped {
    let mut out = Mapped::with_capacity(input.len());
    for (c, o) in input.iter() {
        for l in c.to_lowercase() {
            out.push(l, o);
        }
    }
    out
}
