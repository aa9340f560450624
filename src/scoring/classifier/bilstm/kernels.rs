//! Numeric kernels of the forward pass: general GEMM (via `matrixmultiply`, for the
//! load-time tables and the dense head), the per-step recurrent product, and the LSTM cell
//! update with vectorisable activations.
//!
//! The hot kernels are written as plain loops over fixed-size blocks and compiled twice:
//! for the baseline target and, chosen at run time, with AVX2/FMA enabled. Plain
//! `a * b + c` (no `mul_add`, which the compiler never fuses on its own) keeps both builds
//! bit-identical. The activations use a polynomial `exp` (Cephes `expf`, relative error
//! ~2e-7) instead of libm so that they vectorise; the parity tests check the scores stay
//! within 1e-4 of the numpy reference (measured: within 1.5e-6).

use super::weights::{GATES, UNITS};

/// `c[m,n] = a[m,k] · b[k,n] + beta * c[m,n]`, all row-major and contiguous.
pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], beta: f32, c: &mut [f32]) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the assert above keeps every access of the (m,k), (k,n), (m,n) row-major
    // views inside the slices, and `c` does not alias `a` or `b` (borrow rules).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// `z[m, GATES] += h[m, UNITS] · u[UNITS, GATES]`: the recurrent product of one step.
///
/// Hand-blocked instead of `gemm` because the shape is tiny and fixed: `matrixmultiply`
/// packs `u` on every call and pads the rows to its 16-row kernel, which costs ~10× at
/// batch 1. Each row's result depends only on that row (same operations in the same
/// order whatever `m` is), so a text scores bit-identically alone and in any batch.
pub fn recurrent(h: &[f32], u: &[f32], z: &mut [f32]) {
    let rows = h.len() / UNITS;
    assert!(u.len() == UNITS * GATES && z.len() >= rows * GATES);
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features `recurrent_avx2` is compiled for.
        unsafe { recurrent_avx2(h, u, z) };
        return;
    }
    recurrent_generic(h, u, z);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn recurrent_avx2(h: &[f32], u: &[f32], z: &mut [f32]) {
    recurrent_generic(h, u, z);
}

/// Columns per block: 5 AVX2 vectors; `u[.., block]` (8 KB) stays in L1 across rows.
const COLS: usize = 40;
/// Rows per block: 2 × 5 accumulators + 5 `u` vectors fill the 16 AVX2 registers.
const ROWS: usize = 2;

#[inline(always)]
fn recurrent_generic(h: &[f32], u: &[f32], z: &mut [f32]) {
    let rows = h.len() / UNITS;
    for col in (0..GATES).step_by(COLS) {
        let mut r = 0;
        while r + ROWS <= rows {
            block::<ROWS>(&h[r * UNITS..], u, col, &mut z[r * GATES..]);
            r += ROWS;
        }
        for r in r..rows {
            block::<1>(&h[r * UNITS..], u, col, &mut z[r * GATES..]);
        }
    }
}

