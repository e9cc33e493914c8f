//! Shared code of the patch-day tools.
//!
//! Every tool is a thin binary over its own crate; what they all need lives
//! here, once: writing JSON Lines records to a stdout that ends quietly on a
//! closed pipe ([`out`]), the error type that carries its exit status
//! ([`error`]), reading the system under `--root DIR` ([`root`]), user and
//! group names ([`names`]), RFC 3339 time ([`time`]), lossless encoding of
//! non-UTF-8 bytes ([`bytes`]), writing a record straight into a buffer for the
//! snapshot tools' hot loops ([`jsonw`]), reading JSON Lines input with file
//! and line in every error ([`jsonl`]), stderr lines that never panic
//! ([`diag`]), how many worker threads ([`par`]), the one stderr line of a partial
//! snapshot ([`partial`]), the package that owns a path ([`owners`]), atomic writes ([`fsutil`]), the options every
//! tool takes ([`cli`]), the record kinds as types ([`records`]), shell
//! words for the text views ([`shell`]), dpkg's database ([`dpkg`]) and
//! rpm's version ordering ([`rpmver`]).

pub mod bytes;
pub mod cli;
pub mod diag;
pub mod dpkg;
pub mod error;
pub mod fsutil;
pub mod jsonl;
pub mod jsonw;
pub mod names;
pub mod out;
pub mod owners;
pub mod par;
pub mod partial;
pub mod records;
pub mod root;
pub mod rpm;
pub mod rpmver;
pub mod shell;
pub mod time;

pub use error::{run, Error, Result, Status};
pub use out::Out;
pub use root::Root;
