//! The viewer on real bundles made from the sample logs: open by URL, picker and drop; results
//! equal to `trawl query`; persistence; the keyboard; damaged bundles; untrusted text.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use trawl_e2e::{run, site_dir, thousands, trawl_bin, Browser, Server};

/// The shared sample logs beside the checkout.
fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples")
}

/// `trawl ingest --out DIR/NAME INPUTS…`: a bundle from logs, as a user makes one.
fn ingest(dir: &Path, name: &str, inputs: &[PathBuf]) -> Result<PathBuf> {
    let out = dir.join(name);
    let status = Command::new(trawl_bin())
        .arg("ingest")
        .arg("--out")
        .arg(&out)
        .args(inputs)
        .stdout(std::process::Stdio::null())
        .status()
        .context("running trawl ingest")?;
    ensure!(status.success(), "trawl ingest failed for {name}");
    Ok(out)
}

/// The sample logs: the loghub files and the synthetic container logs.
fn sample_inputs() -> Vec<PathBuf> {
    let mut inputs = Vec::new();
    for dir in ["loghub", "synthetic"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(samples().join(dir))
            .expect("../shared/samples is beside the checkout")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        files.sort();
        inputs.extend(files);
    }
    inputs
}

/// Runs `trawl query` on `bundle` with `flags` and `query` (last, after `--`: it may start
/// with `-`); returns what it printed.
fn run_trawl_query(bundle: &Path, cache: &Path, flags: &[&str], query: &str) -> Result<String> {
    let out = Command::new(trawl_bin())
        .arg("query")
        .arg("--cache")
        .arg(cache)
        .args(flags)
        .arg("--")
        .arg(bundle)
        .arg(query)
        .output()?;
    ensure!(
        out.status.success(),
        "trawl query {flags:?} {query:?} failed"
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// The first `limit` records `trawl query --json` prints for `query`, newest first.
fn trawl_query_json(bundle: &Path, cache: &Path, query: &str, limit: usize) -> Result<Vec<Value>> {
    run_trawl_query(
        bundle,
        cache,
        &["--json", "--limit", &limit.to_string()],
        query,
    )?
    .lines()
    .map(|line| Ok(serde_json::from_str(line)?))
    .collect()
}

/// What `trawl query` says for `query` on `bundle`: the total and the first `limit` records
/// as (id, first line of the message), newest first.
fn trawl_query(
    bundle: &Path,
    cache: &Path,
    query: &str,
    limit: usize,
) -> Result<(u64, Vec<(i64, String)>)> {
    let total: u64 = run_trawl_query(bundle, cache, &["--count"], query)?
        .trim()
        .parse()?;
    let rows = trawl_query_json(bundle, cache, query, limit)?
        .iter()
        .map(|v| {
            let message = v["message"].as_str().unwrap_or_default();
            Ok((
                v["id"].as_i64().context("id")?,
                message.split('\n').next().unwrap_or_default().to_owned(),
            ))
        })
        .collect::<Result<_>>()?;
    Ok((total, rows))
}

/// The rows the viewer shows from the top: (id, message text), up to `limit`.
async fn viewer_rows(browser: &Browser, limit: usize) -> Result<Vec<(i64, String)>> {
    let rows = browser
        .script(
            "return [...document.querySelectorAll('[data-testid=row]')]
                .map(r => [Number(r.dataset.index), r.dataset.id,
                           r.querySelector('[data-testid=message]').textContent])
                .sort((a, b) => a[0] - b[0])
                .slice(0, arguments[0])
                .map(r => [r[1], r[2]]);",
            vec![json!(limit)],
        )
        .await?;
    rows.as_array()
        .context("rows")?
        .iter()
        .map(|r| {
            Ok((
                r[0].as_str().context("id")?.parse()?,
                r[1].as_str().context("message")?.to_owned(),
            ))
        })
        .collect()
}

/// Waits until the viewer's total reads `want` records.
async fn wait_total(browser: &Browser, want: u64) -> Result<()> {
    let text = match want {
        1 => "1 record".to_owned(),
        _ => format!("{} records", thousands(want)),
    };
    browser
        .wait_text("total", &text, |t| t == text)
        .await
        .map(drop)
}

/// Waits until an import has ended with the viewer's total at `records`.
async fn wait_imported(browser: &Browser, records: u64) -> Result<()> {
    wait_total(browser, records).await?;
    browser.wait_gone("import-progress").await
}

/// Runs `query` in the search box and checks total and first rows against `trawl query`.
async fn same_as_trawl_query(
    browser: &Browser,
    bundle: &Path,
    cache: &Path,
    query: &str,
) -> Result<u64> {
    let (total, want) = trawl_query(bundle, cache, query, 30)?;
    browser.type_and_enter("search", query).await?;
    wait_total(browser, total)
        .await
        .with_context(|| format!("query {query:?}"))?;
    let shown = want.len();
    browser
        .wait_for(&format!("the first rows of {query:?}"), async |b| {
            let rows = viewer_rows(b, shown).await?;
            Ok(if rows == want {
                Ok(())
            } else {
                Err(format!(
                    "{:?}\nwanted {:?}",
                    rows.iter().take(3).collect::<Vec<_>>(),
                    want.iter().take(3).collect::<Vec<_>>()
                ))
            })
        })
        .await?;
    Ok(total)
}

/// A bundle made by `trawl ingest` from sample logs, served beside the viewer.
struct Served {
    /// Holds the bundle and the `trawl query` cache; removed on drop.
    _dir: tempfile::TempDir,
    bundle: PathBuf,
    /// The cache `trawl query` answers from.
    cache: PathBuf,
    server: Server,
    /// The viewer's link that opens the bundle (`?bundle=bundles/NAME/`).
    url: String,
}

/// Ingests `inputs` into bundle `name` and serves it with the viewer.
fn serve_bundle(name: &str, inputs: &[PathBuf]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let bundle = ingest(dir.path(), name, inputs).unwrap();
    let server = Server::with_bundles(&trawl_bin(), &site_dir(), "/", &[&bundle]).unwrap();
    Served {
        cache: dir.path().join("cache.sqlite"),
        url: format!("{}?bundle=bundles/{name}/", server.url()),
        _dir: dir,
        bundle,
        server,
    }
}

#[tokio::test]
async fn a_bundle_opened_by_url_shows_what_trawl_query_finds_and_stays_after_reload() {
    let Served {
        bundle, cache, url, ..
    } = &serve_bundle("samples", &sample_inputs());
    run("viewer_by_url", async |browser| {
        browser.goto(url).await?;
        let (all, _) = trawl_query(bundle, cache, "", 1)?;
        wait_imported(browser, all).await?;
        for query in [
            "",
            "level:error",
            "\"Failed password\"",
            "service:payment-api",
            "level:>=warn -kernel",
            "PacketResponder OR Receiving",
            "/session (opened|closed)/",
            "fields.status:>=500",
        ] {
            same_as_trawl_query(browser, bundle, cache, query).await?;
        }
        // The library lists the bundle with its record count.
        let library = browser
            .wait_text("library", "listing samples", |t| t.contains("samples"))
            .await?;
        ensure!(library.contains(&thousands(all)), "library: {library}");

        // The view lives in the URL, and the store survives a reload.
        let query = "level:error";
        same_as_trawl_query(browser, bundle, cache, query).await?;
        let here: String = browser
            .script("return location.href", vec![])
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        ensure!(
            here.contains("q=level%3Aerror"),
            "the query is not in the URL: {here}"
        );
        browser.reload().await?;
        let (errors, _) = trawl_query(bundle, cache, query, 1)?;
        wait_total(browser, errors).await?;
        browser.type_and_enter("search", "").await?;
        wait_total(browser, all).await?;
        browser
            .script(
                "document.querySelector('[data-testid=row][data-index=\"3\"]').click()",
                vec![],
            )
            .await?;
        browser
            .wait_text("detail-raw", "raw", |t| !t.is_empty())
            .await?;
        browser.save_artifacts("screenshot-main").await;
        browser.assert_no_console_errors().await
    })
    .await;
}

#[tokio::test]
async fn the_keyboard_moves_through_results_and_opens_the_detail() {
    let Served {
        bundle, cache, url, ..
    } = &serve_bundle("ssh", &[samples().join("loghub/OpenSSH_2k.log")]);
    run("viewer_keyboard", async |browser| {
        browser.goto(url).await?;
        wait_imported(browser, 2000).await?;
        // `/` focuses the search box from anywhere.
        browser
            .script("document.activeElement.blur()", vec![])
            .await?;
        browser.press("/").await?;
        browser.press("\"Failed password\"\u{E007}").await?;
        let (total, want) = trawl_query(bundle, cache, "\"Failed password\"", 3)?;
        wait_total(browser, total).await?;
        browser.press("\u{E00C}").await?; // Esc leaves the search box
        browser.press("jj").await?; // the second row
        browser.press("\u{E007}").await?; // Enter opens it
        browser
            .wait_text("detail-message", "the second row's message", |t| {
                t == want[1].1
            })
            .await?;
        browser.press("k").await?; // moving on with the detail open follows the cursor
        browser
            .wait_text("detail-message", "the first row's message", |t| {
                t == want[0].1
            })
            .await?;
        // The list marks the cursor's row and the selected record, and highlights the phrase.
        let marked = browser
            .script(
                "const rows = [...document.querySelectorAll('[data-testid=row]')];
                 const having = (name) => rows.filter(r => r.classList.contains(name))
                     .map(r => r.dataset.index);
                 const first = rows.find(r => r.dataset.index === '0');
                 return [having('cursor'), having('selected'),
                         [...first.querySelectorAll('mark')].map(m => m.textContent)];",
                vec![],
            )
            .await?;
        ensure!(
            marked == json!([["0"], ["0"], ["Failed password"]]),
            "cursor rows, selected rows, marks in the first row: {marked}"
        );
        browser.press("\u{E00C}").await?; // Esc closes the detail
        browser.wait_gone("detail").await?;
        // `?` opens the syntax help.
        browser.press("?").await?;
        browser
            .wait_text("syntax-help", "the help", |t| t.contains("level:>=warn"))
            .await?;
        browser.assert_no_console_errors().await
    })
    .await;
}

/// From now on, keeps every file the page hands to the browser's download, caught where the
/// page makes its URL.
async fn catch_downloads(browser: &Browser) -> Result<()> {
    browser
        .script(
            "window.trawlExports = [];
             const make = URL.createObjectURL;
             URL.createObjectURL = blob => { window.trawlExports.push(blob); return make.call(URL, blob); };",
            vec![],
        )
        .await
        .map(drop)
}

/// The bytes of the first file the page downloaded since [`catch_downloads`].
async fn first_download(browser: &Browser) -> Result<Vec<u8>> {
    let bytes = browser
        .script_async(
            "const done = arguments[arguments.length - 1];
             window.trawlExports[0].arrayBuffer().then(b => done([...new Uint8Array(b)]));",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(bytes)?)
}

#[tokio::test]
async fn export_saves_the_matches_as_trawl_query_prints_them() {
    let Served {
        bundle, cache, url, ..
    } = &serve_bundle("ssh", &[samples().join("loghub/OpenSSH_2k.log")]);
    run("viewer_export", async |browser| {
        browser.goto(url).await?;
        wait_imported(browser, 2000).await?;
        let query = "\"Failed password\"";
        browser.type_and_enter("search", query).await?;
        let (total, _) = trawl_query(bundle, cache, query, 1)?;
        wait_total(browser, total).await?;
        catch_downloads(browser).await?;
        browser.click("export").await?;
        let note = browser
            .wait_text("export-note", "the export's note", |t| {
                t.starts_with("saved")
            })
            .await?;
        ensure!(
            note == format!("saved {} records", thousands(total)),
            "{note}"
        );
        let text = String::from_utf8(first_download(browser).await?)?;
        let exported: Vec<Value> = text
            .lines()
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()?;
        let want = trawl_query_json(bundle, cache, query, total as usize + 1)?;
        ensure!(
            exported.len() as u64 == total,
            "exported {} of {total}",
            exported.len()
        );
        ensure!(
            exported == want,
            "the export differs from trawl query --json"
        );
        browser.assert_no_console_errors().await
    })
    .await;
}

/// What the result list renders against what it shows: (rows in the view that are not
/// rendered, rows rendered, rows in the view).
async fn list_coverage(browser: &Browser, total: u64) -> Result<(u64, u64, u64)> {
    let v = browser
        .script(
            "const list = document.querySelector('[data-testid=results]');
             const row = 22;
             const first = Math.floor(list.scrollTop / row);
             const last = Math.min(Math.ceil((list.scrollTop + list.clientHeight) / row), arguments[0]) - 1;
             const rendered = new Set([...list.querySelectorAll('[data-testid=row]')]
                 .map(r => Number(r.dataset.index)));
             let missing = 0;
             for (let i = first; i <= last; i++) if (!rendered.has(i)) missing++;
             return [missing, rendered.size, last - first + 1];",
            vec![json!(total)],
        )
        .await?;
    let n = |i: usize| v[i].as_u64().context("coverage");
    Ok((n(0)?, n(1)?, n(2)?))
}

#[tokio::test]
async fn the_result_list_renders_the_rows_in_view_and_few_more() {
    let Served { url, .. } = &serve_bundle("ssh", &[samples().join("loghub/OpenSSH_2k.log")]);
    run("viewer_list_window", async |browser| {
        browser.goto(url).await?;
        wait_imported(browser, 2000).await?;
        // The list's rows in view are all there, and at most 20 more above and below them.
        let check = async |place: &str| -> Result<u64> {
            let (missing, rendered, in_view) = browser
                .wait_for(&format!("the rows in view {place}"), async |b| {
                    let coverage = list_coverage(b, 2000).await?;
                    Ok(if coverage.0 == 0 {
                        Ok(coverage)
                    } else {
                        Err(format!("{coverage:?}"))
                    })
                })
                .await?;
            ensure!(
                missing == 0 && rendered <= in_view + 40,
                "{place}: {rendered} rendered for {in_view} in view"
            );
            Ok(in_view)
        };
        let short = check("at the top").await?;
        browser
            .script(
                "document.querySelector('[data-testid=results]').scrollTop = 22 * 700",
                vec![],
            )
            .await?;
        check("after scrolling").await?;
        // A taller window shows more rows, and they are rendered too.
        browser.client().set_window_size(1280, 1400).await?;
        let tall = check("in a taller window").await?;
        ensure!(
            tall > short + 10,
            "the view grew from {short} to only {tall} rows"
        );
        browser.assert_no_console_errors().await
    })
    .await;
}

/// A list of records in the detail pane as shown, top to bottom: each line's two leading
/// cells, its message, and whether it is the open record.
type Listed = Vec<(String, String, String, bool)>;

/// The lines of list `list` (`context` or `trace`: the app draws both alike).
async fn listed(browser: &Browser, list: &str) -> Result<Listed> {
    let lines = browser
        .script(
            "const list = arguments[0];
             return [...document.querySelectorAll(`[data-testid=${list}-line]`)].map(li => [
                li.querySelector('.line-no').textContent,
                li.querySelector('.time').textContent,
                li.querySelector(`[data-testid=${list}-message]`).textContent,
                li.classList.contains('current')]);",
            vec![json!(list)],
        )
        .await?;
    Ok(serde_json::from_value(lines)?)
}

/// Waits until list `list` shows `count` lines and its open record is marked where `marked`
/// (given its index and line) agrees.
async fn wait_listed(
    browser: &Browser,
    list: &str,
    count: usize,
    marked: impl Fn(usize, &(String, String, String, bool)) -> bool,
) -> Result<Listed> {
    browser
        .wait_for(&format!("the {list}"), async |b| {
            let lines = listed(b, list).await?;
            let at = lines.iter().position(|l| l.3);
            Ok(
                if lines.len() == count && at.is_some_and(|i| marked(i, &lines[i])) {
                    Ok(lines)
                } else {
                    Err(format!("{} lines, marked {at:?}", lines.len()))
                },
            )
        })
        .await
}

/// The context as (line number, message, whether it is the record the context is around).
fn context_of(lines: Listed) -> Result<Vec<(usize, String, bool)>> {
    lines
        .into_iter()
        .map(|(line, _, message, current)| Ok((line.parse()?, message, current)))
        .collect()
}

/// The detail pane's context as shown.
async fn context_lines(browser: &Browser) -> Result<Vec<(usize, String, bool)>> {
    context_of(listed(browser, "context").await?)
}

/// Waits until the context shows `count` lines around a record on line `line`.
async fn wait_context(
    browser: &Browser,
    line: usize,
    count: usize,
) -> Result<Vec<(usize, String, bool)>> {
    let line = line.to_string();
    context_of(wait_listed(browser, "context", count, |_, l| l.0 == line).await?)
}

#[tokio::test]
async fn the_context_of_a_hit_is_the_lines_around_it_in_its_source_file() {
    let file = samples().join("loghub/OpenSSH_2k.log");
    let source_lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let Served { url, .. } = &serve_bundle("ssh", std::slice::from_ref(&file));
    run("viewer_context", async |browser| {
        browser.goto(url).await?;
        wait_imported(browser, 2000).await?;
        // A hit in the middle of the file: the context ignores the query.
        browser
            .type_and_enter("search", "\"Received disconnect\"")
            .await?;
        browser
            .wait_text("total", "the hits", |t| t != "2,000 records")
            .await?;
        browser
            .script(
                "document.querySelector('[data-testid=row][data-index=\"40\"]').click()",
                vec![],
            )
            .await?;
        let message = browser
            .wait_text("detail-message", "the hit", |t| {
                t.contains("Received disconnect")
            })
            .await?;
        browser.click("context-toggle").await?;
        let hit_line = browser
            .wait_for("the hit's line", async |b| {
                let lines = context_lines(b).await?;
                Ok(lines
                    .iter()
                    .find(|l| l.2)
                    .map(|l| l.0)
                    .ok_or_else(|| "no context yet".to_owned()))
            })
            .await?;
        let lines = wait_context(browser, hit_line, 21).await?;
        // The lines are the file's, in its order, 10 on each side of the hit.
        for (i, (line, text, current)) in lines.iter().enumerate() {
            ensure!(
                *line == hit_line - 10 + i,
                "line numbers not consecutive: {lines:?}"
            );
            ensure!(
                source_lines[line - 1].ends_with(text.as_str()),
                "line {line} shows {text:?}, the file has {:?}",
                source_lines[line - 1]
            );
            ensure!(
                *current == (*line == hit_line),
                "the mark is on line {line}"
            );
        }
        ensure!(lines[10].1 == message, "the marked line is not the record");
        ensure!(
            lines.iter().any(|l| !l.1.contains("Received disconnect")),
            "the context kept to the query"
        );
        // Earlier widens it upwards.
        browser.click("context-earlier").await?;
        let lines = wait_context(browser, hit_line, 46).await?;
        ensure!(
            lines[0].0 == hit_line - 35,
            "earlier starts at line {}",
            lines[0].0
        );
        // A line of the context opens in the pane, and the context stays open around it.
        browser
            .script(
                "document.querySelectorAll('[data-testid=context-line]')[36].click()",
                vec![],
            )
            .await?;
        let next = &source_lines[hit_line];
        browser
            .wait_text("detail-message", "the next line", |t| next.ends_with(t))
            .await?;
        wait_context(browser, hit_line + 1, 21).await?;
        browser.save_artifacts("screenshot-context").await;
        // The open context is part of the link: a reload shows it around the same record.
        let here = browser.script("return location.href", vec![]).await?;
        ensure!(
            here.as_str().is_some_and(|h| h.contains("context=1")),
            "the context is not in the URL: {here}"
        );
        browser.reload().await?;
        wait_context(browser, hit_line + 1, 21).await?;
        browser.assert_no_console_errors().await
    })
    .await;
}

#[tokio::test]
async fn a_damaged_bundle_gives_a_banner_keeps_its_valid_records_and_harms_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let good = ingest(dir.path(), "good", &[samples().join("loghub/HDFS_2k.log")]).unwrap();
    let damaged = ingest(
        dir.path(),
        "damaged",
        &[samples().join("loghub/OpenSSH_2k.log")],
    )
    .unwrap();
    // Flip bytes in the middle of the segment, as a bad disk or a truncated copy would.
    let segment = std::fs::read_dir(&damaged)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "seg"))
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&segment, &bytes).unwrap();
    let server = Server::with_bundles(&trawl_bin(), &site_dir(), "/", &[&good, &damaged]).unwrap();
    let first = format!("{}?bundle=bundles/good/", server.url());
    let both = format!("{}?bundle=bundles/damaged/", server.url());
    let file = segment.file_name().unwrap().to_string_lossy().into_owned();
    run("viewer_damaged", async |browser| {
        browser.goto(&first).await?;
        wait_imported(browser, 2000).await?;
        browser.goto(&both).await?;
        let banner = browser
            .wait_text("error-banner", "a banner naming the segment", |t| {
                t.contains(&file)
            })
            .await?;
        ensure!(
            banner.contains("offset"),
            "the banner names no offset: {banner}"
        );
        browser.wait_gone("import-progress").await?;
        // The good bundle is whole; of the damaged one, the records outside the damaged
        // frame: as many as `trawl query` finds in it.
        let (valid, _) = trawl_query(&damaged, &dir.path().join("d.sqlite"), "", 1)?;
        ensure!(
            valid > 0 && valid < 2000,
            "{valid} valid records in the damaged bundle"
        );
        wait_total(browser, 2000 + valid).await?;
        browser.type_and_enter("search", "PacketResponder").await?;
        let (responders, _) =
            trawl_query(&good, &dir.path().join("g.sqlite"), "PacketResponder", 1)?;
        wait_total(browser, responders).await?;
        let library = browser.text("library").await?.unwrap_or_default();
        ensure!(library.contains("integrity finding"), "library: {library}");
        Ok(())
    })
    .await;
}

