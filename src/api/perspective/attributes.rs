//! Perspective attributes mapped onto the classifier's labels, and how rule-list hits raise
//! them so platforms that only read scores still get the rule lists' judgement.

use crate::domain::{Action, Category, RuleHit};
use crate::domain::{Label, Scores};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    Toxicity,
    SevereToxicity,
    IdentityAttack,
    Insult,
    Profanity,
    Threat,
}

impl Attribute {
    pub const ALL: [Attribute; 6] = [
        Attribute::Toxicity,
        Attribute::SevereToxicity,
        Attribute::IdentityAttack,
        Attribute::Insult,
        Attribute::Profanity,
        Attribute::Threat,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Attribute::Toxicity => "TOXICITY",
            Attribute::SevereToxicity => "SEVERE_TOXICITY",
            Attribute::IdentityAttack => "IDENTITY_ATTACK",
            Attribute::Insult => "INSULT",
            Attribute::Profanity => "PROFANITY",
            Attribute::Threat => "THREAT",
        }
    }

    /// A requested attribute name, in any case; a version suffix (`TOXICITY@6`) and the
    /// `_EXPERIMENTAL` variants are accepted and read as the attribute itself. Perspective's
    /// attributes without a label of their own map to the nearest label (see docs/perspective.md,
    /// "Replacing Perspective"): `SEXUALLY_EXPLICIT` and `OBSCENE` to `obscene`,
    /// `ATTACK_ON_AUTHOR` and `ATTACK_ON_COMMENTER` to `insult`. `None` for attributes
    /// nothing here measures (`FLIRTATION`, `SPAM`, `INCOHERENT`, `INFLAMMATORY`,
    /// `UNSUBSTANTIAL`, `LIKELY_TO_REJECT`, ...).
    pub fn parse(requested: &str) -> Option<Attribute> {
        let name = requested
            .split_once('@')
            .map_or(requested, |(n, _)| n)
            .trim()
            .to_ascii_uppercase();
        let name = name.strip_suffix("_EXPERIMENTAL").unwrap_or(&name);
        if let Some(a) = Attribute::ALL.into_iter().find(|a| a.name() == name) {
            return Some(a);
        }
        match name {
            "SEXUALLY_EXPLICIT" | "OBSCENE" => Some(Attribute::Profanity),
            "ATTACK_ON_AUTHOR" | "ATTACK_ON_COMMENTER" => Some(Attribute::Insult),
            _ => None,
        }
    }

    pub fn label(self) -> Label {
        match self {
            Attribute::Toxicity => Label::Toxic,
            Attribute::SevereToxicity => Label::SevereToxic,
            Attribute::IdentityAttack => Label::IdentityHate,
            Attribute::Insult => Label::Insult,
            Attribute::Profanity => Label::Obscene,
            Attribute::Threat => Label::Threat,
        }
    }

    pub fn score(self, scores: &Scores) -> f32 {
        scores.get(self.label())
    }
}

/// A lower bound a rule hit puts on an attribute, over the hit's span (code points).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Floor {
    pub attribute: Attribute,
    pub value: f32,
    pub start: usize,
    pub end: usize,
}

/// Coral Talk holds a comment when a score is strictly above its threshold (0.80 by
/// default), so floors for hold and remove sit clearly above it.
pub const REMOVE_FLOOR: f32 = 0.95;
pub const HOLD_FLOOR: f32 = 0.85;
pub const FLAG_FLOOR: f32 = 0.6;
pub const REMOVE_SEVERE_FLOOR: f32 = 0.85;

fn category_attribute(category: Category) -> Option<Attribute> {
    match category {
        Category::Threat => Some(Attribute::Threat),
        Category::Slur => Some(Attribute::IdentityAttack),
        Category::Insult => Some(Attribute::Insult),
        Category::Profanity => Some(Attribute::Profanity),
        Category::Spam | Category::Custom => None,
    }
}

