//! Errors that carry their exit status, and the one wrapper that prints them.
//!
//! The convention is `diff`'s: 0 success (nothing differs, nothing failed), 1
//! "something differs / failed", 2 trouble. A closed stdout is not trouble: a
//! reader such as `head -1` has all it wanted, so the tool ends quietly with 0.

use std::fmt;
use std::io;
use std::path::Path;
use std::process::ExitCode;

/// Result alias used across the tools.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How a run ended when it did not end in trouble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit 0: success, no differences, no failed check.
    Ok,
    /// Exit 1: differences found, a check failed, something changed.
    Differs,
}

impl Status {
    pub fn code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Differs => 1,
        }
    }
}

/// An error with its message (one line, already naming file and line where
/// that helps) and its exit status.
#[derive(Debug)]
pub struct Error {
    msg: String,
    code: u8,
    quiet: bool,
}

impl Error {
    /// Trouble (exit 2) with a message.
    pub fn new(msg: impl Into<String>) -> Self {
        Error {
            msg: msg.into(),
            code: 2,
            quiet: false,
        }
    }

    /// Trouble reading or writing `path`: `PATH: reason`.
    pub fn io(path: &Path, err: &io::Error) -> Self {
        Self::new(format!("{}: {}", path.display(), describe_io(err)))
    }

    /// A malformed input line: `FILE:LINE: what`.
    pub fn at(file: &str, line: u64, what: impl fmt::Display) -> Self {
        Self::new(format!("{file}:{line}: {what}"))
    }

    /// The reader of our output went away: end quietly with status 0.
    pub fn broken_pipe() -> Self {
        Error {
            msg: String::new(),
            code: 0,
            quiet: true,
        }
    }

    /// Wrap an error writing to stdout: a broken pipe is quiet, the rest
    /// (a full disk behind a redirection, say) is trouble.
    pub fn stdout(err: &io::Error) -> Self {
        if err.kind() == io::ErrorKind::BrokenPipe {
            Self::broken_pipe()
        } else {
            Self::new(format!("writing standard output: {}", describe_io(err)))
        }
    }

    pub fn code(&self) -> u8 {
        self.code
    }

    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    pub fn message(&self) -> &str {
        &self.msg
    }

    /// Prefix the message with more context (`context: message`).
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        if !self.quiet {
            self.msg = format!("{ctx}: {}", self.msg);
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}

/// The io error as a short lower-case phrase with a hint where one helps.
pub fn describe_io(err: &io::Error) -> String {
    let mut text = io_words(err);
    match err.kind() {
        io::ErrorKind::PermissionDenied => text.push_str(" (run as root?)"),
        io::ErrorKind::StorageFull => text.push_str(" (free some space and try again)"),
        _ => {}
    }
    text
}

/// An I/O error in plain words, without advice: `permission denied`, as a
/// record's value shows it (the standard message's " (os error N)" cut).
pub fn io_words(err: &io::Error) -> String {
    let mut text = err.to_string();
    if let Some(pos) = text.find(" (os error") {
        text.truncate(pos);
    }
    lower_first(&text)
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Run a tool's body and turn its outcome into the process exit status,
/// printing `tool: message` on stderr for trouble. Clap's own errors (bad
/// arguments) exit 2 as well; `--help` and `--version` exit 0.
pub fn run(tool: &str, body: impl FnOnce() -> Result<Status>) -> ExitCode {
    match body() {
        Ok(status) => ExitCode::from(status.code()),
        Err(e) if e.is_quiet() => ExitCode::from(e.code()),
        Err(e) => {
            crate::warn!("{tool}: {e}");
            ExitCode::from(e.code())
        }
    }
}

impl From<clap::Error> for Error {
    fn from(e: clap::Error) -> Self {
        use clap::error::ErrorKind;
        match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                // Print help/version to stdout; a closed pipe is quiet.
                let _ = e.print();
                Error {
                    msg: String::new(),
                    code: 0,
                    quiet: true,
                }
            }
            _ => {
                let _ = e.print();
                Error {
                    msg: String::new(),
                    code: 2,
                    quiet: true,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_error_names_path_and_drops_os_error_number() {
        let e = Error::io(
            Path::new("/x/y"),
            &io::Error::from_raw_os_error(nix::libc::ENOENT),
        );
        assert_eq!(e.to_string(), "/x/y: no such file or directory");
        assert_eq!(e.code(), 2);
    }

    #[test]
    fn permission_denied_suggests_root() {
        let e = Error::io(
            Path::new("/etc/shadow"),
            &io::Error::from_raw_os_error(nix::libc::EACCES),
        );
        assert_eq!(
            e.to_string(),
            "/etc/shadow: permission denied (run as root?)"
        );
    }

    #[test]
    fn broken_pipe_on_stdout_is_quiet_success() {
        let e = Error::stdout(&io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(e.is_quiet());
        assert_eq!(e.code(), 0);
        let e = Error::stdout(&io::Error::from_raw_os_error(nix::libc::ENOSPC));
        assert!(!e.is_quiet());
        assert_eq!(e.code(), 2);
    }

    #[test]
    fn at_names_file_and_line() {
        assert_eq!(
            Error::at("before.json", 7, "not JSON").to_string(),
            "before.json:7: not JSON"
        );
    }
}
