//! What the benches that count instructions share: the total of a
//! callgrind output file (not a bench of its own: included with `mod`).

/// The instructions a callgrind output file counts in all (its `totals:`
/// line, or `summary:` in older valgrinds).
pub fn total_instructions(text: &str) -> u64 {
    let totals = text
        .lines()
        .find_map(|line| {
            line.strip_prefix("totals: ")
                .or(line.strip_prefix("summary: "))
        })
        .expect("callgrind's totals line");
    totals.split_whitespace().next().unwrap().parse().unwrap()
}
