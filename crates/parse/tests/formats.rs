//! Every format on hand-made edge cases and on the real samples.

use jiff::tz::TimeZone;
use trawl_bundle::{Level, Record};
use trawl_parse::{sniff::sniff, Format, Options, Parser, TimeContext};

fn ctx() -> TimeContext {
    TimeContext {
        tz: TimeZone::UTC,
        year: 2024,
        latest: None,
    }
}

fn parse(format: Format, text: &[u8]) -> (Vec<Record>, trawl_parse::Stats) {
    let mut parser = Parser::new(
        format,
        Options {
            time: ctx(),
            source: "test.log".into(),
            ..Options::default()
        },
    );
    let mut out = Vec::new();
    // As a line reader: a final newline ends the last line, it does not start another.
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    if !text.is_empty() {
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            parser.line(line, i as u64 + 1, &mut out);
        }
    }
    parser.finish(&mut out);
    (out, parser.stats().clone())
}

fn auto(text: &str) -> (Format, Vec<Record>) {
    let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
    let format = sniff(lines.iter().copied(), &ctx());
    (format, parse(format, text.as_bytes()).0)
}

fn ts(s: &str) -> Option<i64> {
    Some(s.parse::<jiff::Timestamp>().unwrap().as_nanosecond() as i64)
}

fn fields(r: &Record) -> serde_json::Value {
    serde_json::from_str(r.fields.as_deref().unwrap_or("{}")).unwrap()
}

#[test]
fn json_loggers_map_time_level_message_and_keep_the_rest() {
    let cases: &[(&str, &str, Level, &str)] = &[
        // zap production
        (
            r#"{"level":"info","ts":1709906567.5,"caller":"server/handler.go:327","msg":"task assigned","request_id":"bf"}"#,
            "2024-03-08T14:02:47.5Z",
            Level::Info,
            "task assigned",
        ),
        // zerolog
        (
            r#"{"level":"warn","time":"2024-03-08T14:02:47Z","message":"slow disk"}"#,
            "2024-03-08T14:02:47Z",
            Level::Warn,
            "slow disk",
        ),
        // logrus
        (
            r#"{"level":"error","msg":"boom","time":"2024-03-08T15:02:47+01:00"}"#,
            "2024-03-08T14:02:47Z",
            Level::Error,
            "boom",
        ),
        // Go slog
        (
            r#"{"time":"2024-03-08T14:02:47.123456789Z","level":"DEBUG","msg":"cache miss","key":"k"}"#,
            "2024-03-08T14:02:47.123456789Z",
            Level::Debug,
            "cache miss",
        ),
        // pino
        (
            r#"{"level":50,"time":1709906567504,"pid":17,"hostname":"web-1","msg":"failed"}"#,
            "2024-03-08T14:02:47.504Z",
            Level::Error,
            "failed",
        ),
        // bunyan
        (
            r#"{"name":"api","hostname":"h","pid":1,"level":60,"msg":"dead","time":"2024-03-08T14:02:47.000Z","v":0}"#,
            "2024-03-08T14:02:47Z",
            Level::Fatal,
            "dead",
        ),
        // Rust tracing-subscriber JSON
        (
            r#"{"timestamp":"2024-03-08T14:02:47.000001Z","level":"TRACE","fields":{"message":"polled","n":3},"target":"app::io"}"#,
            "2024-03-08T14:02:47.000001Z",
            Level::Trace,
            "polled",
        ),
        // log4j2 JsonLayout
        (
            r#"{"instant":{"epochSecond":1709906567,"nanoOfSecond":1000},"thread":"main","level":"WARN","loggerName":"com.example.Foo","message":"careful"}"#,
            "2024-03-08T14:02:47.000001Z",
            Level::Warn,
            "careful",
        ),
        // Elastic ECS
        (
            r#"{"@timestamp":"2024-03-08T14:02:47.000Z","log.level":"error","message":"ecs","service.name":"payment-api","host":{"name":"node-1"},"trace.id":"abc","ecs.version":"1.6.0"}"#,
            "2024-03-08T14:02:47Z",
            Level::Error,
            "ecs",
        ),
    ];
    for (line, time, level, message) in cases {
        let (format, records) = auto(line);
        assert_eq!(format, Format::Json, "{line}");
        let r = &records[0];
        assert_eq!(
            (r.ts_nanos, r.level, r.message.as_str()),
            (ts(time), Some(*level), *message),
            "{line}"
        );
        assert_eq!(r.raw.as_deref(), Some(line.as_bytes()));
    }
    let (_, ecs) = auto(cases[8].0);
    let r = &ecs[0];
    assert_eq!(
        (
            r.service.as_deref(),
            r.host.as_deref(),
            r.trace_id.as_deref()
        ),
        (Some("payment-api"), Some("node-1"), Some("abc"))
    );
    assert_eq!(fields(r)["ecs.version"], "1.6.0", "unknown fields are kept");
    let (_, pino) = auto(cases[4].0);
    assert_eq!(pino[0].host.as_deref(), Some("web-1"));
    assert_eq!(fields(&pino[0])["pid"], 17);
    let (_, tracing) = auto(cases[6].0);
    assert_eq!(fields(&tracing[0])["fields"]["n"], 3);
}

