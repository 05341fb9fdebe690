//! Built-in actions: operations a template cannot express. One file each.

pub mod acme_cert;
pub mod dkim_key;
pub mod hold_rule;
pub mod publish_records;
pub mod sasl_passwd;
pub mod self_signed_cert;
pub mod set_hostname;
pub mod write_records;