/// Classic payloads, each of which would set `window.__xss` if it ever ran.
const PAYLOADS: [&str; 6] = [
    "<script>window.__xss=1</script>",
    "<img src=x onerror=\"window.__xss=2\">",
    "\"><svg onload=window.__xss=3>",
    "<a href=\"javascript:window.__xss=4\">click</a>",
    "</span><iframe srcdoc=\"<script>parent.__xss=5</script>\"></iframe>",
    "\u{1b}[31mred alert\u{1b}[0m and \u{1b}]8;;http://evil.example\u{7}link\u{1b}]8;;\u{7}",
];

#[tokio::test]
async fn untrusted_log_text_is_shown_literally_and_never_runs() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("xss.log");
    let mut lines = String::new();
    for (i, payload) in PAYLOADS.iter().enumerate() {
        let line = json!({
            "ts": format!("2024-05-01T10:00:0{i}Z"),
            "level": "error",
            "service": payload,
            "msg": format!("payload {i}: {payload}"),
            "user": payload,
            "trace_id": format!("4bf92f3577b34da6a3ce929d0e0e473{i}"),
        });
        lines += &format!("{line}\n");
    }
    std::fs::write(&log, lines).unwrap();
    let bundle = ingest(dir.path(), "xss", &[log]).unwrap();
    let server = Server::with_bundles(&trawl_bin(), &site_dir(), "/", &[&bundle]).unwrap();
    let url = format!("{}?bundle=bundles/xss/", server.url());
    run("viewer_xss", async |browser| {
        browser.goto(&url).await?;
        wait_imported(browser, PAYLOADS.len() as u64).await?;
        // Every row shows its payload as text: markup as written, and the message as the
        // store holds it (ingest strips terminal escapes from messages; the raw line keeps
        // them, JSON-escaped).
        let rows = viewer_rows(browser, 10).await?;
        let (_, want) = trawl_query(&bundle, &dir.path().join("c.sqlite"), "", 10)?;
        ensure!(rows == want, "rows {rows:?}\nwanted {want:?}");
        for payload in &PAYLOADS[..5] {
            ensure!(
                rows.iter().any(|(_, m)| m.ends_with(payload)),
                "{payload:?} not shown literally in {rows:?}"
            );
        }
        ensure!(rows.iter().all(|(_, m)| !m.contains('\u{1b}')), "{rows:?}");
        // Open every record's detail, and run a search that highlights inside the payloads.
        for i in 0..PAYLOADS.len() {
            browser
                .script(
                    "document.querySelector(`[data-testid=row][data-index=\"${arguments[0]}\"]`).click()",
                    vec![json!(i)],
                )
                .await?;
            let raw = browser
                .wait_text("detail-raw", "the raw line", |t| {
                    t.contains(&format!("payload {}", PAYLOADS.len() - 1 - i))
                })
                .await?;
            if i == 0 {
                ensure!(raw.contains("\\u001b[31m"), "the raw line lost its escapes: {raw}");
            }
        }
        browser.type_and_enter("search", "script OR svg OR img").await?;
        browser.wait_text("total", "matches", |t| t.ends_with("records")).await?;
        let verdict = browser
            .script(
                "return {
                    xss: window.__xss ?? null,
                    injected: document.querySelectorAll(
                        '.results script, .results img, .results svg, .results iframe, .results a,' +
                        '.detail script, .detail img, .detail svg, .detail iframe, .detail a,' +
                        '.sidebar script, .sidebar img, .sidebar iframe').length,
                    facets: [...document.querySelectorAll('[data-testid=facet][data-facet=service]')]
                        .map(f => f.dataset.value),
                 }",
                vec![],
            )
            .await?;
        ensure!(verdict["xss"].is_null(), "a payload ran: {verdict}");
        ensure!(verdict["injected"] == 0, "markup from logs reached the page: {verdict}");
        let facets = verdict["facets"].as_array().context("facets")?;
        ensure!(
            facets.iter().any(|f| f == PAYLOADS[0]),
            "the service facet does not show the payload literally: {verdict}"
        );
        // And the page's own scripts complain about nothing.
        browser.assert_no_console_errors().await
    })
    .await;
}

