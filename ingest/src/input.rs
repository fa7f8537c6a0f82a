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
    /// A file named on the command line: read whatever it holds.
    File(PathBuf),
    /// A file found in a directory named on the command line: read unless it is binary
    /// ([`binary_at`]), as `/var/log` holds `wtmp`, journald's files and `.xz` archives.
    Found(PathBuf),
}

/// How many bytes at the start of a file found in a directory are checked for binary data.
pub const BINARY_CHECK_BYTES: usize = 8 << 10;

/// Where `head` (a file's first bytes, up to [`BINARY_CHECK_BYTES`] of them are looked at)
/// shows binary data: the offset of the first NUL byte that comes after any other byte. A
/// text log holds no NUL, while login records, journald's files and compressed archives have
/// one within their first bytes. A leading run of NULs alone is not binary: it is the hole a
/// writer leaves when `logrotate`'s copytruncate cuts its file under it, and the text goes on
/// after it.
pub fn binary_at(head: &[u8]) -> Option<usize> {
    let head = &head[..head.len().min(BINARY_CHECK_BYTES)];
    let text = head.iter().position(|&b| b != 0)?;
    head[text..]
        .iter()
        .position(|&b| b == 0)
        .map(|nul| text + nul)
}

impl Input {
    /// The file to read, unless the input is stdin.
    fn path(&self) -> Option<&Path> {
        match self {
            Input::Stdin => None,
            Input::File(path) | Input::Found(path) => Some(path),
        }
    }

    /// The name records keep as their source.
    pub fn name(&self) -> String {
        self.path()
            .map_or_else(|| "-".to_owned(), |path| path.display().to_string())
    }

    /// Bytes on disk (compressed size for `.gz`), if known.
    pub fn size(&self) -> Option<u64> {
        let metadata = std::fs::metadata(self.path()?).ok()?;
        Some(metadata.len())
    }

    /// A buffered reader of the input's bytes (decompressed if it is gzip), counting the raw
    /// bytes read into `counter`.
    pub fn open(
        &self,
        counter: impl FnMut(usize) + Send + 'static,
    ) -> Result<Box<dyn BufRead + Send>> {
        let raw: Box<dyn Read + Send> = match self.path() {
            None => Box::new(io::stdin()),
            Some(path) => Box::new(
                File::open(path).with_context(|| format!("{}: cannot open", path.display()))?,
            ),
        };
        let counted = Counted {
            inner: raw,
            counter,
        };
        let is_gz = self
            .path()
            .is_some_and(|path| path.extension().is_some_and(|e| e == "gz"));
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

/// Expands the command line's inputs: directories into the files found in them
/// ([`Input::Found`], recursively, sorted, hidden entries skipped), `-` into stdin. Errors name
/// the path.
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
            out.push(Input::Found(path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::binary_at;

    #[test]
    fn text_is_not_binary() {
        assert_eq!(binary_at(b"2024-03-08 14:02:47 INFO started\n"), None);
        assert_eq!(binary_at(b""), None);
        assert_eq!(
            binary_at("caf\u{e9} \x1b[31mred\x1b[0m\r\n".as_bytes()),
            None
        );
    }

    #[test]
    fn a_nul_after_other_bytes_is_binary() {
        // A wtmp record starts with its type as a little-endian i32.
        assert_eq!(binary_at(b"\x07\x00\x00\x00pts/0"), Some(1));
        assert_eq!(binary_at(b"LPKSHHRH\x00\x00"), Some(8));
        assert_eq!(binary_at(b"\xfd7zXZ\x00\x00"), Some(5));
        // Leading NULs, then text, then a NUL.
        assert_eq!(binary_at(b"\x00\x00ok\x00"), Some(4));
    }

    #[test]
    fn a_copytruncate_hole_before_text_is_not_binary() {
        let mut file = vec![0u8; 3000];
        file.extend_from_slice(b"2024-03-08 14:02:47 INFO after the hole\n");
        assert_eq!(binary_at(&file), None);
        assert_eq!(binary_at(&[0u8; 100]), None);
    }

    #[test]
    fn only_the_first_bytes_are_looked_at() {
        let mut file = vec![b'a'; super::BINARY_CHECK_BYTES];
        file.push(0);
        assert_eq!(binary_at(&file), None);
    }
}
