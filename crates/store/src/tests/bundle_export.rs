use super::data::{self, HDFS, OPENSSH};
use super::test;
use crate::{ExportStep, ExportedFile, Flow, ImportOptions, Query, Store, StoreError};
use trawl_bundle::{
    format::{segment_file_name, Codec, WriterId},
    memory::SegmentEncoder,
    Finding, Manifest, SegmentHeader,
};

/// A record's stored columns.
type Row = Vec<rusqlite::types::Value>;

/// Every record of bundle `bundle` as stored, segment row ids aside.
fn rows(store: &Store, bundle: &str) -> Vec<Row> {
    let mut statement = store
        .conn
        .prepare(
            "SELECT id, ts, level, service, host, trace_id, span_id, message, fields, raw,
                    source, line, seq
             FROM records WHERE segment IN (SELECT id FROM segments WHERE bundle = ?1)
             ORDER BY id",
        )
        .unwrap();
    let rows = statement
        .query_map([bundle], |r| (0..13).map(|i| r.get(i)).collect())
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

fn import(store: &mut Store, bundle: &str, file: &ExportedFile) -> crate::SegmentReport {
    store
        .import_segment(
            bundle,
            &file.name,
            &file.bytes[..],
            ImportOptions::default(),
            &mut |_| Flow::Continue,
        )
        .unwrap()
}

fn export(store: &Store, bundle: &str) -> (Vec<ExportedFile>, Manifest) {
    let mut files = Vec::new();
    let manifest = store
        .export_bundle::<StoreError>(bundle, |file| {
            files.push(file);
            Ok(())
        })
        .unwrap();
    (files, manifest)
}

/// A sealed segment, as `trawl ingest` leaves all but its last one.
fn sealed(segment_seq: u64, first_seq: u64, records: &[trawl_bundle::Record]) -> ExportedFile {
    let header = SegmentHeader {
        writer_id: WriterId(0xab),
        segment_seq,
        salt: 0x5a17 + segment_seq,
        first_record_seq: first_seq,
        created_nanos: 1_700_000_000_000_000_000,
    };
    let mut encoder = SegmentEncoder::new(header, 100, Codec::Zstd);
    for (seq, record) in (first_seq..).zip(records) {
        encoder.push(seq, record);
    }
    let name = segment_file_name(segment_seq);
    ExportedFile {
        bytes: encoder.finish(&name, true).bytes,
        name,
    }
}

#[test]
fn an_exported_bundle_imports_elsewhere_as_the_same_records_and_adds_nothing_at_home() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let mut home = Store::open_in_memory().unwrap();
    // A sealed segment and the live one after it, and another bundle beside them.
    let first = sealed(1, 0, &records[..1200]);
    let live = ExportedFile {
        name: segment_file_name(2),
        bytes: data::segment(0xab, 2, 1200, &records[1200..], 100),
    };
    import(&mut home, "ssh", &first);
    import(&mut home, "ssh", &live);
    let hdfs = data::parse("HDFS_2k.log", HDFS);
    let other = data::segment(0xcd, 1, 0, &hdfs, 100);
    home.import_segment(
        "hdfs",
        "h",
        &other[..],
        ImportOptions::default(),
        &mut |_| Flow::Continue,
    )
    .unwrap();

    let (files, manifest) = export(&home, "ssh");
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "00000000000000000001.seg",
            "00000000000000000002.seg",
            "manifest.json"
        ]
    );
    assert_eq!(manifest.record_count, 2000);
    assert_eq!(manifest.writer_id, WriterId(0xab).to_string());
    let entries = &manifest.segments;
    assert_eq!((entries[0].sealed, entries[1].sealed), (true, false));
    assert_eq!((entries[0].first_seq, entries[1].first_seq), (0, 1200));
    assert_eq!(
        (entries[0].record_count, entries[1].record_count),
        (1200, 800)
    );
    assert_eq!(entries[0].created_nanos, 1_700_000_000_000_000_000);
    assert!(entries[0].crc32c.is_some());
    let written: Manifest = serde_json::from_slice(&files[2].bytes).unwrap();
    assert_eq!(written, manifest);

    // Another store (another browser storage) gets the same records under the same ids.
    let mut elsewhere = Store::open_in_memory().unwrap();
    for file in &files[..2] {
        let report = import(&mut elsewhere, "ssh", file);
        assert!(report.findings.is_empty(), "{:?}", report.findings);
    }
    assert_eq!(rows(&elsewhere, "ssh"), rows(&home, "ssh"));
    let query = Query::parse("\"Failed password\" level:info").unwrap();
    assert_eq!(
        elsewhere.count(&query).unwrap(),
        home.count(&query).unwrap()
    );
    let summary = &elsewhere.bundles().unwrap()[0];
    assert_eq!((summary.name.as_str(), summary.records), ("ssh", 2000));
    assert!(summary.findings.is_empty(), "{:?}", summary.findings);

    // Where the bundle came from, its copy adds nothing.
    for file in &files[..2] {
        let report = import(&mut home, "ssh", file);
        assert_eq!(report.imported, 0);
    }
    assert_eq!(rows(&home, "ssh").len(), 2000);
    assert_eq!(rows(&home, "hdfs").len(), 2000);
}

#[test]
fn a_segment_with_records_lost_to_damage_exports_with_its_holes_visible() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let mut file = sealed(1, 0, &records);
    let middle = file.bytes.len() / 2;
    file.bytes[middle] ^= 0xff;
    let mut home = Store::open_in_memory().unwrap();
    assert_eq!(import(&mut home, "ssh", &file).imported, 1900);

    let (files, manifest) = export(&home, "ssh");
    assert!(!manifest.segments[0].sealed, "a footer would miscount it");
    assert_eq!(manifest.record_count, 1900);
    let mut elsewhere = Store::open_in_memory().unwrap();
    let report = import(&mut elsewhere, "ssh", &files[0]);
    assert_eq!(report.imported, 1900);
    assert!(
        matches!(
            report.findings[..],
            [Finding::SequenceGap { expected, found, .. }] if found == expected + 100
        ),
        "{:?}",
        report.findings
    );
    assert_eq!(rows(&elsewhere, "ssh"), rows(&home, "ssh"));
}

