//! The six labels modgate decides on and a score per label.

use std::fmt;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// The six labels modgate decides on (Jigsaw / Detoxify naming), in model output order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Toxic,
    SevereToxic,
    Obscene,
    Threat,
    Insult,
    IdentityHate,
}

impl Label {
    pub const ALL: [Label; 6] = [
        Label::Toxic,
        Label::SevereToxic,
        Label::Obscene,
        Label::Threat,
        Label::Insult,
        Label::IdentityHate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Toxic => "toxic",
            Label::SevereToxic => "severe_toxic",
            Label::Obscene => "obscene",
            Label::Threat => "threat",
            Label::Insult => "insult",
            Label::IdentityHate => "identity_hate",
        }
    }

    pub fn parse(s: &str) -> Option<Label> {
        Label::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Probability per label. Serialises as `{"toxic": 0.98, ...}` in label order.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scores(pub [f32; 6]);

impl Scores {
    pub fn get(&self, label: Label) -> f32 {
        self.0[label.index()]
    }

    pub fn set(&mut self, label: Label, value: f32) {
        self.0[label.index()] = value;
    }

    pub fn iter(&self) -> impl Iterator<Item = (Label, f32)> + '_ {
        Label::ALL.into_iter().map(|l| (l, self.get(l)))
    }
}

impl Serialize for Scores {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(6))?;
        for (label, value) in self.iter() {
            // Rounded so stored JSON stays short and stable.
            let rounded = (value as f64 * 1e6).round() / 1e6;
            map.serialize_entry(label.as_str(), &rounded)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Scores {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, f32>::deserialize(deserializer)?;
        let mut scores = Scores::default();
        for (k, v) in map {
            if let Some(label) = Label::parse(&k) {
                scores.set(label, v);
            }
        }
        Ok(scores)
    }
}