#[test]
fn nested_and_alternative_trace_fields() {
    let (_, r) = auto(
        r#"{"msg":"x","level":"info","dd":{"trace_id":"123","span_id":"456"},"time":"2024-03-08T14:02:47Z"}"#,
    );
    assert_eq!(
        (r[0].trace_id.as_deref(), r[0].span_id.as_deref()),
        (Some("123"), Some("456"))
    );
    let (_, r) = auto(r#"{"msg":"x","traceId":"4bf92f35","spanId":"00f0","severity":"WARNING"}"#);
    assert_eq!(
        (r[0].trace_id.as_deref(), r[0].level),
        (Some("4bf92f35"), Some(Level::Warn))
    );
}

#[test]
fn json_strings_are_unescaped_in_mapped_fields_and_kept_as_written_in_the_rest() {
    let (_, r) = auto(concat!(
        r#"{"msg":"disk \"sda\" at 97%\t\u00e9","level":"warn","service":"db","#,
        r#""host":"n\u0031","ts":"2024-03-08T14:02:47Z","path":"C:\\tmp","plain":"x"}"#,
        "\n",
        r#"{"msg":"","level":"info","service":"a b","note":"\""}"#,
    ));
    assert_eq!(r[0].message, "disk \"sda\" at 97%\té");
    assert_eq!(
        (r[0].service.as_deref(), r[0].host.as_deref(), r[0].level),
        (Some("db"), Some("n1"), Some(Level::Warn))
    );
    assert_eq!(r[0].ts_nanos, ts("2024-03-08T14:02:47Z"));
    assert_eq!(fields(&r[0])["path"], "C:\\tmp");
    assert_eq!(fields(&r[0])["plain"], "x");
    assert_eq!(
        (r[1].message.as_str(), r[1].service.as_deref()),
        ("", Some("a b"))
    );
    assert_eq!(fields(&r[1])["note"], "\"");
}

#[test]
fn opentelemetry_json_becomes_one_record_per_log_record() {
    let line = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}},{"key":"host.name","value":{"stringValue":"n1"}}]},"scopeLogs":[{"scope":{"name":"lib"},"logRecords":[{"timeUnixNano":"1709906567000000000","severityNumber":17,"severityText":"ERROR","body":{"stringValue":"first"},"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":[{"key":"user","value":{"intValue":"42"}}]},{"timeUnixNano":"1709906568000000000","severityNumber":9,"body":{"stringValue":"second"}}]}]}]}"#;
    let (format, records) = auto(line);
    assert_eq!(format, Format::Json);
    assert_eq!(records.len(), 2);
    assert_eq!(
        (
            records[0].level,
            records[0].message.as_str(),
            records[0].service.as_deref()
        ),
        (Some(Level::Error), "first", Some("cart"))
    );
    assert_eq!(
        records[0].trace_id.as_deref(),
        Some("5b8efff798038103d269b633813fc60c")
    );
    assert_eq!(fields(&records[0])["user"], "42");
    assert_eq!(
        (records[1].ts_nanos, records[1].level),
        (ts("2024-03-08T14:02:48Z"), Some(Level::Info))
    );
}

