//! Eval subcommands of `bedside-schedule`.

use crate::Command;

/// The subcommands this domain registers.
pub fn commands() -> Vec<Command> {
    Vec::new()
}
