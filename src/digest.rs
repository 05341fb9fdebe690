//! SHA-256 as lowercase hex: how files are compared and recorded.

use sha2::{Digest, Sha256};

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
