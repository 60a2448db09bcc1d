//! argon2id password hashes in PHC string form.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use lienthong_domain::Password;

use crate::ServiceError;

pub fn hash(password: &Password) -> Result<String, ServiceError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| ServiceError::Conflict("password hashing failed"))
}

pub fn verify(stored_hash: &str, candidate: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of nothing anyone can type, verified when the account does not exist, so
/// that a wrong user name costs as much time as a wrong password.
pub fn decoy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Qq8Ft3ASjVB3q1tlGDl1TUx/iM0RM9xQl4ZcxTG2fc0"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let p = Password::parse("lienthong-demo").unwrap();
        let a = hash(&p).unwrap();
        let b = hash(&p).unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify(&a, "lienthong-demo"));
        assert!(!verify(&a, "lienthong-dem0"));
        assert!(!verify("not a hash", "lienthong-demo"));
        assert!(!verify(decoy_hash(), "lienthong-demo"));
    }
}