/// The characters a listed row shows of a message (`LISTED_MESSAGE_CHARS`), and the detail
/// pane of a long text until asked for all (`SHOWN_CHARS` in app/src/ui/detail.rs).
const LISTED_CHARS: usize = 1_000;
const DETAIL_CHARS: usize = 20_000;

#[tokio::test]
async fn a_megabyte_line_is_listed_cut_short_and_shown_whole_on_demand() {
    // One line of a megabyte, a stack trace, and a short line.
    let dir = tempfile::tempdir().unwrap();
    let mut long = String::from("payload ");
    while long.len() < 1 << 20 {
        long += "order 12345 failed: upstream timeout, connection reset by peer; ";
    }
    let trace = "NullPointerException: order is null\n\tat shop.Orders.get(Orders.java:42)";
    let mut log = String::new();
    for (second, msg) in [(1, long.as_str()), (2, trace), (3, "order 12345 shipped")] {
        let line =
            json!({"ts": format!("2024-05-01T10:00:0{second}Z"), "level": "error", "msg": msg});
        log += &format!("{line}\n");
    }
    let file = dir.path().join("long.log");
    std::fs::write(&file, log).unwrap();
    let Served { url, .. } = &serve_bundle("long", &[file]);
    run("viewer_long_line", async |browser| {
        browser.goto(url).await?;
        wait_imported(browser, 3).await?;
        // The list shows each message's first line, at most a screen's worth, marked when cut.
        let rows = viewer_rows(browser, 3).await?;
        let messages: Vec<&str> = rows.iter().map(|(_, m)| m.as_str()).collect();
        let listed_long: String = long.chars().take(LISTED_CHARS).chain(['…']).collect();
        ensure!(
            messages == ["order 12345 shipped", "NullPointerException: order is null…", listed_long.as_str()],
            "{messages:?}"
        );
        // Its detail lays out the first part and shows the rest when asked.
        browser
            .script(
                "document.querySelector('[data-testid=row][data-index=\"2\"]').click()",
                vec![],
            )
            .await?;
        let shown = browser
            .wait_text("detail-message", "the long message", |t| t.starts_with("payload "))
            .await?;
        ensure!(shown.chars().count() == DETAIL_CHARS, "{} characters shown", shown.chars().count());
        ensure!(long.starts_with(&shown), "the detail shows another text");
        let note = browser.text("detail-message-cut").await?.unwrap_or_default();
        let total = thousands(long.chars().count() as u64);
        ensure!(
            note.starts_with(&format!("The first {} of {total} characters.", thousands(DETAIL_CHARS as u64))),
            "{note}"
        );
        browser
            .script(
                "document.querySelector('[data-testid=detail-message-cut] [data-testid=show-all]').click()",
                vec![],
            )
            .await?;
        browser
            .wait_text("detail-message", "the whole message", |t| t == long)
            .await?;
        // The raw line is cut the same way, on its own.
        let raw = browser.text("detail-raw").await?.unwrap_or_default();
        ensure!(raw.chars().count() == DETAIL_CHARS, "{} raw characters shown", raw.chars().count());
        browser.assert_no_console_errors().await
    })
    .await;
}