#[test]
fn segments_of_two_writers_in_one_bundle_export_under_distinct_names() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let mut home = Store::open_in_memory().unwrap();
    for (writer, seq, part) in [
        (0xa, 1, &records[..500]),
        (0xa, 2, &records[500..1000]),
        (0xb, 1, &records[1000..1500]),
        (0xb, 2, &records[1500..]),
    ] {
        let file = ExportedFile {
            name: segment_file_name(seq),
            bytes: data::segment(writer, seq, 0, part, 100),
        };
        import(&mut home, "mixed", &file);
    }
    let (files, manifest) = export(&home, "mixed");
    let names: std::collections::BTreeSet<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert_eq!(manifest.record_count, 2000);
    let mut elsewhere = Store::open_in_memory().unwrap();
    for file in &files[..4] {
        import(&mut elsewhere, "mixed", file);
    }
    assert_eq!(rows(&elsewhere, "mixed"), rows(&home, "mixed"));
}

/// The viewer's worker steps an export a few thousand records at a time, answering queries
/// in between: the steps hand over the same files as one go, and count the records.
#[test]
fn an_export_in_small_steps_hands_over_the_same_files_and_counts_its_records() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let mut home = Store::open_in_memory().unwrap();
    import(&mut home, "ssh", &sealed(1, 0, &records[..1200]));
    import(&mut home, "ssh", &sealed(2, 1200, &records[1200..]));
    let (whole, manifest) = export(&home, "ssh");

    let mut export = home.begin_bundle_export("ssh").unwrap();
    assert_eq!((export.records_done(), export.records_total()), (0, 2000));
    let (mut files, mut done, mut steps) = (Vec::new(), Vec::new(), 0);
    let stepped = loop {
        steps += 1;
        match export.step(&home, 300).unwrap() {
            ExportStep::Records => {}
            ExportStep::File(file) => files.push(file),
            ExportStep::Done(manifest) => break manifest,
        }
        done.push(export.records_done());
    };
    assert_eq!(stepped, manifest);
    assert_eq!(files, whole);
    // 1,200 records in 4 steps of 300 and 800 in 3, the manifest and the end.
    assert_eq!(steps, 9);
    assert!(done.windows(2).all(|w| w[1] - w[0] <= 300), "{done:?}");
    assert_eq!(export.records_done(), 2000);
    // Done stays done.
    assert!(matches!(
        export.step(&home, 300).unwrap(),
        ExportStep::Done(_)
    ));
}

#[test]
fn a_bundle_deleted_during_its_export_fails_the_export_with_a_reason() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let mut home = Store::open_in_memory().unwrap();
    import(&mut home, "ssh", &sealed(1, 0, &records));
    let mut export = home.begin_bundle_export("ssh").unwrap();
    assert!(matches!(
        export.step(&home, 100).unwrap(),
        ExportStep::Records
    ));
    assert!(matches!(
        export.step(&home, 100).unwrap(),
        ExportStep::Records
    ));
    home.delete_bundle("ssh").unwrap();
    let err = export.step(&home, 100).unwrap_err();
    assert!(
        matches!(err, StoreError::ExportedRecordGone { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("was the bundle deleted?"), "{err}");
}

#[test]
fn exporting_a_bundle_the_store_does_not_have_is_an_error_naming_it() {
    let store = Store::open_in_memory().unwrap();
    let err = store
        .export_bundle::<StoreError>("nope", |_| Ok(()))
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownBundle(_)), "{err}");
    assert_eq!(err.to_string(), "the store has no bundle named \"nope\"");
}

/// The archive the viewer saves, unpacked by the system's `tar`, is a bundle directory.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn an_exported_archive_unpacks_with_tar_into_a_bundle_directory() {
    use trawl_bundle::{archive::ArchiveWriter, fs::StdFs};

    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let mut home = Store::open_in_memory().unwrap();
    import(&mut home, "ssh", &sealed(1, 0, &records[..1500]));
    import(&mut home, "ssh", &sealed(2, 1500, &records[1500..]));
    let dir = tempfile::tempdir().unwrap();
    let mut archive = ArchiveWriter::new(Vec::new(), "ssh", 1_700_000_000);
    home.export_bundle::<StoreError>("ssh", |file| {
        archive.add(&file.name, &file.bytes).unwrap();
        Ok(())
    })
    .unwrap();
    let path = dir.path().join("ssh.tar");
    std::fs::write(&path, archive.finish().unwrap()).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&path)
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());

    let bundle = dir.path().join("ssh");
    let manifest = Manifest::read(&StdFs, &bundle).unwrap();
    assert_eq!(manifest.record_count, 2000);
    let mut elsewhere = Store::open_in_memory().unwrap();
    for entry in &manifest.segments {
        let bytes = std::fs::read(bundle.join(&entry.file)).unwrap();
        assert_eq!(bytes.len() as u64, entry.bytes);
        assert!(entry.sealed && entry.crc32c.is_some());
        let report = import(
            &mut elsewhere,
            "ssh",
            &ExportedFile {
                name: entry.file.clone(),
                bytes,
            },
        );
        assert!(report.findings.is_empty(), "{:?}", report.findings);
    }
    assert_eq!(rows(&elsewhere, "ssh"), rows(&home, "ssh"));
}
