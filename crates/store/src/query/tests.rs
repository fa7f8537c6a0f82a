use super::*;
use crate::tests::test;

fn parse(q: &str) -> Expr {
    Query::parse(q).unwrap().expr
}

fn err(q: &str) -> QueryError {
    Query::parse(q).unwrap_err()
}

fn word(t: &str) -> Expr {
    Expr::Text {
        text: t.into(),
        prefix: false,
        phrase: false,
    }
}

#[test]
fn words_are_anded_and_or_binds_looser() {
    assert_eq!(parse(""), Expr::All);
    assert_eq!(parse("   "), Expr::All);
    assert_eq!(parse("a b"), Expr::And(vec![word("a"), word("b")]));
    assert_eq!(parse("a AND b"), Expr::And(vec![word("a"), word("b")]));
    assert_eq!(
        parse("a b OR c"),
        Expr::Or(vec![Expr::And(vec![word("a"), word("b")]), word("c")])
    );
    assert_eq!(
        parse("(a OR b) -c"),
        Expr::And(vec![
            Expr::Or(vec![word("a"), word("b")]),
            Expr::Not(Box::new(word("c")))
        ])
    );
    assert_eq!(parse("NOT a"), Expr::Not(Box::new(word("a"))));
    // A lone or inner '-' is text.
    assert_eq!(
        parse("a - b"),
        Expr::And(vec![word("a"), word("-"), word("b")])
    );
    assert_eq!(parse("payment-api"), word("payment-api"));
}

#[test]
fn phrases_prefixes_and_regexes() {
    assert_eq!(
        parse(r#""connection \"reset\"""#),
        Expr::Text {
            text: "connection \"reset\"".into(),
            prefix: false,
            phrase: true
        }
    );
    assert_eq!(
        parse("NullPointer*"),
        Expr::Text {
            text: "NullPointer".into(),
            prefix: true,
            phrase: false
        }
    );
    assert_eq!(
        parse(r"/time(d)? ?out\/x/"),
        Expr::Regex(r"time(d)? ?out/x".into())
    );
}

#[test]
fn fields_levels_and_times() {
    assert_eq!(parse("level:error"), Expr::Level(Cmp::Eq, 5));
    assert_eq!(parse("level:>=WARN"), Expr::Level(Cmp::Ge, 4));
    assert_eq!(
        parse("service:pay*"),
        Expr::Field {
            field: Field::Service,
            cmp: Cmp::Eq,
            value: "pay".into(),
            prefix: true
        }
    );
    assert_eq!(
        parse(r#"host:"web 1""#),
        Expr::Field {
            field: Field::Host,
            cmp: Cmp::Eq,
            value: "web 1".into(),
            prefix: false
        }
    );
    assert_eq!(
        parse("fields.http.status:>=500"),
        Expr::Field {
            field: Field::Json("http.status".into()),
            cmp: Cmp::Ge,
            value: "500".into(),
            prefix: false
        }
    );
    assert_eq!(
        parse("since:-15m"),
        Expr::Since(TimeValue::Relative(-15 * 60_000_000_000))
    );
    assert_eq!(
        parse("until:2024-05-01T10:00:00Z"),
        Expr::Until(TimeValue::Absolute(1_714_557_600_000_000_000))
    );
    assert_eq!(
        parse("since:2024-05-01"),
        Expr::Since(TimeValue::Absolute(1_714_521_600_000_000_000))
    );
    // Not a field: a word.
    assert_eq!(parse("http://x"), word("http://x"));
}

#[test]
fn errors_name_the_column() {
    let e = err("error (timeout");
    assert_eq!(e.column, 7, "{e}");
    assert!(e.message.contains("')'"), "{e}");
    assert_eq!(err("a \"open").column, 3);
    assert_eq!(err("a )").column, 3);
    let e = err("level:loud");
    assert_eq!(e.column, 7, "{e}");
    assert!(e.message.contains("unknown level"));
    assert_eq!(err("x since:yesterday").column, 9);
    assert_eq!(err("service:").column, 9);
    let e = err("ok /[/");
    assert_eq!(e.column, 4);
    assert!(e.message.contains("regex"), "{e}");
    assert_eq!(err("a OR").column, 3);
    assert_eq!(err("service:>x").column, 9);
    assert!(err("fields..x:1").message.contains("field name"));
}

#[test]
fn compiled_sql_binds_every_value() {
    let hostile = r#"x'); DROP TABLE records; -- "#;
    let q = Query::parse(&format!(
        "service:\"{hostile}\" fields.a:\"{hostile}\" level:error"
    ))
    .unwrap();
    let c = compile(&q.expr, 0);
    let filter = c.filter.unwrap();
    assert!(!filter.sql.contains("DROP"), "{}", filter.sql);
    assert_eq!(filter.params.len(), 5);
    assert_eq!(c.fts, None);
}

#[test]
fn text_terms_become_one_fts_expression() {
    let c = compile(&parse("timeout \"conn reset\" -health* level:warn"), 0);
    assert_eq!(
        c.fts.as_deref(),
        Some(r#"("timeout" AND "conn reset") NOT ("health" *)"#)
    );
    assert!(c.filter.is_some());
    let c = compile(&parse("-health"), 0);
    assert_eq!(c.fts, None);
    assert!(c.filter.unwrap().sql.contains("NOT IN"));
    let c = compile(
        &parse("since:-1h until:-30m"),
        3_600_000_000_000 + 946_684_800_000_000_000,
    );
    assert_eq!(c.lo, Some(0));
    assert_eq!(c.hi, Some(((30 * 60_000) + 1) << crate::key::SLOT_BITS));
    // Terms with no tokens constrain nothing.
    assert_eq!(
        compile(&parse("..."), 0),
        Compiled {
            rollup: false,
            ..Compiled::default()
        }
    );
    assert!(compile(&parse(""), 0).rollup);
    assert!(compile(&parse("level:>=warn (service:a OR -host:b) since:-1h"), 0).rollup);
    assert!(!compile(&parse("level:>=warn x"), 0).rollup);
    assert!(!compile(&parse("fields.a:1"), 0).rollup);
}
