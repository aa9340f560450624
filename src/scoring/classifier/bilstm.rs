//! Keras BiLSTM from `toxic-comment-classifier` 0.3.0, converted by `models/fetch-models.sh`.
