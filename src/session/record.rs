//! The session record: a [`Login`] serialised within the cookie budget.

use serde_json::Value;

use crate::login::Login;

/// The largest session payload stored, in bytes, before encryption. Encryption and base64
/// grow it by a third plus ~40 bytes, which keeps the cookie under browsers' 4096-byte limit.
pub(crate) const SESSION_BUDGET: usize = 2800;

/// The session does not fit in a cookie even without its userinfo.
#[derive(Debug)]
pub(crate) struct TooLarge;

/// Serialises `login` within [`SESSION_BUDGET`], dropping the largest userinfo fields first
/// (logged by name), then the ID token kept for provider logout, if needed. Each pass drops
/// enough fields to cover the measured excess, so the record is serialised only a few times.
pub(crate) fn encode(login: &mut Login) -> Result<String, TooLarge> {
    loop {
        let json = serde_json::to_string(login).map_err(|_| TooLarge)?;
        let Some(excess) = json.len().checked_sub(SESSION_BUDGET).filter(|e| *e > 0) else {
            return Ok(json);
        };
        if !drop_userinfo(login, excess) {
            if login.credentials.id_token.take().is_none() {
                return Err(TooLarge);
            }
            log::warn!("ID token not kept: the session cookie would exceed 4 KiB");
        }
    }
}

/// Drops the largest userinfo fields until about `excess` bytes are gone; `false` when
/// there was nothing to drop.
fn drop_userinfo(login: &mut Login, mut excess: usize) -> bool {
    let Some(Value::Object(map)) = login.userinfo.as_mut() else {
        return false;
    };
    if map.is_empty() {
        return false;
    }
    let mut sizes: Vec<(usize, String)> = map
        .iter()
        .map(|(k, v)| (k.len() + v.to_string().len() + 4, k.clone()))
        .collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    for (size, key) in sizes {
        log::warn!("userinfo field `{key}` dropped: the session cookie would exceed 4 KiB");
        map.remove(&key);
        excess = excess.saturating_sub(size);
        if excess == 0 {
            break;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::credentials::Credentials;
    use crate::secret::Secret;

    fn login(access_token: usize, userinfo: Value, id_token: usize) -> Login {
        let credentials = Credentials {
            access_token: Secret::new("a".repeat(access_token)),
            token_type: "bearer".into(),
            expires_at: None,
            refresh_token: None,
            scopes: vec![],
            id_token: Some(Secret::new("j".repeat(id_token))),
        };
        Login::new(credentials, Some(userinfo), 0)
    }

    #[test]
    fn oversized_userinfo_is_trimmed() {
        let mut session = login(
            100,
            serde_json::json!({"id": 1, "bio": "x".repeat(5000)}),
            900,
        );
        let json = encode(&mut session).unwrap();
        assert!(json.len() <= SESSION_BUDGET);
        assert_eq!(session.userinfo.unwrap(), serde_json::json!({"id": 1}));
        assert!(session.credentials.id_token.is_some());
        let mut huge = login(5000, Value::Null, 10);
        assert!(encode(&mut huge).is_err());
    }
}
