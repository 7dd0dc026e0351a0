//! Eval subcommands of `bedside-records`' matching and search layer.

use crate::Command;

/// The subcommands this domain registers.
pub fn commands() -> Vec<Command> {
    Vec::new()
}
