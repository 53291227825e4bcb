//! Set-ups of the key store tests (tests/keys.rs, and tests/rotate.rs for keys in a store):
//! where `prod` finds alice's keys, what `mfaexec add` reads, the file store, and a look for
//! plaintext left under HOME.

use std::path::PathBuf;
use std::process::Command;

use super::{ADMIN, Sandbox};

impl Sandbox {
    /// Rewrites the AWS files so that the role profile `prod` (ADMIN, region eu-west-1) takes
    /// its keys from profile `alice`, which has none in the files: a store must hold them.
    pub fn prod_from_alice_in_no_file(&self) {
        self.credentials("");
        self.config(&format!(
            "[profile prod]\nrole_arn = {ADMIN}\nsource_profile = alice\nmfa_serial = {}\nregion = eu-west-1\n",
            self.serial()
        ));
    }

    /// alice's keys as `mfaexec add` reads them from stdin: the id, then the secret.
    pub fn key_lines(&self) -> String {
        format!(
            "{}\n{}\n",
            self.alice.access_key_id, self.alice.secret_access_key
        )
    }

    /// The age-encrypted file store, with its passphrase, for every later run.
    pub fn file_store(&mut self) {
        self.set("MFAEXEC_STORE", "file");
        self.set("MFAEXEC_FILE_PASSPHRASE", "correct horse battery staple");
    }

    /// The index of stored keys (`PROFILE<TAB>STORE<TAB>KEY ID` lines).
    pub fn key_ids_file(&self) -> PathBuf {
        self.home().join(".local/share/mfaexec/key-ids")
    }

    /// Files under HOME whose bytes hold `text` (`grep -r`, as a user would look).
    pub fn files_holding(&self, text: &str) -> String {
        let out = Command::new("grep")
            .args(["-r", "-l", "-a", "-F", text])
            .arg(self.home())
            .output()
            .expect("grep");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
