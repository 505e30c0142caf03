//! Compile-time errors of `#[derive(OAuth2Provider)]`, pinned with trybuild
//! (refresh with `TRYBUILD=overwrite cargo test --test ui`).

#[test]
fn derive_messages() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