#[test]
fn logfmt_with_quotes_and_escapes() {
    let text = "time=2024-03-08T14:02:47Z level=warn msg=\"disk \\\"sda\\\" at 97%\" service=db pct=97\nts=2024-03-08T14:02:48Z lvl=error msg=boom";
    let (format, records) = auto(text);
    assert_eq!(format, Format::Logfmt);
    assert_eq!(records[0].message, "disk \"sda\" at 97%");
    assert_eq!(
        (records[0].level, records[0].service.as_deref()),
        (Some(Level::Warn), Some("db"))
    );
    assert_eq!(fields(&records[0])["pct"], "97");
    assert_eq!(
        (records[1].level, records[1].ts_nanos),
        (Some(Level::Error), ts("2024-03-08T14:02:48Z"))
    );
}

#[test]
fn unmapped_fields_keep_the_order_the_log_wrote_them_in() {
    let expected = r#"{"a":"1","b":"2","c":"3","d":"4"}"#;
    let (logfmt, _) = parse(
        Format::Logfmt,
        b"a=1 level=info b=2 msg=hi c=3 service=api d=4",
    );
    assert_eq!(logfmt[0].fields.as_deref(), Some(expected));
    // The general JSON path (a nested object that may hold a mapped field) keeps it too.
    let (json, _) = parse(
        Format::Json,
        br#"{"a":1,"level":"info","b":2,"log":{"logger":"x"},"msg":"hi","c":3}"#,
    );
    assert_eq!(
        json[0].fields.as_deref(),
        Some(r#"{"a":1,"b":2,"log":{"logger":"x"},"c":3}"#)
    );
    // A line of many pairs (mapped through a map, not pair by pair) gives the same fields.
    let many: String = (0..200).map(|i| format!("k{i}={i} ")).collect();
    let line = format!("a=1 level=info {many}b=2 msg=hi a=3");
    let (long, _) = parse(Format::Logfmt, line.as_bytes());
    let fields = fields(&long[0]);
    let keys: Vec<&str> = fields
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        (keys.len(), keys[0], keys[1], keys[201]),
        (202, "a", "k0", "b")
    );
    assert_eq!(fields["a"], "3", "a repeated key keeps its last value");
    let (journald, _) = parse(
        Format::Journald,
        br#"{"a":"1","MESSAGE":"hi","b":"2","_HOSTNAME":"h","c":"3","PRIORITY":"6","d":"4"}"#,
    );
    assert_eq!(journald[0].fields.as_deref(), Some(expected));
}

#[test]
fn cri_partial_lines_are_reassembled_on_the_real_sample() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/samples/synthetic/cri_containerd_text.log");
    let bytes = std::fs::read(path).unwrap();
    let lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(sniff(lines.iter().copied(), &ctx()), Format::Cri);
    let (records, stats) = parse(Format::Cri, &bytes);
    assert_eq!(stats.unparsed, 0, "{:?}", stats.first_unparsed);
    let partials = lines
        .iter()
        .filter(|l| String::from_utf8_lossy(l).split(' ').nth(2) == Some("P"))
        .count();
    assert!(partials >= 2);
    assert_eq!(
        records.len(),
        lines.len() - partials,
        "P chunks join their F line"
    );
    let long = records.iter().max_by_key(|r| r.message.len()).unwrap();
    assert!(long.message.len() >= 40_000, "{}", long.message.len());
    // Inner Spark text keeps its own time and level.
    assert!(records.iter().any(|r| r.level == Some(Level::Info)));
}

#[test]
fn cri_json_apps_sample_maps_inner_json() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/samples/synthetic/cri_containerd_json_apps.log");
    let bytes = std::fs::read(path).unwrap();
    let (records, stats) = parse(Format::Cri, &bytes);
    assert_eq!(stats.unparsed, 0);
    assert_eq!(records.len(), 400);
    assert!(
        records
            .iter()
            .all(|r| r.level.is_some() && r.ts_nanos.is_some() && !r.message.is_empty()),
        "every style maps"
    );
    assert!(records
        .iter()
        .any(|r| r.host.as_deref().is_some_and(|h| h.starts_with("web-"))));
}

