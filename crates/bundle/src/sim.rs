//! A simulated file system that loses what a power cut may lose (feature `sim`).
//!
//! [`SimFs`] keeps, for every file, the bytes the OS has (volatile) and the bytes on disk
//! (durable), and for the namespace the entries the OS shows and those on disk, with the
//! create/rename/remove operations not yet made durable by a directory sync. At any moment,
//! [`SimFs::crash`] builds the disk as a power cut could leave it: the durable state plus an
//! adversarial choice of the rest ([`Crash`]): a prefix or any subset of the unsynced sectors,
//! a torn sector, a file grown with zeros or garbage, a prefix or subset of the unsynced
//! directory operations.
//!
//! A crash can also be armed to happen at the n-th mutating operation
//! ([`SimFs::crash_at_op`]): from then on every operation fails, as if the process had died,
//! and [`SimFs::crashed_state`] gives the moment of the crash. Sync failures can be injected
//! ([`SimFs::fail_sync_at`]) with Linux's semantics: the error is reported once, the pages are
//! marked clean, and the data never reaches the disk.

use std::{
    collections::BTreeMap,
    fmt,
    io::{self, Cursor, Read},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
};

use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::fs::{Fs, FsFile};

/// Sector size: the unit a crash keeps or loses.
pub const SECTOR: usize = 512;

type InodeId = usize;

#[derive(Debug, Clone, Default)]
struct Inode {
    volatile: Vec<u8>,
    durable: Vec<u8>,
    /// Byte ranges whose failed sync marked them clean: they never reach the disk.
    lost: Vec<(usize, usize)>,
}

#[derive(Debug, Clone)]
enum NameOp {
    Link(PathBuf, InodeId),
    Unlink(PathBuf),
}

#[derive(Debug, Clone, Default)]
struct State {
    inodes: Vec<Inode>,
    volatile_names: BTreeMap<PathBuf, InodeId>,
    durable_names: BTreeMap<PathBuf, InodeId>,
    /// Unsynced namespace operations, in order, with the directory they belong to.
    pending: Vec<(PathBuf, NameOp)>,
    dirs: Vec<PathBuf>,
    locks: Vec<PathBuf>,
    /// Mutating operations so far.
    ops: u64,
    syncs: u64,
    crash_at: Option<u64>,
    fail_sync_at: Option<u64>,
    crashed: Option<Box<State>>,
}

/// A simulated file system. Clones share the same disk.
#[derive(Clone, Default)]
pub struct SimFs {
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for SimFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.lock();
        f.debug_struct("SimFs")
            .field("files", &s.volatile_names.len())
            .field("ops", &s.ops)
            .finish()
    }
}

/// How a simulated power cut treats what was not synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    /// Nothing unsynced survives.
    Clean,
    /// Everything written survives (the OS flushed it all just in time).
    Everything,
    /// A random choice of everything below, drawn from `seed`.
    Random { seed: u64 },
    /// Unsynced sectors survive iff bit `i` of `mask` is set (sector `i` counted over all
    /// files in name order); files keep their new sizes, lost sectors read as zeros; the first
    /// `names` unsynced namespace operations survive.
    Exact { mask: u64, names: usize },
}

fn crash_error() -> io::Error {
    io::Error::other("simulated crash: the process is dead")
}

impl State {
    /// Counts a mutating operation; fails once the armed crash has happened.
    fn op(&mut self) -> io::Result<()> {
        if self.crashed.is_some() {
            return Err(crash_error());
        }
        self.ops += 1;
        Ok(())
    }

    /// Called after a mutating operation took effect: takes the crash snapshot if armed here.
    fn after_op(&mut self) {
        if self.crash_at == Some(self.ops) {
            let mut snapshot = self.clone();
            snapshot.crashed = None;
            self.crashed = Some(Box::new(snapshot));
        }
    }

