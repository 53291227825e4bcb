//! The CA bundle: a PEM file read and checked, its certificates the trusted roots of both
//! clients.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::config::profile::Located;
use crate::error::{Error, Result};

/// The trusted roots from a CA bundle.
#[derive(Clone)]
pub struct Roots {
    pub path: String,
    pub from: String,
    pub(super) pem: Vec<u8>,
    pub(super) certs: Vec<CertificateDer<'static>>,
}

impl Roots {
    pub fn count(&self) -> usize {
        self.certs.len()
    }
}

/// Reads and checks a CA bundle: a PEM file with at least one certificate, each one usable as
/// a root (the SDK's client panics on one that is not, so they are checked here first). As curl
/// and Python do, a leading UTF-8 byte order mark is skipped, and `TRUSTED CERTIFICATE` blocks
/// (`openssl x509 -trustout`) count for the certificate they lead with.
pub(super) fn roots(found: &Located) -> Result<Roots> {
    let path = &found.value;
    let fix = "AWS_CA_BUNDLE (or ca_bundle) must name a PEM file of one or more certificates (-----BEGIN CERTIFICATE-----), such as your company's root certificate";
    let raw = std::fs::read(path).map_err(|e| {
        Error::new(format!(
            "CA bundle {path} (from {}): cannot read it: {e}",
            found.from
        ))
        .hint(fix)
    })?;
    let text = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&raw);
    let not_pem = |e: String| {
        Error::new(format!(
            "CA bundle {path} (from {}): not a PEM file: {e}",
            found.from
        ))
        .hint(fix)
    };
    let mut certs = CertificateDer::pem_slice_iter(text)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| not_pem(e.to_string()))?;
    certs.extend(trusted_certificates(text).map_err(|e| {
        not_pem(e).hint(format!(
            "write its certificate as plain PEM with `openssl x509 -in {path} -out root.pem`, and point {} at root.pem",
            found.from
        ))
    })?);
    if certs.is_empty() {
        return Err(Error::new(format!(
            "CA bundle {path} (from {}): no certificate in it",
            found.from
        ))
        .hint(fix));
    }
    let mut store = rustls::RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        store.add(cert.clone()).map_err(|e| {
            Error::new(format!(
                "CA bundle {path} (from {}): certificate {} is not usable: {e}",
                found.from,
                i + 1
            ))
            .hint(fix)
        })?;
    }
    Ok(Roots {
        path: path.clone(),
        from: found.from.clone(),
        // The SDK's trust store reads PEM `CERTIFICATE` blocks only: it gets them clean.
        pem: certs
            .iter()
            .map(|c| pem_certificate(c))
            .collect::<String>()
            .into_bytes(),
        certs,
    })
}

/// The certificates leading the `TRUSTED CERTIFICATE` blocks of a PEM text: OpenSSL's format
/// of a certificate followed by its trust settings.
pub(super) fn trusted_certificates(
    text: &[u8],
) -> std::result::Result<Vec<CertificateDer<'static>>, String> {
    const BEGIN: &[u8] = b"-----BEGIN TRUSTED CERTIFICATE-----";
    const END: &[u8] = b"-----END TRUSTED CERTIFICATE-----";
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let mut found = Vec::new();
    let mut rest = text;
    // Each turn consumes one block, so this ends.
    while let Some(start) = find(rest, BEGIN) {
        let block = &rest[start..];
        let end =
            find(block, END).ok_or("a TRUSTED CERTIFICATE block has no END line")? + END.len();
        let (_, pem) = x509_parser::pem::parse_x509_pem(&block[..end])
            .map_err(|_| "a TRUSTED CERTIFICATE block is not valid base64".to_owned())?;
        let (after, _) = x509_parser::parse_x509_certificate(&pem.contents).map_err(|_| {
            "a TRUSTED CERTIFICATE block does not start with a certificate".to_owned()
        })?;
        let length = pem.contents.len() - after.len();
        found.push(CertificateDer::from(pem.contents[..length].to_vec()));
        rest = &block[end..];
    }
    Ok(found)
}

pub(super) fn pem_certificate(cert: &CertificateDer<'_>) -> String {
    let base64 = data_encoding::BASE64.encode(cert.as_ref());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in base64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}
