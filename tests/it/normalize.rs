//! Each normalisation step, table-driven: input → output and the origin map back to the
//! original text; plus property tests that no input panics or breaks the origin map.

use modgate::domain::Flags;
use modgate::scoring::normalize::words::{is_boundary_after, is_boundary_before};
use modgate::scoring::normalize::{
    Mapped, Target, case_fold, collapse_whitespace, fold_apostrophes, fold_confusables,
    join_separated, leet, nfkc, normalized, prepare, squeeze, strip_html, strip_invisible,
    strip_marks, view,
};
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;

type Step = fn(&Mapped) -> Mapped;
/// Input, expected output, expected origin of each output char.
type Case<'a> = (&'a str, &'a str, &'a [(usize, usize)]);

/// Runs `step` on each input and compares output text and origins.
fn check_table(step: Step, table: &[Case]) {
    for &(input, want, origins) in table {
        let out = step(&Mapped::new(input));
        assert_eq!(out.as_string(), want, "text of {input:?}");
        assert_eq!(out.origin_pairs(), origins, "origins of {input:?}");
    }
}

/// Only output text is compared (origins are checked by the property tests).
fn check_text(step: impl Fn(&Mapped) -> Mapped, table: &[(&str, &str)]) {
    for &(input, want) in table {
        assert_eq!(step(&Mapped::new(input)).as_string(), want, "{input:?}");
    }
}

fn identity(n: usize) -> Vec<(usize, usize)> {
    (0..n).map(|i| (i, i + 1)).collect()
}

#[test]
fn html_tags_and_entities() {
    check_table(
        strip_html,
        &[
            (
                "<b>sw</b>ine",
                "swine",
                &[(3, 4), (4, 5), (9, 10), (10, 11), (11, 12)],
            ),
            ("a&amp;b", "a&b", &[(0, 1), (1, 6), (6, 7)]),
            ("x<br>y", "x y", &[(0, 1), (1, 5), (5, 6)]),
            ("s<!-- c -->w", "sw", &[(0, 1), (11, 12)]),
            (
                "&#115;wine",
                "swine",
                &[(0, 6), (6, 7), (7, 8), (8, 9), (9, 10)],
            ),
        ],
    );
    // Not tags or entities: left alone.
    for text in [
        "I <3 you",
        "x < y > z",
        "<notatag>",
        "AT&T",
        "a & b;",
        "<b",
        "fish &chips",
    ] {
        let out = strip_html(&Mapped::new(text));
        assert_eq!(out.as_string(), text);
        assert_eq!(out.origin_pairs(), identity(text.chars().count()));
    }
    check_text(
        strip_html,
        &[
            ("<a href=\"x\">sw</a>ine", "swine"),
            ("<p>a</p><p>b</p>", " a  b "),
        ],
    );
}

#[test]
fn invisible_characters() {
    check_table(
        strip_invisible,
        &[
            (
                "sw\u{200B}ine",
                "swine",
                &[(0, 1), (1, 2), (3, 4), (4, 5), (5, 6)],
            ),
            ("\u{202E}ab\u{2066}", "ab", &[(1, 2), (2, 3)]),
            (
                "a\u{00AD}b\u{FEFF}\u{200D}c",
                "abc",
                &[(0, 1), (2, 3), (5, 6)],
            ),
        ],
    );
    check_text(
        strip_invisible,
        &[("s\u{2060}w\u{200C}i\u{200E}n\u{061C}e", "swine")],
    );
}

#[test]
fn apostrophes() {
    check_table(
        fold_apostrophes,
        &[
            ("o\u{2BB}g\u{2018}i", "o'g'i", &identity(5)),
            ("o`g\u{2019}", "o'g'", &identity(4)),
            ("o\u{B4}z", "o'z", &identity(3)),
        ],
    );
}

#[test]
fn nfkc_step() {
    check_table(
        nfkc,
        &[
            // Full-width letters.
            ("ｓｗｉｎｅ", "swine", &identity(5)),
            // Composition: e + combining acute → é, covering both originals.
            ("e\u{301}x", "\u{e9}x", &[(0, 2), (2, 3)]),
            // Compatibility decomposition: the ligature "ﬁ" → "fi", both from one char.
            ("\u{FB01}x", "fix", &[(0, 1), (0, 1), (1, 2)]),
            // Mathematical bold.
            ("\u{1D42C}\u{1D430}", "sw", &identity(2)),
            // Cyrillic й from и + breve.
            ("и\u{306}", "й", &[(0, 2)]),
        ],
    );
}

