//! Record output: JSON Lines (one object per line, `\n` after each) or text
//! lines, through one buffered stdout. Any write error is mapped once, here:
//! a closed pipe ends the tool quietly (see [`crate::Error::stdout`]).

use std::io::{self, BufWriter, Write};

use serde_json::Value;

use crate::error::{Error, Result};

/// Buffered writer of records and text lines.
pub struct Out<W: Write = io::StdoutLock<'static>> {
    w: BufWriter<W>,
}

impl Out {
    /// Standard output, locked for the life of the tool.
    pub fn stdout() -> Self {
        Out::new(io::stdout().lock())
    }
}

impl<W: Write> Out<W> {
    pub fn new(w: W) -> Self {
        Out {
            w: BufWriter::with_capacity(64 * 1024, w),
        }
    }

    /// One JSON record followed by `\n`.
    pub fn record(&mut self, v: &Value) -> Result<()> {
        serde_json::to_writer(&mut self.w, v).map_err(|e| match e.io_error_kind() {
            Some(kind) => Error::stdout(&io::Error::from(kind)),
            None => Error::new(format!("encoding a record: {e}")),
        })?;
        self.w.write_all(b"\n").map_err(|e| Error::stdout(&e))
    }

    /// One record of a serde type (a record struct of [`crate::records`])
    /// followed by `\n`.
    pub fn serialize<T: serde::Serialize>(&mut self, v: &T) -> Result<()> {
        serde_json::to_writer(&mut self.w, v).map_err(|e| match e.io_error_kind() {
            Some(kind) => Error::stdout(&io::Error::from(kind)),
            None => Error::new(format!("encoding a record: {e}")),
        })?;
        self.w.write_all(b"\n").map_err(|e| Error::stdout(&e))
    }

    /// One line of text (a `\n` is added).
    pub fn line(&mut self, s: &str) -> Result<()> {
        self.w
            .write_all(s.as_bytes())
            .map_err(|e| Error::stdout(&e))?;
        self.w.write_all(b"\n").map_err(|e| Error::stdout(&e))
    }

    /// Raw bytes, no newline added.
    pub fn raw(&mut self, b: &[u8]) -> Result<()> {
        self.w.write_all(b).map_err(|e| Error::stdout(&e))
    }

    /// Flush what is buffered now (before saying something happened that a
    /// later write error must not hide).
    pub fn flush(&mut self) -> Result<()> {
        self.w.flush().map_err(|e| Error::stdout(&e))
    }

    /// Flush what is buffered; call once at the end (dropping without it
    /// would swallow a late write error such as a full disk).
    pub fn finish(mut self) -> Result<()> {
        self.w.flush().map_err(|e| Error::stdout(&e))
    }

    /// The inner writer, flushed (for tests).
    pub fn into_inner(self) -> Result<W> {
        self.w.into_inner().map_err(|e| Error::stdout(e.error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_are_one_per_line_in_field_order() {
        let mut out = Out::new(Vec::new());
        out.record(&json!({"kind": "process", "pid": 1, "comm": "init"}))
            .expect("write");
        out.record(&json!({"kind": "process", "pid": 2}))
            .expect("write");
        let buf = out.into_inner().expect("flush");
        assert_eq!(
            String::from_utf8(buf).expect("utf8"),
            "{\"kind\":\"process\",\"pid\":1,\"comm\":\"init\"}\n{\"kind\":\"process\",\"pid\":2}\n"
        );
    }

    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn closed_pipe_is_quiet() {
        let mut out = Out::new(Closed);
        // Small writes sit in the buffer; the error surfaces at finish.
        out.line("x").expect("buffered");
        let err = out.finish().expect_err("broken pipe");
        assert!(err.is_quiet());
        assert_eq!(err.code(), 0);
    }
}
