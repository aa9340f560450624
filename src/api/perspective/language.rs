//! Request languages as Perspective clients send them. The text's own language comes from
//! [`crate::scoring::language::detect`], as for comments.

/// `"en-US"`, `"EN_us"`, `"en"` → `"en"`: the lower-cased primary subtag.
pub fn normalize(code: &str) -> String {
    code.split(['-', '_'])
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
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
}
