//! Child processes owned by a test: killed on drop, so nothing outlives a failing test.

use std::{
    io::{BufRead, BufReader},
    net::{Ipv4Addr, TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

/// A child process that is killed and reaped when dropped.
struct Owned(Child);

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free TCP port on 127.0.0.1 (free when this returns; the caller binds it right away).
pub(crate) fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// `trawl serve` of the built site on a free loopback port.
pub struct Server {
    child: Option<Owned>,
    url: String,
}

impl Server {
    /// Serves `site` under `base_path` (e.g. `/` or `/tools/trawl/`) and waits until it listens.
    pub fn start(trawl: &Path, site: &Path, base_path: &str) -> Result<Self> {
        Self::with_bundles(trawl, site, base_path, &[])
    }

    /// Like [`start`](Self::start), also serving each bundle directory under
    /// `<base_path>bundles/<its name>/`.
    pub fn with_bundles(
        trawl: &Path,
        site: &Path,
        base_path: &str,
        bundles: &[&Path],
    ) -> Result<Self> {
        let mut command = Command::new(trawl);
        command
            .arg("serve")
            .arg(site)
            .args(["--port", "0", "--base-path", base_path]);
        for bundle in bundles {
            command.arg("--bundle").arg(bundle);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", trawl.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let child = Owned(child);
        // The first line says where it listens: "trawl: serving DIR at http://127.0.0.1:P/base/".
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading trawl serve's first line")?;
        let Some((_, url)) = line.trim_end().rsplit_once(" at ") else {
            bail!("trawl serve did not say where it listens: {line:?}");
        };
        Ok(Self {
            child: Some(child),
            url: url.to_owned(),
        })
    }

    /// The viewer's URL, ending in the base path.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the server now: afterwards the site is reachable only through the browser's caches.
    pub fn stop(&mut self) {
        self.child = None;
    }
}

/// A chromedriver on a free loopback port.
pub struct Chromedriver {
    _child: Owned,
    url: String,
}

impl Chromedriver {
    /// Starts chromedriver and waits until it accepts connections.
    pub fn start() -> Result<Self> {
        let binary =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
        let port = free_port()?;
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {binary} (scripts/setup.sh installs it)"))?;
        let child = Owned(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not listen on port {port} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self {
            _child: child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// The WebDriver endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }
}
