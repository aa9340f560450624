//! Request languages: normalising codes and guessing a text's language when none is given.

use unicode_script::{Script, UnicodeScript};

/// `"en-US"`, `"EN_us"`, `"en"` → `"en"`: the lower-cased primary subtag.
pub fn normalize(code: &str) -> String {
    code.split(['-', '_'])
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The language of `text`, for requests that name none. For now only the script decides:
/// mostly Cyrillic letters → `"ru"`, anything else → `"en"`. Kazakh and Uzbek (Cyrillic)
/// are reported as `"ru"`; a real language detector replaces this function.
pub fn detect(text: &str) -> &'static str {
    let (mut letters, mut cyrillic) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        if c.script() == Script::Cyrillic {
            cyrillic += 1;
        }
    }
    if letters > 0 && cyrillic * 2 > letters {
        "ru"
    } else {
        "en"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_tags() {
        assert_eq!(normalize("en-US"), "en");
        assert_eq!(normalize("RU"), "ru");
        assert_eq!(normalize("kk_KZ"), "kk");
    }

    #[test]
    fn detects_by_script() {
        assert_eq!(detect("What kind of idiot name is foo?"), "en");
        assert_eq!(detect("Уходите отсюда, вам здесь не рады"), "ru");
        assert_eq!(detect("Қазақстан – ортақ үйіміз"), "ru");
        assert_eq!(detect("OK, Москва"), "ru");
        assert_eq!(detect("🙂🙂"), "en");
    }
}
