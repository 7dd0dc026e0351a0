//! Eval subcommands of `bedside-ledger`.

use crate::Command;

/// The subcommands this domain registers.
pub fn commands() -> Vec<Command> {
    Vec::new()
}