#[test]
fn docker_json_file_joins_split_lines() {
    let text = r#"{"log":"part one ","stream":"stdout","time":"2024-03-08T14:02:47.000000001Z"}
{"log":"and two\n","stream":"stdout","time":"2024-03-08T14:02:47.000000002Z"}
{"log":"{\"level\":\"error\",\"msg\":\"inner json\"}\n","stream":"stderr","time":"2024-03-08T14:02:48Z"}"#;
    let (format, records) = auto(text);
    assert_eq!(format, Format::Docker);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].message, "part one and two");
    assert_eq!(records[0].ts_nanos, ts("2024-03-08T14:02:47.000000001Z"));
    assert_eq!(
        (records[1].level, records[1].message.as_str()),
        (Some(Level::Error), "inner json")
    );
    assert_eq!(fields(&records[1])["stream"], "stderr");
}

#[test]
fn journald_json() {
    let text = r#"{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1709906567123456","PRIORITY":"3","_HOSTNAME":"node","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Failed password","_PID":"812"}
{"__REALTIME_TIMESTAMP":"1709906568000000","PRIORITY":"6","_HOSTNAME":"node","MESSAGE":[104,105,255],"_SYSTEMD_UNIT":"x.service"}"#;
    let (format, records) = auto(text);
    assert_eq!(format, Format::Journald);
    assert_eq!(
        (
            records[0].level,
            records[0].service.as_deref(),
            records[0].host.as_deref()
        ),
        (Some(Level::Error), Some("sshd"), Some("node"))
    );
    assert_eq!(records[0].ts_nanos, ts("2024-03-08T14:02:47.123456Z"));
    assert_eq!(
        records[1].message, "hi\u{fffd}",
        "byte-array messages decode lossily"
    );
    assert_eq!(records[1].service.as_deref(), Some("x.service"));
}

#[test]
fn access_logs_and_error_logs() {
    let text = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"
10.0.0.2 - - [10/Oct/2000:13:55:37 -0700] "POST /api/v1/orders/42 HTTP/1.1" 503 - "-" "curl/8.0"
192.168.1.9 - - [10/Oct/2000:13:55:38 -0700] "GET /missing HTTP/1.1" 404 153
2000/10/10 20:55:39 [error] 1234#0: *5 upstream timed out, client: 10.0.0.2"#;
    let (format, records) = auto(text);
    assert_eq!(format, Format::Access);
    assert_eq!(records.len(), 4);
    assert_eq!(records[0].ts_nanos, ts("2000-10-10T20:55:36Z"));
    assert_eq!(records[0].level, Some(Level::Info));
    assert_eq!(records[0].message, "GET /apache_pb.gif HTTP/1.0 200");
    let f = fields(&records[0]);
    assert_eq!(
        (
            f["user"].as_str(),
            f["status"].as_u64(),
            f["user_agent"].as_str()
        ),
        (
            Some("frank"),
            Some(200),
            Some("Mozilla/4.08 [en] (Win98; I ;Nav)")
        )
    );
    assert_eq!(
        (records[1].level, fields(&records[1])["bytes"].is_null()),
        (Some(Level::Error), true)
    );
    assert_eq!(records[2].level, Some(Level::Warn));
    assert_eq!(
        (records[3].level, records[3].ts_nanos),
        (Some(Level::Error), ts("2000-10-10T20:55:39Z"))
    );
}

#[test]
fn syslog_5424_and_3164() {
    let text = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] An application event log entry\n<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8";
    let (format, records) = auto(text);
    assert_eq!(format, Format::Syslog);
    assert_eq!(
        (
            records[0].level,
            records[0].service.as_deref(),
            records[0].host.as_deref()
        ),
        (
            Some(Level::Info),
            Some("evntslog"),
            Some("mymachine.example.com")
        )
    );
    assert_eq!(records[0].message, "An application event log entry");
    assert!(fields(&records[0])["structured_data"]
        .as_str()
        .unwrap()
        .contains("iut=\"3\""));
    assert_eq!(
        (
            records[1].level,
            records[1].service.as_deref(),
            records[1].ts_nanos
        ),
        (Some(Level::Fatal), Some("su"), ts("2024-10-11T22:14:15Z"))
    );
}