/// The segment files of a bundle directory as `{name, bytes}`, for a page to make `File`s or
/// `ArrayBuffer`s of.
fn segment_payloads(bundle: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(bundle)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            json!({
                "name": path.file_name().unwrap().to_string_lossy(),
                "bytes": std::fs::read(path).unwrap(),
            })
        })
        .collect()
}

/// Bundles `DIR/ssh` and `DIR/hdfs`, each of one loghub sample (2,000 records each).
fn ssh_and_hdfs(dir: &Path) -> (PathBuf, PathBuf) {
    let sample = |name: &str| vec![samples().join("loghub").join(name)];
    (
        ingest(dir, "ssh", &sample("OpenSSH_2k.log")).unwrap(),
        ingest(dir, "hdfs", &sample("HDFS_2k.log")).unwrap(),
    )
}

#[tokio::test]
async fn bundles_open_from_the_folder_picker_and_by_dropping_files() {
    let dir = tempfile::tempdir().unwrap();
    let (ssh, hdfs) = ssh_and_hdfs(dir.path());
    let server = Server::start(&trawl_bin(), &site_dir(), "/").unwrap();
    let url = server.url().to_owned();
    run("viewer_picker_and_drop", async |browser| {
        browser.goto(&url).await?;
        browser
            .wait_text("worker-state", "ready", |t| t == "ready")
            .await?;
        browser
            .wait_text("library", "an empty library", |t| t.contains("No bundles yet"))
            .await?;
        // The folder picker, given the bundle directory.
        let input = browser
            .client()
            .find(fantoccini::Locator::Css("[data-testid=open-input]"))
            .await?;
        input.send_keys(&ssh.to_string_lossy()).await?;
        wait_imported(browser, 2000).await?;
        browser
            .wait_text("library", "the bundle named by its folder", |t| t.contains("ssh"))
            .await?;
        // A drop of segment files onto the page.
        let files = segment_payloads(&hdfs);
        browser
            .script(
                "const transfer = new DataTransfer();
                 for (const f of arguments[0]) {
                     transfer.items.add(new File([new Uint8Array(f.bytes)], f.name));
                 }
                 document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true }));
                 document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));",
                vec![json!(files)],
            )
            .await?;
        wait_imported(browser, 4000).await?;
        browser.wait_gone("drop-hint").await?;
        browser.assert_no_console_errors().await
    })
    .await;
}

/// Bundle archive `NAME.tar` (its `bytes`) unpacked by the system's tar under `DIR/unpacked`:
/// the bundle directory it holds.
fn untar(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let unpacked = dir.join("unpacked");
    std::fs::create_dir_all(&unpacked)?;
    let archive = format!("{name}.tar");
    std::fs::write(unpacked.join(&archive), bytes)?;
    let status = Command::new("tar")
        .args(["-xf", &archive])
        .current_dir(&unpacked)
        .status()?;
    ensure!(status.success(), "tar -xf {archive} failed");
    Ok(unpacked.join(name))
}

/// `trawl verify DIR --json` says the bundle is sound, and its record count.
fn verified_records(bundle: &Path) -> Result<u64> {
    let out = Command::new(trawl_bin())
        .arg("verify")
        .arg("--json")
        .arg(bundle)
        .output()?;
    ensure!(
        out.status.success(),
        "trawl verify {}: {}{}",
        bundle.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout)?;
    report["records"].as_u64().context("verify's records")
}

