//! Confusable (homoglyph) folding.
//!
//! Two targets, because the same text must be matched against Latin terms and against
//! genuine Cyrillic terms (Russian, Kazakh, Uzbek Cyrillic):
//! - [`Target::Latin`] folds every letter that looks like a Latin letter to it: Cyrillic
//!   "ѕ" (U+0455) → "s", Cherokee "Ꭵ" (U+13A5) → "i", Greek "ο" → "o", accented Latin
//!   "í" → "i". Latin terms are matched in this view.
//! - [`Target::Native`] leaves single-script words alone and folds only words that mix
//!   scripts and contain a letter that exists only in Cyrillic: their Latin look-alikes
//!   become Cyrillic ("cвинья" with a Latin c → "свинья"). It also folds ё → е, which
//!   Russian writers use interchangeably. Cyrillic terms are matched in this view.
//!
//! The look-alike data is Unicode's confusables table (UTS #39) via the `unicode-security`
//! crate, reduced to the letters whose prototype is a single ASCII letter.

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_script::{Script, UnicodeScript};

use super::mapped::Mapped;
use super::words::{is_word_char, runs};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Latin,
    Native,
}

/// Blocks holding letters that can pass for Latin ones.
const BLOCKS: &[(u32, u32)] = &[
    (0x00C0, 0x024F), // Latin-1 letters, Latin Extended-A/B
    (0x0250, 0x02AF), // IPA
    (0x0370, 0x03FF), // Greek
    (0x0400, 0x052F), // Cyrillic, Cyrillic Supplement
    (0x0530, 0x058F), // Armenian
    (0x13A0, 0x13FF), // Cherokee
    (0x1C80, 0x1C8F), // Cyrillic Extended-C
    (0x1D00, 0x1DBF), // Phonetic extensions (small capitals)
    (0x1E00, 0x1EFF), // Latin Extended Additional
    (0x1F00, 0x1FFF), // Greek Extended
    (0x2C60, 0x2C7F), // Latin Extended-C
    (0x2C80, 0x2CFF), // Coptic
    (0xA4D0, 0xA4FF), // Lisu
    (0xA640, 0xA69F), // Cyrillic Extended-B
    (0xA720, 0xA7FF), // Latin Extended-D
    (0xAB30, 0xAB6F), // Latin Extended-E
    (0xAB70, 0xABBF), // Cherokee Supplement (lower case)
];

/// Latin small capitals ("ꜱᴡɪɴᴇ" text) that the confusables table leaves out.
const SMALL_CAPITALS: &[(char, char)] = &[
    ('ᴀ', 'a'),
    ('ʙ', 'b'),
    ('ᴅ', 'd'),
    ('ᴇ', 'e'),
    ('ꜰ', 'f'),
    ('ɢ', 'g'),
    ('ʜ', 'h'),
    ('ᴊ', 'j'),
    ('ᴋ', 'k'),
    ('ʟ', 'l'),
    ('ᴍ', 'm'),
    ('ɴ', 'n'),
    ('ᴘ', 'p'),
    ('ꞯ', 'q'),
    ('ꜱ', 's'),
    ('ᴛ', 't'),
];

/// Non-ASCII letter → the ASCII letter it passes for (case as in the confusables table).
static TO_LATIN: LazyLock<HashMap<char, char>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for &(lo, hi) in BLOCKS {
        for c in (lo..=hi).filter_map(char::from_u32) {
            if let Some(l) = latin_lookalike(c) {
                map.insert(c, l);
            }
        }
    }
    for &(c, l) in SMALL_CAPITALS {
        map.entry(c).or_insert(l);
    }
    map
});

/// Lower-case Latin letter → the lower-case Cyrillic letter it passes for.
static TO_CYRILLIC: LazyLock<HashMap<char, char>> = LazyLock::new(|| {
    // Lower rank wins: Russian lower-case letters first, then other lower-case Cyrillic
    // (Kazakh і, һ ...), then capitals (Cyrillic "Т" passes for "T", so "t" → "т").
    let rank = |cy: char| match cy {
        '\u{0430}'..='\u{044F}' => 0,
        _ if cy.is_lowercase() => 1,
        _ => 2,
    };
    let mut best: HashMap<char, (u8, char)> = HashMap::new();
    let mut cyrillic: Vec<(char, char)> = TO_LATIN
        .iter()
        .filter(|(c, _)| c.script() == Script::Cyrillic)
        .map(|(&c, &l)| (c, l))
        .collect();
    cyrillic.sort_unstable();
    for (cy, latin) in cyrillic {
        let Some(lower_cy) = single_lowercase(cy) else {
            continue;
        };
        let entry = (rank(cy), lower_cy);
        let slot = best.entry(latin.to_ascii_lowercase()).or_insert(entry);
        if entry.0 < slot.0 {
            *slot = entry;
        }
    }
    best.into_iter().map(|(l, (_, cy))| (l, cy)).collect()
});

