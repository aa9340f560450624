//! The language of a comment: the region's four (English, Russian, Kazakh, Uzbek in Latin or
//! Cyrillic script) and the Latin-script languages Perspective clients name (German,
//! Spanish, French, Italian, Portuguese, Turkish), so each can be routed to a model that
//! reads it and given its own thresholds.
//!
//! No maintained detector crate tells all four apart: `whatlang` knows English, Russian and
//! Latin-script Uzbek but neither Kazakh nor Uzbek Cyrillic, and `lingua` knows Kazakh but
//! no Uzbek (docs/languages.md has the comparison). So the letters decide first, and
//! `whatlang` only where they cannot:
//!
//! - **Cyrillic text** (at least as many Cyrillic letters as Latin ones). Letters only
//!   Kazakh has (ә ң ө ұ ү һ і, or a Latin i or h typed inside a Cyrillic word) mark a word
//!   as Kazakh; ў and ҳ, which only Uzbek has, mark it Uzbek; қ and ғ, which both have,
//!   mark it as one of the two. The side with more marked words wins; a tie (typically
//!   only қ/ғ words) goes to Kazakh when the text has ы, a letter Uzbek Cyrillic lacks,
//!   and to Uzbek otherwise. Text without marked words is Russian, and so is a text of
//!   five or more words of which fewer than a quarter are marked: Russian naming a Kazakh
//!   or Uzbek place or person ("совещание в Ақорде"). Ukrainian letters (є ї ґ) make the
//!   text Russian too, the nearest of the four, so Ukrainian і is not read as Kazakh.
//! - **Latin text.** oʻ or gʻ written with ʻ or ‘ (or a ʼ between letters) mark Uzbek.
//!   Written with a plain ' ’ ` ´ they mark it too, unless `whatlang` reliably reads the
//!   text as English ("o'clock" is never a marker). Otherwise `whatlang`, restricted to
//!   English and Uzbek, decides; it must be fairly sure of Uzbek ([`UZBEK_CONFIDENCE`]),
//!   since on a word or two ("hi", "haha") its guess is noise. Text that is not Uzbek is
//!   then English unless `whatlang`, restricted to English and the six other Latin
//!   languages, is sure of one of those ([`OTHER_LATIN_CONFIDENCE`]).
//! - Text without Latin or Cyrillic letters (emoji, digits, other scripts) has no language.
//!
//! [`detect_with_hint`] lets a caller's stated languages (Perspective's `languages`) settle
//! what the letters leave open, never against the script: a hint picks among the Latin
//! languages when `whatlang` is unsure, and Kazakh or Uzbek for Cyrillic text without
//! their letters; Cyrillic text is never taken for a Latin-script language.
//!
//! Known blind spots: Kazakh typed without any Kazakh letter ("Рахмет") and Uzbek
//! Cyrillic without ў ҳ қ ғ ("Бошингни кесаман") are read as Russian unless hinted;
//! other Cyrillic languages (Ukrainian) are read as Russian, and other Latin ones as the
//! nearest of these (Dutch as English or German).

use crate::domain::Language;
use std::sync::LazyLock;

use unicode_script::{Script, UnicodeScript};

use super::normalize::unicode::is_apostrophe_variant;

/// The language of `text`, or `None` when it has no Latin or Cyrillic letters.
pub fn detect(text: &str) -> Option<Language> {
    detect_with_hint(text, &[])
}

/// [`detect`], with the languages a caller says the text is in settling what the letters
/// leave open (see the module documentation). Hints the script rules out are ignored.
pub fn detect_with_hint(text: &str, hints: &[Language]) -> Option<Language> {
    let words = words(text);
    let cyrillic: usize = words.iter().map(|w| w.cyrillic).sum();
    let latin: usize = words.iter().map(|w| w.latin).sum();
    if cyrillic == 0 && latin == 0 {
        None
    } else if cyrillic >= latin {
        let found = cyrillic_text(&words);
        let unmarked = !words.iter().any(|w| w.kazakh || w.uzbek || w.shared);
        let hinted = hints
            .iter()
            .copied()
            .find(|&h| matches!(h, Language::Kk | Language::Uz));
        Some(match hinted {
            Some(h) if found == Language::Ru && unmarked => h,
            _ => found,
        })
    } else {
        Some(latin_text(text, &words, hints))
    }
}