/// The floors for a set of rule hits:
///
/// | action | list's attribute | TOXICITY | SEVERE_TOXICITY |
/// |--------|------------------|----------|-----------------|
/// | remove | 0.95             | 0.95     | 0.85            |
/// | hold   | 0.85             | 0.85     | —               |
/// | flag   | 0.60             | —        | —               |
///
/// `allow` hits raise nothing (they already suppressed the hits they overlap).
pub fn floors(hits: &[RuleHit]) -> Vec<Floor> {
    let mut out = Vec::new();
    for hit in hits {
        let mut push = |attribute, value| {
            out.push(Floor {
                attribute,
                value,
                start: hit.start,
                end: hit.end,
            })
        };
        let own = category_attribute(hit.category);
        match hit.action {
            Action::Allow => {}
            Action::Flag => {
                if let Some(a) = own {
                    push(a, FLAG_FLOOR);
                }
            }
            Action::Hold => {
                if let Some(a) = own {
                    push(a, HOLD_FLOOR);
                }
                push(Attribute::Toxicity, HOLD_FLOOR);
            }
            Action::Remove => {
                if let Some(a) = own {
                    push(a, REMOVE_FLOOR);
                }
                push(Attribute::Toxicity, REMOVE_FLOOR);
                push(Attribute::SevereToxicity, REMOVE_SEVERE_FLOOR);
            }
        }
    }
    out
}

/// `score` raised to every floor of `attribute` whose hit overlaps `[begin, end)`.
pub fn raise(score: f32, attribute: Attribute, floors: &[Floor], begin: usize, end: usize) -> f32 {
    floors
        .iter()
        .filter(|f| f.attribute == attribute && f.start < end && begin < f.end)
        .fold(score, |s, f| s.max(f.value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(category: Category, action: Action, start: usize, end: usize) -> RuleHit {
        RuleHit {
            list: "test".into(),
            category,
            term: "x".into(),
            action,
            start,
            end,
        }
    }

    #[test]
    fn parses_names_with_versions() {
        assert_eq!(Attribute::parse("TOXICITY"), Some(Attribute::Toxicity));
        assert_eq!(
            Attribute::parse("SEVERE_TOXICITY@2"),
            Some(Attribute::SevereToxicity)
        );
        assert_eq!(Attribute::parse("FLIRTATION"), None);
        assert_eq!(Attribute::parse("SPAM"), None);
        assert_eq!(Attribute::parse("toxicity"), Some(Attribute::Toxicity));
        assert_eq!(
            Attribute::parse("TOXICITY_EXPERIMENTAL"),
            Some(Attribute::Toxicity)
        );
        assert_eq!(
            Attribute::parse("severe_toxicity_experimental@1"),
            Some(Attribute::SevereToxicity)
        );
        assert_eq!(
            Attribute::parse("SEXUALLY_EXPLICIT"),
            Some(Attribute::Profanity)
        );
        assert_eq!(
            Attribute::parse("ATTACK_ON_COMMENTER"),
            Some(Attribute::Insult)
        );
    }

    #[test]
    fn hold_threat_raises_threat_and_toxicity_on_its_span() {
        let f = floors(&[hit(Category::Threat, Action::Hold, 10, 20)]);
        assert_eq!(raise(0.1, Attribute::Threat, &f, 0, 30), HOLD_FLOOR);
        assert_eq!(raise(0.1, Attribute::Toxicity, &f, 0, 30), HOLD_FLOOR);
        assert_eq!(
            raise(0.9, Attribute::Toxicity, &f, 0, 30),
            0.9,
            "never lowers"
        );
        assert_eq!(
            raise(0.1, Attribute::Threat, &f, 20, 30),
            0.1,
            "span after the hit"
        );
        assert_eq!(raise(0.1, Attribute::Insult, &f, 0, 30), 0.1);
    }

    #[test]
    fn flag_raises_only_its_attribute_and_allow_nothing() {
        let f = floors(&[
            hit(Category::Profanity, Action::Flag, 0, 4),
            hit(Category::Slur, Action::Allow, 0, 4),
        ]);
        assert_eq!(raise(0.0, Attribute::Profanity, &f, 0, 4), FLAG_FLOOR);
        assert_eq!(raise(0.0, Attribute::Toxicity, &f, 0, 4), 0.0);
        assert_eq!(raise(0.0, Attribute::IdentityAttack, &f, 0, 4), 0.0);
    }

    #[test]
    fn remove_slur_raises_identity_attack_toxicity_and_severe() {
        let f = floors(&[hit(Category::Slur, Action::Remove, 0, 4)]);
        assert_eq!(
            raise(0.0, Attribute::IdentityAttack, &f, 0, 4),
            REMOVE_FLOOR
        );
        assert_eq!(raise(0.0, Attribute::Toxicity, &f, 0, 4), REMOVE_FLOOR);
        assert_eq!(
            raise(0.0, Attribute::SevereToxicity, &f, 0, 4),
            REMOVE_SEVERE_FLOOR
        );
    }
}
