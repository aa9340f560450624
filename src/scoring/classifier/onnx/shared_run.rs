//! Forward passes side by side on one ONNX Runtime session.
//!
//! ONNX Runtime guarantees that `Run` may be called from several threads at once on one
//! session (onnxruntime PR #19301: "InferenceSession::Run() is guaranteed to be
//! thread-safe"; issues #114 and #5558); its own Python API is used that way. The `ort`
//! crate's author disagrees and takes `&mut Session` for every run (crashes were seen with
//! GPU execution providers). modgate registers only the CPU provider, with its arena off
//! (plain `malloc`), so its scoring workers share one session: two sessions would each map
//! the weights again (peak 385 MB under the load harness against 258 MB for one, one run;
//! docs/models.md, "Memory"). This module calls the C API's `Run` for that, and only it.

use std::ffi::{CString, c_char};
use std::ptr::{self, NonNull};

use ort::AsPointer;
use ort::session::Session;
use ort::sys::OrtValue;
use ort::value::DynValue;

/// Runs `session` on named inputs and returns the named outputs, in that order. Safe to
/// call from several threads at once on one CPU session.
pub(super) fn run(
    session: &Session,
    inputs: &[(&str, &DynValue)],
    outputs: &[&str],
) -> ort::Result<Vec<DynValue>> {
    let c_strings = |names: &mut dyn Iterator<Item = &str>| -> ort::Result<Vec<CString>> {
        names
            .map(|n| CString::new(n).map_err(|_| ort::Error::new(format!("name {n:?} has a NUL"))))
            .collect()
    };
    let input_names = c_strings(&mut inputs.iter().map(|(n, _)| *n))?;
    let output_names = c_strings(&mut outputs.iter().copied())?;
    let input_name_ptrs: Vec<*const c_char> = input_names.iter().map(|n| n.as_ptr()).collect();
    let output_name_ptrs: Vec<*const c_char> = output_names.iter().map(|n| n.as_ptr()).collect();
    let input_ptrs: Vec<*const OrtValue> = inputs.iter().map(|(_, v)| v.ptr()).collect();
    let mut output_ptrs: Vec<*mut OrtValue> = vec![ptr::null_mut(); outputs.len()];

    // SAFETY: every pointer is valid for the call: the session and input values are
    // borrowed, the name arrays hold as many entries as the lengths passed, and
    // `output_ptrs` has room for every requested output. ONNX Runtime's `Run` on a CPU
    // session may run concurrently with other `Run` calls on the same session (see the
    // module comment): the state it shares between runs is behind its own locks.
    let status = unsafe {
        (ort::api().Run)(
            session.ptr().cast_mut(),
            ptr::null(),
            input_name_ptrs.as_ptr(),
            input_ptrs.as_ptr(),
            input_ptrs.len(),
            output_name_ptrs.as_ptr(),
            output_name_ptrs.len(),
            output_ptrs.as_mut_ptr(),
        )
    };
    // SAFETY: `status` was just returned by an ONNX Runtime API call; this takes it over.
    unsafe { ort::Error::result_from_status(status) }?;
    // SAFETY: `Run` succeeded, so each non-null pointer is a new OrtValue handed over to
    // us (its buffer from the CPU provider's allocator); the value releases it when
    // dropped, and the allocator handle only keeps the session's allocator alive.
    let values: Vec<Option<DynValue>> = output_ptrs
        .into_iter()
        .map(|p| {
            NonNull::new(p).map(|p| unsafe { DynValue::from_ptr(p, Some(session.allocator())) })
        })
        .collect();
    values
        .into_iter()
        .zip(outputs)
        .map(|(v, name)| {
            v.ok_or_else(|| ort::Error::new(format!("ONNX Runtime returned no {name}")))
        })
        .collect()
}
