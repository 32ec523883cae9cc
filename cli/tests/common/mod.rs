//! What the command's tests share: temp files that clean up after
//! themselves, and the command run as a process.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// A temp file (`.jsonl`), removed when dropped.
pub struct Temp(pub PathBuf);

impl Temp {
    /// A fresh path named after `name` and this process.
    pub fn new(name: &str) -> Temp {
        let path = std::env::temp_dir().join(format!(
            "perf-timer-cli-{name}-{}.jsonl",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Temp(path)
    }

    /// The path as an argument.
    pub fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The `perf-timer` command run with `args`, to its end.
pub fn perf_timer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perf-timer"))
        .args(args)
        .output()
        .unwrap()
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
