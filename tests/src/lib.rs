//! Harness for trawl's end-to-end tests: the built site, served by the real `trawl serve` on a
//! free loopback port, driven through chromedriver in headless Chromium with a fresh profile.
//!
//! Every process a test starts is owned by a guard that kills it on drop, also when the test
//! fails. [`run`] saves a screenshot and the browser's console log under `tests/artifacts/`
//! when a test fails.
//!
//! Inputs, from the environment:
//! - `TRAWL_SITE`: the built site (default: `dist/` at the workspace root);
//! - `TRAWL_BIN`: the `trawl` binary (default: `target/debug/trawl`);
//! - `CHROMEDRIVER`, `CHROMIUM`: default `/usr/bin/chromedriver`, `/usr/bin/chromium`.

mod browser;
mod process;

use std::path::PathBuf;

use anyhow::Result;

pub use browser::{Browser, Profile};
pub use process::{Chromedriver, Server};

/// Where tests write screenshots and console logs of failures.
pub fn artifacts_dir() -> PathBuf {
    workspace_root().join("tests").join("artifacts")
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

fn env_path(name: &str, default: impl FnOnce() -> PathBuf) -> PathBuf {
    std::env::var_os(name)
        .map(PathBuf::from)
        .unwrap_or_else(default)
}

/// The built site that tests serve.
pub fn site_dir() -> PathBuf {
    let site = env_path("TRAWL_SITE", || workspace_root().join("dist"));
    assert!(
        site.join("index.html").is_file(),
        "no built site at {}: run scripts/build-site.sh first (the README test command does)",
        site.display()
    );
    site
}

/// The `trawl` binary under test.
pub fn trawl_bin() -> PathBuf {
    let bin = env_path("TRAWL_BIN", || {
        workspace_root().join("target").join("debug").join("trawl")
    });
    assert!(
        bin.is_file(),
        "no trawl binary at {}: run `cargo build -p trawl` first (the README test command does)",
        bin.display()
    );
    bin
}

/// `n` with thousands separators, as the viewer writes counts (`16,701 records`).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Runs one browser test: `body` gets a browser on a fresh profile; on failure the current
/// page's screenshot and the console log go to [`artifacts_dir`] as `NAME.png` and `NAME.log`,
/// and the test panics with the error. The browser is quit either way.
pub async fn run(name: &str, body: impl AsyncFnOnce(&mut Browser) -> Result<()>) {
    let mut browser = Browser::launch(Profile::fresh())
        .await
        .expect("starting Chromium through chromedriver");
    let outcome = body(&mut browser).await;
    if let Err(err) = outcome {
        let saved = browser.save_artifacts(name).await;
        browser.quit().await;
        panic!("{name} failed: {err:#}\n(artifacts: {saved})");
    }
    browser.quit().await;
}
