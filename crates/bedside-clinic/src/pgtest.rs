//! A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` into a temporary directory,
//! a free loopback port, stopped and deleted on drop. Nothing depends on a system service.
//!
//! The server binaries come from Debian's `postgresql` package (`.ci/run` installs it when
//! missing). They are found through `BEDSIDE_PG_BIN`, then `pg_config --bindir`, then the
//! newest `/usr/lib/postgresql/*/bin`, then `PATH`. PostgreSQL refuses to run as root, so when
//! the tests run as root the cluster runs as the `postgres` system user (via `runuser`).
//!
//! ```no_run
//! use bedside_clinic::pgtest::TempCluster;
//!
//! // `None` (with one line on stderr) when PostgreSQL is not installed, unless
//! // BEDSIDE_REQUIRE_POSTGRES=1 makes that an error.
//! if let Some(cluster) = TempCluster::start_or_skip("my test")? {
//!     let url = cluster.create_database("clinic")?;
//!     assert!(url.starts_with("postgres://"));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a cluster could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// Occurs when no PostgreSQL server binaries were found.
    #[error(
        "PostgreSQL server binaries not found (install Debian's `postgresql` or set BEDSIDE_PG_BIN)"
    )]
    NotInstalled,
    /// Occurs when a step (`initdb`, `pg_ctl start`, `createdb`) fails; the text is the tool's
    /// own output, which carries no patient data (the cluster is empty).
    #[error("PostgreSQL {step} failed: {output}")]
    Step {
        /// The step that failed.
        step: &'static str,
        /// What the tool printed.
        output: String,
    },
    /// Occurs when the temporary directory or port cannot be prepared.
    #[error("preparing the cluster: {0}")]
    Io(#[from] std::io::Error),
}

/// A running throwaway cluster. Dropping it stops the server and deletes its directory
/// (unless it was started with [`TempCluster::start_kept`]).
#[derive(Debug)]
pub struct TempCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    /// Stopped but not deleted on drop ([`TempCluster::start_kept`]).
    keep: bool,
}

/// Settings for [`TempCluster::start_with`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// `fsync` and `synchronous_commit`: on for durability figures, off for fast tests.
    pub durable: bool,
    /// `max_connections`.
    pub max_connections: u32,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            durable: true,
            max_connections: 100,
        }
    }
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl TempCluster {
    /// Starts a cluster with default (durable) settings.
    ///
    /// # Errors
    /// [`ClusterError`] when PostgreSQL is missing or a step fails.
    pub fn start() -> Result<Self, ClusterError> {
        Self::start_with(&ClusterOptions::default())
    }

    /// Starts a cluster, or returns `Ok(None)` after one line on stderr naming `what` is
    /// skipped when PostgreSQL is not installed — unless the environment sets
    /// `BEDSIDE_REQUIRE_POSTGRES=1`, which `.ci/run` does: then a missing PostgreSQL is an error.
    ///
    /// # Errors
    /// [`ClusterError`] when a step fails, or PostgreSQL is missing and required.
    pub fn start_or_skip(what: &str) -> Result<Option<Self>, ClusterError> {
        match Self::start() {
            Ok(c) => Ok(Some(c)),
            Err(ClusterError::NotInstalled) if !required() => {
                eprintln!(
                    "skipping {what}: PostgreSQL is not installed (BEDSIDE_REQUIRE_POSTGRES=1 makes this a failure)"
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Starts a cluster with `options`.
    ///
    /// # Errors
    /// [`ClusterError`] when PostgreSQL is missing or a step fails.
    pub fn start_with(options: &ClusterOptions) -> Result<Self, ClusterError> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("bedside-pg-{}-{n}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        let (cluster, _) = Self::start_in(dir, options, false)?;
        Ok(cluster)
    }

    /// Starts a cluster kept in `dir` across runs (a benchmark's cached database): initialised
    /// there on first use, started on a free port each time, stopped but not deleted on drop.
    /// The flag is `true` when this call created the cluster (it holds no databases yet).
    ///
    /// # Errors
    /// [`ClusterError`] when PostgreSQL is missing or a step fails.
    pub fn start_kept(
        dir: impl Into<PathBuf>,
        options: &ClusterOptions,
    ) -> Result<(Self, bool), ClusterError> {
        Self::start_in(dir.into(), options, true)
    }

    fn start_in(
        dir: PathBuf,
        options: &ClusterOptions,
        keep: bool,
    ) -> Result<(Self, bool), ClusterError> {
        let bin = find_bin().ok_or(ClusterError::NotInstalled)?;
        let as_postgres = is_root();
        std::fs::create_dir_all(&dir)?;
        let port = free_port()?;
        let cluster = TempCluster {
            bin,
            dir,
            port,
            as_postgres,
            keep,
        };
        if as_postgres {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&cluster.dir)
                .status()?;
            if !status.success() {
                return Err(ClusterError::Step {
                    step: "chown",
                    output: "could not hand the directory to the postgres user".into(),
                });
            }
        }
        let data = cluster.data_dir();
        let fresh = !data.join("PG_VERSION").is_file();
        if fresh {
            cluster.run(
                "initdb",
                cluster.tool("initdb").arg("-D").arg(&data).args([
                    "-U",
                    "bedside",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]),
            )?;
        }
        let durable = if options.durable { "on" } else { "off" };
        let server_options = format!(
            "-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync={durable} \
             -c synchronous_commit={durable} -c full_page_writes={durable} \
             -c max_connections={max} -c shared_buffers=128MB",
            port = cluster.port,
            sock = cluster.dir.display(),
            max = options.max_connections,
        );
        cluster.run(
            "pg_ctl start",
            cluster
                .tool("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.dir.join("server.log"))
                .args(["-o", &server_options, "-w", "-t", "60", "start"]),
        )?;
        Ok((cluster, fresh))
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A connection URL for database `name` (which must exist; see
    /// [`TempCluster::create_database`]).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://bedside@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates database `name` and returns its URL.
    ///
    /// # Errors
    /// [`ClusterError::Step`] when `createdb` fails (for example, the name exists).
    pub fn create_database(&self, name: &str) -> Result<String, ClusterError> {
        self.run(
            "createdb",
            self.tool("createdb").args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "bedside",
                name,
            ]),
        )?;
        Ok(self.url(name))
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, step: &'static str, command: &mut Command) -> Result<(), ClusterError> {
        let out = command.stdin(Stdio::null()).output()?;
        if out.status.success() {
            return Ok(());
        }
        let mut output = String::from_utf8_lossy(&out.stderr).into_owned();
        output.push_str(&String::from_utf8_lossy(&out.stdout));
        if step == "pg_ctl start"
            && let Ok(log) = std::fs::read_to_string(self.dir.join("server.log"))
        {
            output.push_str(&log);
        }
        Err(ClusterError::Step { step, output })
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        // A kept cluster is stopped cleanly (a checkpoint), so the next start needs no
        // recovery; a throwaway one is about to be deleted.
        let mode = if self.keep { "fast" } else { "immediate" };
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", mode, "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Whether `BEDSIDE_REQUIRE_POSTGRES=1` is set.
pub fn required() -> bool {
    std::env::var("BEDSIDE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() && dir.join("postgres").is_file()
}

fn find_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("BEDSIDE_PG_BIN").map(PathBuf::from) {
        return has_server(&dir).then_some(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_server(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, p)| has_server(p))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Some(dir);
    }
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).find(|p| has_server(p)))
}
