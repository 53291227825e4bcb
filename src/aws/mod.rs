//! The clients of AWS services (STS, IAM, the console's federation endpoint) and the network
//! they share: proxies, CA bundles, and what a failed connection means. The only users of the
//! SDK's clients. Uses `config`, `creds` and `sys`.

pub mod federation;
pub mod iam;
pub mod net;
pub mod sso;
pub mod sts;
pub mod web_identity;
