//! The Bedside reference clinic backend: an HTTP JSON API over an embedded SQLite database (or
//! PostgreSQL), seeded with a demo clinic on first run.
//!
//! Run with `cargo run --release --example clinic` (flags: `--data-dir DIR` (default
//! `clinic-data`), `--listen ADDR` (default `127.0.0.1:8080`), `--database URL` (or
//! `BEDSIDE_DATABASE_URL`) to keep the clinic in PostgreSQL (`postgres://user@host:port/db`)
//! instead of `<data-dir>/clinic.db`, `--fsync` for commits that survive a power loss
//! (group commit: one flush of the log for every commit waiting; PostgreSQL
//! `synchronous_commit=on`), `--reset` to start from an
//! empty database, `--chain-key-file FILE` (or `BEDSIDE_CHAIN_KEY_FILE`) for the key that signs
//! the tamper-evidence checkpoint (default `<data-dir>/chain.key`, created on first run — keep
//! it on other storage than the database in production), `--reanchor` to accept the database
//! as it is after a privacy officer has investigated an integrity break). The API is described
//! in `docs/API.md`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    bedside_clinic::server::run(std::env::args().skip(1))
}