#[tokio::test]
async fn a_bundle_exported_from_the_library_opens_in_another_origins_storage_and_in_trawl() {
    let Served {
        bundle,
        cache,
        url,
        server,
        _dir: dir,
    } = &serve_bundle("ssh", &[samples().join("loghub/OpenSSH_2k.log")]);
    // The same server under another name is another origin: another, empty storage (as the
    // viewer embedded in a portal has).
    let elsewhere = server.url().replace("127.0.0.1", "localhost");
    let query = "\"Failed password\"";
    let (total, want) = trawl_query(bundle, cache, query, 20).unwrap();
    run("viewer_bundle_export", async |browser| {
        browser.goto(url).await?;
        wait_imported(browser, 2000).await?;
        catch_downloads(browser).await?;
        browser.click("export-bundle").await?;
        let note = browser
            .wait_text("export-bundle-note", "the bundle export's note", |t| {
                t.starts_with("saved")
            })
            .await?;
        ensure!(note.starts_with("saved ssh.tar (2,000 records, "), "{note}");
        let bytes = first_download(browser).await?;

        // Unpacked with tar, it is a bundle that trawl verifies and queries as the original.
        let copy = untar(dir.path(), "ssh", &bytes)?;
        ensure!(verified_records(&copy)? == 2000);
        let copy_cache = dir.path().join("copy-cache.sqlite");
        let from_copy = trawl_query(&copy, &copy_cache, query, 20)?;
        ensure!(from_copy == (total, want.clone()), "trawl query on the copy differs");

        // Dropped on the viewer of another origin, it brings the same records.
        browser.goto(&elsewhere).await?;
        browser
            .wait_text("library", "the other origin's empty library", |t| {
                t.contains("No bundles yet")
            })
            .await?;
        let drop_archive = "const transfer = new DataTransfer();
             transfer.items.add(new File([new Uint8Array(arguments[0])], 'ssh.tar'));
             document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true }));
             document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));";
        browser.script(drop_archive, vec![json!(bytes)]).await?;
        wait_imported(browser, 2000).await?;
        browser
            .wait_text("library", "the bundle named by its archive", |t| {
                t.contains("ssh") && t.contains("2,000 records")
            })
            .await?;
        same_as_trawl_query(browser, bundle, cache, query).await?;
        browser.assert_no_console_errors().await
    })
    .await;
}

