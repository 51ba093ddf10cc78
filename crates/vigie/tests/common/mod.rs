//! What the binary's tests share: the Python of the oracle and the generator.

#![allow(dead_code, reason = "each test file uses part of it")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `VIGIE_PYTHON`: a Python with duckdb and numpy. The tests fail, rather than skip, without it.
pub fn python() -> PathBuf {
    match std::env::var_os("VIGIE_PYTHON") {
        Some(python) => PathBuf::from(python),
        None => panic!(
            "VIGIE_PYTHON is not set: the generator and the report's oracle need a Python with duckdb and numpy \
             (run the tests with scripts/test, which makes one from bench/oracle/requirements.txt)"
        ),
    }
}

/// A script of `bench/oracle/` (copied from `shared/bench/`).
pub fn oracle(script: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/oracle").join(script)
}

/// Runs a command that must succeed.
pub fn run(command: &mut Command) -> Output {
    let output = command.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `gen_tickets.py`'s history of `n` tickets into `dir` (`tickets.csv`, `sla.csv`,
/// `handle_time.csv`).
pub fn generate(dir: &Path, n: u32, seed: u32) -> PathBuf {
    run(Command::new(python())
        .arg(oracle("gen_tickets.py"))
        .args(["--n", &n.to_string(), "--seed", &seed.to_string(), "--out"])
        .arg(dir));
    dir.join("tickets.csv")
}
