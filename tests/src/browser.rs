//! Headless Chromium through chromedriver, with helpers that wait for what a person would see.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::{wd::WebDriverCompatibleCommand, Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

use crate::{artifacts_dir, process::Chromedriver};

/// How long a wait for the page may take before the test fails. Generous: the machine is
/// small and shared, and a cold wasm compile of the store worker takes seconds.
const WAIT: Duration = Duration::from_secs(60);

/// A Chromium user-data directory: fresh per test, reused across restarts within one.
pub struct Profile(tempfile::TempDir);

impl Profile {
    /// A new, empty profile.
    pub fn fresh() -> Self {
        Self(tempfile::tempdir().expect("creating a profile directory"))
    }
}

/// One Chromium with one profile, driven through its own chromedriver.
pub struct Browser {
    client: Option<Client>,
    driver: Chromedriver,
    profile: Profile,
    trace_categories: Option<String>,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium on `profile`.
    pub async fn launch(profile: Profile) -> Result<Self> {
        Self::start(profile, None).await
    }

    /// Starts chromedriver and a headless Chromium on `profile` that records a Chrome trace of
    /// `categories` (comma-separated, as in `chrome://tracing`) from the start; read it with
    /// [`Browser::trace_events`].
    pub async fn launch_tracing(profile: Profile, categories: &str) -> Result<Self> {
        Self::start(profile, Some(categories.to_owned())).await
    }

    async fn start(profile: Profile, trace_categories: Option<String>) -> Result<Self> {
        let driver = Chromedriver::start()?;
        let client = connect(&driver, &profile, trace_categories.as_deref()).await?;
        Ok(Self {
            client: Some(client),
            driver,
            profile,
            trace_categories,
        })
    }

