//! `snap-diff`: what changed between two snapshots (ps-snap, net-snap, or
//! any JSON Lines with `--key`), paired by identity instead of by line, as
//! `change` records or one line per change for people.
//!
//! Exit status as diff's: 0 no differences, 1 differences, 2 trouble. All
//! input is read and checked before the first record is written, so a
//! malformed snapshot never yields a partial result.

use common::{Out, Status};

mod args;
mod compare;
mod diff;
mod input;
mod rules;
mod text;

pub use args::command;
use args::Args;
use rules::Rules;

pub fn main() -> std::process::ExitCode {
    common::run("snap-diff", || {
        let args = Args::parse()?;
        let rules = Rules::new(&args.options)?;
        let (changes, notes) = compare::diff_files(&rules, &args.before, &args.after)?;
        for n in notes {
            common::warn!("snap-diff: {n}");
        }
        let mut out = Out::stdout();
        compare::write(&mut out, &changes, args.format)?;
        out.finish()?;
        Ok(if changes.is_empty() {
            Status::Ok
        } else {
            Status::Differs
        })
    })
}
