//! HTML tag stripping and entity decoding, keeping offsets.
//!
//! Only tags of known HTML elements (and `<!-- -->` comments) are removed, so ordinary text
//! such as "I <3 you" or "x < y" is left alone. Block-level tags become a space so that
//! `<p>a</p><p>b</p>` does not glue two words together; inline tags vanish so that
//! `<b>sw</b>ine` reads "swine".

use super::mapped::{Mapped, Origin};

/// Longest tag or entity we look for; longer candidates are treated as text.
const MAX_TAG: usize = 512;
const MAX_ENTITY: usize = 32;

const INLINE_TAGS: &[&str] = &[
    "a", "abbr", "b", "big", "cite", "code", "del", "dfn", "em", "font", "i", "img", "ins", "kbd",
    "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "tt", "u", "var",
    "wbr",
];
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Removes HTML tags and comments and decodes character entities (`&amp;`, `&#39;`, ...).
pub fn strip_html(input: &Mapped) -> Mapped {
    let chars = input.chars();
    let origins = input.origins();
    if !chars.iter().any(|&c| c == '<' || c == '&') {
        return input.clone();
    }
    let mut out = Mapped::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '<'
            && let Some((end, block)) = tag_at(chars, i)
        {
            if block {
                out.push(' ', span(origins, i, end));
            }
            i = end;
            continue;
        }
        if chars[i] == '&'
            && let Some((end, decoded)) = entity_at(chars, i)
        {
            let origin = span(origins, i, end);
            for c in decoded.chars() {
                out.push(c, origin);
            }
            i = end;
            continue;
        }
        out.push(chars[i], origins[i]);
        i += 1;
    }
    out
}

fn span(origins: &[Origin], start: usize, end: usize) -> Origin {
    origins[start..end]
        .iter()
        .copied()
        .reduce(Origin::union)
        .expect("non-empty range")
}

/// If a tag or comment starts at `start`, returns the index just past it and whether it is
/// a block-level tag.
fn tag_at(chars: &[char], start: usize) -> Option<(usize, bool)> {
    let rest = &chars[start + 1..chars.len().min(start + MAX_TAG)];
    if rest.starts_with(&['!', '-', '-']) {
        let close = rest.windows(3).skip(3).position(|w| w == ['-', '-', '>'])?;
        return Some((start + 1 + 3 + close + 3, false));
    }
    let name_start = usize::from(rest.first() == Some(&'/'));
    let name: String = rest[name_start..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let block = BLOCK_TAGS.contains(&name.as_str());
    if !block && !INLINE_TAGS.contains(&name.as_str()) {
        return None;
    }
    // The name must end the tag or be followed by attributes / a self-closing slash.
    let after = rest.get(name_start + name.len())?;
    if !(*after == '>' || *after == '/' || after.is_whitespace()) {
        return None;
    }
    let close = rest.iter().position(|&c| c == '>')?;
    if rest[..close].contains(&'<') {
        return None;
    }
    Some((start + 1 + close + 1, block))
}

/// If a `;`-terminated character reference starts at `start`, returns the index past it and
/// its decoded text.
fn entity_at(chars: &[char], start: usize) -> Option<(usize, String)> {
    let rest = &chars[start + 1..chars.len().min(start + MAX_ENTITY)];
    let semi = rest.iter().position(|&c| c == ';')?;
    let body = &rest[..semi];
    if body.is_empty() || !body.iter().all(|c| c.is_ascii_alphanumeric() || *c == '#') {
        return None;
    }
    let candidate: String = chars[start..start + semi + 2].iter().collect();
    let decoded = html_escape::decode_html_entities(&candidate);
    if decoded == candidate || decoded.is_empty() {
        return None;
    }
    Some((start + semi + 2, decoded.into_owned()))
}