fn single_lowercase(c: char) -> Option<char> {
    let mut it = c.to_lowercase();
    let l = it.next()?;
    it.next().is_none().then_some(l)
}

/// The ASCII letter `c` passes for, if any.
fn latin_lookalike(c: char) -> Option<char> {
    if c.is_ascii() || !c.is_alphabetic() {
        return None;
    }
    if let Some(l) = skeleton_letter(c) {
        // UTS #39 maps capital I look-alikes (Cyrillic І, Greek Ι) to "l"; their lower
        // case says which letter is meant.
        if l == 'l'
            && c.is_uppercase()
            && let Some(lower) = single_lowercase(c).and_then(skeleton_letter)
        {
            return Some(lower);
        }
        return Some(l);
    }
    // Lower-case Cherokee (and similar) have no entry of their own; their capitals do.
    let mut upper = c.to_uppercase();
    if let (Some(u), None) = (upper.next(), upper.next())
        && u != c
        && let Some(l) = skeleton_letter(u)
    {
        return Some(l.to_ascii_lowercase());
    }
    // Accented Latin letters whose prototype is not a single letter (e.g. "ṃ" → "rn").
    if c.script() == Script::Latin {
        let mut parts = Vec::new();
        decompose_canonical(c, |d| parts.push(d));
        return single_letter_with_marks(parts.into_iter());
    }
    None
}

/// UTS #39 prototype of `c` if it is one ASCII letter, possibly followed by marks.
fn skeleton_letter(c: char) -> Option<char> {
    let mut buf = [0u8; 4];
    single_letter_with_marks(unicode_security::skeleton(c.encode_utf8(&mut buf)))
}

fn single_letter_with_marks(mut chars: impl Iterator<Item = char>) -> Option<char> {
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(is_combining_mark)).then_some(first)
}

/// The ASCII letter `c` passes for, if it is a non-ASCII Latin look-alike.
pub fn to_latin(c: char) -> Option<char> {
    TO_LATIN.get(&c).copied()
}

/// Whether `c` lies in a Cyrillic block: a range test, as this runs for every char.
pub fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}')
}

/// A Cyrillic letter with no Latin look-alike ("в", "и", "я", "ң" ...): proof that a word
/// is meant as Cyrillic.
pub fn is_strong_cyrillic(c: char) -> bool {
    is_cyrillic(c)
        && c.is_alphabetic()
        && to_latin(c).is_none()
        && single_lowercase(c).is_none_or(|l| to_latin(l).is_none())
}

/// Folds confusable letters toward `target` (see the module docs).
pub fn fold_confusables(input: &Mapped, target: Target) -> Mapped {
    match target {
        Target::Latin => fold_to_latin(input),
        Target::Native => fold_to_native(input),
    }
}

fn fold_to_latin(input: &Mapped) -> Mapped {
    let mut out = Mapped::with_capacity(input.len());
    for (c, o) in input.iter() {
        out.push(to_latin(c).unwrap_or(c), o);
    }
    out
}

fn fold_to_native(input: &Mapped) -> Mapped {
    let chars = input.chars();
    let mut folded: Vec<char> = chars.iter().map(|&c| fold_yo(c)).collect();
    // Only text with both Cyrillic and other letters can have mixed words.
    let cyrillic = chars.iter().any(|&c| is_cyrillic(c));
    let other = chars.iter().any(|&c| c.is_alphabetic() && !is_cyrillic(c));
    let words = if cyrillic && other {
        runs(chars, is_word_char)
    } else {
        Vec::new()
    };
    for word in words {
        let w = &chars[word.clone()];
        let mixed = w.iter().any(|&c| c.is_alphabetic() && !is_cyrillic(c));
        if !mixed || !w.iter().copied().any(is_strong_cyrillic) {
            continue;
        }
        for i in word {
            let c = chars[i];
            if c.is_alphabetic() && !is_cyrillic(c) {
                let latin = to_latin(c).unwrap_or(c).to_ascii_lowercase();
                if let Some(&cy) = TO_CYRILLIC.get(&latin) {
                    folded[i] = cy;
                }
            }
        }
    }
    let mut out = Mapped::with_capacity(input.len());
    for (c, o) in folded.into_iter().zip(input.origins().iter().copied()) {
        out.push(c, o);
    }
    out
}

fn fold_yo(c: char) -> char {
    match c {
        'ё' => 'е',
        'Ё' => 'Е',
        _ => c,
    }
}
