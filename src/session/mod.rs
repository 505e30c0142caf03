//! Where a login lives between requests: the session record and the cookie codec.

pub(crate) mod cookie;
pub(crate) mod record;
