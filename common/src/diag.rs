//! Lines on stderr that can never take a tool down: `eprintln!` panics
//! (exit 101) when stderr is a closed pipe, as in `tool 2>&1 | head -1`.
//! A diagnostic that cannot be written is dropped; the exit status still
//! tells what happened.

use std::fmt::Display;
use std::io::Write;

/// Write one line on stderr, ignoring a closed or full stderr.
pub fn line(msg: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// `warn!("tool: {x}")`: [`line`] with `format!` arguments.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => {
        $crate::diag::line(format_args!($($arg)*))
    };
}

/// `n thing` or `n things`: the count and the noun in the right number.
/// `plural(1, "check", "checks")` is `1 check`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(plural(0, "file", "files"), "0 files");
        assert_eq!(plural(1, "file", "files"), "1 file");
        assert_eq!(plural(2, "process", "processes"), "2 processes");
    }
}
