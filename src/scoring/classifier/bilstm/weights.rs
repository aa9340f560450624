//! Reads `model.safetensors` into plain row-major f32 matrices, checking every shape.

use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use crate::scoring::classifier::ClassifierError;

/// Embedding width, LSTM units per direction, dense width, labels.
pub const EMBED: usize = 50;
pub const UNITS: usize = 50;
/// Four gates (i, f, c, o) of `UNITS` each, in Keras order.
pub const GATES: usize = 4 * UNITS;
pub const DENSE: usize = 50;
pub const LABELS: usize = 6;

/// One LSTM direction: z = x·kernel + h·recurrent + bias.
#[derive(Debug)]
pub struct LstmWeights {
    /// [EMBED, GATES]
    pub kernel: Vec<f32>,
    /// [UNITS, GATES]
    pub recurrent: Vec<f32>,
    /// [GATES]
    pub bias: Vec<f32>,
}

#[derive(Debug)]
pub struct Weights {
    /// [vocab, EMBED]
    pub embedding: Vec<f32>,
    pub vocab: usize,
    pub forward: LstmWeights,
    pub backward: LstmWeights,
    /// [2*UNITS, DENSE]
    pub dense_kernel: Vec<f32>,
    pub dense_bias: Vec<f32>,
    /// [DENSE, LABELS]
    pub out_kernel: Vec<f32>,
    pub out_bias: Vec<f32>,
}

impl Weights {
    /// Parses the safetensors `bytes` read from `path` (used in error messages);
    /// the embedding must have `vocab` rows.
    pub fn parse(path: &Path, bytes: &[u8], vocab: usize) -> Result<Weights, ClassifierError> {
        let err = |message: String| ClassifierError::Load {
            path: path.display().to_string(),
            message,
        };
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| err(format!("not a safetensors file: {e}")))?;
        let get = |name: &str, shape: &[usize]| -> Result<Vec<f32>, ClassifierError> {
            let t = st
                .tensor(name)
                .map_err(|e| err(format!("tensor `{name}`: {e}")))?;
            if t.dtype() != Dtype::F32 {
                return Err(err(format!(
                    "tensor `{name}` has dtype {:?}, expected F32",
                    t.dtype()
                )));
            }
            if t.shape() != shape {
                return Err(err(format!(
                    "tensor `{name}` has shape {:?}, expected {shape:?}",
                    t.shape()
                )));
            }
            Ok(t.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let lstm = |dir: &str| -> Result<LstmWeights, ClassifierError> {
            Ok(LstmWeights {
                kernel: get(&format!("{dir}.kernel"), &[EMBED, GATES])?,
                recurrent: get(&format!("{dir}.recurrent_kernel"), &[UNITS, GATES])?,
                bias: get(&format!("{dir}.bias"), &[GATES])?,
            })
        };
        Ok(Weights {
            embedding: get("embedding", &[vocab, EMBED])?,
            vocab,
            forward: lstm("forward")?,
            backward: lstm("backward")?,
            dense_kernel: get("dense.kernel", &[2 * UNITS, DENSE])?,
            dense_bias: get("dense.bias", &[DENSE])?,
            out_kernel: get("out.kernel", &[DENSE, LABELS])?,
            out_bias: get("out.bias", &[LABELS])?,
        })
    }
}
