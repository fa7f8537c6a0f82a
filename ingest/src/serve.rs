//! `trawl serve`: a static file server for the built viewer and for bundle directories.
//!
//! Loopback only by default. Every response says `Cache-Control: no-cache` (the service worker
//! does the offline caching, and a stale `sw.js` would pin users to an old build), carries the
//! content-security policy the viewer promises to run under, and `.wasm` is served as
//! `application/wasm` so browsers can compile it while streaming.

use std::{
    io::Write,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{bail, Context, Result};
use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Router,
};
use tower::ServiceExt;
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

/// The policy the viewer must run under, so a portal can embed it with the same one.
const CONTENT_SECURITY_POLICY: &str =
    "script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'self'";

/// Arguments of `trawl serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The built viewer site (the `dist/` directory `trunk build` writes).
    #[arg(value_name = "DIR")]
    site: PathBuf,
    /// TCP port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on. Anything but loopback exposes your logs to the network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// URL path the viewer is served under, e.g. `/tools/trawl/`.
    #[arg(long, value_name = "P", default_value = "/", value_parser = BasePath::parse)]
    base_path: BasePath,
    /// A bundle directory to serve under `<base-path>bundles/<its name>/`; repeatable.
    #[arg(long = "bundle", value_name = "BUNDLE_DIR")]
    bundles: Vec<PathBuf>,
}

/// A URL path prefix that starts and ends with `/` and holds only safe path characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasePath(String);

impl BasePath {
    /// Normalises `/tools/trawl`, `tools/trawl/` and `/tools/trawl/` to `/tools/trawl/`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim_matches('/');
        if trimmed.is_empty() {
            return Ok(Self("/".to_owned()));
        }
        for segment in trimmed.split('/') {
            let safe = |c: char| c.is_ascii_alphanumeric() || "-._~".contains(c);
            if segment.is_empty() || segment == "." || segment == ".." || !segment.chars().all(safe)
            {
                return Err(format!(
                    "'{raw}' is not a usable base path: expected segments of letters, digits, \
                     '-', '.', '_' or '~' separated by '/', like /tools/trawl/"
                ));
            }
        }
        Ok(Self(format!("/{trimmed}/")))
    }

    /// The path, with leading and trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Runs the server until interrupted (Ctrl-C or SIGTERM).
pub fn run(args: ServeArgs) -> Result<()> {
    let router = router(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let addr = SocketAddr::new(args.host, args.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|err| bind_error(addr, err))?;
        let local = listener.local_addr()?;
        let mut announcement = format!(
            "trawl: serving {} at http://{local}{}\n",
            args.site.display(),
            args.base_path.as_str()
        );
        let mut opens = Vec::new();
        for bundle in &args.bundles {
            let name = bundle_name(bundle)?;
            announcement += &format!(
                "trawl: bundle {} at http://{local}{}bundles/{name}/\n",
                bundle.display(),
                args.base_path.as_str(),
            );
            opens.push(format!("bundle=bundles/{name}/"));
        }
        if !opens.is_empty() {
            // The viewer imports `?bundle=` URLs on load (skipping what it already stored).
            announcement += &format!(
                "trawl: open http://{local}{}?{} to review them\n",
                args.base_path.as_str(),
                opens.join("&")
            );
        }
        // Whoever started us may have stopped reading stdout: that must not stop the server.
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(announcement.as_bytes());
        let _ = stdout.flush();
        drop(stdout);
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving")
    })
}

fn bind_error(addr: SocketAddr, err: std::io::Error) -> anyhow::Error {
    match err.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
            "port {} on {} is already in use: stop what holds it, or pick another with \
             --port N (--port 0 picks a free one)",
            addr.port(),
            addr.ip()
        ),
        std::io::ErrorKind::AddrNotAvailable => {
            anyhow::anyhow!("{} is not an address of this machine", addr.ip())
        }
        _ => anyhow::Error::new(err).context(format!("listening on {addr}")),
    }
}

fn router(args: &ServeArgs) -> Result<Router> {
    check_site(&args.site)?;
    let base = args.base_path.as_str();

    // Bundles first: `<base>bundles/<name>/` is theirs even if the site has such a folder.
    let mut mounts = Vec::new();
    for bundle in &args.bundles {
        if !bundle.is_dir() {
            bail!("bundle directory '{}' does not exist", bundle.display());
        }
        mounts.push(Mount {
            prefix: format!("{base}bundles/{}/", bundle_name(bundle)?),
            files: ServeDir::new(bundle),
        });
    }
    mounts.push(Mount {
        prefix: base.to_owned(),
        files: ServeDir::new(&args.site),
    });
    // Shared by every request without copying.
    let mounts: Arc<[Mount]> = mounts.into();
    let base: Arc<str> = base.into();

    let app = Router::new().fallback(move |request: Request| {
        let mounts = mounts.clone();
        let base = base.clone();
        async move { dispatch(&mounts, &base, request).await }
    });
    Ok(app
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        )))
}

/// A directory served under a URL prefix (which starts and ends with `/`).
#[derive(Clone)]
struct Mount {
    prefix: String,
    files: ServeDir,
}

/// Serves `request` from the first mount whose prefix it starts with. The base path without
/// its trailing slash, and `/`, redirect to the base path, so relative asset URLs resolve.
async fn dispatch(mounts: &[Mount], base: &str, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if base != "/" {
        if path == base.trim_end_matches('/') {
            return Redirect::permanent(base).into_response();
        }
        if path == "/" {
            return Redirect::temporary(base).into_response();
        }
    }
    let Some(mount) = mounts.iter().find(|m| path.starts_with(&m.prefix)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (mut parts, body) = request.into_parts();
    let rest = &path[mount.prefix.len() - 1..];
    let rewritten = match parts.uri.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let Ok(uri) = rewritten.parse() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    parts.uri = uri;
    match mount
        .files
        .clone()
        .oneshot(Request::from_parts(parts, body))
        .await
    {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}

fn check_site(site: &Path) -> Result<()> {
    if !site.is_dir() {
        bail!(
            "site directory '{}' does not exist: build the viewer first (see README.md)",
            site.display()
        );
    }
    if !site.join("index.html").is_file() {
        bail!(
            "'{}' has no index.html: expected the viewer's built site (trunk build writes dist/)",
            site.display()
        );
    }
    Ok(())
}

fn bundle_name(bundle: &Path) -> Result<String> {
    let canonical = bundle
        .canonicalize()
        .with_context(|| format!("bundle directory '{}'", bundle.display()))?;
    let name = canonical
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("bundle directory '{}' has no usable name", bundle.display()))?;
    Ok(name.to_owned())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let term = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use super::BasePath;

    #[test]
    fn base_paths_normalise() {
        for (raw, want) in [
            ("/", "/"),
            ("", "/"),
            ("/tools/trawl", "/tools/trawl/"),
            ("tools/trawl/", "/tools/trawl/"),
            ("/a.b_c~d-e/", "/a.b_c~d-e/"),
        ] {
            assert_eq!(BasePath::parse(raw).unwrap().as_str(), want);
        }
    }

    #[test]
    fn unsafe_base_paths_are_refused_with_an_example() {
        for raw in ["/a//b/", "/../etc/", "/a b/", "/a?b/", "/<script>/"] {
            let err = BasePath::parse(raw).unwrap_err();
            assert!(err.contains("/tools/trawl/"), "{err}");
        }
    }
}
