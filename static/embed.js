// An example host page for trawl's embedding API (README: "Embedding"): it opens bundles and
// sets the query of the trawl in its iframe with postMessage. `?bundle=URL` (repeatable) and
// `?q=QUERY` on this page are passed on once trawl says it is ready.
const frame = document.getElementById('trawl');
const status = document.getElementById('status');
const trawlOrigin = new URL(frame.src, location.href).origin;
const params = new URLSearchParams(location.search);
let ready = false;

function send(message) {
  frame.contentWindow.postMessage(message, trawlOrigin);
}

window.addEventListener('message', (event) => {
  if (event.source !== frame.contentWindow || event.origin !== trawlOrigin) return;
  const message = event.data;
  if (message.type === 'trawl:ready' && !ready) {
    ready = true;
    status.textContent = 'trawl is ready';
    for (const url of params.getAll('bundle')) send({ type: 'trawl:open', url });
    if (params.has('q')) send({ type: 'trawl:query', query: params.get('q') });
  } else if (message.type === 'trawl:imported') {
    status.textContent = `imported ${message.name}: ${message.records} records`;
  } else if (message.type === 'trawl:error') {
    status.textContent = `trawl: ${message.message}`;
  }
});
// In case trawl was ready before this script listened.
frame.addEventListener('load', () => send({ type: 'trawl:hello' }));

document.getElementById('open').addEventListener('submit', (event) => {
  event.preventDefault();
  send({ type: 'trawl:open', url: document.getElementById('bundle-url').value });
});
document.getElementById('query').addEventListener('submit', (event) => {
  event.preventDefault();
  send({ type: 'trawl:query', query: document.getElementById('query-text').value });
});

// For the browser console (and tests): trawlHost.send({ type: 'trawl:query', query: 'level:error' }).
window.trawlHost = { send };
