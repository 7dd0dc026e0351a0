//! Outbound delivery: the [`Notifier`] trait and the log and file notifiers.
//!
//! Messages wait in the outbox table until [`crate::Clinic::deliver_due`] hands the due ones
//! to a notifier and marks them sent. SMS and e-mail gateways are integration points: implement
//! [`Notifier`] over the gateway's API (with its own retry and idempotency key = outbox id).

use crate::store::OutboxMessage;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// Delivers one outbound message.
pub trait Notifier: Send + Sync {
    /// Sends `message`.
    ///
    /// # Errors
    /// An I/O error when delivery fails; the message stays pending.
    fn deliver(&self, message: &OutboxMessage) -> std::io::Result<()>;
}

/// Writes a one-line summary of each message to standard error, without the address or text.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    fn deliver(&self, m: &OutboxMessage) -> std::io::Result<()> {
        // The address and body are PHI-bearing: the log names only the row, channel and purpose.
        eprintln!(
            "outbox #{}: {} via {} at {}",
            m.id, m.purpose, m.channel, m.send_at
        );
        Ok(())
    }
}

/// Appends each message as one JSON line to a file (a stand-in for an SMS/e-mail gateway),
/// created with mode 0600 on unix.
#[derive(Debug)]
pub struct FileNotifier {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileNotifier {
    /// A notifier appending to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }
}

impl Notifier for FileNotifier {
    fn deliver(&self, m: &OutboxMessage) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        // Delivered messages carry contact details and text: readable by the owner only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&self.path)?;
        let line = serde_json::to_string(m).map_err(std::io::Error::other)?;
        writeln!(f, "{line}")
    }
}

/// Keeps delivered messages in memory (tests and the in-process demo).
#[derive(Debug, Default)]
pub struct MemoryNotifier {
    sent: Mutex<Vec<OutboxMessage>>,
}

impl MemoryNotifier {
    /// Messages delivered so far.
    pub fn sent(&self) -> Vec<OutboxMessage> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Notifier for MemoryNotifier {
    fn deliver(&self, m: &OutboxMessage) -> std::io::Result<()> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(m.clone());
        Ok(())
    }
}
