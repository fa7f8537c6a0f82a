//! Inputs: files, directories (recursively), `.gz` files and `-` for stdin, read as lines.

use std::{
    fs::File,
    io::{self, BufRead, BufReader, Read},
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// The name records keep as their source.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_owned(),
            Input::File(path) => path.display().to_string(),
        }
    }

    /// Bytes on disk (compressed size for `.gz`), if known.
    pub fn size(&self) -> Option<u64> {
        match self {
            Input::Stdin => None,
            Input::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
        }
    }

    /// A buffered reader of the input's bytes (decompressed if it is gzip), counting the raw
    /// bytes read into `counter`.
    pub fn open(
        &self,
        counter: impl FnMut(usize) + Send + 'static,
    ) -> Result<Box<dyn BufRead + Send>> {
        let raw: Box<dyn Read + Send> = match self {
            Input::Stdin => Box::new(io::stdin()),
            Input::File(path) => Box::new(
                File::open(path).with_context(|| format!("{}: cannot open", path.display()))?,
            ),
        };
        let counted = Counted {
            inner: raw,
            counter,
        };
        let is_gz = matches!(self, Input::File(p) if p.extension().is_some_and(|e| e == "gz"));
        Ok(if is_gz {
            Box::new(BufReader::with_capacity(
                1 << 20,
                flate2::read::MultiGzDecoder::new(BufReader::new(counted)),
            ))
        } else {
            Box::new(BufReader::with_capacity(1 << 20, counted))
        })
    }
}

struct Counted<R, F> {
    inner: R,
    counter: F,
}

impl<R: Read, F: FnMut(usize)> Read for Counted<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.counter)(n);
        Ok(n)
    }
}

/// Expands the command line's inputs: directories into their files (recursively, sorted,
/// hidden entries skipped), `-` into stdin. Errors name the path.
pub fn expand(args: &[String]) -> Result<Vec<Input>> {
    let mut out = Vec::new();
    for arg in args {
        if arg == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let path = Path::new(arg);
        let meta =
            std::fs::metadata(path).with_context(|| format!("{arg}: no such file or directory"))?;
        if meta.is_dir() {
            walk(path, &mut out)?;
        } else {
            out.push(Input::File(path.to_owned()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<Input>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read directory", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.is_file() {
            out.push(Input::File(path));
        }
    }
    Ok(())
}
