pub mod fake_sts;
pub mod totp;