/// Letters only Kazakh has among the four languages (Kazakh Cyrillic).
fn kazakh_only(c: char) -> bool {
    matches!(c, 'ә' | 'ң' | 'ө' | 'ұ' | 'ү' | 'һ' | 'і')
}

/// Letters only Uzbek Cyrillic has.
fn uzbek_only(c: char) -> bool {
    matches!(c, 'ў' | 'ҳ')
}

/// Letters Kazakh and Uzbek Cyrillic share and Russian lacks.
fn kazakh_or_uzbek(c: char) -> bool {
    matches!(c, 'қ' | 'ғ')
}

/// Ukrainian letters: such text is not Kazakh even though Ukrainian has і.
fn ukrainian(c: char) -> bool {
    matches!(c, 'є' | 'ї' | 'ґ')
}

/// What one word's letters say.
#[derive(Debug, Default)]
struct Word {
    cyrillic: usize,
    latin: usize,
    kazakh: bool,
    uzbek: bool,
    shared: bool,
    /// ы: Russian or Kazakh, never Uzbek.
    yery: bool,
    ukrainian: bool,
    /// Uzbek oʻ/gʻ written with ʻ or ‘, or a tutuq belgisi ʼ between letters.
    uzbek_latin_strong: bool,
    /// oʻ/gʻ written with ' ’ ` ´, which English also writes.
    uzbek_latin_weak: bool,
}

/// Words: runs of letters, with apostrophes kept inside them (Uzbek oʻ, English don't).
fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut current: Vec<char> = Vec::new();
    let mut flush = |chars: &mut Vec<char>| {
        if chars.iter().any(|c| c.is_alphabetic()) {
            out.push(word(chars));
        }
        chars.clear();
    };
    for c in text.chars() {
        if c.is_alphabetic() || (is_apostrophe_variant(c) && !current.is_empty()) {
            current.push(c);
        } else {
            flush(&mut current);
        }
    }
    flush(&mut current);
    out
}

fn word(chars: &[char]) -> Word {
    let mut w = Word::default();
    for &c in chars {
        match c.script() {
            Script::Cyrillic => w.cyrillic += 1,
            Script::Latin => w.latin += 1,
            _ => {}
        }
    }
    let in_cyrillic_word = w.cyrillic > 0 && w.cyrillic >= w.latin;
    for (i, &c) in chars.iter().enumerate() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        w.kazakh |= kazakh_only(lower) || (in_cyrillic_word && matches!(lower, 'i' | 'h'));
        w.uzbek |= uzbek_only(lower);
        w.shared |= kazakh_or_uzbek(lower);
        w.yery |= lower == 'ы';
        w.ukrainian |= ukrainian(lower);
        if is_apostrophe_variant(c) && i > 0 {
            let before = chars[i - 1].to_lowercase().next().unwrap_or(chars[i - 1]);
            let after = chars.get(i + 1).copied();
            let letter_after = after.is_some_and(|a| a.is_alphabetic());
            if c == '\u{02BC}' && letter_after {
                w.uzbek_latin_strong = true;
            } else if matches!(before, 'o' | 'g') && letter_after {
                if matches!(c, '\u{02BB}' | '\u{2018}') {
                    w.uzbek_latin_strong = true;
                } else if after.is_some_and(char::is_lowercase) {
                    w.uzbek_latin_weak = true;
                }
            }
        }
    }
    if w.uzbek_latin_weak {
        let lower: String = chars.iter().flat_map(|c| c.to_lowercase()).collect();
        let folded: String = lower
            .chars()
            .map(|c| if is_apostrophe_variant(c) { '\'' } else { c })
            .collect();
        if folded == "o'clock" {
            w.uzbek_latin_weak = false;
        }
    }
    w
}

