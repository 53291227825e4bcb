//! What the user configured, turned into a plan: the AWS files, the key-store index, duration
//! rules and where credentials may be sent. Reads files, never the network. Uses `sys` and
//! `creds` only.

pub mod endpoint;
pub mod index;
pub mod limits;
pub mod login_token;
pub mod network;
pub mod profile;
pub mod sso_token;
