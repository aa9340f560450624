//! Free text from readers and moderators (comment bodies, author names, report and decision
//! notes): one definition of what is accepted, and of a "visible character", for all of
//! them. The public thread form counts the same way (Unicode scalar values).

use super::FieldError;

/// How many combining marks may follow one base character. Real writing needs a few
/// (Vietnamese two, pointed Hebrew or Arabic three or four); "Zalgo" text stacks hundreds.
pub const MAX_COMBINING_RUN: usize = 8;

/// Characters that render as nothing: zero-width spaces and joiners, word joiner and
/// invisible operators, byte-order mark, soft hyphen, bidi marks, variation selectors,
/// Hangul fillers, Mongolian vowel separator, tag characters.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{2064}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// Bidi embeddings, overrides and isolates: they reorder the text around them (a comment
/// could display its own words backwards, or spill into the page).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A character that shows something: not whitespace, not invisible, not a combining mark
/// on its own.
pub fn is_visible(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !is_invisible(c) && !is_combining(c)
}

fn is_combining(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

/// Where the text may break lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// Newlines and tabs allowed (comment bodies, notes); CR LF and CR become LF.
    Many,
    /// One line (names): newlines refused, tabs refused.
    One,
}

/// Trims `raw`, normalises line ends, and checks it: no control characters other than
/// newline and tab (where `lines` allows them), no bidi controls, at most
/// [`MAX_COMBINING_RUN`] combining marks on a character, at most `max_chars` scalar values,
/// and at least one visible character. `Ok(None)` for text that is empty after trimming;
/// the caller decides whether that is allowed.
pub fn clean(
    field: &'static str,
    raw: &str,
    max_chars: usize,
    lines: Lines,
) -> Result<Option<String>, FieldError> {
    let text = raw.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let mut combining = 0usize;
    for c in text.chars() {
        let line_break_ok = lines == Lines::Many && (c == '\n' || c == '\t');
        if c.is_control() && !line_break_ok {
            let what = if c == '\n' {
                "must be on one line".to_string()
            } else {
                format!(
                    "must not contain control characters (found U+{:04X})",
                    c as u32
                )
            };
            return Err(FieldError::new(field, "invalid", what));
        }
        if is_bidi_control(c) {
            return Err(FieldError::new(
                field,
                "invalid",
                format!(
                    "must not contain bidi override characters (found U+{:04X})",
                    c as u32
                ),
            ));
        }
        combining = if is_combining(c) { combining + 1 } else { 0 };
        if combining > MAX_COMBINING_RUN {
            return Err(FieldError::new(
                field,
                "invalid",
                format!(
                    "must not stack more than {MAX_COMBINING_RUN} combining marks on one character"
                ),
            ));
        }
    }
    let len = text.chars().count();
    if len > max_chars {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("must be at most {max_chars} characters (got {len})"),
        ));
    }
    if !text.chars().any(is_visible) {
        return Err(FieldError::new(
            field,
            "empty",
            "must contain visible characters",
        ));
    }
    Ok(Some(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str, lines: Lines) -> String {
        clean("f", raw, 1500, lines).unwrap().unwrap()
    }

    fn code(raw: &str, lines: Lines) -> &'static str {
        clean("f", raw, 1500, lines).unwrap_err().code
    }

    #[test]
    fn ordinary_text_in_every_language_passes_trimmed() {
        assert_eq!(
            ok("  Hello,\r\nworld\t!  ", Lines::Many),
            "Hello,\nworld\t!"
        );
        assert_eq!(ok("Сәлем, Қазақстан", Lines::One), "Сәлем, Қазақстан");
        assert_eq!(ok("Oʻzbekiston", Lines::One), "Oʻzbekiston");
        // Emoji with joiners and variation selectors are visible.
        assert_eq!(
            ok("👩\u{200D}👩\u{200D}👧 ❤\u{FE0F}", Lines::One),
            "👩\u{200D}👩\u{200D}👧 ❤\u{FE0F}"
        );
        // Vietnamese stacks two marks on a letter.
        assert_eq!(
            ok("Vie\u{0302}\u{0301}t", Lines::One),
            "Vie\u{0302}\u{0301}t"
        );
        assert_eq!(clean("f", "   \n ", 10, Lines::Many).unwrap(), None);
    }

    #[test]
    fn invisible_only_text_is_empty() {
        for raw in [
            "\u{200B}",
            "\u{200B}\u{FEFF}\u{2060}",
            "\u{00AD}\u{3164}",
            "\u{0301}\u{0301}",
        ] {
            assert_eq!(code(raw, Lines::Many), "empty", "{raw:?}");
        }
    }

    #[test]
    fn controls_bidi_and_zalgo_are_refused() {
        for raw in [
            "a\u{1b}[2J",
            "bell\u{7}",
            "nul\0",
            "del\u{7f}",
            "c1\u{85}x",
            "x\u{202E}y",
            "x\u{2066}y",
        ] {
            assert_eq!(code(raw, Lines::Many), "invalid", "{raw:?}");
        }
        assert_eq!(code("two\nlines", Lines::One), "invalid");
        assert_eq!(code("tab\tname", Lines::One), "invalid");
        let zalgo = format!("a{}", "\u{0301}".repeat(1499));
        assert_eq!(code(&zalgo, Lines::Many), "invalid");
        let err = clean("note", &"x".repeat(11), 10, Lines::Many).unwrap_err();
        assert_eq!((err.field, err.code), ("note", "too_long"));
    }
}