    fn inode_of(&self, path: &Path) -> io::Result<InodeId> {
        self.volatile_names.get(path).copied().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no such file", path.display()),
            )
        })
    }

    fn link(&mut self, path: &Path, inode: InodeId) {
        self.volatile_names.insert(path.to_owned(), inode);
        self.pending
            .push((parent(path), NameOp::Link(path.to_owned(), inode)));
    }

    fn unlink(&mut self, path: &Path) {
        self.volatile_names.remove(path);
        self.pending
            .push((parent(path), NameOp::Unlink(path.to_owned())));
    }

    /// Unsynced sectors of every file, in name order: `(inode, sector index)`.
    fn unsynced_sectors(&self) -> Vec<(InodeId, usize)> {
        let mut inodes: Vec<InodeId> = self.volatile_names.values().copied().collect();
        inodes.extend(self.durable_names.values().copied());
        inodes.sort_unstable();
        inodes.dedup();
        let mut out = Vec::new();
        for id in inodes {
            let inode = &self.inodes[id];
            let len = inode.volatile.len().max(inode.durable.len());
            for sector in 0..len.div_ceil(SECTOR) {
                let range = sector * SECTOR..((sector + 1) * SECTOR).min(len);
                let new = inode.volatile.get(range.clone());
                let old = inode.durable.get(range.clone());
                if new != old {
                    out.push((id, sector));
                }
            }
        }
        out
    }
}

fn parent(path: &Path) -> PathBuf {
    path.parent().map(Path::to_owned).unwrap_or_default()
}

impl SimFs {
    /// An empty file system.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock poisons it; the state is still consistent enough to
        // report from, so take it anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Mutating operations performed so far.
    pub fn ops(&self) -> u64 {
        self.lock().ops
    }

    /// Arms a crash right after mutating operation number `op` (1-based) takes effect.
    pub fn crash_at_op(&self, op: u64) {
        self.lock().crash_at = Some(op);
    }

    /// Makes sync number `n` (1-based, counting file and directory syncs) fail with EIO.
    pub fn fail_sync_at(&self, n: u64) {
        self.lock().fail_sync_at = Some(n);
    }

    /// Whether the armed crash happened.
    pub fn has_crashed(&self) -> bool {
        self.lock().crashed.is_some()
    }

    /// Unsynced sectors and namespace operations right now: what [`Crash::Exact`] chooses from.
    pub fn unsynced(&self) -> (usize, usize) {
        let s = self.lock();
        (s.unsynced_sectors().len(), s.pending.len())
    }

    /// Same as [`SimFs::unsynced`] at the moment of the armed crash.
    pub fn unsynced_at_crash(&self) -> Option<(usize, usize)> {
        let s = self.lock();
        let c = s.crashed.as_ref()?;
        Some((c.unsynced_sectors().len(), c.pending.len()))
    }

    /// The disk after a power cut now (or at the armed crash, if it happened): a new file
    /// system where everything is durable.
    pub fn crash(&self, how: Crash) -> SimFs {
        let s = self.lock();
        let at = s.crashed.as_deref().unwrap_or(&s);
        SimFs {
            state: Arc::new(Mutex::new(power_cut(at, how))),
        }
    }

    /// The volatile content of `path`, for assertions.
    pub fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        let s = self.lock();
        Ok(s.inodes[s.inode_of(path)?].volatile.clone())
    }

    /// Overwrites `path`'s content durably (to plant corruption in tests).
    pub fn write_file(&self, path: &Path, content: &[u8]) -> io::Result<()> {
        let mut s = self.lock();
        let id = s.inode_of(path)?;
        s.inodes[id].volatile = content.to_vec();
        s.inodes[id].durable = content.to_vec();
        Ok(())
    }
}