fn cyrillic_text(words: &[Word]) -> Language {
    if words.iter().any(|w| w.ukrainian) {
        return Language::Ru;
    }
    let kazakh = words.iter().filter(|w| w.kazakh).count();
    let uzbek = words.iter().filter(|w| w.uzbek).count();
    let marked = words
        .iter()
        .filter(|w| w.kazakh || w.uzbek || w.shared)
        .count();
    if marked == 0 || (words.len() >= 5 && marked * 4 < words.len()) {
        return Language::Ru;
    }
    match kazakh.cmp(&uzbek) {
        std::cmp::Ordering::Greater => Language::Kk,
        std::cmp::Ordering::Less => Language::Uz,
        std::cmp::Ordering::Equal if words.iter().any(|w| w.yery) => Language::Kk,
        std::cmp::Ordering::Equal => Language::Uz,
    }
}

/// Confidence `whatlang` needs to call unmarked Latin text Uzbek. Hand-written short texts:
/// "Boshingni kesaman" 0.78, "Yaxshi maqola" 0.65, but "Olga" 0.44, "hi" 0.01.
pub const UZBEK_CONFIDENCE: f64 = 0.5;

/// `whatlang` restricted to the two Latin-script languages of the four.
static LATIN: LazyLock<whatlang::Detector> = LazyLock::new(|| {
    whatlang::Detector::with_allowlist(vec![whatlang::Lang::Eng, whatlang::Lang::Uzb])
});

/// Confidence `whatlang` needs, choosing between English and the likeliest other Latin
/// language, to call a text German, Spanish, French, Italian, Portuguese or Turkish
/// without a hint ("Eres un idiota y te odio" 0.38, "lol" 0.14). Alone it is not enough:
/// on short English sentences its trigrams often prefer another language ("Women like you
/// deserve to die" Portuguese 0.59), so the text must also hold more of that language's
/// function words than of English ones ([`function_words`]).
pub const OTHER_LATIN_CONFIDENCE: f64 = 0.2;

/// Fewer words than this are English unless hinted: a word or two is too little to tell.
pub const OTHER_LATIN_MIN_WORDS: usize = 3;

/// Frequent short words of each Latin-script language (articles, pronouns, conjunctions,
/// prepositions, the copula): what tells a sentence's language when trigrams cannot.
fn function_words(language: Language) -> &'static [&'static str] {
    match language {
        Language::En => &[
            "the", "and", "you", "your", "is", "are", "was", "were", "i", "it", "this", "that",
            "of", "to", "in", "for", "with", "not", "be", "have", "has", "they", "we", "he", "she",
            "my", "me", "like", "should", "would", "will", "do", "does", "what", "who", "a", "an",
            "all", "no", "so", "just", "at", "on", "from", "but", "or", "them", "their", "if",
            "am", "been", "being", "people", "don", "t", "s", "ve", "m",
        ],
        Language::De => &[
            "der", "die", "das", "und", "ist", "nicht", "ich", "du", "sie", "ein", "eine", "zu",
            "mit", "den", "dem", "auf", "für", "sind", "es", "wir", "ihr", "auch", "aber", "von",
            "wie", "bist", "hat", "haben", "mich", "dich", "alle", "noch", "nur", "kein", "keine",
            "was", "wer", "dass", "sehr",
        ],
        Language::Es => &[
            "el", "la", "los", "las", "y", "que", "de", "en", "es", "un", "una", "no", "por",
            "para", "con", "eres", "te", "se", "lo", "su", "del", "al", "pero", "más", "como",
            "muy", "yo", "tú", "todos", "esto", "esta", "este", "son", "mi",
        ],
        Language::Fr => &[
            "le", "la", "les", "et", "est", "un", "une", "de", "des", "du", "que", "qui", "pas",
            "ne", "je", "tu", "il", "elle", "nous", "vous", "ce", "cette", "pour", "avec", "dans",
            "sur", "es", "tout", "sont", "mais", "très", "au", "te", "l", "d",
        ],
        Language::It => &[
            "il", "lo", "la", "gli", "le", "e", "è", "di", "che", "un", "una", "non", "per", "con",
            "sei", "ti", "si", "del", "della", "ma", "sono", "tutti", "questo", "questa", "come",
            "anche", "mi", "io", "ho",
        ],
        Language::Pt => &[
            "o", "os", "a", "as", "e", "é", "de", "do", "da", "dos", "das", "que", "um", "uma",
            "não", "para", "com", "em", "você", "voce", "te", "se", "mais", "mas", "muito", "eu",
            "todos", "isso", "este", "esta", "são", "no", "na",
        ],
        Language::Tr => &[
            "ve", "bir", "bu", "da", "de", "için", "ile", "çok", "ne", "mi", "ama", "gibi", "daha",
            "sen", "ben", "o", "değil", "var", "yok", "olan", "her", "şey", "sana", "seni",
            "senden", "herkes", "sen", "siz",
        ],
        Language::Ru | Language::Kk | Language::Uz => &[],
    }
}

