//! Hashing a new password in-process, in Dovecot's `{ARGON2ID}` form (the PHC string
//! libsodium's verifier reads). No password crosses a process boundary or a command line.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ring::rand::SecureRandom;

/// Memory cost in KiB (64 MiB), passes and lanes: Dovecot (libsodium) verifies one lane.
const M_KIB: u32 = 65_536;
const T: u32 = 3;
const P: u32 = 1;

/// `{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>` for `password`.
pub fn argon2id(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| "the system random generator failed".to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| format!("salt: {e}"))?;
    let params = Params::new(M_KIB, T, P, None).map_err(|e| format!("argon2 parameters: {e}"))?;
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| format!("hashing failed: {e}"))?;
    Ok(format!("{{ARGON2ID}}{hash}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[test]
    fn dovecot_form_that_verifies_and_is_salted() {
        let h = argon2id("correct horse").unwrap();
        let phc = h.strip_prefix("{ARGON2ID}").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=65536,t=3,p=1$"), "{phc}");
        let parsed = PasswordHash::new(phc).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"wrong horse", &parsed)
            .is_err());
        assert_ne!(h, argon2id("correct horse").unwrap());
        assert!(crate::inputs::pwhash::password_hash(&h).is_ok());
    }
}
