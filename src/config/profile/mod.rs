//! The AWS config and credentials files → a plan: which STS call, from which keys, for how long,
//! in which region and at which endpoint. Pure apart from reading the two files; no network.
//!
//! Parsing is aws-config's own (the same rules as every AWS SDK); resolution follows the Rust
//! SDK's `resolve_chain`: the named profile's role, then `source_profile` links until a profile
//! with keys, where a *source* profile's static keys win over its own role_arn.

mod files;
mod names;
mod plan;
mod source;

pub use files::*;
pub use names::*;
pub use plan::*;
pub use source::*;
#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::environ::Environment;

    #[test]
    fn profile_name_falls_back_to_aws_profile_then_aws_default_profile() {
        let env = Environment::from_pairs(&[("AWS_PROFILE", "a"), ("AWS_DEFAULT_PROFILE", "b")]);
        assert_eq!(profile_name(Some("x"), &env).unwrap(), "x");
        assert_eq!(profile_name(None, &env).unwrap(), "a");
        let env = Environment::from_pairs(&[("AWS_DEFAULT_PROFILE", "b")]);
        assert_eq!(profile_name(None, &env).unwrap(), "b");
        let env = Environment::from_pairs(&[("AWS_PROFILE", "")]);
        assert_eq!(profile_name(None, &env).unwrap_err().code(), 2);
    }

    #[test]
    fn session_names_fit_sts() {
        assert_eq!(session_name_for("alice", 64), "mfaexec-alice");
        assert_eq!(session_name_for("jörg o'neil", 64), "mfaexec-j-rg-o-neil");
        assert_eq!(session_name_for(&"x".repeat(100), 64).len(), 64);
        assert!(fits_shape(&session_name_for("a b/c", 64), 2, 64, "+=,.@-"));
    }

    #[test]
    fn closest_names_by_edit_distance_or_containment() {
        let names: Vec<String> = ["prod", "prod-admin", "staging", "dev"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(closest(&names, "prdo"), vec!["`prod`"]);
        assert_eq!(closest(&names, "admin"), vec!["`prod-admin`"]);
        assert!(closest(&names, "zzzzzzzz").is_empty());
    }

    #[test]
    fn root_serials_are_recognised() {
        assert!(is_root_serial(
            "arn:aws:iam::123456789012:mfa/root-account-mfa-device"
        ));
        assert!(!is_root_serial("arn:aws:iam::123456789012:mfa/alice"));
    }
}
