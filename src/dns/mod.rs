//! DNS records as module data: a manifest's `records:` list ([`decl`]) is rendered with
//! the run's inputs, its values parsed or computed from files ([`record`], [`source`]),
//! printed as a zone fragment or a table ([`format`]), compared with what a server
//! answers ([`query`], [`compare`]), published by a TSIG-signed RFC 2136 update
//! ([`publish`]) and checked ([`check`]). `hickory-proto` does the wire format and TSIG;
//! [`wire`] is a small blocking UDP/TCP transport, so no async runtime is needed.

pub mod check;
pub mod compare;
pub mod decl;
pub mod declared;
pub mod format;
pub mod lookup;
pub mod mailauth;
pub mod name;
pub mod publish;
pub mod query;
pub mod receive;
pub mod record;
pub mod source;
pub mod spf;
pub mod spf_exists;
pub mod typed;
pub mod wire;

pub use decl::{Publish, RType, RecordDecl, Rendered};
pub use name::DName;
pub use record::{Data, Record, RecordValue};

/// TTL of a record that does not give one.
pub const DEFAULT_TTL: u32 = 3600;

/// Where a run leaves each module's zone fragment and table (inside the root).
pub const RECORDS_DIR: &str = "/var/log/firstboot/dns";

/// `1 record`, `2 records`: a count with its noun.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Why records could not be computed, queried or published.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// A record's declaration does not give a usable record.
    #[error("record {record}: {reason}")]
    Record {
        /// `TYPE name` or the declaration's index.
        record: String,
        /// What is wrong.
        reason: String,
    },
    /// A file a record is computed from is unusable.
    #[error("{path}: {reason}")]
    Source {
        /// In-tree path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A publication setting is unusable, e.g. the TSIG secret file (the secret itself is
    /// never shown).
    #[error("{key}: {reason}")]
    Config {
        /// The config key (`dns.publish.tsig_secret_file`).
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A server could not be reached or did not answer in time.
    #[error("no answer from {server}: {reason}")]
    Network {
        /// Server address.
        server: String,
        /// The I/O error.
        reason: String,
    },
    /// A server answered something unusable.
    #[error("bad answer from {server}: {reason}")]
    Protocol {
        /// Server address.
        server: String,
        /// What is wrong.
        reason: String,
    },
    /// A query was answered with an error code.
    #[error("{server} answered {rcode} for {what}")]
    Rcode {
        /// Server address.
        server: String,
        /// `SERVFAIL`, `REFUSED`...
        rcode: String,
        /// `TYPE name` asked.
        what: String,
    },
    /// The server refused the update.
    #[error("update refused by {server}: {rcode}{tsig} — {hint}")]
    Refused {
        /// Server address.
        server: String,
        /// Response code (`NOTAUTH`, `REFUSED`...).
        rcode: String,
        /// ` (TSIG BADSIG)` when the server named a TSIG error, else empty.
        tsig: String,
        /// What to check.
        hint: String,
    },
    /// No nameserver to ask.
    #[error("{0}")]
    NoServer(String),
}