/// `z[0..R, col..col+COLS] += h[0..R] · u[.., col..col+COLS]`, accumulating over k in
/// order from zero (plain multiply and add, so every build gives the same bits).
#[inline(always)]
fn block<const R: usize>(h: &[f32], u: &[f32], col: usize, z: &mut [f32]) {
    // Fixed-size row views let the compiler drop bounds checks in the k loop.
    let h: [&[f32; UNITS]; R] =
        std::array::from_fn(|r| h[r * UNITS..][..UNITS].try_into().expect("UNITS"));
    let mut acc = [[0f32; COLS]; R];
    for k in 0..UNITS {
        let uk: &[f32; COLS] = u[k * GATES + col..][..COLS].try_into().expect("COLS");
        for (acc, h) in acc.iter_mut().zip(&h) {
            let hk = h[k];
            for (a, &w) in acc.iter_mut().zip(uk) {
                *a += hk * w;
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for (zv, a) in z[r * GATES + col..][..COLS].iter_mut().zip(acc) {
            *zv += a;
        }
    }
}

/// Doubles the cell-input (g) columns of a `[_, GATES]` matrix. Applied to the input table
/// and the recurrent kernel, it makes the g block of `z` exactly 2·g (scaling by a power of
/// two is exact), so `lstm_cell` gets tanh(g) = 2σ(2g) − 1 from the same sigmoid pass as
/// the other gates.
pub fn prescale_cell_input(m: &mut [f32]) {
    for row in m.chunks_exact_mut(GATES) {
        for v in &mut row[2 * UNITS..3 * UNITS] {
            *v *= 2.0;
        }
    }
}

/// One LSTM step for every row: `z` holds the gate pre-activations `[i f 2g o]` (GATES per
/// row, g prescaled by `prescale_cell_input`) and is overwritten; updates the cell `c` and
/// output `h` (UNITS per row) and folds `h` into the running max `pool`.
pub fn lstm_cell(z: &mut [f32], c: &mut [f32], h: &mut [f32], pool: &mut [f32]) {
    let rows = c.len() / UNITS;
    assert!(z.len() == rows * GATES && h.len() == c.len() && pool.len() == c.len());
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features `lstm_cell_avx2` is compiled for.
        unsafe { lstm_cell_avx2(z, c, h, pool) };
        return;
    }
    lstm_cell_generic(z, c, h, pool);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn lstm_cell_avx2(z: &mut [f32], c: &mut [f32], h: &mut [f32], pool: &mut [f32]) {
    lstm_cell_generic(z, c, h, pool);
}

/// The exp-heavy passes run over whole buffers rather than per row: 50 units per row
/// would leave a scalar tail of 2 in every row.
#[inline(always)]
fn lstm_cell_generic(z: &mut [f32], c: &mut [f32], h: &mut [f32], pool: &mut [f32]) {
    for v in z.iter_mut() {
        *v = sigmoid(*v);
    }
    for (z, c) in z.chunks_exact(GATES).zip(c.chunks_exact_mut(UNITS)) {
        let (i, rest) = z.split_at(UNITS);
        let (f, rest) = rest.split_at(UNITS);
        let g = &rest[..UNITS];
        for (((c, &i), &f), &g) in c.iter_mut().zip(i).zip(f).zip(g) {
            // g holds σ(2·g_pre), and tanh(x) = 2σ(2x) − 1.
            *c = f * *c + i * (2.0 * g - 1.0);
        }
    }
    for (h, &c) in h.iter_mut().zip(c.iter()) {
        *h = tanh(c);
    }
    let rows = z
        .chunks_exact(GATES)
        .zip(h.chunks_exact_mut(UNITS))
        .zip(pool.chunks_exact_mut(UNITS));
    for ((z, h), pool) in rows {
        for ((h, &o), pool) in h.iter_mut().zip(&z[3 * UNITS..]).zip(pool) {
            *h *= o;
            *pool = pool.max(*h);
        }
    }
}

#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// tanh(x) = 2σ(2x) − 1: absolute error stays ~1e-7 near 0, which is what matters here.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    2.0 / (1.0 + exp(-2.0 * x)) - 1.0
}

/// Branch-free `e^x` for vectorisation: x = n·ln2 + r, |r| ≤ ln2/2, e^r by the Cephes
/// `expf` polynomial, 2^n by building the exponent bits. Inputs are clamped to the range
/// where the result is a normal float.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5·2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    let ni = t.to_bits() as i32 - ROUND.to_bits() as i32;
    let scale = f32::from_bits(((ni + 127) << 23) as u32);
    er * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std() {
        let mut worst = 0f32;
        let mut x = -87.0f32;
        while x < 88.0 {
            let rel = ((exp(x) - x.exp()) / x.exp()).abs();
            worst = worst.max(rel);
            x += 0.0137;
        }
        assert!(worst < 1e-6, "worst relative error {worst}");
    }

    #[test]
    fn activations_match_std() {
        let mut x = -30.0f32;
        while x < 30.0 {
            assert!((tanh(x) - x.tanh()).abs() < 1e-6, "tanh({x})");
            assert!(
                (sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs() < 1e-6,
                "sigmoid({x})"
            );
            x += 0.001;
        }
        assert_eq!(sigmoid(-1000.0).max(0.0), sigmoid(-1000.0));
        assert_eq!(tanh(1000.0), 1.0);
        assert_eq!(tanh(-1000.0), -1.0);
    }
}