/// How many of `text`'s words are function words of `language`. One-letter words are not
/// counted: they are as often letters spelled out ("w h o r e") as words.
fn function_word_count(text: &str, language: Language) -> usize {
    let list = function_words(language);
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().nth(1).is_some())
        .filter(|w| list.contains(&w.to_lowercase().as_str()))
        .count()
}

/// Letters Turkish writes and Uzbek Latin never does (it writes sh, ch, gʻ).
fn turkish_only(c: char) -> bool {
    matches!(c, 'ı' | 'ş' | 'ğ' | 'İ' | 'Ş' | 'Ğ')
}

/// `whatlang` restricted to English and the other Latin-script languages (Uzbek decided
/// before).
static OTHER_LATIN: LazyLock<whatlang::Detector> = LazyLock::new(|| {
    whatlang::Detector::with_allowlist(vec![
        whatlang::Lang::Eng,
        whatlang::Lang::Deu,
        whatlang::Lang::Spa,
        whatlang::Lang::Fra,
        whatlang::Lang::Ita,
        whatlang::Lang::Por,
        whatlang::Lang::Tur,
    ])
});

fn from_whatlang(lang: whatlang::Lang) -> Option<Language> {
    match lang {
        whatlang::Lang::Eng => Some(Language::En),
        whatlang::Lang::Deu => Some(Language::De),
        whatlang::Lang::Spa => Some(Language::Es),
        whatlang::Lang::Fra => Some(Language::Fr),
        whatlang::Lang::Ita => Some(Language::It),
        whatlang::Lang::Por => Some(Language::Pt),
        whatlang::Lang::Tur => Some(Language::Tr),
        whatlang::Lang::Uzb => Some(Language::Uz),
        _ => None,
    }
}