fn power_cut(at: &State, how: Crash) -> State {
    let mut rng = match how {
        Crash::Random { seed } => Some(StdRng::seed_from_u64(seed)),
        _ => None,
    };
    let mut inodes = at.inodes.clone();

    // Which unsynced sectors reach the disk.
    let sectors = at.unsynced_sectors();
    let ordered_prefix = rng
        .as_mut()
        .map(|r| (r.random_bool(0.5), r.random_range(0..=sectors.len())));
    for (i, &(id, sector)) in sectors.iter().enumerate() {
        let keep = match how {
            Crash::Clean => false,
            Crash::Everything => true,
            Crash::Exact { mask, .. } => i < 64 && mask & (1 << i) != 0,
            Crash::Random { .. } => {
                let (prefix_model, cut) = ordered_prefix.expect("random");
                if prefix_model {
                    i < cut
                } else {
                    rng.as_mut().expect("random").random_bool(0.5)
                }
            }
        };
        if keep {
            let inode = &mut inodes[id];
            let range = sector * SECTOR..((sector + 1) * SECTOR).min(inode.volatile.len());
            if inode
                .lost
                .iter()
                .any(|&(a, b)| range.start < b && a < range.end)
            {
                continue;
            }
            if inode.durable.len() < range.end {
                inode.durable.resize(range.end, 0);
            }
            if range.start < range.end {
                let src = inode.volatile[range.clone()].to_vec();
                inode.durable[range].copy_from_slice(&src);
            }
        }
    }

    // File sizes: a size change may or may not persist; garbage or a torn sector may appear.
    for (id, inode) in inodes.iter_mut().enumerate() {
        let _ = id;
        let new_len = inode.volatile.len();
        match how {
            Crash::Clean => {}
            Crash::Everything | Crash::Exact { .. } => inode.durable.resize(new_len, 0),
            Crash::Random { .. } => {
                let r = rng.as_mut().expect("random");
                let old_len = inode.durable.len();
                if new_len != old_len && r.random_bool(0.7) {
                    inode.durable.resize(new_len, 0);
                    if new_len > old_len && r.random_bool(0.3) {
                        // "Nonsense" in the grown part instead of zeros.
                        let from = r.random_range(old_len..new_len);
                        for byte in &mut inode.durable[from..] {
                            if *byte == 0 {
                                *byte = r.random();
                            }
                        }
                    }
                }
                if !inode.durable.is_empty() && r.random_bool(0.1) {
                    // One torn sector: a mix of old and new bytes at 8-byte granularity.
                    let sector = r.random_range(0..inode.durable.len().div_ceil(SECTOR));
                    let end = ((sector + 1) * SECTOR).min(inode.durable.len());
                    for at in (sector * SECTOR..end).step_by(8) {
                        if r.random_bool(0.5) {
                            let chunk_end = (at + 8).min(end);
                            for i in at..chunk_end {
                                inode.durable[i] = inode.volatile.get(i).copied().unwrap_or(0);
                            }
                        }
                    }
                }
            }
        }
        inode.volatile = inode.durable.clone();
        inode.lost.clear();
    }

    // Which unsynced namespace operations reach the disk.
    let mut names = at.durable_names.clone();
    let keep_names: Vec<bool> = match how {
        Crash::Clean => vec![false; at.pending.len()],
        Crash::Everything => vec![true; at.pending.len()],
        Crash::Exact { names, .. } => (0..at.pending.len()).map(|i| i < names).collect(),
        Crash::Random { .. } => {
            let r = rng.as_mut().expect("random");
            if r.random_bool(0.5) {
                let cut = r.random_range(0..=at.pending.len());
                (0..at.pending.len()).map(|i| i < cut).collect()
            } else {
                (0..at.pending.len()).map(|_| r.random_bool(0.5)).collect()
            }
        }
    };
    for ((_, op), keep) in at.pending.iter().zip(keep_names) {
        if !keep {
            continue;
        }
        match op {
            NameOp::Link(path, id) => {
                names.insert(path.clone(), *id);
            }
            NameOp::Unlink(path) => {
                names.remove(path);
            }
        }
    }

    State {
        inodes,
        volatile_names: names.clone(),
        durable_names: names,
        dirs: at.dirs.clone(),
        ..State::default()
    }
}

#[derive(Debug)]
struct SimFile {
    fs: SimFs,
    inode: InodeId,
}

impl FsFile for SimFile {
    fn append(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut s = self.fs.lock();
        s.op()?;
        s.inodes[self.inode].volatile.extend_from_slice(buf);
        s.after_op();
        Ok(())
    }

