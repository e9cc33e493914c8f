//! GRUB 2 `grub.cfg`, read the way GRUB reads it at boot, in five parts:
//!
//! - [`lexer`]: the text split into words (quoting, `$variables`,
//!   comments) and separators, as grub-core/script/lexer.c does;
//! - [`execute`]: the statements walked in order, `{ }` blocks making
//!   entries and submenus, `source`/`configfile` read in place, `blscfg`
//!   inserting the BLS entries, variables expanded at the end;
//! - [`commands`]: what each command (`set`, `search`, `linux`, `initrd`,
//!   `chainloader`, ...) does to the menu;
//! - [`condition`]: which `if` branches run, where their `[ ... ]` tests only
//!   ask what is known before boot (grub-core/commands/test.c);
//! - [`menu`]: titles and ids, and the default and one-time entries from
//!   `set default`, grubenv's `saved_entry`/`next_entry` and
//!   /etc/default/grub's GRUB_DEFAULT (grub-core/normal/menu.c).

mod commands;
mod condition;
mod execute;
mod lexer;
mod menu;

pub use execute::{parse, strip_device, Inputs};
pub use menu::grub_default;

#[cfg(test)]
mod tests;
