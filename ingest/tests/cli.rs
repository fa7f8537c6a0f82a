//! `trawl ingest` and `trawl verify` as a user runs them: the real binary on real files.

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
};

const TRAWL: &str = env!("CARGO_BIN_EXE_trawl");

fn trawl(args: &[&str]) -> Output {
    Command::new(TRAWL).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn samples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples")
}

/// Runs `trawl ingest --out OUT INPUT`, checks it succeeded, and returns what it printed.
fn ingest_ok(out: &Path, input: &Path) -> String {
    let o = trawl(&[
        "ingest",
        "--out",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    text(&o)
}

fn verify_json(dir: &Path) -> (Option<i32>, serde_json::Value) {
    let o = trawl(&["verify", "--json", dir.to_str().unwrap()]);
    (
        o.status.code(),
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o))),
    )
}

#[test]
fn ingesting_the_samples_gives_a_bundle_that_verifies() {
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("b");
    let loghub = samples().join("loghub");
    let logs: Vec<String> = std::fs::read_dir(&loghub)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    let mut args = vec![
        "ingest",
        "--out",
        bundle.to_str().unwrap(),
        "--year",
        "2024",
    ];
    args.extend(logs.iter().map(String::as_str));
    let synthetic = samples().join("synthetic");
    args.push(synthetic.to_str().unwrap());
    let o = trawl(&args);
    assert!(o.status.success(), "{}", text(&o));
    let summary = String::from_utf8_lossy(&o.stderr);
    assert!(
        summary.contains("records from") && summary.contains("MB/s"),
        "{summary}"
    );
    assert!(summary.contains("time range"), "{summary}");

    let (code, report) = verify_json(&bundle);
    assert_eq!(code, Some(0));
    assert_eq!(report["ok"], true);
    // 8 loghub files of 2,000 lines, 400 JSON lines, 300 text lines + one line split in 3.
    let records = report["records"].as_u64().unwrap();
    assert!(records >= 16_000 + 400 + 300, "{records}");
    assert!(report["segments"].as_u64().unwrap() >= 1);
    assert_eq!(report["torn_tails"].as_array().unwrap().len(), 0);
    assert_eq!(report["bad_frames"].as_array().unwrap().len(), 0);
}

