//! The browser platform, end to end: the real site from `trawl serve`, in headless Chromium.

use anyhow::{ensure, Result};
use serde_json::Value;
use trawl_e2e::{run, site_dir, trawl_bin, Browser, Server};

/// Waits until the store worker is ready with SQLite, FTS5 and OPFS, and the service worker
/// controls the page. Returns the open count the page shows.
async fn wait_ready(browser: &Browser) -> Result<u64> {
    browser
        .wait_text("worker-state", "ready", |t| t == "ready")
        .await?;
    let version = browser
        .wait_text("sqlite-version", "a SQLite version", |t| {
            t.starts_with("3.")
        })
        .await?;
    ensure!(
        version.split('.').count() == 3,
        "odd SQLite version {version:?}"
    );
    browser.wait_text("fts5", "FTS5", |t| t == "FTS5").await?;
    browser
        .wait_text("opfs", "stored in OPFS", |t| t.starts_with("OPFS"))
        .await?;
    browser
        .wait_text("offline", "offline-ready", |t| t.starts_with("ready"))
        .await?;
    let count = browser
        .wait_text("open-count", "a number", |t| t.parse::<u64>().is_ok())
        .await?;
    Ok(count.parse()?)
}

async fn theme(browser: &Browser) -> Result<String> {
    let value = browser
        .script(
            "return document.documentElement.getAttribute('data-theme')",
            vec![],
        )
        .await?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// Switches to the dark theme (stored through the worker) and waits until the store has it.
async fn choose_dark_theme(browser: &Browser) -> Result<()> {
    ensure!(
        theme(browser).await? == "light",
        "a fresh profile starts light"
    );
    browser.click("theme-toggle").await?;
    ensure!(
        theme(browser).await? == "dark",
        "the toggle switches to dark"
    );
    browser
        .wait_text("theme-toggle", "offering the light theme", |t| {
            t == "Light theme"
        })
        .await?;
    Ok(())
}

/// The theme the page settles on after the store answered.
async fn settled_theme(browser: &Browser) -> Result<String> {
    // The stored theme is applied right after the status arrives; give it a moment.
    for _ in 0..50 {
        if theme(browser).await? == "dark" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    theme(browser).await
}

#[tokio::test]
async fn page_loads_with_sqlite_fts5_opfs_and_no_console_errors() {
    let server = Server::start(&trawl_bin(), &site_dir(), "/").unwrap();
    run("page_loads", async |browser| {
        browser.goto(server.url()).await?;
        let count = wait_ready(browser).await?;
        ensure!(
            count == 1,
            "a fresh profile opens the store the first time, saw {count}"
        );
        let storage = browser.text("storage").await?.unwrap_or_default();
        ensure!(
            storage.contains(" of "),
            "usage and quota are shown: {storage:?}"
        );
        let title = browser.client().title().await?;
        ensure!(title == "trawl", "title {title:?}");
        browser.assert_no_console_errors().await
    })
    .await;
}

#[tokio::test]
async fn data_survives_reload_and_browser_restart() {
    let server = Server::start(&trawl_bin(), &site_dir(), "/").unwrap();
    run("survives_restart", async |browser| {
        browser.goto(server.url()).await?;
        ensure!(wait_ready(browser).await? == 1);
        choose_dark_theme(browser).await?;

        browser.reload().await?;
        ensure!(
            wait_ready(browser).await? == 2,
            "a reload opens the same store"
        );
        ensure!(
            settled_theme(browser).await? == "dark",
            "the theme survives a reload"
        );

        browser.restart().await?;
        browser.goto(server.url()).await?;
        ensure!(
            wait_ready(browser).await? == 3,
            "a restart opens the same store"
        );
        ensure!(
            settled_theme(browser).await? == "dark",
            "the theme survives a restart"
        );
        browser.assert_no_console_errors().await
    })
    .await;
}

#[tokio::test]
async fn with_the_server_stopped_a_reload_still_works_and_reads_stored_data() {
    let mut server = Server::start(&trawl_bin(), &site_dir(), "/").unwrap();
    let url = server.url().to_owned();
    run("offline_reload", async |browser| {
        browser.goto(&url).await?;
        ensure!(wait_ready(browser).await? == 1);
        choose_dark_theme(browser).await?;

        server.stop();
        browser.reload().await?;
        ensure!(
            wait_ready(browser).await? == 2,
            "the app loads from the service worker"
        );
        ensure!(
            settled_theme(browser).await? == "dark",
            "stored data reads offline"
        );

        // A new tab on the same URL, still with no server.
        let tab = browser.client().new_window(true).await?;
        browser.client().close_window().await?;
        browser.client().switch_to_window(tab.handle).await?;
        browser.goto(&url).await?;
        ensure!(
            wait_ready(browser).await? == 3,
            "a new tab loads offline too"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn under_a_sub_path_it_works_the_same_with_the_service_worker_scoped_to_it() {
    let mut server = Server::start(&trawl_bin(), &site_dir(), "/tools/trawl/").unwrap();
    let url = server.url().to_owned();
    assert!(url.ends_with("/tools/trawl/"), "{url}");
    run("sub_path", async |browser| {
        browser.goto(&url).await?;
        ensure!(wait_ready(browser).await? == 1);
        let scope = browser
            .script_async(
                "const done = arguments[arguments.length - 1];
                 navigator.serviceWorker.getRegistration().then(r => done(r ? r.scope : null));",
                vec![],
            )
            .await?;
        ensure!(
            scope == Value::String(url.clone()),
            "the service worker is scoped to the sub-path: {scope}"
        );
        browser.assert_no_console_errors().await?;

        server.stop();
        browser.reload().await?;
        ensure!(
            wait_ready(browser).await? == 2,
            "offline under the sub-path too"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_second_tab_waits_for_the_first_and_takes_over_when_it_closes() {
    let server = Server::start(&trawl_bin(), &site_dir(), "/").unwrap();
    run("second_tab", async |browser| {
        browser.goto(server.url()).await?;
        ensure!(wait_ready(browser).await? == 1);
        let first = browser.client().window().await?;

        let second = browser.client().new_window(true).await?.handle;
        browser.client().switch_to_window(second.clone()).await?;
        browser.goto(server.url()).await?;
        let banner = browser
            .wait_text("other-tab", "the other-tab notice", |t| {
                t.contains("open in another tab")
            })
            .await?;
        ensure!(banner.contains("takes over"), "{banner}");
        let state = browser.text("worker-state").await?;
        ensure!(
            state.as_deref() == Some("waiting for another tab"),
            "the second tab waits: {state:?}"
        );

        browser.client().switch_to_window(first).await?;
        browser.client().close_window().await?;
        browser.client().switch_to_window(second).await?;
        ensure!(
            wait_ready(browser).await? == 2,
            "the second tab takes over the store"
        );
        browser.wait_gone("other-tab").await?;
        browser.assert_no_console_errors().await
    })
    .await;
}
