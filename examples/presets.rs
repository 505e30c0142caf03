//! Prints every preset as JSON: one object per preset with its name, protocol, issuer,
//! endpoints, scopes, PKCE, client authentication and revocation endpoint. Placeholders with
//! a default are filled with it; those the app must configure (`{domain}`, `{base_url}` for
//! Keycloak, ...) are left as they are.
//!
//! ```sh
//! cargo run --example presets
//! ```

use serde_json::{json, Value};

fn main() {
    let presets: Vec<Value> = rocket_oauth::presets::all()
        .into_iter()
        .map(|(name, defaults)| {
            describe(name, &serde_json::to_value(&defaults).unwrap_or_default())
        })
        .collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&presets).unwrap_or_default()
    );
}

/// The preset's entry, its placeholders with a default filled in.
fn describe(name: &str, d: &Value) -> Value {
    let defaults: Vec<(String, String)> = d["placeholders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pair| Some((pair[0].as_str()?.to_owned(), pair[1].as_str()?.to_owned())))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let fill = |field: &str| -> Value {
        match d[field].as_str() {
            Some(url) => {
                let mut url = url.to_owned();
                for (placeholder, value) in &defaults {
                    url = url.replace(&format!("{{{placeholder}}}"), value);
                }
                Value::String(url)
            }
            None => Value::Null,
        }
    };
    let protocol = d["protocol"].as_str().unwrap_or_default();
    let mut scopes: Vec<Value> = d["scopes"].as_array().cloned().unwrap_or_default();
    if protocol == "oidc" {
        scopes.insert(0, json!("openid"));
    }
    json!({
        "name": name,
        "protocol": protocol,
        "issuer": fill("issuer"),
        "authorize_url": fill("authorize_url"),
        "token_url": fill("token_url"),
        "userinfo_url": fill("userinfo_url"),
        "scopes": scopes,
        "pkce": d["pkce"],
        "client_auth": d["client_auth"],
        "revocation_url": fill("revocation_url"),
    })
}
