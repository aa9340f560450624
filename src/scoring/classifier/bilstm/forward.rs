//! The batched forward pass. Same maths as `naive.rs`, organised so the work per comment
//! is only what can change the result:
//!
//! * Input projection: `embedding[id]·W + b` is precomputed for the whole vocabulary at
//!   load time, so each step starts from a table row and only `H·U` remains, done as one
//!   blocked matrix product over the batch (`kernels::recurrent`).
//! * Forward padding: every left-padded sequence starts with k steps of id 0 from the zero
//!   state, so the forward state (and the running max of its outputs) after k padding steps
//!   is the same for every text; it is computed once at load time and each sequence starts
//!   at its first real token. Sequences are sorted longest first, so at every step the
//!   sequences still running are a prefix of the batch.
//! * The backward direction sees real tokens first and padding last, so its padding steps
//!   depend on the text and are computed in full.

use super::kernels::{gemm, lstm_cell, prescale_cell_input, recurrent};
use super::weights::{DENSE, GATES, LABELS, LstmWeights, UNITS, Weights};

/// One LSTM direction with its input projection folded into a per-word table.
struct Direction {
    /// [vocab, GATES] = embedding · kernel + bias.
    table: Vec<f32>,
    /// [UNITS, GATES]
    recurrent: Vec<f32>,
}

impl Direction {
    fn new(embedding: &[f32], vocab: usize, lstm: &LstmWeights) -> Direction {
        let mut table = vec![0f32; vocab * GATES];
        gemm(
            vocab,
            lstm.kernel.len() / GATES,
            GATES,
            embedding,
            &lstm.kernel,
            0.0,
            &mut table,
        );
        for row in table.chunks_exact_mut(GATES) {
            for (v, b) in row.iter_mut().zip(&lstm.bias) {
                *v += b;
            }
        }
        let mut recurrent = lstm.recurrent.clone();
        prescale_cell_input(&mut table);
        prescale_cell_input(&mut recurrent);
        Direction { table, recurrent }
    }

    fn row(&self, id: u32) -> &[f32] {
        &self.table[id as usize * GATES..][..GATES]
    }

    /// One step for the first `rows` rows: `z` must already hold the table rows.
    fn step(&self, rows: usize, z: &mut [f32], h: &mut [f32], c: &mut [f32], pool: &mut [f32]) {
        let (z, h, c, pool) = (
            &mut z[..rows * GATES],
            &mut h[..rows * UNITS],
            &mut c[..rows * UNITS],
            &mut pool[..rows * UNITS],
        );
        recurrent(h, &self.recurrent, z);
        lstm_cell(z, c, h, pool);
    }
}

pub struct Network {
    maxlen: usize,
    fwd: Direction,
    bwd: Direction,
    /// Forward state after k = 0..=maxlen padding steps from zero (row k), and the max
    /// of the outputs of those k steps (−inf for k = 0).
    pad_h: Vec<f32>,
    pad_c: Vec<f32>,
    pad_max: Vec<f32>,
    dense_kernel: Vec<f32>,
    dense_bias: Vec<f32>,
    out_kernel: Vec<f32>,
    out_bias: Vec<f32>,
}

/// Rows per pass: keeps a pass's buffers (~100 KB) in L2 however large the batch.
const MAX_ROWS: usize = 64;

/// Per-pass buffers, allocated once per call.
struct Buffers {
    z: Vec<f32>,
    h: Vec<f32>,
    c: Vec<f32>,
    pool_fwd: Vec<f32>,
    pool_bwd: Vec<f32>,
}

impl Network {
    pub fn new(w: &Weights, maxlen: usize) -> Network {
        let fwd = Direction::new(&w.embedding, w.vocab, &w.forward);
        let bwd = Direction::new(&w.embedding, w.vocab, &w.backward);
        let mut pad_h = vec![0f32; UNITS];
        let mut pad_c = vec![0f32; UNITS];
        let mut pad_max = vec![f32::NEG_INFINITY; UNITS];
        let (mut h, mut c, mut pool) = (pad_h.clone(), pad_c.clone(), pad_max.clone());
        let mut z = vec![0f32; GATES];
        for _ in 0..maxlen {
            z.copy_from_slice(fwd.row(0));
            fwd.step(1, &mut z, &mut h, &mut c, &mut pool);
            pad_h.extend_from_slice(&h);
            pad_c.extend_from_slice(&c);
            pad_max.extend_from_slice(&pool);
        }
        Network {
            maxlen,
            fwd,
            bwd,
            pad_h,
            pad_c,
            pad_max,
            dense_kernel: w.dense_kernel.clone(),
            dense_bias: w.dense_bias.clone(),
            out_kernel: w.out_kernel.clone(),
            out_bias: w.out_bias.clone(),
        }
    }

