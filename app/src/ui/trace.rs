//! The trace view: every record of the selected record's trace, across services, in time
//! order. A lane per service shows when it took part (its first to last record, a tick per
//! record coloured by level); below, the records with their offset from the trace's start. A
//! record opens in the detail pane, and the trace stays open around it.

use leptos::{prelude::*, task::spawn_local};
use trawl_protocol::{results::level_name, Row, Trace};

use super::{
    detail::ToggleHeading,
    record_line::{Listing, RecordLine},
};
use crate::{format, session::Session};

/// Records of a trace shown at most.
const TRACE_RECORDS: u32 = 1000;
/// Width of a lane's drawing, in its own units (it is stretched to the lane's width).
const LANE_UNITS: f64 = 1000.0;
/// Width of a record's tick, in lane units (a pixel and a half in a pane 300 pixels wide).
const TICK_UNITS: f64 = 5.0;

/// The trace section of the detail pane for record `id` of trace `trace_id`. Whether it is
/// open is the session's, so it stays open while the user walks through the trace (and is in
/// the URL).
#[component]
pub fn TraceView(trace_id: String, id: i64) -> impl IntoView {
    let session = expect_context::<Session>();
    let shown = session.trace;
    let trace = RwSignal::new(None::<Trace>);
    Effect::new(move |_| {
        if shown.get() {
            let trace_id = trace_id.clone();
            spawn_local(async move {
                let found = session.trace(trace_id, TRACE_RECORDS).await;
                // A record closed meanwhile took this signal with it.
                trace.try_set(found);
            });
        }
    });
    view! {
        <ToggleHeading title="Trace" testid="trace-toggle" shown />
        {move || shown.get().then(|| trace.get().map(|trace| view! { <TraceBody trace id /> }))}
    }
}

#[component]
fn TraceBody(trace: Trace, id: i64) -> impl IntoView {
    let layout = Layout::of(&trace.rows);
    let summary = format!(
        "{}{} · {} · {}",
        if trace.more { "the first " } else { "" },
        format::counted(trace.rows.len() as u64, "record"),
        format::counted(layout.lanes.len() as u64, "service"),
        layout.span_label(),
    );
    let start = layout.start;
    let lanes = layout.lanes;
    view! {
        <p class="note" data-testid="trace-summary">{summary}</p>
        <div class="trace-lanes">
            {lanes.into_iter().map(|lane| view! { <TraceLane lane /> }).collect_view()}
        </div>
        <ol class="context" data-testid="trace">
            {trace.rows.into_iter().map(|row| {
                let current = row.id == id;
                view! { <TraceLine row start current /> }
            }).collect_view()}
        </ol>
    }
}

/// One service's lane: the stretch from its first to its last record, a tick per record.
#[component]
fn TraceLane(lane: Lane) -> impl IntoView {
    let (from, to) = lane.extent();
    let width = to - from + TICK_UNITS;
    view! {
        <div class="trace-lane" data-testid="trace-lane">
            <span class="name" data-testid="trace-service">{lane.service}</span>
            <svg viewBox=format!("0 0 {LANE_UNITS} 10") preserveAspectRatio="none" aria-hidden="true">
                <rect class="trace-extent" x=from y="3" width=width height="4" />
                {lane.ticks.into_iter().map(|(at, level)| view! {
                    <rect class=format!("bar level-{}", level_name(level)) x=at y="0" width=TICK_UNITS height="10" />
                }).collect_view()}
            </svg>
        </div>
    }
}

/// One record of the trace: its offset from the trace's start and its service.
#[component]
fn TraceLine(row: Row, start: Option<i64>, current: bool) -> impl IntoView {
    let offset = row
        .ts_nanos
        .zip(start)
        .map(|(ts, start)| offset_label(ts - start))
        .unwrap_or_default();
    let service = row.service.clone().unwrap_or_default();
    view! {
        <RecordLine listing=Listing::Trace row current>
            <span class="line-no" data-testid="trace-offset">{offset}</span>
            <span class="time">{service}</span>
        </RecordLine>
    }
}

/// Time since the trace's first record: `+0.4 ms`, `+12.3 ms`, `+1.5 s`.
fn offset_label(nanos: i64) -> String {
    let ms = nanos as f64 / 1e6;
    if ms < 1000.0 {
        format!("+{ms:.1} ms")
    } else {
        format!("+{}", format::duration(ms))
    }
}

/// Where a trace's records fall: one lane per service, in the order they joined the trace.
struct Layout {
    /// The first record's time.
    start: Option<i64>,
    /// The last record's time minus the first's.
    span_nanos: i64,
    lanes: Vec<Lane>,
}

/// A service's part of a trace, in lane units (`0..LANE_UNITS` across the trace's span).
#[derive(Debug, Clone, PartialEq)]
struct Lane {
    service: String,
    /// Where each of its records falls, with its level.
    ticks: Vec<(f64, Option<u8>)>,
}

impl Lane {
    /// From its first record to its last.
    fn extent(&self) -> (f64, f64) {
        let first = self.ticks.first().map_or(0.0, |t| t.0);
        let last = self.ticks.last().map_or(first, |t| t.0);
        (first, last)
    }
}

impl Layout {
    /// Lays out `rows` (in time order); records without a time sit at the start.
    fn of(rows: &[Row]) -> Self {
        let times = rows.iter().filter_map(|r| r.ts_nanos);
        let start = times.clone().min();
        let span_nanos = times.max().zip(start).map_or(0, |(end, start)| end - start);
        let mut lanes: Vec<Lane> = Vec::new();
        for row in rows {
            let service = row.service.as_deref().unwrap_or("(no service)");
            let at = match (row.ts_nanos, start) {
                (Some(ts), Some(start)) if span_nanos > 0 => {
                    (ts - start) as f64 / span_nanos as f64 * (LANE_UNITS - TICK_UNITS)
                }
                _ => 0.0,
            };
            let lane = match lanes.iter().position(|l| l.service == service) {
                Some(i) => &mut lanes[i],
                None => {
                    lanes.push(Lane {
                        service: service.to_owned(),
                        ticks: Vec::new(),
                    });
                    lanes.last_mut().expect("just pushed")
                }
            };
            lane.ticks.push((at, row.level));
        }
        Self {
            start,
            span_nanos,
            lanes,
        }
    }

    /// How long the trace lasts, as people read it.
    fn span_label(&self) -> String {
        format::duration(self.span_nanos as f64 / 1e6)
    }
}