#[test]
fn gzip_stdin_and_directories_are_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("app.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(b"2024-03-08 14:02:47 INFO from gzip\n2024-03-08 14:02:48 ERROR also gzip\n")
        .unwrap();
    enc.finish().unwrap();
    let nested = dir.path().join("nested/deeper");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(
        nested.join("x.log"),
        "{\"level\":\"warn\",\"msg\":\"json in a dir\"}\n",
    )
    .unwrap();
    let bundle = dir.path().join("out");
    let mut child = Command::new(TRAWL)
        .args([
            "ingest",
            "--out",
            bundle.to_str().unwrap(),
            "-",
            gz.to_str().unwrap(),
            dir.path().join("nested").to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"level=info msg=\"from stdin\" user=1\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let (code, report) = verify_json(&bundle);
    assert_eq!((code, report["records"].as_u64()), (Some(0), Some(4)));
}

#[test]
fn binary_files_found_in_a_directory_are_skipped_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("var-log");
    std::fs::create_dir_all(logs.join("journal")).unwrap();
    std::fs::write(logs.join("syslog"), "2024-03-08 14:02:47 INFO one\n").unwrap();
    // A login record: its type as a little-endian i32, then a padded terminal name.
    let mut wtmp = vec![7u8, 0, 0, 0, 0x2a, 0x10, 0, 0];
    wtmp.extend_from_slice(b"pts/0\0\0\0");
    std::fs::write(logs.join("wtmp"), &wtmp).unwrap();
    std::fs::write(
        logs.join("journal/system.journal"),
        b"LPKSHHRH\0\0\0\0\x01\0",
    )
    .unwrap();
    // A file cut by copytruncate under a writer without O_APPEND: a hole of NULs, then text.
    let mut cut = vec![0u8; 4096];
    cut.extend_from_slice(b"2024-03-08 14:02:48 WARN after the hole\n");
    std::fs::write(logs.join("app.log"), &cut).unwrap();

    let bundle = dir.path().join("b");
    let err = ingest_ok(&bundle, &logs);
    assert!(
        err.contains("skipped 2 binary files found in the directories"),
        "{err}"
    );
    let wtmp_path = logs.join("wtmp");
    assert!(
        err.contains(&format!("{}: a NUL byte at offset 1", wtmp_path.display())),
        "{err}"
    );
    assert!(
        err.contains("system.journal: a NUL byte at offset 8"),
        "{err}"
    );
    assert!(err.contains("journalctl --file FILE -o json"), "{err}");
    assert_eq!(verify_json(&bundle).1["records"], 2, "syslog and app.log");

    // Named on the command line, a binary file is read as the user asked.
    let named = dir.path().join("named");
    let err = ingest_ok(&named, &wtmp_path);
    assert!(!err.contains("skipped"), "{err}");
    assert_eq!(verify_json(&named).1["records"], 1);
}

#[test]
fn unparsed_lines_are_kept_counted_and_explained() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mixed.log");
    std::fs::write(
        &input,
        "{\"msg\":\"ok\",\"level\":\"info\"}\nnot json\n{\"msg\":\"ok again\"}\n",
    )
    .unwrap();
    let bundle = dir.path().join("b");
    let o = trawl(&[
        "ingest",
        "--out",
        bundle.to_str().unwrap(),
        "--format",
        "json",
        input.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 lines did not parse"), "{err}");
    assert!(err.contains("line 2: not JSON"), "{err}");
    assert_eq!(verify_json(&bundle).1["records"], 3, "nothing is dropped");
}

#[test]
fn input_and_usage_errors_have_the_documented_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let out = out.to_str().unwrap();
    let o = trawl(&["ingest", "--out", out, "/nonexistent/app.log"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("/nonexistent/app.log: no such file or directory"),
        "{}",
        text(&o)
    );
    let o = trawl(&["ingest", "--out", out, "--format", "xml", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("expected one of json, logfmt"),
        "{}",
        text(&o)
    );
    let o = trawl(&["ingest", "--out", out, "--tz", "Mars/Olympus", "-"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("unknown time zone"), "{}", text(&o));
    assert_eq!(trawl(&["ingest"]).status.code(), Some(2));
    assert_eq!(trawl(&["verify", "/nonexistent"]).status.code(), Some(1));
    for cmd in [
        &["--help"][..],
        &["ingest", "--help"],
        &["verify", "--help"],
        &["serve", "--help"],
    ] {
        assert_eq!(trawl(cmd).status.code(), Some(0), "{cmd:?}");
    }
}

#[test]
fn verify_reports_damage_with_file_and_offset_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("a.log");
    let lines: String = (0..3000)
        .map(|i| {
            format!(
                "2024-03-08 14:02:{:02} INFO line {i} with some words to fill the block\n",
                i % 60
            )
        })
        .collect();
    std::fs::write(&input, lines).unwrap();
    let bundle = dir.path().join("b");
    assert!(trawl(&[
        "ingest",
        "--out",
        bundle.to_str().unwrap(),
        input.to_str().unwrap()
    ])
    .status
    .success());
    let seg = std::fs::read_dir(&bundle)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();
    let (code, report) = verify_json(&bundle);
    assert_eq!(code, Some(1));
    assert_eq!(report["ok"], false);
    let problems = [&report["bad_frames"], &report["torn_tails"]];
    let finding = problems
        .iter()
        .flat_map(|p| p.as_array().unwrap())
        .next()
        .expect("a finding");
    assert_eq!(
        finding["offset"], 64,
        "the first frame starts right after the header"
    );
    assert!(finding["file"].as_str().unwrap().ends_with(".seg"));
    let o = trawl(&["verify", bundle.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("offset 64"), "{}", text(&o));
}
