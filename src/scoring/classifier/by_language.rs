//! `[model.languages]`: one model per detected language, behind the one `Classifier`
//! the batcher holds. A batch is split by language, each part scored by its model, and the
//! scores put back in order; each verdict records the model that scored its text.
//!
//! A language without a route goes to the default model if that reads it, else to the
//! first routed model that does (German to the multilingual transformer when the default
//! is the English BiLSTM), else to the default.

use std::sync::Arc;

use crate::domain::Scores;

use super::{Classifier, ClassifierError};
use crate::domain::Language;
use crate::scoring::language::{self};

pub struct ByLanguage {
    default: Arc<dyn Classifier>,
    routes: Vec<(Language, Arc<dyn Classifier>)>,
    model_id: String,
}

impl ByLanguage {
    /// `routes` name the languages that do not go to `default`.
    pub fn new(default: Arc<dyn Classifier>, routes: Vec<(Language, Arc<dyn Classifier>)>) -> Self {
        // "bilstm:…@…; kk,ru,uz=onnx:e5-toxic-int8@…": readable in logs and /readyz.
        let mut parts: Vec<(String, String)> = Vec::new();
        for (lang, model) in &routes {
            match parts.iter_mut().find(|(_, id)| id == model.model_id()) {
                Some((langs, _)) => {
                    langs.push(',');
                    langs.push_str(lang.code());
                }
                None => parts.push((lang.code().to_string(), model.model_id().to_string())),
            }
        }
        let mut model_id = default.model_id().to_string();
        for (langs, id) in parts {
            model_id.push_str(&format!("; {langs}={id}"));
        }
        ByLanguage {
            default,
            routes,
            model_id,
        }
    }

    fn model_for(&self, text: &str) -> &Arc<dyn Classifier> {
        self.model_in(language::detect(text))
    }

    fn model_in(&self, lang: Option<Language>) -> &Arc<dyn Classifier> {
        let Some(lang) = lang else {
            return &self.default;
        };
        if let Some((_, model)) = self.routes.iter().find(|(l, _)| *l == lang) {
            return model;
        }
        if self.default.reads(lang) {
            return &self.default;
        }
        self.routes
            .iter()
            .map(|(_, m)| m)
            .find(|m| m.reads(lang))
            .unwrap_or(&self.default)
    }
}

impl Classifier for ByLanguage {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn model_id_for(&self, text: &str) -> &str {
        self.model_for(text).model_id()
    }

    fn model_id_in(&self, language: Option<Language>) -> &str {
        self.model_in(language).model_id()
    }

    fn reads(&self, language: Language) -> bool {
        self.model_in(Some(language)).reads(language)
    }

    fn cost(&self, text: &str) -> usize {
        self.model_for(text).cost(text)
    }

    fn first_stage_counts(&self) -> Vec<(String, u64, u64)> {
        let mut out = self.default.first_stage_counts();
        for (_, model) in &self.routes {
            for counts in model.first_stage_counts() {
                if !out.iter().any(|(id, _, _)| *id == counts.0) {
                    out.push(counts);
                }
            }
        }
        out
    }

    fn model_ids(&self) -> Vec<&str> {
        let mut ids = vec![self.default.model_id()];
        for (_, model) in &self.routes {
            if !ids.contains(&model.model_id()) {
                ids.push(model.model_id());
            }
        }
        ids
    }

    fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scores>, ClassifierError> {
        let languages: Vec<Option<Language>> = texts.iter().map(|t| language::detect(t)).collect();
        self.score_batch_in(texts, &languages)
    }

    fn score_batch_in(
        &self,
        texts: &[&str],
        languages: &[Option<Language>],
    ) -> Result<Vec<Scores>, ClassifierError> {
        let chosen: Vec<&Arc<dyn Classifier>> =
            languages.iter().map(|&l| self.model_in(l)).collect();
        let mut out = vec![Scores::default(); texts.len()];
        let mut done = vec![false; texts.len()];
        for i in 0..texts.len() {
            if done[i] {
                continue;
            }
            // Every text going to the same model as text i, in one call.
            let model = chosen[i];
            let members: Vec<usize> = (i..texts.len())
                .filter(|&j| !done[j] && Arc::ptr_eq(chosen[j], model))
                .collect();
            let part: Vec<&str> = members.iter().map(|&j| texts[j]).collect();
            let scores = model.score_batch(&part)?;
            if scores.len() != part.len() {
                return Err(ClassifierError::Inference(format!(
                    "{} returned {} scores for {} texts",
                    model.model_id(),
                    scores.len(),
                    part.len()
                )));
            }
            for (j, s) in members.into_iter().zip(scores) {
                out[j] = s;
                done[j] = true;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores every text with one constant, so the output shows which model ran.
    struct Constant(&'static str, f32);

    impl Classifier for Constant {
        fn model_id(&self) -> &str {
            self.0
        }
        fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scores>, ClassifierError> {
            Ok(texts.iter().map(|_| Scores([self.1; 6])).collect())
        }
    }

    #[test]
    fn a_mixed_batch_is_split_by_language_and_put_back_in_order() {
        let cyrillic: Arc<dyn Classifier> = Arc::new(Constant("multi", 0.9));
        let router = ByLanguage::new(
            Arc::new(Constant("english", 0.1)),
            vec![
                (Language::Ru, Arc::clone(&cyrillic)),
                (Language::Kk, cyrillic),
            ],
        );
        assert_eq!(router.model_id(), "english; ru,kk=multi");
        let texts = [
            "Thank you for the article",
            "Спасибо за статью",
            "A second English comment",
            "Мақала үшін рақмет, өте қызық",
        ];
        let got: Vec<f32> = router
            .score_batch(&texts)
            .unwrap()
            .iter()
            .map(|s| s.0[0])
            .collect();
        assert_eq!(got, [0.1, 0.9, 0.1, 0.9]);
        let ids: Vec<&str> = texts.iter().map(|t| router.model_id_for(t)).collect();
        assert_eq!(ids, ["english", "multi", "english", "multi"]);
        assert_eq!(router.model_ids(), ["english", "multi"]);
    }

    /// Reads English only, like the BiLSTM.
    struct EnglishOnly;

    impl Classifier for EnglishOnly {
        fn model_id(&self) -> &str {
            "english"
        }
        fn reads(&self, language: Language) -> bool {
            language == Language::En
        }
        fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scores>, ClassifierError> {
            Ok(texts.iter().map(|_| Scores([0.1; 6])).collect())
        }
    }

    #[test]
    fn languages_without_a_route_go_to_a_model_that_reads_them() {
        let router = ByLanguage::new(
            Arc::new(EnglishOnly),
            vec![(Language::Ru, Arc::new(Constant("multi", 0.9)))],
        );
        // German has no route and the default cannot read it: the multilingual model can.
        assert_eq!(
            router.model_id_for("Du bist ein Idiot und alle hassen dich"),
            "multi"
        );
        assert_eq!(router.model_id_in(Some(Language::Kk)), "multi");
        assert_eq!(router.model_id_in(Some(Language::En)), "english");
        assert_eq!(router.model_id_in(None), "english");
        assert!(router.reads(Language::De) && router.reads(Language::En));
        // Stated languages route a batch: "idiota" alone reads as English.
        let got = router
            .score_batch_in(&["idiota", "idiota"], &[Some(Language::Es), None])
            .unwrap();
        assert_eq!((got[0].0[0], got[1].0[0]), (0.9, 0.1));

        let english_only = ByLanguage::new(Arc::new(EnglishOnly), Vec::new());
        assert!(!english_only.reads(Language::De));
    }
}
