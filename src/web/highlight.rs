//! Split a comment body into pieces at rule-hit boundaries, so each matched span can be
//! wrapped in a `<mark>` while every piece is still escaped by the template.
//!
//! Hit spans are CHAR offsets into the original body (not bytes): slicing by bytes would
//! cut Cyrillic letters in half. Hits may overlap; a piece covered by several hits names
//! all of them.

use crate::domain::{Action, RuleHit};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    /// `None` for plain text; for a highlighted piece, the hover text and the strongest
    /// action among the hits covering it.
    pub mark: Option<Mark>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub title: String,
    pub action: &'static str,
}

pub fn action_str(a: Action) -> &'static str {
    match a {
        Action::Allow => "allow",
        Action::Flag => "flag",
        Action::Hold => "hold",
        Action::Remove => "remove",
    }
}

/// What a reader of the hover text needs: which list, which term, what it does.
pub fn hit_title(h: &RuleHit) -> String {
    format!("{}: {} ({})", h.list, h.term, action_str(h.action))
}

pub fn pieces(body: &str, hits: &[RuleHit]) -> Vec<Piece> {
    // Byte offset of every char boundary, so char offsets map to byte slices.
    let bounds: Vec<usize> = body
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(body.len()))
        .collect();
    let n = bounds.len() - 1;
    let spans: Vec<(usize, usize, &RuleHit)> = hits
        .iter()
        .map(|h| (h.start.min(n), h.end.min(n), h))
        .filter(|(s, e, _)| s < e)
        .collect();
    let mut cuts: Vec<usize> = vec![0, n];
    for (s, e, _) in &spans {
        cuts.push(*s);
        cuts.push(*e);
    }
    cuts.sort_unstable();
    cuts.dedup();

    let mut out: Vec<Piece> = Vec::with_capacity(cuts.len());
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let text = &body[bounds[a]..bounds[b]];
        let covering: Vec<&RuleHit> = spans
            .iter()
            .filter(|(s, e, _)| *s <= a && b <= *e)
            .map(|(_, _, h)| *h)
            .collect();
        let mark = (!covering.is_empty()).then(|| {
            let mut titles: Vec<String> = covering.iter().map(|h| hit_title(h)).collect();
            titles.dedup();
            let strongest = covering.iter().map(|h| h.action).max().expect("non-empty");
            Mark {
                title: titles.join("; "),
                action: action_str(strongest),
            }
        });
        // Neighbours with the same marking merge, so one hit is one element.
        match out.last_mut() {
            Some(last) if last.mark == mark => last.text.push_str(text),
            _ => out.push(Piece {
                text: text.to_string(),
                mark,
            }),
        }
    }
    if out.is_empty() {
        out.push(Piece {
            text: String::new(),
            mark: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Category;

    fn hit(list: &str, term: &str, start: usize, end: usize, action: Action) -> RuleHit {
        RuleHit {
            list: list.into(),
            category: Category::Insult,
            term: term.into(),
            action,
            start,
            end,
        }
    }

    fn render(p: &[Piece]) -> String {
        p.iter()
            .map(|p| match &p.mark {
                Some(m) => format!("[{}|{}]", p.text, m.action),
                None => p.text.clone(),
            })
            .collect()
    }

    #[test]
    fn slices_by_chars_not_bytes() {
        // "Вонючая свинья" – Cyrillic is two bytes per char.
        let body = "Ты свинья, уходи";
        let p = pieces(body, &[hit("insults_ru", "свинья", 3, 9, Action::Hold)]);
        assert_eq!(render(&p), "Ты [свинья|hold], уходи");
        assert_eq!(
            p[1].mark.as_ref().unwrap().title,
            "insults_ru: свинья (hold)"
        );
    }

    #[test]
    fn overlapping_hits_name_both_and_keep_strongest() {
        let body = "go back home now";
        let p = pieces(
            body,
            &[
                hit("a", "go back", 0, 7, Action::Flag),
                hit("b", "back home", 3, 12, Action::Remove),
            ],
        );
        assert_eq!(render(&p), "[go |flag][back|remove][ home|remove] now");
        assert_eq!(
            p[1].mark.as_ref().unwrap().title,
            "a: go back (flag); b: back home (remove)"
        );
    }

    #[test]
    fn out_of_range_and_empty_spans_are_ignored() {
        let p = pieces(
            "abc",
            &[
                hit("a", "x", 2, 99, Action::Hold),
                hit("b", "y", 1, 1, Action::Hold),
            ],
        );
        assert_eq!(render(&p), "ab[c|hold]");
        assert_eq!(render(&pieces("", &[])), "");
        assert_eq!(render(&pieces("plain", &[])), "plain");
    }

    #[test]
    fn hostile_text_stays_text() {
        // Pieces are raw text; escaping is the template's job, and the pieces never split
        // inside a char, so nothing can produce half an entity.
        let body = "<script>x</script>";
        let p = pieces(body, &[hit("a", "script", 1, 7, Action::Hold)]);
        assert_eq!(render(&p), "<[script|hold]>x</script>");
    }
}