    /// Scores sequences of at most `maxlen` ids each (left padding implied), which must be
    /// sorted longest first.
    pub fn run(&self, seqs: &[&[u32]]) -> Vec<[f32; LABELS]> {
        assert!(
            seqs.windows(2).all(|p| p[0].len() >= p[1].len())
                && seqs.first().is_none_or(|s| s.len() <= self.maxlen),
            "sequences must be sorted longest first and fit maxlen"
        );
        let rows = seqs.len().min(MAX_ROWS);
        let mut buf = Buffers {
            z: vec![0f32; rows * GATES],
            h: vec![0f32; rows * UNITS],
            c: vec![0f32; rows * UNITS],
            pool_fwd: vec![0f32; rows * UNITS],
            pool_bwd: vec![0f32; rows * UNITS],
        };
        let mut out = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(MAX_ROWS) {
            self.forward_direction(chunk, &mut buf);
            self.backward_direction(chunk, &mut buf);
            let n = chunk.len() * UNITS;
            out.extend(self.head(chunk.len(), &buf.pool_fwd[..n], &buf.pool_bwd[..n]));
        }
        out
    }

    fn forward_direction(&self, seqs: &[&[u32]], buf: &mut Buffers) {
        for (r, seq) in seqs.iter().enumerate() {
            let k = (self.maxlen - seq.len()) * UNITS;
            let dst = r * UNITS..(r + 1) * UNITS;
            buf.h[dst.clone()].copy_from_slice(&self.pad_h[k..k + UNITS]);
            buf.c[dst.clone()].copy_from_slice(&self.pad_c[k..k + UNITS]);
            buf.pool_fwd[dst].copy_from_slice(&self.pad_max[k..k + UNITS]);
        }
        // Steps are aligned at the end: a sequence of length L runs the last L steps.
        let steps = seqs.first().map_or(0, |s| s.len());
        let mut active = 0;
        for t in 0..steps {
            while active < seqs.len() && seqs[active].len() >= steps - t {
                active += 1;
            }
            for (r, seq) in seqs[..active].iter().enumerate() {
                let id = seq[t + seq.len() - steps];
                buf.z[r * GATES..(r + 1) * GATES].copy_from_slice(self.fwd.row(id));
            }
            self.fwd.step(
                active,
                &mut buf.z,
                &mut buf.h,
                &mut buf.c,
                &mut buf.pool_fwd,
            );
        }
    }

    fn backward_direction(&self, seqs: &[&[u32]], buf: &mut Buffers) {
        let rows = seqs.len();
        buf.h.fill(0.0);
        buf.c.fill(0.0);
        buf.pool_bwd.fill(f32::NEG_INFINITY);
        for s in 0..self.maxlen {
            for (r, seq) in seqs.iter().enumerate() {
                // Reversed sequence: real tokens last to first, then the padding (id 0).
                let id = if s < seq.len() {
                    seq[seq.len() - 1 - s]
                } else {
                    0
                };
                buf.z[r * GATES..(r + 1) * GATES].copy_from_slice(self.bwd.row(id));
            }
            self.bwd
                .step(rows, &mut buf.z, &mut buf.h, &mut buf.c, &mut buf.pool_bwd);
        }
    }

    /// Dense(relu) → Dense(sigmoid) on the pooled [forward | backward] features.
    fn head(&self, rows: usize, pool_fwd: &[f32], pool_bwd: &[f32]) -> Vec<[f32; LABELS]> {
        let mut hidden: Vec<f32> = self.dense_bias.repeat(rows);
        let (k_fwd, k_bwd) = self.dense_kernel.split_at(UNITS * DENSE);
        gemm(rows, UNITS, DENSE, pool_fwd, k_fwd, 1.0, &mut hidden);
        gemm(rows, UNITS, DENSE, pool_bwd, k_bwd, 1.0, &mut hidden);
        for v in &mut hidden {
            *v = v.max(0.0);
        }
        let mut logits: Vec<f32> = self.out_bias.repeat(rows);
        gemm(
            rows,
            DENSE,
            LABELS,
            &hidden,
            &self.out_kernel,
            1.0,
            &mut logits,
        );
        logits
            .chunks_exact(LABELS)
            .map(|l| std::array::from_fn(|j| 1.0 / (1.0 + (-l[j]).exp())))
            .collect()
    }
}
