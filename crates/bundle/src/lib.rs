//! trawl's record model, bundle/segment format, durable writer, reader and recovery.
//!
//! Empty until the writer issue lands: see `DESIGN.md` ("Bundle and segment invariants") for
//! what this crate will guarantee. Nothing here is exported yet, so nothing can depend on a
//! half-built format.