#[test]
fn stray_marks() {
    check_table(
        strip_marks,
        &[
            ("s\u{336}w\u{336}", "sw", &[(0, 2), (2, 4)]),
            ("\u{301}a", "\u{301}a", &identity(2)),
        ],
    );
}

#[test]
fn case_folding() {
    check_table(
        case_fold,
        &[
            ("SwINE", "swine", &identity(5)),
            ("СВИНЬЯ", "свинья", &identity(6)),
            ("İx", "i\u{307}x", &[(0, 1), (0, 1), (1, 2)]),
        ],
    );
}

#[test]
fn confusables_to_latin() {
    let latin = |m: &Mapped| fold_confusables(m, Target::Latin);
    check_text(
        latin,
        &[
            ("\u{455}wine", "swine"),   // Cyrillic dze
            ("\u{13A5}diot", "idiot"),  // Cherokee
            ("\u{3BF}\u{3B1}", "oa"),   // Greek omicron, alpha
            ("swíne", "swine"),         // accented Latin
            ("\u{1D21}\u{1D00}", "wa"), // small capitals
            ("ВАТ", "BAT"),             // Cyrillic capitals pass for Latin
            ("сука", "cyka"),           // fully Latin-looking Cyrillic word
        ],
    );
    let out = latin(&Mapped::new("\u{455}w"));
    assert_eq!(out.origin_pairs(), identity(2));
}

#[test]
fn confusables_to_native_keep_cyrillic() {
    let native = |m: &Mapped| fold_confusables(m, Target::Native);
    check_text(
        native,
        &[
            // Genuine Russian, Kazakh, Uzbek Cyrillic stays as written (ё → е aside).
            ("ты свинья", "ты свинья"),
            ("сен шошқасың", "сен шошқасың"),
            ("ўлдираман", "ўлдираман"),
            ("ещё", "еще"),
            // Latin look-alikes inside a Cyrillic word become Cyrillic.
            ("cвинья", "свинья"),
            ("свинья\u{3BF}", "свиньяо"),
            // Kazakh typed with a Latin i.
            ("сiз", "сіз"),
            // Latin words and Latin-looking words are left to the Latin view.
            ("swine", "swine"),
            ("cyка", "cyка"),
        ],
    );
}

/// Normalisation must not break the letters of the languages modgate detects: every
/// Kazakh and Uzbek Cyrillic letter Russian lacks, in both cases and inside sentences,
/// survives the whole pipeline in the native view (lower-cased; ё read as е, as terms are).
#[test]
fn kazakh_uzbek_and_russian_letters_survive_normalisation() {
    let flags = Flags::default();
    let native = |t: &str| {
        view(&prepare(t, &flags), &flags, Target::Native, 'i')
            .text
            .as_string()
    };
    let words = [
        // Kazakh: ә ғ қ ң ө ұ ү һ і
        "әже",
        "ғалым",
        "қала",
        "көңіл",
        "өмір",
        "ұлт",
        "үй",
        "қаһарман",
        "біз",
        "Қазақстан",
        "тұратыныңды",
        "өлтіремін",
        // Uzbek Cyrillic: ў қ ғ ҳ
        "ўзбек",
        "ҳаёт",
        "қўл",
        "ғалаба",
        "тўғри",
        "ўлдираман",
        "ёқиб",
        // Russian letters that have no Latin look-alike or are easy to fold wrongly
        "йогурт",
        "ёжик",
        "съешь",
        "щука",
        "эхо",
        "цыплёнок",
    ];
    for word in words {
        let want = word.to_lowercase().replace('ё', "е");
        assert_eq!(native(word), want, "{word}");
        assert_eq!(
            native(&word.to_uppercase()),
            want,
            "{}",
            word.to_uppercase()
        );
        let sentence = format!("«{word}», — деді ол.");
        assert_eq!(
            native(&sentence),
            format!("«{want}», — деді ол."),
            "{sentence}"
        );
    }
}

