//! Test data for both targets: real sample logs parsed by trawl-parse, written as segments in
//! memory with the bundle format's own frame encoding (what the writer writes, minus the
//! files).

use trawl_bundle::Record;
use trawl_parse::{sniff::sniff, time::TimeContext, Options, Parser};

/// Sample files compiled in, so the same tests run in the browser.
pub const OPENSSH: &str = include_str!("../../../../../shared/samples/loghub/OpenSSH_2k.log");
pub const HDFS: &str = include_str!("../../../../../shared/samples/loghub/HDFS_2k.log");
pub const CRI_JSON: &str =
    include_str!("../../../../../shared/samples/synthetic/cri_containerd_json_apps.log");

/// The records trawl ingest makes of `text`, with `source` as their file.
pub fn parse(source: &str, text: &str) -> Vec<Record> {
    let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
    let time = TimeContext {
        year: 2024,
        ..TimeContext::default()
    };
    let format = sniff(lines.iter().take(50).copied(), &time);
    let options = Options {
        time,
        source: source.to_owned(),
        ..Options::default()
    };
    let mut parser = Parser::new(format, options);
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        parser.line(line, i as u64 + 1, &mut out);
    }
    parser.finish(&mut out);
    out
}

pub use crate::corpus::segment;
