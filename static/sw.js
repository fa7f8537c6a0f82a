// trawl's service worker: precaches the built app and serves it cache-first, so the viewer
// loads with no network. scripts/trunk-post-build.sh prepends, at build time:
//   const VERSION = "<hash of every built file>";
//   const PRECACHE = ["./", "index.html", ...];  // every built file, relative to this script
// A new build changes VERSION, so the browser installs the new worker, which takes over and
// deletes the caches of older versions of the same scope. Bundles and anything else not built
// with the app pass through to the network untouched.

const SCOPE = self.registration.scope;
// Several trawl deployments may share an origin (/ and /tools/trawl/): name caches by scope.
const PREFIX = `trawl ${SCOPE} `;
const CACHE = PREFIX + VERSION;
const PRECACHED = new Set(PRECACHE.map((path) => new URL(path, SCOPE).href));
const SHELL = new URL('./', SCOPE).href;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // `reload` bypasses the HTTP cache: the precache must be exactly this build.
    await cache.addAll([...PRECACHED].map((url) => new Request(url, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith(PREFIX) && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  url.search = '';
  url.hash = '';
  if (request.mode === 'navigate' && url.href.startsWith(SCOPE)) {
    // A page built with the app (embed.html) is itself; any other page of the app (with any
    // query, e.g. ?bundle=...) is the app shell, index.html.
    event.respondWith(cachedOr(PRECACHED.has(url.href) ? url.href : SHELL, request));
  } else if (PRECACHED.has(url.href)) {
    event.respondWith(cachedOr(url.href, request));
  }
});

async function cachedOr(key, request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  return hit || fetch(request);
}
