//! The README's first example is `examples/readme.rs`, word for word, so
//! that the output shown under it is what it prints
//! (`cargo run --release --example readme`).

#[test]
fn the_readme_example_is_the_example_that_runs() {
    let readme = include_str!("../README.md");
    let shown = readme
        .split_once("```rust\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(code, _)| code)
        .expect("a rust block in the README");
    let example = include_str!("../examples/readme.rs");
    let code: String = example
        .lines()
        .skip_while(|l| l.starts_with("//!") || l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(code, shown, "README and examples/readme.rs differ");
}
