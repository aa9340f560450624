//! Text normalisation before rule matching, against evasion.
//!
//! Each step is its own function over a [`Mapped`] string (chars plus the original char
//! range each came from), so a match in normalised text maps back to a span in the text as
//! written. Steps, in order, each switchable per rule list through [`Flags`]:
//!
//! 1. [`strip_html`] — tags removed, entities decoded
//! 2. [`strip_invisible`] — zero-width and bidi controls removed
//! 3. [`fold_apostrophes`] — ʻ ’ ` ´ → ' (Uzbek oʻ/gʻ)
//! 4. [`nfkc`] — Unicode NFKC (full-width, mathematical letters ...)
//! 5. [`strip_marks`] — stray combining marks removed
//! 6. [`fold_confusables`] — homoglyphs, toward Latin or toward the word's own script
//! 7. [`case_fold`] — lower case
//! 8. [`collapse_whitespace`] — always on, so phrases match across line breaks
//! 9. [`join_separated`] — "s.w.i.n.e" → "swine"
//! 10. [`leet`] — "sw1ne", "$wine" → "swine"
//! 11. [`squeeze`] — "swiiiine" → "swine" (with run lengths)
//!
//! Terms go through the same steps (except HTML) so text and terms always agree.

use crate::domain::Flags;

pub mod confusables;
pub mod html;
pub mod mapped;
pub mod unicode;
pub mod words;

pub use confusables::{Target, fold_confusables};
pub use html::strip_html;
pub use mapped::{Haystack, Mapped, Origin};
pub use unicode::{case_fold, fold_apostrophes, nfkc, strip_invisible, strip_marks};
pub use words::{collapse_whitespace, join_separated, leet, squeeze};

/// Bump when a change to normalisation can change which rules match: it is part of the
/// rules version recorded with every verdict.
pub const NORMALIZER_VERSION: u32 = 1;

/// Text normalised for one target script.
#[derive(Clone, Debug)]
pub struct View {
    /// After every step but squeezing; regex rules run here (they are written for
    /// ordinary spelling, "kill" not "kil").
    pub text: Mapped,
    /// After squeezing; term rules run here.
    pub squeezed: Mapped,
    /// Run length of each char of `squeezed`.
    pub runs: Vec<u32>,
    /// A "1" was read as a letter: the caller should also try the other reading.
    pub ambiguous_one: bool,
}

/// Steps 1–5, shared by both targets.
pub fn prepare(text: &str, flags: &Flags) -> Mapped {
    let mut m = Mapped::new(text);
    if flags.html {
        m = strip_html(&m);
    }
    if flags.invisible {
        m = strip_invisible(&m);
    }
    if flags.apostrophes {
        m = fold_apostrophes(&m);
    }
    if flags.nfkc {
        m = nfkc(&m);
    }
    if flags.marks {
        m = strip_marks(&m);
    }
    m
}

/// Steps 6–11 for one target; `one_as` is the leetspeak reading of "1" (`'i'` or `'l'`).
pub fn view(prepared: &Mapped, flags: &Flags, target: Target, one_as: char) -> View {
    let mut m = if flags.confusables {
        fold_confusables(prepared, target)
    } else {
        prepared.clone()
    };
    if flags.case_fold {
        m = case_fold(&m);
    }
    m = collapse_whitespace(&m);
    if flags.separators {
        m = join_separated(&m);
    }
    let mut ambiguous_one = false;
    if flags.leet {
        let (read, used_one) = leet(&m, one_as);
        m = read;
        ambiguous_one = used_one;
    }
    let (squeezed, runs) = if flags.squeeze {
        squeeze(&m)
    } else {
        (m.clone(), vec![1; m.len()])
    };
    View {
        text: m,
        squeezed,
        runs,
        ambiguous_one,
    }
}

/// A rule term normalised exactly as text is (minus HTML, which terms do not contain).
pub fn normalize_term(term: &str, flags: &Flags, target: Target) -> View {
    let flags_for_term = Flags {
        html: false,
        ..*flags
    };
    view(&prepare(term, &flags_for_term), flags, target, 'i')
}

/// The fully normalised text for `target` with default flags (for display and debugging).
pub fn normalized(text: &str, target: Target) -> String {
    let flags = Flags::default();
    view(&prepare(text, &flags), &flags, target, 'i')
        .squeezed
        .as_string()
}