/// Uzbek Latin oʻ and gʻ (and the tutuq belgisi) keep their letters whatever apostrophe is
/// typed — ' ’ ʼ ` ‘ ʻ ´ — and read the same in both views, the apostrophe kept as '.
#[test]
fn uzbek_latin_letters_survive_normalisation_with_every_apostrophe() {
    let flags = Flags::default();
    let views = |t: &str| {
        let prepared = prepare(t, &flags);
        [Target::Latin, Target::Native].map(|target| {
            let v = view(&prepared, &flags, target, 'i');
            (v.text.as_string(), v.squeezed.as_string())
        })
    };
    for a in ['\'', '’', 'ʼ', '`', '‘', 'ʻ', '´'] {
        for (written, want) in [
            (format!("O{a}zbekiston"), "o'zbekiston"),
            (format!("G{a}alaba"), "g'alaba"),
            (format!("to{a}g{a}ri"), "to'g'ri"),
            (format!("qo{a}rqma"), "qo'rqma"),
            (format!("ta{a}lim"), "ta'lim"),
            (format!("SENI O{a}LDIRAMAN"), "seni o'ldiraman"),
        ] {
            for (target, (text, squeezed)) in ["latin", "native"].iter().zip(views(&written)) {
                assert_eq!(text, want, "{target} view of {written:?}");
                assert_eq!(squeezed, want, "{target} view of {written:?}, squeezed");
            }
        }
    }
    // Letters around the apostrophe are never taken for leetspeak or separators.
    assert_eq!(normalized("o'g'il bola", Target::Latin), "o'g'il bola");
    assert_eq!(
        normalized("Shaharda choy ichdik", Target::Latin),
        "shaharda choy ichdik"
    );
}

#[test]
fn whitespace() {
    check_table(
        collapse_whitespace,
        &[
            ("a \n\t b", "a b", &[(0, 1), (1, 5), (5, 6)]),
            ("a\u{A0}b", "a b", &identity(3)),
        ],
    );
}

#[test]
fn separators() {
    check_table(
        join_separated,
        &[
            (
                "s.w.i.n.e",
                "swine",
                &[(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)],
            ),
            (
                "a s w i n e",
                "aswine",
                &[(0, 1), (2, 3), (4, 5), (6, 7), (8, 9), (10, 11)],
            ),
        ],
    );
    check_text(
        join_separated,
        &[
            ("s w i n e", "swine"),
            ("s-w-i-n-e", "swine"),
            ("s_w_i_n_e", "swine"),
            ("s. w. i. n. e", "swine"),
            ("you s w i n e!", "you swine!"),
            ("$ w 1 n e", "$w1ne"),
            // Left alone: two single letters, normal words, numbers, apostrophes.
            ("a b", "a b"),
            ("plan a b or c", "plan a b or c"),
            ("1 2 3", "1 2 3"),
            ("o'g'i", "o'g'i"),
            ("al-Asad", "al-Asad"),
        ],
    );
}

#[test]
fn leetspeak() {
    let read_i = |m: &Mapped| leet(m, 'i').0;
    check_text(
        read_i,
        &[
            ("sw1ne", "swine"),
            ("$wine", "swine"),
            ("h@t3", "hate"),
            ("5h0ut", "shout"),
            ("k1ll", "kill"),
            // Numbers and digits away from letters stay.
            ("2024", "2024"),
            ("5 people", "5 people"),
            ("$5", "$5"),
            ("id107028412", "id107028412"),
            ("covid2019", "covid2019"),
            ("sw111ne", "swiiine"),
            // Cyrillic words read digits as Cyrillic letters.
            ("п0шел", "пошел"),
        ],
    );
    assert_eq!(leet(&Mapped::new("ki11"), 'l').0.as_string(), "kill");
    assert!(leet(&Mapped::new("k1ll"), 'i').1, "a 1 was read");
    assert!(
        !leet(&Mapped::new("sw3ne 1"), 'i').1,
        "a lone 1 is not read"
    );
    assert_eq!(
        leet(&Mapped::new("sw1ne"), 'i').0.origin_pairs(),
        identity(5)
    );
}

#[test]
fn squeezing() {
    let (out, runs) = squeeze(&Mapped::new("swiiine"));
    assert_eq!(out.as_string(), "swine");
    assert_eq!(
        out.origin_pairs(),
        vec![(0, 1), (1, 2), (2, 5), (5, 6), (6, 7)]
    );
    assert_eq!(runs, vec![1, 1, 3, 1, 1]);
    let (out, runs) = squeeze(&Mapped::new("kill 2000"));
    assert_eq!(out.as_string(), "kil 2000");
    assert_eq!(runs, vec![1, 1, 2, 1, 1, 1, 1, 1]);
}

