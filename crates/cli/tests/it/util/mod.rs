//! Helpers for the `dalal` integration tests: a temporary directory to
//! work in and a command builder around the built binary.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temporary directory the command runs in.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    /// A fresh, empty directory.
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes a file (creating parent directories) and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.tmp.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// Reads a file as text.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.tmp.path().join(name)).unwrap()
    }

    /// `dalal ARGS...` in this directory.
    pub fn command(&self, args: &[&str]) -> TestCommand {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dalal"));
        cmd.current_dir(self.tmp.path())
            .args(args)
            .env("NO_COLOR", "1");
        TestCommand { cmd, stdin: None }
    }
}

/// The workspace root: where `patterns/` and `data/` live.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `dalal ARGS...` in the workspace root, as a user runs it after cloning.
pub fn in_workspace(args: &[&str]) -> TestCommand {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dalal"));
    cmd.current_dir(workspace_root())
        .args(args)
        .env("NO_COLOR", "1");
    TestCommand { cmd, stdin: None }
}

/// `../shared` (beside the checkout in CI), `$DALAL_SHARED`, or `/work/shared`.
pub fn shared_dir() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("DALAL_SHARED").map(PathBuf::from),
        // crates/cli -> repository root -> its parent.
        manifest.ancestors().nth(3).map(|p| p.join("shared")),
        Some(PathBuf::from("/work/shared")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("conformance/opencep").is_dir())
}

/// `../shared`, or `None` after printing why the calling test is skipped.
///
/// # Panics
/// When it is missing and `CI` is set: CI always has it.
pub fn shared_or_skip(test: &str) -> Option<PathBuf> {
    let dir = shared_dir();
    if dir.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: ../shared is missing, and CI must have it"
        );
        eprintln!(
            "skipping {test}: ../shared (the project's shared data) is not beside the checkout"
        );
    }
    dir
}

/// A `dalal` invocation.
pub struct TestCommand {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

/// What a finished command left.
#[derive(Debug)]
pub struct Done {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl TestCommand {
    /// Adds arguments.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.cmd.args(args);
        self
    }

    /// Feeds standard input.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// The underlying command (to spawn it with pipes).
    pub fn into_command(self) -> Command {
        self.cmd
    }

    /// Runs to completion.
    pub fn run(mut self) -> Done {
        self.cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("spawn dalal");
        if let Some(bytes) = self.stdin.take() {
            let mut sin = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = sin.write_all(&bytes);
            });
        }
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().unwrap();
        Done {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Runs and expects exit 0; returns standard output.
    pub fn ok(self) -> String {
        let d = self.run();
        assert_eq!(
            d.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            d.stdout, d.stderr
        );
        d.stdout
    }

    /// Runs and expects this exit code; returns what it left.
    pub fn fails(self, code: i32) -> Done {
        let d = self.run();
        assert_eq!(
            d.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            d.stdout, d.stderr
        );
        d
    }
}
