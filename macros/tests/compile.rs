//! `#[timed]` through the compiler, with trybuild: misuse gets a clear
//! error (`ui/*.rs` and their `.stderr`), and every supported function
//! shape compiles without a warning and is timed (`ui/pass/*.rs`). Here,
//! in the macro's own package, trybuild builds the cases against
//! perf-timer and tokio only, not the integration tests' web stack.

#[test]
fn misuse_gets_a_clear_compile_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}

#[test]
fn every_function_shape_compiles_clean_and_is_timed() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
}
