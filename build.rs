//! Sets `MFAEXEC_VERSION`: the package version, and in a git checkout the short commit as well
//! (`0.1.0 (ccdb427)`), read from `.git` itself so that building needs no `git` program. A
//! build from the published crate has no `.git` and gets the bare version.
//!
//! On Linux with glibc 2.36 or later, it also links the binary with packed relative relocations
//! (DT_RELR): the dynamic loader then applies the binary's 19,000 pointer fixes from a bitmap of a
//! few KB instead of a 460 KB table, at every start (a cache hit included).

use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    // Read when the script runs, not compiled in with env!: a compiled build script may be reused
    // for a checkout in another place (a copied target directory, a git worktree).
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    // Without this, a build with no `.git` would run the script again every time.
    println!("cargo:rerun-if-changed=build.rs");
    let text = match git_dir(&root).and_then(|dir| head_commit(&dir)) {
        Some(commit) => format!("{version} ({})", &commit[..7]),
        None => version.to_owned(),
    };
    println!("cargo:rustc-env=MFAEXEC_VERSION={text}");
    if relr_supported() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the binary can be linked with DT_RELR: a native build for Linux with glibc, whose
/// loader reads DT_RELR from 2.36 on. The linker marks such a binary as needing
/// `GLIBC_ABI_DT_RELR`, so an older glibc refuses it at once rather than mis-running it; the
/// glibc asked is the build machine's, so a build for another machine (another TARGET) goes
/// without. `MFAEXEC_NO_RELR=1` goes without too (a package built for older systems).
fn relr_supported() -> bool {
    println!("cargo:rerun-if-env-changed=MFAEXEC_NO_RELR");
    let var = |name| std::env::var(name).unwrap_or_default();
    if var("MFAEXEC_NO_RELR") == "1"
        || var("TARGET") != var("HOST")
        || var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
    {
        return false;
    }
    glibc_version().is_some_and(|(major, minor)| (major, minor) >= (2, 36))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_version() -> Option<(u32, u32)> {
    unsafe extern "C" {
        fn gnu_get_libc_version() -> *const std::ffi::c_char;
    }
    // SAFETY: glibc returns a static NUL-terminated string such as "2.36".
    let text = unsafe { std::ffi::CStr::from_ptr(gnu_get_libc_version()) };
    let mut parts = text.to_str().ok()?.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_version() -> Option<(u32, u32)> {
    None
}

/// `.git` is a directory in a clone and a `gitdir: PATH` file in a worktree.
fn git_dir(root: &Path) -> Option<PathBuf> {
    let dot_git = root.join(".git");
    if dot_git.is_dir() {
        return Some(dot_git);
    }
    let text = fs::read_to_string(&dot_git).ok()?;
    println!("cargo:rerun-if-changed={}", dot_git.display());
    let path = PathBuf::from(text.strip_prefix("gitdir:")?.trim());
    Some(if path.is_absolute() {
        path
    } else {
        root.join(path)
    })
}

/// The commit HEAD names: a detached hash, or a branch's loose or packed ref. A worktree keeps
/// its HEAD in its own directory and its refs in the common one.
fn head_commit(git_dir: &Path) -> Option<String> {
    let head_path = git_dir.join("HEAD");
    println!("cargo:rerun-if-changed={}", head_path.display());
    let head = fs::read_to_string(&head_path).ok()?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref:") else {
        return is_hash(head).then(|| head.to_owned());
    };
    let reference = reference.trim();
    let common = match fs::read_to_string(git_dir.join("commondir")) {
        Ok(dir) => git_dir.join(dir.trim()),
        Err(_) => git_dir.to_path_buf(),
    };
    let loose = common.join(reference);
    let packed = common.join("packed-refs");
    // A commit rewrites the branch's loose ref, which may not exist yet (a branch only in
    // packed-refs): watch its directory. A path that does not exist would rerun every build.
    for path in [loose.parent(), Some(packed.as_path())]
        .into_iter()
        .flatten()
    {
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    if let Ok(hash) = fs::read_to_string(&loose) {
        let hash = hash.trim();
        return is_hash(hash).then(|| hash.to_owned());
    }
    fs::read_to_string(&packed).ok()?.lines().find_map(|line| {
        let (hash, name) = line.split_once(' ')?;
        (name == reference && is_hash(hash)).then(|| hash.to_owned())
    })
}

fn is_hash(text: &str) -> bool {
    text.len() >= 7 && text.bytes().all(|b| b.is_ascii_hexdigit())
}
