//! How often something costly may happen: OAuth 1.0a logins that begin (each `GET login`
//! spends the consumer's quota at the provider), dynamic client registrations. A fixed
//! one-minute window, per client address and overall; memory stays bounded by the overall
//! limit (no more clients can have been let in within a window than calls were).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// The limits, and this window's counts.
#[derive(Debug)]
pub(crate) struct RateLimit {
    per_client: u32,
    overall: u32,
    window: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    /// The minute (seconds since the epoch / 60) these counts are for.
    minute: i64,
    overall: u32,
    clients: HashMap<Option<IpAddr>, u32>,
}

impl RateLimit {
    /// At most `per_client` calls a minute from one address, `overall` from all.
    pub fn new(per_client: u32, overall: u32) -> Self {
        RateLimit {
            per_client,
            overall,
            window: Mutex::default(),
        }
    }

    /// Whether a call from `client` may happen now (`now`: seconds since the epoch); counts
    /// it if so.
    pub fn allow(&self, client: Option<IpAddr>, now: i64) -> bool {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let minute = now.div_euclid(60);
        if window.minute != minute {
            *window = Window {
                minute,
                ..Window::default()
            };
        }
        if window.overall >= self.overall {
            return false;
        }
        let count = window.clients.get(&client).copied().unwrap_or(0);
        if count >= self.per_client {
            return false;
        }
        window.overall += 1;
        window.clients.insert(client, count + 1);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_client_and_overall_within_a_minute() {
        let limit = RateLimit::new(2, 3);
        let (a, b, c) = (
            Some("127.0.0.1".parse().unwrap()),
            Some("127.0.0.2".parse().unwrap()),
            Some("127.0.0.3".parse().unwrap()),
        );
        let t = 6_000;
        assert!(limit.allow(a, t) && limit.allow(a, t + 1));
        assert!(!limit.allow(a, t + 2), "a's two are used");
        assert!(limit.allow(b, t + 3));
        assert!(!limit.allow(c, t + 4), "three overall");
        // The next minute starts afresh.
        assert!(limit.allow(a, t + 60) && limit.allow(c, t + 61));
        assert!(limit.window.lock().unwrap().clients.len() <= 3);
    }
}
