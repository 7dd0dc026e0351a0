//! Eval subcommands of `bedside-consent`.

use crate::Command;

/// The subcommands this domain registers.
pub fn commands() -> Vec<Command> {
    Vec::new()
}
