// Starts the app's wasm. Trunk writes the hashed file names into this script tag's data
// attributes (Trunk.toml `pattern_script`); an external module keeps the page free of inline
// script, so it runs under `script-src 'self' 'wasm-unsafe-eval'`.
const tag = document.querySelector('script[data-trawl-js]');
const url = (name) => new URL(tag.dataset[name], document.baseURI).href;
const { default: init } = await import(url('trawlJs'));
await init({ module_or_path: url('trawlWasm') });
