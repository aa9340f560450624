//! The plain forward pass, one text at a time, with none of the shortcuts of `forward.rs`:
//! every step does x·W + h·U + b as matrix–vector products over all `maxlen` steps
//! (padding included) with libm activations. Kept as the in-crate reference that tests
//! compare the fast path against and as the benchmark baseline.

use super::weights::{EMBED, GATES, LABELS, LstmWeights, UNITS, Weights};

/// Scores one left-padded sequence of exactly `maxlen` ids.
pub fn forward(w: &Weights, padded: &[u32]) -> [f32; LABELS] {
    let fw = direction(w, &w.forward, padded.iter().copied());
    let bw = direction(w, &w.backward, padded.iter().rev().copied());
    let pooled: Vec<f32> = fw.into_iter().chain(bw).collect();
    let mut hidden = w.dense_bias.clone();
    vec_mat(&pooled, &w.dense_kernel, &mut hidden);
    for v in &mut hidden {
        *v = v.max(0.0);
    }
    let mut out = [0f32; LABELS];
    out.copy_from_slice(&w.out_bias);
    vec_mat(&hidden, &w.out_kernel, &mut out);
    out.map(sigmoid)
}

/// Runs one direction over `ids` and returns the max over time of its outputs.
fn direction(w: &Weights, lstm: &LstmWeights, ids: impl Iterator<Item = u32>) -> [f32; UNITS] {
    let mut h = [0f32; UNITS];
    let mut c = [0f32; UNITS];
    let mut pool = [f32::NEG_INFINITY; UNITS];
    let mut z = [0f32; GATES];
    for id in ids {
        let x = &w.embedding[id as usize * EMBED..][..EMBED];
        z.copy_from_slice(&lstm.bias);
        vec_mat(x, &lstm.kernel, &mut z);
        vec_mat(&h, &lstm.recurrent, &mut z);
        for j in 0..UNITS {
            let i = sigmoid(z[j]);
            let f = sigmoid(z[UNITS + j]);
            let g = z[2 * UNITS + j].tanh();
            let o = sigmoid(z[3 * UNITS + j]);
            c[j] = f * c[j] + i * g;
            h[j] = o * c[j].tanh();
            pool[j] = pool[j].max(h[j]);
        }
    }
    pool
}

/// `out += v · m` for a row-major `m` of `v.len()` rows.
fn vec_mat(v: &[f32], m: &[f32], out: &mut [f32]) {
    let n = out.len();
    for (k, &vk) in v.iter().enumerate() {
        for (o, &mk) in out.iter_mut().zip(&m[k * n..(k + 1) * n]) {
            *o += vk * mk;
        }
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
