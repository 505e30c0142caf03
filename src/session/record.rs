//! The session record: a [`Login`] as stored, in the cookie or in a store.

use crate::login::Login;

/// Serialises `login`.
pub(crate) fn encode(login: &Login) -> String {
    // A `Login` holds strings, numbers and JSON values only: serialising cannot fail.
    serde_json::to_string(login).unwrap_or_default()
}

/// Reads a stored session back (`None` when unreadable, e.g. written by another version).
pub(crate) fn decode(raw: &str) -> Option<Login> {
    serde_json::from_str(raw).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::credentials::Credentials;
    use crate::secret::Secret;

    #[test]
    fn round_trip_keeps_everything() {
        let credentials = Credentials {
            access_token: Secret::new("a".repeat(100)),
            token_type: "bearer".into(),
            expires_at: Some(5),
            refresh_token: Some(Secret::new("r")),
            scopes: vec!["x".into()],
            received_at: 0,
            token_secret: None,
            id_token: Some(Secret::new("j".repeat(1500))),
            dpop_key: Some(Secret::new("k".repeat(180))),
        };
        let userinfo = serde_json::json!({"id": 1, "bio": "x".repeat(5000)});
        let login = Login::new(credentials, Some(userinfo.clone()), 7);
        let back = decode(&encode(&login)).unwrap();
        assert_eq!(back.userinfo(), Some(&userinfo));
        assert_eq!(back.credentials().id_token().unwrap().len(), 1500);
        assert_eq!(back.credentials().refresh_token(), Some("r"));
        assert!(decode("{not json").is_none());
    }

    proptest::proptest! {
        /// A session cookie or store record is outside input too (another version, a bug):
        /// reading garbage never panics.
        #[test]
        fn decoding_never_panics(raw in "\\PC{0,300}") {
            let _ = decode(&raw);
        }
    }
}