    fn sync_data(&mut self) -> io::Result<()> {
        let mut s = self.fs.lock();
        s.op()?;
        s.syncs += 1;
        if s.fail_sync_at == Some(s.syncs) {
            let inode = &mut s.inodes[self.inode];
            // Linux: the dirty pages are marked clean; their data never reaches the disk.
            let start = common_prefix(&inode.volatile, &inode.durable);
            inode.lost.push((start, inode.volatile.len().max(start)));
            s.after_op();
            return Err(io::Error::other("simulated EIO from fdatasync"));
        }
        let inode = &mut s.inodes[self.inode];
        let mut durable = inode.volatile.clone();
        for &(a, b) in &inode.lost {
            for (i, byte) in durable.iter_mut().enumerate().take(b).skip(a) {
                *byte = inode.durable.get(i).copied().unwrap_or(0);
            }
        }
        inode.durable = durable;
        s.after_op();
        Ok(())
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        let mut s = self.fs.lock();
        s.op()?;
        s.inodes[self.inode].volatile.truncate(len as usize);
        s.after_op();
        Ok(())
    }
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl Fs for SimFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        if !s.dirs.iter().any(|d| d == dir) {
            s.dirs.push(dir.to_owned());
        }
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.lock();
        if s.crashed.is_some() {
            return Err(crash_error());
        }
        Ok(s.volatile_names
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect())
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let mut s = self.lock();
        s.op()?;
        if s.volatile_names.contains_key(path) {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        s.inodes.push(Inode::default());
        let inode = s.inodes.len() - 1;
        s.link(path, inode);
        s.after_op();
        Ok(Box::new(SimFile {
            fs: self.clone(),
            inode,
        }))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let s = self.lock();
        if s.crashed.is_some() {
            return Err(crash_error());
        }
        let inode = s.inode_of(path)?;
        Ok(Box::new(SimFile {
            fs: self.clone(),
            inode,
        }))
    }

