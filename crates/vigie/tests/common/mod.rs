//! What the binary's tests share: the Python of the oracle and the generator, a server on
//! loopback.

#![allow(dead_code, reason = "each test file uses part of it")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `VIGIE_PYTHON`: a Python with duckdb and numpy. The tests fail, rather than skip, without it.
pub fn python() -> PathBuf {
    match std::env::var_os("VIGIE_PYTHON") {
        Some(python) => PathBuf::from(python),
        None => panic!(
            "VIGIE_PYTHON is not set: the generator and the report's oracle need a Python with duckdb and numpy \
             (run the tests with scripts/test, which makes one from bench/oracle/requirements.txt)"
        ),
    }
}

/// A script of `bench/oracle/` (copied from `shared/bench/`).
pub fn oracle(script: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/oracle").join(script)
}

/// Stores a token for `name` with `role` (no team) and returns its secret.
pub async fn token(store: &vigie_store::Store, name: &str, role: vigie_core::Role, at: jiff::Timestamp) -> String {
    let secret = vigie_server::auth::new_secret();
    let record = vigie_store::TokenRecord {
        hash: vigie_server::auth::hash_secret(&secret),
        name: name.into(),
        role,
        teams: Vec::new(),
    };
    store.create_token(&record, at).await.expect("token");
    secret
}

/// Writes `text` to `file` and runs `vigie COMMAND FILE EXTRA...`, which must refuse it
/// (exit status 1); returns what it said on standard error.
pub fn refused(command: &str, file: &Path, text: &str, extra: &[&str]) -> String {
    std::fs::write(file, text).expect("write the input");
    let output =
        Command::new(env!("CARGO_BIN_EXE_vigie")).arg(command).arg(file).args(extra).output().expect("vigie runs");
    let shown: String = text.chars().take(200).collect();
    assert_eq!(output.status.code(), Some(1), "vigie {command} accepted {shown:?} {extra:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a command that must succeed.
pub fn run(command: &mut Command) -> Output {
    let output = command.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `gen_tickets.py`'s history of `n` tickets into `dir` (`tickets.csv`, `sla.csv`,
/// `handle_time.csv`).
pub fn generate(dir: &Path, n: u32, seed: u32) -> PathBuf {
    run(Command::new(python())
        .arg(oracle("gen_tickets.py"))
        .args(["--n", &n.to_string(), "--seed", &seed.to_string(), "--out"])
        .arg(dir));
    dir.join("tickets.csv")
}

/// A server on a loopback port, serving `state` until [`Served::stop`].
pub struct Served {
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    pub async fn start(state: vigie_server::AppState) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listen");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(vigie_server::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Served { base, stop, server }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}

/// A helper process (chromedriver, an SMTP server) listening on a loopback port; killed when
/// dropped.
pub struct Listening {
    child: std::process::Child,
    pub port: u16,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Listening {
    /// Starts `make(port)` on a free port and waits until it accepts connections.
    pub async fn start(what: &str, make: impl FnOnce(u16) -> Command) -> Listening {
        Self::start_at(what, free_port(), make).await
    }

    /// Starts `make(port)` on `port` (one [`free_port`] gave) and waits until it listens.
    pub async fn start_at(what: &str, port: u16, make: impl FnOnce(u16) -> Command) -> Listening {
        let child = make(port)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{what} does not start: {error}"));
        let listening = Listening { child, port };
        let started = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(started.elapsed() < std::time::Duration::from_secs(20), "{what} did not listen on {port}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        listening
    }
}

/// A loopback port nobody listens on (now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("an address").port()
}

/// The real binary, `vigie serve` on a loopback port of its choosing; `kill_9` ends it the way
/// a crash would.
pub struct Server {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// Starts `vigie serve --db DB --listen 127.0.0.1:0 EXTRA...` and waits for the address it
    /// logs.
    pub fn start(db: &str, extra: &[&std::ffi::OsStr]) -> Server {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("VIGIE_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("vigie serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = std::io::BufReader::new(stderr).lines();
        let address = loop {
            let line = lines.next().expect("the server logs its address before exiting").expect("a log line");
            if let Some(rest) = line.split("address=").nth(1) {
                break rest.split_whitespace().next().expect("an address").to_owned();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, base: format!("http://{address}") }
    }

    /// SIGKILL, then reap.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        self.child.wait().expect("the killed server is reaped");
    }
}

/// An admin token made with `vigie token create` on `db`.
pub fn admin_token(db: &str, name: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["token", "create", "--db", db, "--role", "admin", "--name", name])
        .output()
        .expect("vigie token create runs");
    assert!(output.status.success(), "token create failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("the token is UTF-8").trim().to_owned()
}
