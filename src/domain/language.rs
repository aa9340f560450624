//! The languages modgate detects (`crate::scoring::language` decides which one a text is in).

use serde::{Deserialize, Serialize};

/// A language modgate detects, rules and thresholds can be scoped to.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Ru,
    Kk,
    Uz,
    De,
    Es,
    Fr,
    It,
    Pt,
    Tr,
}

impl Language {
    pub const ALL: [Language; 10] = [
        Language::En,
        Language::Ru,
        Language::Kk,
        Language::Uz,
        Language::De,
        Language::Es,
        Language::Fr,
        Language::It,
        Language::Pt,
        Language::Tr,
    ];

    /// ISO 639-1 code: `en`, `ru`, `kk`, `uz`, `de`, `es`, `fr`, `it`, `pt`, `tr`.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ru => "ru",
            Language::Kk => "kk",
            Language::Uz => "uz",
            Language::De => "de",
            Language::Es => "es",
            Language::Fr => "fr",
            Language::It => "it",
            Language::Pt => "pt",
            Language::Tr => "tr",
        }
    }

    /// Whether the language is written in Cyrillic here (Uzbek in either script).
    pub fn writes_cyrillic(self) -> bool {
        matches!(self, Language::Ru | Language::Kk | Language::Uz)
    }

    /// Whether the language is written in Latin letters here (Uzbek in either script).
    pub fn writes_latin(self) -> bool {
        !matches!(self, Language::Ru | Language::Kk)
    }

    /// Position in [`Language::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// English name, for people.
    pub fn name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::Ru => "Russian",
            Language::Kk => "Kazakh",
            Language::Uz => "Uzbek",
            Language::De => "German",
            Language::Es => "Spanish",
            Language::Fr => "French",
            Language::It => "Italian",
            Language::Pt => "Portuguese",
            Language::Tr => "Turkish",
        }
    }

    /// A language tag's primary subtag, case-insensitively: `"ru"`, `"RU"`, `"ru-RU"`,
    /// `"uz-Latn"`, `"uz_Cyrl"`. `None` for languages modgate does not detect.
    pub fn parse(tag: &str) -> Option<Language> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default().trim();
        Language::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The codes, for messages: `en, ru, kk, uz, de, …`.
    pub fn codes() -> String {
        Language::ALL.map(Language::code).join(", ")
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}