#[test]
fn stack_traces_attach_to_their_record() {
    let text = "2024-03-08 14:02:47,001 ERROR [main] com.example.Foo: request failed\njava.lang.NullPointerException: x\n\tat com.example.Foo.bar(Foo.java:42)\n\tat com.example.Foo.main(Foo.java:7)\nCaused by: java.io.IOException\n2024-03-08 14:02:48,000 INFO [main] com.example.Foo: recovered";
    let (format, records) = auto(text);
    assert_eq!(format, Format::Text);
    assert_eq!(records.len(), 2);
    assert!(records[0]
        .message
        .ends_with("Caused by: java.io.IOException"));
    assert_eq!(records[0].message.lines().count(), 5);
    assert_eq!((records[0].line, records[1].line), (Some(1), Some(6)));
    assert_eq!(
        records[0]
            .raw
            .as_ref()
            .unwrap()
            .split(|&b| b == b'\n')
            .count(),
        5
    );
    assert_eq!(records[1].level, Some(Level::Info));
}

#[test]
fn zap_development_console_and_epoch_prefixed_text() {
    let (_, r) =
        auto("2024-03-08T14:02:47.288Z\tWARN\tserver/handler.go:327\tretrying\t{\"attempt\": 2}");
    assert_eq!(
        (r[0].level, r[0].ts_nanos),
        (Some(Level::Warn), ts("2024-03-08T14:02:47.288Z"))
    );
    let (_, r) = auto("1709906567 ERROR disk full\n1709906567123 INFO ok");
    assert_eq!(
        (r[0].level, r[0].ts_nanos),
        (Some(Level::Error), ts("2024-03-08T14:02:47Z"))
    );
    assert_eq!(r[1].ts_nanos, ts("2024-03-08T14:02:47.123Z"));
}

#[test]
fn bad_input_never_panics_and_every_line_is_kept() {
    // Invalid UTF-8, CRLF, ANSI escapes, a 1 MiB line, binary garbage, an empty input.
    let mut text = b"2024-03-08 14:02:47 INFO caf\xc3\xa9 \xff\xfe bytes\r\n2024-03-08 14:02:48 \x1b[31mERROR\x1b[0m red\r\n".to_vec();
    text.extend_from_slice(b"2024-03-08 14:02:49 WARN ");
    text.extend(std::iter::repeat_n(b'x', 1 << 20));
    text.push(b'\n');
    for format in Format::ALL {
        let (records, stats) = parse(format, &text);
        assert!(!records.is_empty(), "{format}");
        assert_eq!(stats.lines, 3, "{format}");
    }
    let (records, _) = parse(Format::Text, &text);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].message, "INFO café \u{fffd}\u{fffd} bytes");
    assert!(
        records[0]
            .raw
            .as_ref()
            .unwrap()
            .ends_with(b"\xff\xfe bytes"),
        "raw kept exactly (without CR)"
    );
    assert_eq!(
        (records[1].level, records[1].message.as_str()),
        (Some(Level::Error), "ERROR red")
    );
    assert!(
        records[1].raw.as_ref().unwrap().contains(&0x1b),
        "ANSI kept in raw"
    );
    assert_eq!(records[2].message.len(), 5 + (1 << 20));

    let garbage: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for format in Format::ALL {
        let (records, stats) = parse(format, &garbage);
        assert_eq!(stats.records, records.len() as u64);
        let lines_with_text = garbage
            .split(|&b| b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .count() as u64;
        assert!(records.len() as u64 >= lines_with_text.min(1), "{format}");
        assert!(
            stats.unparsed > 0 || format == Format::Text && stats.unparsed == stats.records,
            "{format}"
        );
    }
    let (records, stats) = parse(Format::Json, b"");
    assert_eq!((records.len(), stats.lines), (0, 0));
}

#[test]
fn lines_that_do_not_parse_become_raw_records_with_reasons() {
    let (records, stats) = parse(Format::Json, b"{\"msg\":\"ok\"}\nnot json at all\n[1,2]\n");
    assert_eq!(records.len(), 3);
    assert_eq!(stats.unparsed, 2);
    assert_eq!(records[1].message, "not json at all");
    assert_eq!(stats.first_unparsed[0].0, 2);
    assert!(
        stats.first_unparsed[0].1.starts_with("not JSON"),
        "{:?}",
        stats.first_unparsed
    );
    assert!(stats.first_unparsed[1].1.contains("not an object"));
}