#[tokio::test]
async fn after_an_import_the_viewer_reopens_offline_with_its_records() {
    let Served {
        bundle,
        cache,
        url,
        server,
        ..
    } = &mut serve_bundle("ssh", &[samples().join("loghub/OpenSSH_2k.log")]);
    run("viewer_offline", async |browser| {
        browser.goto(url).await?;
        wait_imported(browser, 2000).await?;
        browser
            .wait_text("offline", "offline ready", |t| t.starts_with("ready"))
            .await?;
        let query = "\"Failed password\" root";
        let (total, _) = trawl_query(bundle, cache, query, 1)?;
        browser.type_and_enter("search", query).await?;
        wait_total(browser, total).await?;

        // No server: the link (with its `?bundle=` and query) reopens from the service worker
        // and the store, without an error about the unreachable bundle URL.
        server.stop();
        browser.reload().await?;
        wait_imported(browser, total).await?;
        same_as_trawl_query(browser, bundle, cache, "level:error OR invalid").await?;
        ensure!(
            browser.text("error-banner").await?.is_none(),
            "an error shows: {:?}",
            browser.text("error-banner").await?
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_host_page_drives_the_embedded_viewer_with_post_message() {
    let dir = tempfile::tempdir().unwrap();
    let (ssh, hdfs) = ssh_and_hdfs(dir.path());
    let cache = dir.path().join("cache.sqlite");
    let server = Server::with_bundles(&trawl_bin(), &site_dir(), "/", &[&ssh]).unwrap();
    // The example host page that `trawl serve` serves: it opens `?bundle=` and sets `?q=`.
    let url = format!("{}embed.html?bundle=bundles/ssh/&q=Failed", server.url());
    run("viewer_embedded", async |browser| {
        browser.goto(&url).await?;
        browser
            .wait_text("host-status", "the import acknowledged", |t| {
                t == "imported ssh: 2000 records"
            })
            .await?;
        let (failed, _) = trawl_query(&ssh, &cache, "Failed", 1)?;
        browser.client().enter_frame(0).await?;
        wait_total(browser, failed).await?;
        browser.client().enter_parent_frame().await?;
        // Open by ArrayBuffer: the host hands over segment bytes it holds.
        let files = segment_payloads(&hdfs);
        browser
            .script(
                "trawlHost.send({ type: 'trawl:open', name: 'hdfs', files: arguments[0].map(f =>
                     ({ name: f.name, data: new Uint8Array(f.bytes).buffer })) });
                 trawlHost.send({ type: 'trawl:query', query: '', from: '2008-11-09T20:00:00Z',
                                  to: '2008-11-10T00:00:00Z' });",
                vec![json!(files)],
            )
            .await?;
        browser
            .wait_text("host-status", "the second import acknowledged", |t| {
                t == "imported hdfs: 2000 records"
            })
            .await?;
        let (in_range, _) = trawl_query(
            &hdfs,
            &dir.path().join("h.sqlite"),
            "since:2008-11-09T20:00:00Z until:2008-11-10T00:00:00Z",
            1,
        )?;
        ensure!(in_range > 0, "no HDFS records in the range");
        browser.client().enter_frame(0).await?;
        wait_total(browser, in_range).await?;
        browser.text("range").await?.context("the range shows")?;
        // A message the viewer cannot take is answered, not ignored.
        browser.client().enter_parent_frame().await?;
        browser
            .script(
                "trawlHost.send({ type: 'trawl:delete-everything' })",
                vec![],
            )
            .await?;
        browser
            .wait_text("host-status", "an error answer", |t| {
                t.contains("unknown message type")
            })
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn raw_log_files_are_parsed_in_the_browser_like_trawl_ingest_parses_them() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [
        samples().join("loghub/OpenSSH_2k.log"),
        samples().join("synthetic/cri_containerd_json_apps.log"),
    ];
    let reference = ingest(dir.path(), "reference", &inputs).unwrap();
    let cache = dir.path().join("cache.sqlite");
    let server = Server::start(&trawl_bin(), &site_dir(), "/").unwrap();
    let url = server.url().to_owned();
    run("viewer_raw_logs", async |browser| {
        browser.goto(&url).await?;
        browser
            .wait_text("worker-state", "ready", |t| t == "ready")
            .await?;
        let pick = async |paths: &[PathBuf]| -> Result<()> {
            let input = browser
                .client()
                .find(fantoccini::Locator::Css("[data-testid=open-logs-input]"))
                .await?;
            // chromedriver takes canonical paths only.
            let list: Vec<String> = paths
                .iter()
                .map(|p| p.canonicalize().map(|p| p.display().to_string()))
                .collect::<std::io::Result<_>>()?;
            input.send_keys(&list.join("\n")).await?;
            Ok(())
        };
        // One file: its bundle is named by it.
        pick(&inputs[..1]).await?;
        wait_imported(browser, 2000).await?;
        browser
            .wait_text("library", "the file's bundle", |t| {
                t.contains("OpenSSH_2k.log")
            })
            .await?;
        // Both: the one already stored adds nothing again.
        pick(&inputs).await?;
        let (total, want) = trawl_query(&reference, &cache, "", 30)?;
        wait_imported(browser, total).await?;
        // The same records as `trawl ingest` made of the files (record ids differ: the
        // browser's segments are its own).
        let messages = |rows: Vec<(i64, String)>| -> Vec<String> {
            rows.into_iter().map(|(_, m)| m).collect()
        };
        browser
            .wait_for("the rows of the raw logs", async |b| {
                let shown = messages(viewer_rows(b, want.len()).await?);
                Ok(if shown == messages(want.clone()) {
                    Ok(())
                } else {
                    Err(format!("{:?}", shown.iter().take(3).collect::<Vec<_>>()))
                })
            })
            .await?;
        for query in [
            "level:error",
            "\"Failed password\" root",
            "service:payment-api",
        ] {
            let (n, _) = trawl_query(&reference, &cache, query, 1)?;
            browser.type_and_enter("search", query).await?;
            wait_total(browser, n).await?;
        }
        browser.assert_no_console_errors().await
    })
    .await;
}

/// The count a facet value shows, if it is there.
async fn facet_count(browser: &Browser, facet: &str, value: &str) -> Result<Option<u64>> {
    let count = browser
        .script(
            "const f = [...document.querySelectorAll('[data-testid=facet]')]
                 .find(f => f.dataset.facet === arguments[0] && f.dataset.value === arguments[1]);
             return f ? f.querySelector('.count').textContent : null;",
            vec![json!(facet), json!(value)],
        )
        .await?;
    Ok(count
        .as_str()
        .map(|c| c.replace(',', "").parse())
        .transpose()?)
}

async fn click_facet(browser: &Browser, facet: &str, value: &str, alt: bool) -> Result<()> {
    browser
        .script(
            "const f = [...document.querySelectorAll('[data-testid=facet]')]
                 .find(f => f.dataset.facet === arguments[0] && f.dataset.value === arguments[1]);
             f.dispatchEvent(new MouseEvent('click', { bubbles: true, altKey: arguments[2] }));",
            vec![json!(facet), json!(value), json!(alt)],
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn the_histogram_leaves_stray_times_off_its_axis_and_shows_them_on_demand() {
    // A line without a time, two thousand requests in one hour, a record from a clock before
    // its sync (2019) and one with a mistyped year (2100).
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("app.log");
    let mut text = String::from(
        "{\"msg\":\"starting up\"}\n\
         {\"time\":\"2019-05-01T00:00:00Z\",\"level\":\"warn\",\"msg\":\"clock not synced\"}\n",
    );
    for i in 0..2000 {
        text.push_str(&format!(
            "{{\"time\":\"2025-11-22T08:{:02}:{:02}.{:03}Z\",\"level\":\"info\",\"msg\":\"request {i}\"}}\n",
            i / 40,
            i % 40,
            i % 1000
        ));
    }
    text.push_str(
        "{\"time\":\"2100-01-01T00:00:00Z\",\"level\":\"error\",\"msg\":\"year typo\"}\n",
    );
    std::fs::write(&log, text).unwrap();
    let Served { url, .. } = &serve_bundle("strays", &[log]);
    run("viewer_strays", async |browser| {
        browser.goto(url).await?;
        wait_imported(browser, 2003).await?;
        // The axis spans the hour of requests, and each stray is counted at its end.
        let later = browser
            .wait_text("off-axis-later", "the later stray", |t| {
                t == "1 record later →"
            })
            .await?;
        let earlier = browser
            .wait_text("off-axis-earlier", "the earlier stray", |t| {
                t == "← 1 record earlier"
            })
            .await?;
        let axis: String = browser
            .script(
                "return document.querySelector('[data-testid=histogram] .axis').textContent",
                vec![],
            )
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        ensure!(
            axis.matches("2025-11-22 08:").count() == 2 && !axis.contains("2100-"),
            "axis: {axis} ({earlier}, {later})"
        );
        // The line without a time is counted apart.
        browser
            .wait_text("untimed", "the line without a time", |t| {
                t == "1 record without a time"
            })
            .await?;
        // A button shows its strays: their time range is picked, and they are the results.
        browser.click("off-axis-later").await?;
        wait_total(browser, 1).await?;
        browser
            .wait_text("row", "the stray", |t| t.contains("year typo"))
            .await?;
        browser.wait_gone("off-axis-earlier").await?;
        // The whole range again: the strays are counted again, off the axis.
        browser.click("reset-range").await?;
        wait_total(browser, 2003).await?;
        browser.click("off-axis-earlier").await?;
        wait_total(browser, 1).await?;
        browser
            .wait_text("row", "the stray", |t| t.contains("clock not synced"))
            .await?;
        browser.assert_no_console_errors().await
    })
    .await;
}

#[tokio::test]
async fn facets_histogram_query_errors_and_the_library_work_as_people_use_them() {
    let Served {
        bundle, cache, url, ..
    } = &serve_bundle(
        "mixed",
        &[
            samples().join("loghub/OpenSSH_2k.log"),
            samples().join("synthetic/cri_containerd_json_apps.log"),
        ],
    );
    run("viewer_interactions", async |browser| {
        browser.goto(url).await?;
        let (all, _) = trawl_query(bundle, cache, "", 1)?;
        wait_imported(browser, all).await?;

        // A facet value's count is exact; clicking keeps only it, alt-clicking leaves it out.
        let (sshd, _) = trawl_query(bundle, cache, "service:sshd", 1)?;
        let shown = browser
            .wait_for("the sshd facet", async |b| {
                Ok(facet_count(b, "service", "sshd")
                    .await?
                    .ok_or("absent".to_owned()))
            })
            .await?;
        ensure!(shown == sshd, "facet says {shown}, trawl query {sshd}");
        click_facet(browser, "service", "sshd", false).await?;
        wait_total(browser, sshd).await?;
        browser.type_and_enter("search", "").await?;
        wait_total(browser, all).await?;
        click_facet(browser, "service", "sshd", true).await?;
        let (others, _) = trawl_query(bundle, cache, "-service:sshd", 1)?;
        wait_total(browser, others).await?;
        let query: String = browser
            .script(
                "return document.querySelector('[data-testid=search]').value",
                vec![],
            )
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        ensure!(query == "-service:sshd", "the search box says {query:?}");

        // A query that does not parse points at its column; the results stay.
        browser.type_and_enter("search", "level:loud").await?;
        let error = browser
            .wait_text("query-error", "the error", |t| t.contains("column 7"))
            .await?;
        ensure!(error.contains("loud"), "{error}");
        browser.type_and_enter("search", "").await?;
        wait_total(browser, all).await?;
        browser.wait_gone("query-error").await?;

        // Dragging across the histogram narrows the time range; double-click goes back.
        let svg = browser
            .client()
            .find(fantoccini::Locator::Css("[data-testid=histogram] svg"))
            .await?;
        let (x, y, w, h) = svg.rectangle().await?;
        use fantoccini::actions::InputSource;
        let actions = fantoccini::actions::MouseActions::new("mouse".into())
            .then(fantoccini::actions::PointerAction::MoveTo {
                duration: None,
                x: x + w * 0.1,
                y: y + h / 2.0,
            })
            .then(fantoccini::actions::PointerAction::Down {
                button: fantoccini::actions::MOUSE_BUTTON_LEFT,
            })
            .then(fantoccini::actions::PointerAction::MoveTo {
                duration: None,
                x: x + w * 0.9,
                y: y + h / 2.0,
            })
            .then(fantoccini::actions::PointerAction::Up {
                button: fantoccini::actions::MOUSE_BUTTON_LEFT,
            });
        browser.client().perform_actions(actions).await?;
        let narrowed = browser
            .wait_text("total", "fewer records", |t| {
                t.trim_end_matches(" records")
                    .replace(',', "")
                    .parse::<u64>()
                    .is_ok_and(|n| n < all)
            })
            .await?;
        let here: String = browser
            .script("return location.search", vec![])
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        ensure!(
            here.contains("from=") && here.contains("to="),
            "the range is not in the URL: {here}"
        );
        ensure!(
            browser.text("range").await?.is_some(),
            "no range shown with {narrowed}"
        );
        svg.click().await?;
        browser
            .script(
                "document.querySelector('[data-testid=histogram] svg')
                     .dispatchEvent(new MouseEvent('dblclick', { bubbles: true }))",
                vec![],
            )
            .await?;
        wait_total(browser, all).await?;
        browser.wait_gone("range").await?;

        // The library deletes a bundle, and its records go.
        browser
            .script("window.confirm = () => true", vec![])
            .await?;
        browser.click("delete-bundle").await?;
        wait_total(browser, 0).await?;
        browser
            .wait_text("library", "empty", |t| t.contains("No bundles yet"))
            .await?;
        browser.assert_no_console_errors().await
    })
    .await;
}

/// Records in [`big_bundle`]: enough that its import and its export run for seconds in the
/// browser, so the tests can cancel them halfway on a fast machine too. (With 300,000 an import
/// once ended before the cancel reached the worker, under a full test run's load.)
const BIG_RECORDS: u64 = 600_000;

/// Bundle `DIR/big`: [`BIG_RECORDS`] JSON-lines records.
fn big_bundle(dir: &Path) -> PathBuf {
    let log = dir.join("big.log");
    let mut text = String::new();
    for i in 0..BIG_RECORDS {
        text += &format!(
            "{{\"time\":{},\"level\":\"info\",\"msg\":\"request {i} done\",\"service\":\"api\"}}\n",
            1_714_557_600_000 + i * 10
        );
    }
    std::fs::write(&log, text).unwrap();
    ingest(dir, "big", &[log]).unwrap()
}

#[tokio::test]
async fn a_cancelled_import_keeps_what_it_stored_and_opening_again_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = big_bundle(dir.path());
    let server = Server::with_bundles(&trawl_bin(), &site_dir(), "/", &[&bundle]).unwrap();
    let url = format!("{}?bundle=bundles/big/", server.url());
    run("viewer_cancel", async |browser| {
        browser.goto(&url).await?;
        // Cancel as soon as the first records are in.
        browser
            .wait_text("import-progress", "records coming in", |t| {
                t.contains(" records ·") && !t.contains(": 0 records")
            })
            .await?;
        // They are listed while the rest still comes in.
        browser
            .wait_text("row", "a first row", |t| !t.is_empty())
            .await?;
        ensure!(
            browser.text("import-progress").await?.is_some(),
            "the import ended before its first records were listed"
        );
        browser.click("cancel-import").await?;
        browser.wait_gone("import-progress").await?;
        let total = browser
            .wait_text("total", "a total", |t| t.ends_with(" records"))
            .await?;
        let kept: u64 = total
            .trim_end_matches(" records")
            .replace(',', "")
            .parse()?;
        ensure!(
            kept > 0 && kept < BIG_RECORDS,
            "{kept} records after cancelling"
        );
        let library = browser.text("library").await?.unwrap_or_default();
        ensure!(library.contains("partly imported"), "library: {library}");
        // Opening the link again resumes where the import stopped: nothing twice.
        browser.reload().await?;
        wait_imported(browser, BIG_RECORDS).await?;
        wait_total(browser, BIG_RECORDS).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_bundle_export_shows_its_progress_lets_queries_through_and_cancels() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = big_bundle(dir.path());
    let ssh = ingest(
        dir.path(),
        "ssh",
        &[samples().join("loghub/OpenSSH_2k.log")],
    )
    .unwrap();
    let server = Server::with_bundles(&trawl_bin(), &site_dir(), "/", &[&bundle, &ssh]).unwrap();
    let url = format!("{}?bundle=bundles/big/&bundle=bundles/ssh/", server.url());
    let exporting = |t: &str| t.starts_with("Exporting… ") && t != "Exporting… 0%";
    // Whether bundle `big`'s Delete button is disabled.
    let delete_disabled = async |browser: &Browser| -> Result<Value> {
        browser
            .script(
                "return document.querySelector(
                     '[data-testid=bundle][data-name=big] [data-testid=delete-bundle]').disabled",
                vec![],
            )
            .await
    };
    run("viewer_export_cancel", async |browser| {
        browser.goto(&url).await?;
        wait_imported(browser, BIG_RECORDS + 2_000).await?;
        catch_downloads(browser).await?;
        let first = browser
            .script(
                "return document.querySelector('[data-testid=bundle]').dataset.name",
                vec![],
            )
            .await?;
        ensure!(first == json!("big"), "the library lists {first} first");

        // A running export says how far it is, and a search is answered meanwhile.
        browser.click("export-bundle").await?;
        browser
            .wait_text("export-bundle", "the export's progress", exporting)
            .await?;
        browser
            .type_and_enter("search", "\"request 4242 done\"")
            .await?;
        wait_total(browser, 1).await?;
        let button = browser.text("export-bundle").await?.unwrap_or_default();
        ensure!(
            exporting(&button),
            "the export ended before the search: {button}"
        );

        // The bundle cannot be deleted while it is exported, and the export keeps showing
        // when the library is drawn anew (here: another bundle deleted).
        ensure!(delete_disabled(browser).await? == json!(true));
        browser
            .script(
                "window.confirm = () => true;
                 document.querySelector(
                     '[data-testid=bundle][data-name=ssh] [data-testid=delete-bundle]').click()",
                vec![],
            )
            .await?;
        browser
            .wait_for("the library without ssh", async |b| {
                let names = b
                    .script(
                        "return [...document.querySelectorAll('[data-testid=bundle]')]
                             .map(b => b.dataset.name).join(' ')",
                        vec![],
                    )
                    .await?;
                Ok(if names == json!("big") {
                    Ok(())
                } else {
                    Err(names.to_string())
                })
            })
            .await?;
        let button = browser.text("export-bundle").await?.unwrap_or_default();
        ensure!(
            exporting(&button),
            "after the library was drawn anew, the Export button reads {button}"
        );
        ensure!(delete_disabled(browser).await? == json!(true));

        // Cancelled, it saves nothing and says so.
        browser.click("export-bundle-cancel").await?;
        let note = browser
            .wait_text("export-bundle-note", "the cancelled export's note", |t| {
                !t.is_empty()
            })
            .await?;
        ensure!(note == "export cancelled: nothing was saved", "{note}");
        browser.wait_gone("export-bundle-cancel").await?;
        let saved = browser
            .script("return window.trawlExports.length", vec![])
            .await?;
        ensure!(
            saved == json!(0),
            "{saved} files saved by a cancelled export"
        );
        ensure!(delete_disabled(browser).await? == json!(false));

        // Run to its end, it holds every record.
        browser.click("export-bundle").await?;
        let note = browser
            .wait_text("export-bundle-note", "the export's note", |t| {
                t.starts_with("saved")
            })
            .await?;
        ensure!(
            note.starts_with(&format!(
                "saved big.tar ({} records, ",
                thousands(BIG_RECORDS)
            )),
            "{note}"
        );
        let bytes = first_download(browser).await?;
        ensure!(verified_records(&untar(dir.path(), "big", &bytes)?)? == BIG_RECORDS);
        browser.assert_no_console_errors().await
    })
    .await;
}

/// Waits until the trace view shows `count` lines, (offset, service, message, whether it is
/// the open record), with the open record's on line `current`.
async fn wait_trace(browser: &Browser, count: usize, current: usize) -> Result<Listed> {
    wait_listed(browser, "trace", count, |i, _| i == current).await
}

#[tokio::test]
async fn a_records_trace_shows_its_services_in_time_order_as_trawl_query_finds_it() {
    // Three services, each with its own log file, handle 20 requests: the gateway takes
    // each in and answers it, orders and payments work in between.
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<(&str, String)> = vec![
        ("gateway", String::new()),
        ("orders", String::new()),
        ("payments", String::new()),
    ];
    let steps = [
        (0, 0, "info", "GET /api/v1/orders/{n} received"),
        (1, 3, "info", "loading order {n}"),
        (2, 7, "error", "card declined for order {n}"),
        (1, 12, "warn", "order {n} left unpaid"),
        (0, 15, "info", "GET /api/v1/orders/{n} answered 402"),
    ];
    for n in 0..20 {
        let trace_id = format!("{:032x}", 0xabc000 + n);
        for (span, (service, ms, level, message)) in steps.iter().enumerate() {
            let ts = format!("2024-03-01T10:00:{:02}.{ms:03}Z", n * 2);
            let line = json!({
                "time": ts, "level": level, "service": files[*service].0,
                "msg": message.replace("{n}", &n.to_string()),
                "trace_id": trace_id, "span_id": format!("{:016x}", n * 10 + span),
            });
            files[*service].1 += &format!("{line}\n");
        }
    }
    let inputs: Vec<PathBuf> = files
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(format!("{name}.log"));
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    let Served {
        bundle, cache, url, ..
    } = &serve_bundle("shop", &inputs);
    let trace_id = format!("{:032x}", 0xabc000 + 7);
    run("viewer_trace", async |browser| {
        browser.goto(url).await?;
        wait_imported(browser, 100).await?;
        // The trace as trawl query finds it, oldest first.
        let mut want = trawl_query_json(bundle, cache, &format!("trace_id:{trace_id}"), 10)?;
        want.reverse();
        ensure!(want.len() == 5, "trawl query found {} records", want.len());
        // Open the payment error and its trace.
        browser
            .type_and_enter("search", "card declined for order 7")
            .await?;
        wait_total(browser, 1).await?;
        browser
            .script(
                "document.querySelector('[data-testid=row]').click()",
                vec![],
            )
            .await?;
        browser
            .wait_text("detail-message", "the error", |t| t.contains("declined"))
            .await?;
        browser.click("trace-toggle").await?;
        let lines = wait_trace(browser, 5, 2).await?;
        for (line, want) in lines.iter().zip(&want) {
            ensure!(line.2 == want["message"], "{line:?} is not {want}");
            ensure!(line.1 == want["service"], "{line:?} is not {want}");
        }
        let offsets: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
        ensure!(
            offsets == ["+0.0 ms", "+3.0 ms", "+7.0 ms", "+12.0 ms", "+15.0 ms"],
            "{offsets:?}"
        );
        // A lane per service, in the order they joined the trace.
        let lanes = browser
            .script(
                "return [...document.querySelectorAll('[data-testid=trace-service]')]
                    .map(s => s.textContent);",
                vec![],
            )
            .await?;
        ensure!(lanes == json!(["gateway", "orders", "payments"]), "{lanes}");
        let summary = browser.text("trace-summary").await?.unwrap_or_default();
        ensure!(summary == "5 records · 3 services · 15 ms", "{summary}");
        // A line of the trace opens in the pane, and the trace stays open around it.
        browser
            .script(
                "document.querySelectorAll('[data-testid=trace-line]')[4].click()",
                vec![],
            )
            .await?;
        browser
            .wait_text("detail-message", "the answer", |t| t.contains("answered"))
            .await?;
        wait_trace(browser, 5, 4).await?;
        browser.save_artifacts("screenshot-trace").await;
        // The open trace is part of the link.
        let here = browser.script("return location.href", vec![]).await?;
        ensure!(
            here.as_str().is_some_and(|h| h.contains("trace=1")),
            "the trace is not in the URL: {here}"
        );
        browser.reload().await?;
        wait_trace(browser, 5, 4).await?;
        browser.assert_no_console_errors().await
    })
    .await;
}

#[tokio::test]
async fn the_library_reports_a_sources_time_gap_and_shows_the_records_around_it() {
    // An access log written every 10 s that falls silent from 10:29:50 to 10:47:20, beside
    // an application log that goes on writing every 30 s.
    let dir = tempfile::tempdir().unwrap();
    let mut access = String::new();
    let mut app = String::new();
    for s in (0..3600).step_by(10) {
        let (m, sec) = (s / 60, s % 60);
        if !(1800..2840).contains(&s) {
            access += &format!(
                "10.0.0.{} - - [01/Mar/2024:10:{m:02}:{sec:02} +0000] \"GET /api/orders/{s} HTTP/1.1\" 200 512 \"-\" \"curl/8.0\"\n",
                s % 7
            );
        }
        if s % 30 == 0 {
            app += &format!("2024-03-01T10:{m:02}:{sec:02}Z INFO worker heartbeat {s}\n");
        }
    }
    let (access_log, app_log) = (dir.path().join("access.log"), dir.path().join("app.log"));
    std::fs::write(&access_log, &access).unwrap();
    std::fs::write(&app_log, &app).unwrap();
    let records = (access.lines().count() + app.lines().count()) as u64;
    let Served { url, .. } = &serve_bundle("edge", &[access_log, app_log]);
    run("viewer_gaps", async |browser| {
        browser.goto(url).await?;
        wait_imported(browser, records).await?;
        // The library names the one gap: the access log's silence.
        let summary = browser
            .wait_text("gaps", "the gaps", |t| !t.is_empty())
            .await?;
        ensure!(summary.starts_with("1 time gap"), "{summary}");
        browser
            .script(
                "document.querySelector('[data-testid=gaps] summary').click()",
                vec![],
            )
            .await?;
        let gap = browser.text("gap").await?.unwrap_or_default();
        ensure!(gap == "access.log silent for 17 min 30 s", "{gap}");
        // A click shows the access log around it, from the first record after the silence,
        // with the lines before it in its context.
        browser.click("gap").await?;
        browser
            .wait_text("detail-message", "the first record after", |t| {
                t.contains("/api/orders/2840 ")
            })
            .await?;
        let query = browser
            .script(
                "return document.querySelector('[data-testid=search]').value",
                vec![],
            )
            .await?;
        ensure!(
            query
                .as_str()
                .is_some_and(|q| q.starts_with("source:") && q.contains("access.log")),
            "{query}"
        );
        // Line 181 is the first after the silence, line 180 the last before it.
        let lines = wait_context(browser, 181, 21).await?;
        ensure!(lines[9].1.contains("/api/orders/1790 "), "{:?}", lines[9]);
        browser.assert_no_console_errors().await
    })
    .await;
}

/// Runs `sql` in the console (typed, then Ctrl+Enter) and waits for its answer: the table's
/// rows as text, or the error the console shows.
async fn run_sql(browser: &Browser, sql: &str) -> Result<Result<Vec<Vec<String>>, String>> {
    let before = console_runs(browser).await?;
    let input = browser
        .client()
        .find(fantoccini::Locator::Css("[data-testid=sql-input]"))
        .await?;
    input.clear().await?;
    input.send_keys(sql).await?;
    // Ctrl down, Enter, all keys up.
    input.send_keys("\u{E009}\u{E007}\u{E000}").await?;
    browser
        .wait_for("the console's answer", async |b| {
            let now = console_runs(b).await.map_err(|e| e.to_string());
            Ok(match now {
                Ok(n) if n > before => Ok(()),
                other => Err(format!("{other:?} answers, {before} before")),
            })
        })
        .await?;
    let answer = browser
        .script(
            "const error = document.querySelector('[data-testid=sql-error]');
             if (error) return {error: error.textContent};
             return {rows: [...document.querySelectorAll('[data-testid=sql-row]')]
                 .map(tr => [...tr.cells].map(td => td.textContent))};",
            vec![],
        )
        .await?;
    Ok(match answer["error"].as_str() {
        Some(error) => Err(error.to_owned()),
        None => Ok(serde_json::from_value(answer["rows"].clone())?),
    })
}

/// How many answers the console has shown.
async fn console_runs(browser: &Browser) -> Result<u32> {
    let runs = browser
        .script(
            "return document.querySelector('[data-testid=console]').dataset.runs",
            vec![],
        )
        .await?;
    Ok(runs.as_str().unwrap_or("0").parse()?)
}

#[tokio::test]
async fn the_sql_console_reads_the_store_refuses_to_write_and_stops_long_statements() {
    let Served {
        bundle, cache, url, ..
    } = &serve_bundle("ssh", &[samples().join("loghub/OpenSSH_2k.log")]);
    run("viewer_console", async |browser| {
        browser.goto(url).await?;
        wait_imported(browser, 2000).await?;
        browser.click("sql-toggle").await?;
        let rows = run_sql(
            browser,
            "SELECT count(*) AS n, min(line), max(line), source FROM records GROUP BY source",
        )
        .await?
        .map_err(anyhow::Error::msg)?;
        ensure!(
            rows.len() == 1
                && rows[0][..3] == ["2000", "1", "2000"]
                && rows[0][3].ends_with("/OpenSSH_2k.log"),
            "{rows:?}"
        );
        let (failed, _) = trawl_query(bundle, cache, "\"Failed password\"", 1)?;
        let rows = run_sql(
            browser,
            "SELECT count(*) FROM records WHERE message LIKE '%Failed password%'",
        )
        .await?
        .map_err(anyhow::Error::msg)?;
        ensure!(rows == [[failed.to_string()]], "{rows:?} against {failed}");
        // Writing is refused, and nothing changed.
        let refused = run_sql(browser, "DELETE FROM record_rows").await?;
        ensure!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("the console only reads")),
            "{refused:?}"
        );
        let refused = run_sql(browser, "PRAGMA query_only = 0").await?;
        ensure!(refused.is_err(), "{refused:?}");
        // A statement that would run forever is stopped at the time limit, and the store
        // answers again afterwards.
        let stopped = run_sql(
            browser,
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        )
        .await?;
        ensure!(
            stopped.as_ref().is_err_and(|e| e.contains("stopped after")),
            "{stopped:?}"
        );
        let rows = run_sql(browser, "SELECT count(*) FROM records")
            .await?
            .map_err(anyhow::Error::msg)?;
        ensure!(rows == [["2000"]], "{rows:?}");
        // Values are text, never markup; NULL is shown as NULL.
        let payload = "<img src=x onerror=\"window.__xss=1\">";
        let rows = run_sql(browser, &format!("SELECT '{payload}', NULL"))
            .await?
            .map_err(anyhow::Error::msg)?;
        ensure!(rows == [[payload, "NULL"]], "{rows:?}");
        let inert = browser
            .script(
                "return window.__xss === undefined
                    && !document.querySelector('[data-testid=console] img')",
                vec![],
            )
            .await?;
        ensure!(inert == json!(true), "the payload ran or became an element");
        // The open console is in the link and runs again on opening it.
        let here = browser.script("return location.href", vec![]).await?;
        ensure!(
            here.as_str().is_some_and(|h| h.contains("sql=")),
            "the statement is not in the URL: {here}"
        );
        browser.reload().await?;
        browser
            .wait_text("sql-note", "the statement run again", |t| t.starts_with("1 row"))
            .await?;
        wait_total(browser, 2000).await?;
        browser.save_artifacts("screenshot-console").await;
        browser.assert_no_console_errors().await
    })
    .await;
}
