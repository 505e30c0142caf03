//! How each preset's provider answers, for the testing kit
//! ([`MockProvider::preset`](crate::testing::MockProvider::preset)), built on the kit's
//! public API like an app's own mock: the userinfo in the provider's shape, read back by the
//! preset's [`Profile`], and its further calls (GitHub's and Bitbucket's `user/emails`,
//! Upwork's GraphQL) answered from the same [`MockUser`].

use rocket::http::Method;
use serde_json::{json, Value};

use super::fields::{Extra, Profile, Verified};
use crate::testing::{MockProvider, MockRequest, MockResponse, MockUser};

/// Plays the provider whose profile is `profile` (each preset's `testing::Preset::play`).
pub(crate) fn play(mock: &MockProvider, profile: &Profile) {
    let shape = *profile;
    mock.userinfo_shape(move |user| userinfo(&shape, user));
    match profile.extra {
        Extra::GitHubEmails => mock.endpoint(Method::Get, "/user/emails", |request| {
            emails(request, |email, verified| {
                json!({"email": email, "primary": true, "verified": verified, "visibility": "public"})
            })
            .map_or_else(MockResponse::unauthorized, |list| MockResponse::json(json!(list)))
        }),
        Extra::BitbucketEmails => mock.endpoint(Method::Get, "/user/emails", |request| {
            emails(request, |email, verified| {
                json!({"email": email, "is_primary": true, "is_confirmed": verified, "type": "email"})
            })
            .map_or_else(MockResponse::unauthorized, |list| {
                MockResponse::json(json!({ "values": list }))
            })
        }),
        Extra::UpworkGraphql => mock.endpoint(Method::Post, "/graphql", upwork),
        Extra::None | Extra::MicrosoftObjectId => {}
    }
}

/// The bearer's email list, as `entry` writes one (empty without an email); `None` without
/// a valid bearer token.
fn emails(request: &MockRequest, entry: impl Fn(&Value, bool) -> Value) -> Option<Vec<Value>> {
    let claims = request.user()?.claims();
    let verified = claims.get("email_verified") == Some(&Value::Bool(true));
    Some(
        claims
            .get("email")
            .map(|e| entry(e, verified))
            .into_iter()
            .collect(),
    )
}

/// `user`'s userinfo in the shape `profile` reads.
fn userinfo(profile: &Profile, user: &MockUser) -> Value {
    let claims = user.claims();
    let mut body = json!({});
    if let Some(id) = profile.id.first() {
        set(&mut body, id, json!(user.subject()));
    }
    if let (Some(pointer), Some(email)) = (profile.email, claims.get("email")) {
        let verified = claims.get("email_verified") == Some(&Value::Bool(true));
        match profile.verified {
            Verified::Field(field) => {
                set(&mut body, pointer, email.clone());
                set(&mut body, field, json!(verified));
            }
            Verified::Always if !verified => {}
            Verified::Always | Verified::Never => set(&mut body, pointer, email.clone()),
        }
    }
    if let (Some(pointer), Some(name)) = (profile.name.first(), claims.get("name")) {
        set(&mut body, pointer, name.clone());
    }
    if let (Some(pointer), Some(picture)) = (profile.picture, claims.get("picture")) {
        set(&mut body, pointer, picture.clone());
    }
    if let Some(groups) = claims.get("groups") {
        set(&mut body, "/groups", groups.clone());
    }
    body
}

/// Sets the JSON pointer `pointer` (objects only) in `body` to `value`.
fn set(body: &mut Value, pointer: &str, value: Value) {
    let mut at = body;
    let mut keys = pointer.trim_start_matches('/').split('/').peekable();
    while let Some(key) = keys.next() {
        let key = key.replace("~1", "/").replace("~0", "~");
        if !at.is_object() {
            *at = json!({});
        }
        let object = at.as_object_mut().expect("an object");
        if keys.peek().is_none() {
            object.insert(key, value);
            return;
        }
        at = object.entry(key).or_insert_with(|| json!({}));
    }
}

/// Upwork's GraphQL API: the user, their company (their first group) and its teams (the
/// other groups), asked with the `X-Upwork-API-TenantId` header.
fn upwork(request: &MockRequest) -> MockResponse {
    let Some(user) = request.user() else {
        return MockResponse::unauthorized();
    };
    let claims = user.claims();
    let groups: Vec<String> = claims
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let query = request.json().unwrap_or_default()["query"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let company = groups.first();
    if query.contains("companySelector") {
        let items: Vec<Value> = company
            .map(|org| json!({"title": org, "organizationId": org, "organizationType": "Client"}))
            .into_iter()
            .collect();
        return MockResponse::json(json!({"data": {"companySelector": {"items": items}}}));
    }
    if query.contains("childOrganizations") {
        let tenant = request.request().header("x-upwork-api-tenantid");
        if company.is_none() || tenant != company.map(String::as_str) {
            let errors = json!([{"message": "the tenant is not one of the user's companies"}]);
            return MockResponse::json(json!({"errors": errors, "data": null}));
        }
        let teams: Vec<Value> = groups[1..]
            .iter()
            .map(|team| json!({"id": team, "name": team, "active": true, "hidden": false}))
            .collect();
        return MockResponse::json(json!({"data": {"organization": {
            "id": company, "name": company, "childOrganizations": teams
        }}}));
    }
    MockResponse::json(json!({"data": {
        "user": {"id": user.subject(), "email": claims.get("email"), "name": claims.get("name")},
        "organization": company.map(|org| json!({"id": org, "name": org}))
    }}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_make_nested_objects() {
        let mut body = json!({});
        set(&mut body, "/data/id", json!("1"));
        set(&mut body, "/data/name", json!("X"));
        set(&mut body, "/a~1b", json!(true));
        assert_eq!(body, json!({"data": {"id": "1", "name": "X"}, "a/b": true}));
    }
}
