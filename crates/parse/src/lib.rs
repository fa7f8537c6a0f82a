//! Log format detection and parsers, pure Rust so they build natively and for wasm32.
//!
//! Empty until the ingest issue lands: see `DESIGN.md` ("Record model") for what the parsers
//! will produce. Nothing here is exported yet.