#[test]
fn word_boundaries_with_apostrophes() {
    let chars = |s: &str| s.chars().collect::<Vec<_>>();
    // "swine's": the clitic does not glue to the word.
    assert!(is_boundary_after(&chars("swine's"), 5));
    assert!(is_boundary_after(&chars("swine'"), 5));
    // Uzbek "bo'ri" (wolf): "bo" is not a word of its own.
    assert!(!is_boundary_after(&chars("bo'ri"), 2));
    assert!(!is_boundary_before(&chars("o'g'ri"), 2));
    assert!(is_boundary_before(&chars("'swine'"), 1));
    assert!(!is_boundary_before(&chars("xswine"), 1));
}

#[test]
fn full_pipeline_views() {
    let cases = [
        ("<b>Ѕ\u{200B}W</b>ｉｉｉne", "swine"),
        ("S.W.1.N.E", "swine"),
        ("Know   where\nyou live", "know where you live"),
        ("Oʻldiraman", "o'ldiraman"),
    ];
    for (input, want) in cases {
        assert_eq!(normalized(input, Target::Latin), want, "{input:?}");
    }
    assert_eq!(normalized("ТЫ СВИНЬЯ", Target::Native), "ты свинья");
    // Steps switched off are skipped.
    let flags = Flags {
        leet: false,
        ..Flags::default()
    };
    let v = view(&prepare("sw1ne", &flags), &flags, Target::Latin, 'i');
    assert_eq!(v.squeezed.as_string(), "sw1ne");
}

/// Text generator mixing the characters that stress normalisation: combining marks, RTL
/// and bidi controls, emoji ZWJ sequences, zero-width chars, Cyrillic, HTML, leetspeak,
/// apostrophes, separators and long runs of one code point.
fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<char>().prop_map(String::from),
        "[a-z0-9@$ .\\-_'`]{1,8}",
        "[а-яёқғңөұүһәі]{1,8}",
        prop::sample::select(vec![
            "\u{301}",
            "\u{336}",
            "\u{308}\u{323}",
            "\u{200B}",
            "\u{200D}",
            "\u{202E}",
            "\u{2067}",
            "\u{FEFF}",
            "\u{AD}",
            "👨\u{200D}👩\u{200D}👧",
            "🏳\u{FE0F}\u{200D}🌈",
            "مرحبا",
            "שלום",
            "<b>",
            "</b>",
            "<br>",
            "&amp;",
            "&#x73;",
            "&nbsp;",
            "<!--",
            "-->",
            "ʻ",
            "’",
            "ｓ",
            "ﬁ",
            "İ",
            "ß",
            "Ꭵ",
            "ѕ",
            "\u{1D42C}",
            "가",
            "\u{1100}\u{1161}",
            "\u{11A8}",
            "\n",
            "\t",
            "e\u{301}\u{302}",
        ])
        .prop_map(String::from),
        (any::<char>(), 1usize..1500).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

fn assert_origins_valid(m: &Mapped, original_len: usize) -> Result<(), TestCaseError> {
    for (i, o) in m.origins().iter().enumerate() {
        prop_assert!(
            o.start < o.end && o.end <= original_len,
            "origin {i} {o:?} of {original_len}"
        );
    }
    Ok(())
}

/// Case count: `PROPTEST_CASES` when set (for long local runs), else a modest default.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    #[test]
    fn every_step_keeps_origins_valid(text in tricky_text()) {
        let n = text.chars().count();
        let start = Mapped::new(&text);
        let steps: [(&str, Step); 9] = [
            ("html", strip_html),
            ("invisible", strip_invisible),
            ("apostrophes", fold_apostrophes),
            ("nfkc", nfkc),
            ("marks", strip_marks),
            ("case", case_fold),
            ("whitespace", collapse_whitespace),
            ("separators", join_separated),
            ("latin", |m| fold_confusables(m, Target::Latin)),
        ];
        for (_, step) in steps {
            assert_origins_valid(&step(&start), n)?;
        }
        assert_origins_valid(&fold_confusables(&start, Target::Native), n)?;
        assert_origins_valid(&leet(&start, 'l').0, n)?;
        let (squeezed, runs) = squeeze(&start);
        prop_assert_eq!(squeezed.len(), runs.len());
        assert_origins_valid(&squeezed, n)?;
        let flags = Flags::default();
        for target in [Target::Latin, Target::Native] {
            let v = view(&prepare(&text, &flags), &flags, target, 'i');
            assert_origins_valid(&v.text, n)?;
            assert_origins_valid(&v.squeezed, n)?;
        }
    }

    #[test]
    fn nfkc_agrees_with_unicode_normalization(text in tricky_text()) {
        let ours = nfkc(&Mapped::new(&text)).as_string();
        let reference: String = text.nfkc().collect();
        prop_assert_eq!(ours, reference);
    }
}
