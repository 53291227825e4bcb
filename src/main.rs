//! `mfaexec`: the program users run. It does a cache hit of `mfaexec PROFILE -- CMD` itself and
//! hands everything else to `mfaexec-core` (src/lib.rs says why there are two).
//!
//! The C `main` is mfaexec's own, not std's wrapper: see `sys::startup` for why.

#![no_main]

#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    // std reads the arguments itself (glibc hands them to its initialiser), and `exit` flushes
    // std's stdout as its wrapper would have.
    std::process::exit(mfaexec::front())
}