fn latin_text(text: &str, words: &[Word], hints: &[Language]) -> Language {
    if words.iter().any(|w| w.uzbek_latin_strong) {
        return Language::Uz;
    }
    let hinted = hints.iter().copied().find(|h| h.writes_latin());
    let info = LATIN.detect(text);
    // Turkish is the nearest to Uzbek of the Latin languages: its own letters rule Uzbek out.
    let uzbek = !text.chars().any(turkish_only)
        && info
            .as_ref()
            .is_some_and(|i| i.lang() == whatlang::Lang::Uzb && i.confidence() >= UZBEK_CONFIDENCE);
    let surely_english = info
        .as_ref()
        .is_some_and(|i| i.lang() == whatlang::Lang::Eng && i.is_reliable());
    if uzbek || (words.iter().any(|w| w.uzbek_latin_weak) && !surely_english) {
        return Language::Uz;
    }
    // The likeliest of the seven, then that one against English alone: among seven the
    // confidence is split between close relatives (Spanish and Portuguese).
    let sure = OTHER_LATIN
        .detect(text)
        .filter(|i| i.lang() != whatlang::Lang::Eng && words.len() >= OTHER_LATIN_MIN_WORDS)
        .and_then(|i| {
            whatlang::Detector::with_allowlist(vec![whatlang::Lang::Eng, i.lang()]).detect(text)
        })
        .filter(|i| i.confidence() >= OTHER_LATIN_CONFIDENCE)
        .and_then(|i| from_whatlang(i.lang()))
        .filter(|&found| {
            found == Language::En
                || function_word_count(text, found) > function_word_count(text, Language::En)
        });
    match (sure, hinted) {
        (Some(found), _) => found,
        (None, Some(hint)) => hint,
        (None, None) => Language::En,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> Option<&'static str> {
        detect(text).map(Language::code)
    }

    #[test]
    fn parses_tags() {
        assert_eq!(Language::parse("ru"), Some(Language::Ru));
        assert_eq!(Language::parse("RU-ru"), Some(Language::Ru));
        assert_eq!(Language::parse("uz-Latn"), Some(Language::Uz));
        assert_eq!(Language::parse("uz_Cyrl"), Some(Language::Uz));
        assert_eq!(Language::parse(" kk "), Some(Language::Kk));
        assert_eq!(Language::parse("de"), Some(Language::De));
        assert_eq!(Language::parse("pt-BR"), Some(Language::Pt));
        assert_eq!(Language::parse("ja"), None);
        assert_eq!(Language::parse(""), None);
        assert_eq!(Language::codes(), "en, ru, kk, uz, de, es, fr, it, pt, tr");
        assert_eq!(
            serde_json::to_string(&Language::Kk).unwrap(),
            "\"kk\"",
            "serialised as its code"
        );
    }

    #[test]
    fn english_and_russian() {
        assert_eq!(code("What kind of idiot name is foo?"), Some("en"));
        assert_eq!(
            code("Thanks for the reporting, the timeline helps."),
            Some("en")
        );
        // A word or two: English unless Uzbek letters say otherwise.
        for short in ["ok", "hi", "haha", "Olga", "Tashkent", "lol"] {
            assert_eq!(code(short), Some("en"), "{short}");
        }
        assert_eq!(code("Уходите отсюда, вам здесь не рады"), Some("ru"));
        assert_eq!(code("OK, Москва"), Some("ru"));
        assert_eq!(code("Знаю, где ты живёшь."), Some("ru"));
    }

    #[test]
    fn no_letters_no_language() {
        assert_eq!(code(""), None);
        assert_eq!(code("🙂🙂 100%"), None);
        assert_eq!(code("北京欢迎你"), None);
    }

    #[test]
    fn kazakh_by_its_letters() {
        assert_eq!(code("Қазақстан – ортақ үйіміз."), Some("kk"));
        assert_eq!(code("Сені өлтіремін!"), Some("kk"));
        // Typed with a Latin i on a Russian keyboard.
        assert_eq!(code("Бiз бiргемiз"), Some("kk"));
        // Only қ, but ы: Uzbek Cyrillic has no ы.
        assert_eq!(code("Жақсы"), Some("kk"));
    }

    #[test]
    fn uzbek_cyrillic_by_its_letters() {
        assert_eq!(code("Сени ўлдираман!"), Some("uz"));
        assert_eq!(code("Муаллиф ҳақ гапни айтяпти"), Some("uz"));
        // қ/ғ without Kazakh letters or ы.
        assert_eq!(code("Яхши мақола"), Some("uz"));
        assert_eq!(code("Қаерда яшашингни биламан."), Some("uz"));
    }

    #[test]
    fn uzbek_latin_with_every_apostrophe() {
        for apostrophe in ['\'', '’', 'ʼ', '`', '‘', 'ʻ'] {
            let text = format!("Seni o{apostrophe}ldiraman");
            assert_eq!(code(&text), Some("uz"), "{text}");
            let text = format!("G{apostrophe}alaba bizniki");
            assert_eq!(code(&text), Some("uz"), "{text}");
        }
        assert_eq!(code("Maqola uchun rahmat, juda qiziqarli."), Some("uz"));
        assert_eq!(code("Boshingni kesaman"), Some("uz"));
        assert_eq!(code("Yo'q"), Some("uz"));
    }

    #[test]
    fn english_apostrophes_are_not_uzbek() {
        assert_eq!(code("See you at 5 o'clock, don't be late."), Some("en"));
        assert_eq!(
            code("Mr O'Brien wrote a good piece about the elections."),
            Some("en")
        );
        assert_eq!(code("I don't think that's right"), Some("en"));
    }

    #[test]
    fn russian_naming_kazakh_places_stays_russian() {
        assert_eq!(
            code("Вчера в Ақорде прошло совещание по ценам на бензин"),
            Some("ru")
        );
        // Ukrainian і is not Kazakh.
        assert_eq!(code("Дякую за статтю, дуже цікаво, є питання"), Some("ru"));
    }

    #[test]
    fn other_latin_languages_when_sure() {
        assert_eq!(code("Eres un idiota y te odio"), Some("es"));
        assert_eq!(code("Du bist ein Idiot und alle hassen dich"), Some("de"));
        assert_eq!(
            code("Tu es un imbécile et tout le monde te déteste"),
            Some("fr")
        );
        assert_eq!(code("Sei un idiota e tutti ti odiano"), Some("it"));
        assert_eq!(code("Você é um idiota e todos te odeiam"), Some("pt"));
        assert_eq!(
            code("Sen bir aptalsın ve herkes senden nefret ediyor"),
            Some("tr")
        );
        // English stays English, short or long.
        for text in [
            "ok",
            "Olga",
            "lol",
            "You are a stupid idiot and everyone hates you",
            "Muslims are a disease and should be deported",
        ] {
            assert_eq!(code(text), Some("en"), "{text}");
        }
    }

    #[test]
    fn hints_settle_what_the_letters_leave_open() {
        let hint =
            |text: &str, hints: &[Language]| detect_with_hint(text, hints).map(Language::code);
        // Too short to tell: the hint decides among Latin languages.
        assert_eq!(hint("idiota", &[Language::Es]), Some("es"));
        assert_eq!(hint("idiota", &[]), Some("en"));
        // Never against the script: Coral sends "en" for Russian.
        assert_eq!(hint("Ты дурак", &[Language::En]), Some("ru"));
        assert_eq!(hint("Ты дурак", &[Language::De]), Some("ru"));
        assert_eq!(hint("You idiot", &[Language::Ru]), Some("en"));
        // Cyrillic without Kazakh or Uzbek letters: the hint may say which.
        assert_eq!(hint("Рахмет", &[Language::Kk]), Some("kk"));
        assert_eq!(hint("Бошингни кесаман", &[Language::Uz]), Some("uz"));
        // ...but not against the letters.
        assert_eq!(hint("Сени ўлдираман!", &[Language::Kk]), Some("uz"));
        // A sure detection beats the hint.
        assert_eq!(
            hint("Eres un idiota y te odio", &[Language::En]),
            Some("es")
        );
    }

    #[test]
    fn known_blind_spots() {
        // Kazakh and Uzbek Cyrillic without any of their own letters read as Russian.
        assert_eq!(code("Рахмет"), Some("ru"));
        assert_eq!(code("Бошингни кесаман"), Some("ru"));
    }
}
