// Starts the store worker's wasm (a classic worker script: wasm-bindgen's no-modules output).
importScripts('./worker.js');
wasm_bindgen({ module_or_path: './worker_bg.wasm' });