    /// The WebDriver session.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("the browser is running")
    }

    /// Quits Chromium and starts it again on the same profile, as a person restarting it.
    pub async fn restart(&mut self) -> Result<()> {
        if let Some(client) = self.client.take() {
            client.close().await.context("quitting Chromium")?;
        }
        self.client = Some(
            connect(
                &self.driver,
                &self.profile,
                self.trace_categories.as_deref(),
            )
            .await?,
        );
        Ok(())
    }

    /// Quits Chromium (chromedriver and the profile go when `self` drops).
    pub async fn quit(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }

    /// Opens `url` in the current tab.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client()
            .goto(url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// Reloads the current tab.
    pub async fn reload(&self) -> Result<()> {
        self.client().refresh().await.context("reloading")
    }

    /// The text of the element with `data-testid=ID`, if it is on the page.
    pub async fn text(&self, id: &str) -> Result<Option<String>> {
        let selector = format!("[data-testid=\"{id}\"]");
        loop {
            match self.client().find(Locator::Css(&selector)).await {
                Ok(element) => match element.text().await {
                    Ok(text) => return Ok(Some(text)),
                    // Replaced or removed between finding and reading it: look again.
                    Err(err) if err.is_stale_element_reference() => continue,
                    Err(err) => return Err(err.into()),
                },
                Err(err) if err.is_no_such_element() => return Ok(None),
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// Waits until the element `data-testid=ID` shows text that satisfies `want`; returns it.
    pub async fn wait_text(
        &self,
        id: &str,
        what: &str,
        want: impl Fn(&str) -> bool,
    ) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let seen = self.text(id).await?;
            if let Some(text) = &seen {
                if want(text) {
                    return Ok(text.clone());
                }
            }
            if Instant::now() > deadline {
                bail!("waited {WAIT:?} for [data-testid={id}] to be {what}; it shows {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element `data-testid=ID` is gone from the page.
    pub async fn wait_gone(&self, id: &str) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        while let Some(text) = self.text(id).await? {
            if Instant::now() > deadline {
                bail!("waited {WAIT:?} for [data-testid={id}] to go; it still shows {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Clicks the element `data-testid=ID`.
    pub async fn click(&self, id: &str) -> Result<()> {
        let selector = format!("[data-testid=\"{id}\"]");
        self.client()
            .find(Locator::Css(&selector))
            .await
            .with_context(|| format!("finding [data-testid={id}]"))?
            .click()
            .await
            .with_context(|| format!("clicking [data-testid={id}]"))?;
        Ok(())
    }

    /// Types `text` into the element `data-testid=ID` (clearing it first), as a person would,
    /// then presses Enter.
    pub async fn type_and_enter(&self, id: &str, text: &str) -> Result<()> {
        let selector = format!("[data-testid=\"{id}\"]");
        let element = self
            .client()
            .find(Locator::Css(&selector))
            .await
            .with_context(|| format!("finding [data-testid={id}]"))?;
        element.clear().await?;
        element.send_keys(text).await?;
        element.send_keys("\u{E007}").await?;
        Ok(())
    }

    /// Presses `keys` with the focus where it is (WebDriver key codes allowed: `\u{E007}` is
    /// Enter, `\u{E00C}` Escape).
    pub async fn press(&self, keys: &str) -> Result<()> {
        self.client()
            .active_element()
            .await?
            .send_keys(keys)
            .await
            .with_context(|| format!("pressing {keys:?}"))
    }

    /// Waits until `check` returns `Some`; fails after the usual wait, saying `what` and the
    /// last thing `check` saw.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        mut check: impl AsyncFnMut(&Self) -> Result<Result<T, String>>,
    ) -> Result<T> {
        let deadline = Instant::now() + WAIT;
        loop {
            match check(self).await? {
                Ok(found) => return Ok(found),
                Err(seen) if Instant::now() > deadline => {
                    bail!("waited {WAIT:?} for {what}; last saw {seen}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page; returns its value.
    pub async fn script(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        Ok(self.client().execute(script, args).await?)
    }

    /// Runs an async `script` in the page: it must call `arguments[arguments.length - 1]`
    /// with its result.
    pub async fn script_async(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        Ok(self.client().execute_async(script, args).await?)
    }

    /// The browser console entries since the last call, as `LEVEL message` lines.
    pub async fn console(&self) -> Result<Vec<String>> {
        let entries = self.client().issue_cmd(Log("browser")).await?;
        Ok(entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| format!("{} {}", e["level"].as_str().unwrap_or("?"), e["message"]))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The Chrome trace events recorded since the last call (or the launch), as the
    /// `traceEvents` of Chrome's JSON trace format; empty unless launched with
    /// [`Browser::launch_tracing`].
    pub async fn trace_events(&self) -> Result<Vec<Value>> {
        if self.trace_categories.is_none() {
            return Ok(Vec::new());
        }
        let entries = self.client().issue_cmd(Log("performance")).await?;
        let mut events = Vec::new();
        for entry in entries.as_array().into_iter().flatten() {
            let Some(message) = entry["message"].as_str() else {
                continue;
            };
            let mut message: Value = serde_json::from_str(message)?;
            if message["message"]["method"] == "Tracing.dataCollected" {
                events.push(message["message"]["params"].take());
            }
        }
        Ok(events)
    }

    /// Fails if the console holds any error since the last call.
    pub async fn assert_no_console_errors(&self) -> Result<()> {
        let errors: Vec<String> = self
            .console()
            .await?
            .into_iter()
            .filter(|line| line.starts_with("SEVERE"))
            .collect();
        if !errors.is_empty() {
            bail!("console errors:\n{}", errors.join("\n"));
        }
        Ok(())
    }

    /// Saves a screenshot and the console log of the current page; says where.
    pub async fn save_artifacts(&self, name: &str) -> String {
        let dir = artifacts_dir();
        if let Err(err) = std::fs::create_dir_all(&dir) {
            return format!("could not create {}: {err}", dir.display());
        }
        let png = dir.join(format!("{name}.png"));
        let log = dir.join(format!("{name}.log"));
        if let Ok(bytes) = self.client().screenshot().await {
            let _ = std::fs::write(&png, bytes);
        }
        let console = self.console().await.unwrap_or_default().join("\n");
        let _ = std::fs::write(&log, console);
        format!("{} and {}", png.display(), log.display())
    }
}

async fn connect(
    driver: &Chromedriver,
    profile: &Profile,
    trace_categories: Option<&str>,
) -> Result<Client> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let mut capabilities = json!({
        "browserName": "chrome",
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.0.path().display()),
            ]
        }
    });
    if let Some(categories) = trace_categories {
        capabilities["goog:loggingPrefs"]["performance"] = json!("ALL");
        capabilities["goog:chromeOptions"]["perfLoggingPrefs"] = json!({
            "traceCategories": categories,
            "enableNetwork": false,
            "enablePage": false,
        });
    }
    let capabilities = match capabilities {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(driver.url())
        .await
        .context("starting a Chromium session")
}

/// chromedriver's log endpoint (not in the W3C standard, so not in fantoccini): the entries of
/// one log (`browser`: the console; `performance`: trace events) since the last read.
#[derive(Debug)]
struct Log(&'static str);

impl WebDriverCompatibleCommand for Log {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": self.0 }).to_string()),
        )
    }
}
