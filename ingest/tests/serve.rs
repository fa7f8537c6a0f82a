//! `trawl serve` as a user runs it: the real binary, real files, real HTTP on loopback.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    process::{Child, Command, Output, Stdio},
};

const TRAWL: &str = env!("CARGO_BIN_EXE_trawl");

/// A running `trawl serve`, killed on drop.
struct Serve {
    child: Child,
    addr: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str]) -> Serve {
    let mut child = Command::new(TRAWL)
        .arg("serve")
        .args(args)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit_once(" at http://").unwrap().1;
    let addr = url.split_once('/').unwrap().0.to_owned();
    Serve { child, addr }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn get(addr: &str, path: &str) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &[u8]| std::fs::write(dir.path().join(name), body).unwrap();
    write("index.html", b"<!doctype html><title>trawl</title>");
    write("app_bg.wasm", b"\0asm\x01\0\0\0");
    write("sw.js", b"// service worker");
    write("manifest.webmanifest", b"{}");
    dir
}

fn run_fail(args: &[&str]) -> Output {
    Command::new(TRAWL)
        .arg("serve")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn serves_the_site_with_the_right_types_and_headers() {
    let site = site();
    let server = serve(&[site.path().to_str().unwrap()]);

    let index = get(&server.addr, "/");
    assert_eq!(index.status, 200);
    assert!(index.body.starts_with(b"<!doctype html>"));
    assert_eq!(index.header("content-type"), Some("text/html"));
    assert_eq!(
        index.header("content-security-policy"),
        Some("script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'self'")
    );

    let wasm = get(&server.addr, "/app_bg.wasm");
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));

    let sw = get(&server.addr, "/sw.js");
    assert_eq!(sw.header("cache-control"), Some("no-cache"));
    assert!(sw.header("content-type").unwrap().contains("javascript"));

    assert_eq!(get(&server.addr, "/missing.js").status, 404);
    assert_eq!(get(&server.addr, "/../../etc/passwd").status, 404);
}

#[test]
fn serves_under_a_base_path_and_redirects_to_it() {
    let site = site();
    let server = serve(&[site.path().to_str().unwrap(), "--base-path", "/tools/trawl"]);

    assert_eq!(get(&server.addr, "/tools/trawl/").status, 200);
    assert_eq!(get(&server.addr, "/tools/trawl/app_bg.wasm").status, 200);
    let bare = get(&server.addr, "/tools/trawl");
    assert_eq!(bare.status, 308);
    assert_eq!(bare.header("location"), Some("/tools/trawl/"));
    let root = get(&server.addr, "/");
    assert_eq!(root.status, 307);
    assert_eq!(root.header("location"), Some("/tools/trawl/"));
    assert_eq!(get(&server.addr, "/app_bg.wasm").status, 404);
}

#[test]
fn serves_bundle_directories_beside_the_site() {
    let site = site();
    let bundles = tempfile::tempdir().unwrap();
    let bundle = bundles.path().join("incident-42");
    std::fs::create_dir(&bundle).unwrap();
    std::fs::write(bundle.join("manifest.json"), b"{\"segments\":[]}").unwrap();
    let server = serve(&[
        site.path().to_str().unwrap(),
        "--base-path",
        "/t/",
        "--bundle",
        bundle.to_str().unwrap(),
    ]);
    let manifest = get(&server.addr, "/t/bundles/incident-42/manifest.json");
    assert_eq!(manifest.status, 200);
    assert_eq!(manifest.body, b"{\"segments\":[]}");
    assert_eq!(manifest.header("content-type"), Some("application/json"));
}

#[test]
fn a_missing_site_is_a_clear_error() {
    let output = run_fail(&["/nonexistent/dist"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("'/nonexistent/dist' does not exist"), "{err}");
}

#[test]
fn a_directory_without_index_html_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_fail(&[dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("has no index.html"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let site = site();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = run_fail(&[site.path().to_str().unwrap(), "--port", &port]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains(&format!("port {port} on 127.0.0.1 is already in use")),
        "{err}"
    );
    assert!(err.contains("--port 0"), "{err}");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let site = site();
    let path = site.path().to_str().unwrap();
    for args in [
        vec![path, "--base-path", "/../x/"],
        vec![path, "--port", "http"],
        vec![],
    ] {
        let output = run_fail(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let output = run_fail(&[path, "--base-path", "/a b/"]);
    assert!(
        stderr(&output).contains("like /tools/trawl/"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_missing_bundle_directory_is_a_clear_error() {
    let site = site();
    let output = run_fail(&[
        site.path().to_str().unwrap(),
        "--bundle",
        "/nonexistent/bundle",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("bundle directory '/nonexistent/bundle' does not exist"),
        "{}",
        stderr(&output)
    );
}
