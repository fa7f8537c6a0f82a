// Starts the store worker's wasm (a classic worker script: wasm-bindgen's no-modules output).
// Messages the app sends while the wasm loads are held here and handed to the worker's own
// handler once it is installed (by its `main`, when instantiation finishes): none is lost.
const early = [];
self.onmessage = (event) => early.push(event);
importScripts('./worker.js');
wasm_bindgen({ module_or_path: './worker_bg.wasm' }).then(() => {
  for (const event of early.splice(0)) self.onmessage(event);
});
