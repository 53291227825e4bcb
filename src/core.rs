//! `mfaexec-core`: everything mfaexec does, for every run that is not a cache hit (src/lib.rs
//! says why it is a program of its own). `mfaexec` starts it with the user's arguments and
//! environment unchanged; run by itself, it behaves as `mfaexec` does.
//!
//! The C `main` is mfaexec's own, not std's wrapper: see `sys::startup` for why.

#![no_main]

#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    std::process::exit(mfaexec::core())
}
