//! Opening the store: the Web Lock first, then the OPFS pool, then SQLite on it.

use gloo_timers::future::TimeoutFuture;
use sqlite_wasm_rs::WasmOsCallback;
use sqlite_wasm_vfs::sahpool::{install, OpfsSAHPoolCfgBuilder};
use trawl_protocol::WorkerState;
use trawl_store::Store;

use crate::{
    lock::{self, Held},
    Outbox, STORE_LOCK,
};

/// The VFS the store is opened with when OPFS works.
pub(crate) const OPFS_VFS: &str = "trawl-opfs";
/// What [`Opened::vfs`] says when OPFS is unavailable and the store lives in memory.
pub(crate) const MEMORY: &str = "memory";
/// OPFS directory holding the pool's files.
const POOL_DIRECTORY: &str = "trawl";
/// The pool holds one access handle per file: the store, its rollback journal, and spares for
/// a super-journal and an attached export database. Fixed and small, since Safari caps the
/// open handles of a page at about 252.
const POOL_CAPACITY: usize = 6;
/// How often, and how many milliseconds apart, a failed pool installation is retried.
const INSTALL_RETRIES: usize = 20;
const INSTALL_RETRY_MS: u32 = 250;
/// The store's file name inside the pool.
const DATABASE: &str = "/trawl.db";

/// A store and where it lives.
pub(crate) struct Opened {
    pub(crate) store: Store,
    pub(crate) vfs: &'static str,
}

impl Opened {
    pub(crate) fn is_opfs(&self) -> bool {
        self.vfs == OPFS_VFS
    }
}

/// Waits for the store lock (telling the app if another tab holds it), then opens the store on
/// OPFS, or in memory if OPFS is unavailable here.
pub(crate) async fn open_store(outbox: &Outbox) -> Result<Opened, String> {
    let navigator = outbox.scope().navigator();
    let held = lock::hold_for_life(&navigator, STORE_LOCK, || {
        outbox.state(WorkerState::WaitingForOtherTab)
    })
    .await?;
    if matches!(held, Held::Unsupported) {
        web_sys::console::warn_1(
            &"trawl: no Web Locks in this browser; keep trawl open in one tab only".into(),
        );
    }

    let config = OpfsSAHPoolCfgBuilder::new()
        .vfs_name(OPFS_VFS)
        .directory(POOL_DIRECTORY)
        .initial_capacity(POOL_CAPACITY)
        .build();
    // The access handles of a tab that just closed (a reload, a navigation) can outlive its
    // Web Lock by a moment: retry a busy pool before settling for memory.
    let mut installed = install::<WasmOsCallback>(&config, false).await;
    for _ in 0..INSTALL_RETRIES {
        match &installed {
            Err(err) if opfs_exists(&navigator) => {
                web_sys::console::info_1(&format!("trawl: OPFS busy ({err}); retrying").into());
                TimeoutFuture::new(INSTALL_RETRY_MS).await;
                installed = install::<WasmOsCallback>(&config, false).await;
            }
            _ => break,
        }
    }
    match installed {
        Ok(_pool) => Store::open_with_vfs(DATABASE, OPFS_VFS)
            .map(|store| Opened {
                store,
                vfs: OPFS_VFS,
            })
            .map_err(|err| format!("opening the store in OPFS: {err}")),
        Err(err) => {
            web_sys::console::warn_1(
                &format!("trawl: OPFS unavailable ({err}); the store lives in memory").into(),
            );
            Store::open_in_memory()
                .map(|store| Opened { store, vfs: MEMORY })
                .map_err(|err| format!("opening the store in memory: {err}"))
        }
    }
}

/// Whether this browser has OPFS at all (else a failed installation is final).
fn opfs_exists(navigator: &web_sys::WorkerNavigator) -> bool {
    js_sys::Reflect::get(&navigator.storage(), &"getDirectory".into())
        .is_ok_and(|f| f.is_function())
}
