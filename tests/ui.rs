//! Compile-time errors of the provider derives, pinned with trybuild
//! (refresh with `TRYBUILD=overwrite cargo test --test ui`): the macro's own messages in
//! `ui/macro`, rustc-worded type errors in `ui/types`.

#[test]
fn derive_messages() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/macro/*.rs");
    t.compile_fail("tests/ui/types/*.rs");
}