    fn open_read(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        let s = self.lock();
        if s.crashed.is_some() {
            return Err(crash_error());
        }
        let id = s.inode_of(path)?;
        Ok(Box::new(Cursor::new(s.inodes[id].volatile.clone())))
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        let s = self.lock();
        Ok(s.inodes[s.inode_of(path)?].volatile.len() as u64)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.op()?;
        let id = s.inode_of(from)?;
        s.unlink(from);
        s.link(to, id);
        s.after_op();
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.op()?;
        s.inode_of(path)?;
        s.unlink(path);
        s.after_op();
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.op()?;
        s.syncs += 1;
        if s.fail_sync_at == Some(s.syncs) {
            s.after_op();
            return Err(io::Error::other("simulated EIO from fsync of a directory"));
        }
        let pending = std::mem::take(&mut s.pending);
        for (parent, op) in pending {
            if parent != dir {
                s.pending.push((parent, op));
                continue;
            }
            match op {
                NameOp::Link(path, id) => {
                    s.durable_names.insert(path, id);
                }
                NameOp::Unlink(path) => {
                    s.durable_names.remove(&path);
                }
            }
        }
        s.after_op();
        Ok(())
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn Send + Sync + fmt::Debug>> {
        let mut s = SimFs::lock(self);
        if s.locks.iter().any(|p| p == path) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        s.locks.push(path.to_owned());
        Ok(Box::new(SimLock {
            fs: self.clone(),
            path: path.to_owned(),
        }))
    }
}

#[derive(Debug)]
struct SimLock {
    fs: SimFs,
    path: PathBuf,
}

impl Drop for SimLock {
    fn drop(&mut self) {
        self.fs.lock().locks.retain(|p| p != &self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(fs: &SimFs, path: &str, data: &[u8], sync: bool) -> Box<dyn FsFile> {
        let mut f = fs.create_new(Path::new(path)).unwrap();
        f.append(data).unwrap();
        if sync {
            f.sync_data().unwrap();
        }
        f
    }

    fn read(fs: &SimFs, path: &str) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        fs.open_read(Path::new(path))
            .ok()?
            .read_to_end(&mut out)
            .unwrap();
        Some(out)
    }

    #[test]
    fn unsynced_data_and_names_are_lost_in_a_clean_crash() {
        let fs = SimFs::new();
        let _a = write(&fs, "/d/a", b"synced", true);
        fs.sync_dir(Path::new("/d")).unwrap();
        let _b = write(&fs, "/d/b", b"never synced", false);
        let after = fs.crash(Crash::Clean);
        assert_eq!(read(&after, "/d/a").unwrap(), b"synced");
        assert_eq!(read(&after, "/d/b"), None);
    }

    #[test]
    fn a_file_synced_but_not_its_directory_may_vanish() {
        let fs = SimFs::new();
        let _a = write(&fs, "/d/a", b"data", true);
        assert_eq!(read(&fs.crash(Crash::Clean), "/d/a"), None);
        assert_eq!(read(&fs.crash(Crash::Everything), "/d/a").unwrap(), b"data");
    }

    #[test]
    fn a_rename_without_a_directory_sync_may_be_lost() {
        let fs = SimFs::new();
        let _t = write(&fs, "/d/x.tmp", b"data", true);
        fs.sync_dir(Path::new("/d")).unwrap();
        fs.rename(Path::new("/d/x.tmp"), Path::new("/d/x")).unwrap();
        let lost = fs.crash(Crash::Clean);
        assert!(read(&lost, "/d/x").is_none() && read(&lost, "/d/x.tmp").is_some());
        fs.sync_dir(Path::new("/d")).unwrap();
        let kept = fs.crash(Crash::Clean);
        assert!(read(&kept, "/d/x").is_some() && read(&kept, "/d/x.tmp").is_none());
    }

    #[test]
    fn exact_crashes_choose_sectors_and_fill_the_rest_with_zeros() {
        let fs = SimFs::new();
        let mut f = write(&fs, "/d/a", &[1; 10], true);
        fs.sync_dir(Path::new("/d")).unwrap();
        f.append(&[2; 2 * SECTOR]).unwrap();
        assert_eq!(fs.unsynced(), (3, 0));
        let after = fs.crash(Crash::Exact {
            mask: 0b100,
            names: 0,
        });
        let data = read(&after, "/d/a").unwrap();
        assert_eq!(data.len(), 10 + 2 * SECTOR);
        assert_eq!(&data[..10], &[1; 10]);
        assert!(
            data[10..2 * SECTOR].iter().all(|&b| b == 0),
            "sectors 0 and 1 lost"
        );
        assert!(data[2 * SECTOR..].iter().all(|&b| b == 2), "sector 2 kept");
    }

    #[test]
    fn a_failed_sync_never_reaches_the_disk_even_after_a_later_sync() {
        let fs = SimFs::new();
        let mut f = write(&fs, "/d/a", b"old", true);
        fs.sync_dir(Path::new("/d")).unwrap();
        f.append(b" new").unwrap();
        fs.fail_sync_at(3);
        assert!(f.sync_data().is_err());
        assert!(f.sync_data().is_ok(), "Linux reports the error once");
        let after = fs.crash(Crash::Clean);
        assert_eq!(read(&after, "/d/a").unwrap(), b"old\0\0\0\0");
    }

    #[test]
    fn an_armed_crash_freezes_the_disk_and_fails_everything_after() {
        let fs = SimFs::new();
        fs.crash_at_op(2);
        let mut f = fs.create_new(Path::new("/d/a")).unwrap();
        f.append(b"one").unwrap();
        assert!(f.append(b"two").is_err());
        assert!(f.sync_data().is_err());
        assert!(fs.has_crashed());
        let after = fs.crash(Crash::Everything);
        assert_eq!(read(&after, "/d/a").unwrap(), b"one");
    }

    #[test]
    fn random_crashes_are_reproducible() {
        let fs = SimFs::new();
        let mut f = write(&fs, "/d/a", &[7; 3000], false);
        f.append(&[8; 3000]).unwrap();
        let a = read(&fs.crash(Crash::Random { seed: 9 }), "/d/a");
        let b = read(&fs.crash(Crash::Random { seed: 9 }), "/d/a");
        assert_eq!(a, b);
    }
}
