//! Log volume over time by level for the current query. Drag across it to zoom into a time
//! range; double-click to go back to the whole range; hovering shows a bucket's counts. The
//! axis leaves out a few records far off in time from all the others (the store's rule); a
//! button at either end counts them and picks their time range.
//!
//! The bars of each level are one SVG path: a refresh during an import replaces seven elements,
//! not a thousand rectangles (their style and layout cost frames).

use std::fmt::Write;

use leptos::{ev, prelude::*};
use trawl_protocol::{results::LEVEL_NAMES, OffAxis};

use crate::{format, session::Session};

/// Width of the drawing in SVG units (it stretches to the element's width).
const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 100.0;

/// The total, the histogram and the picked range.
#[component]
pub fn Histogram() -> impl IntoView {
    let session = expect_context::<Session>();
    // Drag start and current position, as fractions of the width.
    let drag = RwSignal::new(None::<(f64, f64)>);
    // The pointer's position over the bars, as a fraction of the width.
    let hover = RwSignal::new(None::<f64>);
    let fraction = |event: &ev::MouseEvent| -> Option<f64> {
        let target: web_sys::Element = event_target(event);
        let svg = target.closest("svg").ok()??;
        let rect = svg.get_bounding_client_rect();
        (rect.width() > 0.0)
            .then(|| ((f64::from(event.client_x()) - rect.left()) / rect.width()).clamp(0.0, 1.0))
    };
    // The histogram's time span, when it has records.
    let span = move || {
        session.overview.with(|o| {
            o.as_ref()
                .filter(|o| o.histogram.buckets.iter().flatten().any(|&n| n > 0))
                .map(|o| {
                    let h = &o.histogram;
                    (h.start_nanos, h.bucket_nanos, h.buckets.len())
                })
        })
    };
    let on_down = move |event: ev::MouseEvent| {
        if let Some(x) = fraction(&event) {
            drag.set(Some((x, x)));
        }
    };
    let on_move = move |event: ev::MouseEvent| {
        let Some(x) = fraction(&event) else {
            return;
        };
        hover.set(Some(x));
        if drag.get_untracked().is_some() {
            drag.update(|d| {
                if let Some(d) = d {
                    d.1 = x;
                }
            });
        }
    };
    let on_up = move |_| {
        let Some((a, b)) = drag.get_untracked() else {
            return;
        };
        drag.set(None);
        let Some((start, width, n)) = span() else {
            return;
        };
        if (a - b).abs() < 0.005 || n == 0 {
            return;
        }
        let total = width as f64 * n as f64;
        let at = |x: f64| start + (x * total) as i64;
        session.set_range(Some((at(a.min(b)), at(a.max(b)))));
    };

    view! {
        <section class="histogram" data-testid="histogram">
            <div class="histogram-head">
                <span class="total" data-testid="total">
                    {move || session.total.get().map(|n| format::counted(n, "record"))}
                </span>
                <super::export::Export />
                {move || {
                    let (from, to) = session.filter.with(|f| (f.from_nanos, f.to_nanos));
                    let utc = session.utc.get();
                    (from.is_some() || to.is_some()).then(|| view! {
                        <span class="range" data-testid="range">
                            {format::maybe_time(from, utc)} " → " {format::maybe_time(to, utc)}
                        </span>
                        <button data-testid="reset-range" on:click=move |_| session.set_range(None)>
                            "Whole range"
                        </button>
                    })
                }}
                {move || hover.get().and_then(|x| session.overview.with(|o| {
                    o.as_ref().and_then(|o| bucket_counts(&o.histogram, x, session.utc.get()))
                })).map(|counts| view! {
                    <span class="hover" data-testid="histogram-hover">{counts}</span>
                })}
                <span class="legend">
                    {(1..LEVEL_NAMES.len()).map(|code| view! {
                        <span class=format!("swatch level-{}", LEVEL_NAMES[code])>{LEVEL_NAMES[code]}</span>
                    }).collect_view()}
                </span>
            </div>
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                preserveAspectRatio="none"
                role="img"
                aria-label="Records over time by level; drag to zoom, double-click to reset"
                on:mousedown=on_down
                on:mousemove=on_move
                on:mouseup=on_up
                on:mouseleave=move |_| {
                    drag.set(None);
                    hover.set(None);
                }
                on:dblclick=move |_| session.set_range(None)
            >
                {move || session.overview.with(|o| o.as_ref().map(bars))}
                {move || drag.get().map(|(a, b)| view! {
                    <rect
                        class="brush"
                        x=(a.min(b) * WIDTH).to_string()
                        y="0"
                        width=((a - b).abs() * WIDTH).to_string()
                        height=HEIGHT.to_string()
                    />
                })}
            </svg>
            <div class="axis">
                <span>
                    {move || off_axis(session, Side::Earlier)}
                    {move || span().map(|(start, _, _)| format::time(start, session.utc.get()))}
                </span>
                {move || {
                    let untimed = session.overview.with(|o| o.as_ref().map_or(0, |o| o.histogram.untimed));
                    (untimed > 0).then(|| view! {
                        <span class="untimed" data-testid="untimed">
                            {format!("{} without a time", format::counted(untimed, "record"))}
                        </span>
                    })
                }}
                <span>
                    {move || span().map(|(start, width, n)| {
                        format::time(start + width * n as i64, session.utc.get())
                    })}
                    {move || off_axis(session, Side::Later)}
                </span>
            </div>
        </section>
    }
}

/// An end of the histogram's axis.
#[derive(Debug, Clone, Copy)]
enum Side {
    Earlier,
    Later,
}

impl Side {
    /// The results the axis leaves out at this end.
    fn off_axis(self, histogram: &trawl_protocol::Histogram) -> Option<OffAxis> {
        match self {
            Side::Earlier => histogram.earlier.clone(),
            Side::Later => histogram.later.clone(),
        }
    }

    /// The button's text for `count` records, its title's word, and its test id.
    fn words(self, count: &str) -> (String, &'static str, &'static str) {
        match self {
            Side::Earlier => (format!("← {count} earlier"), "before", "off-axis-earlier"),
            Side::Later => (format!("{count} later →"), "after", "off-axis-later"),
        }
    }
}

/// A button for the results the axis leaves out at one end, which picks the time range they
/// are in.
fn off_axis(session: Session, side: Side) -> Option<impl IntoView> {
    let off = session
        .overview
        .with(|o| o.as_ref().and_then(|o| side.off_axis(&o.histogram)))?;
    let utc = session.utc.get();
    let count = format::counted(off.records, "record");
    let (label, relation, testid) = side.words(&count);
    let title = format!(
        "{count} {relation} this axis, far from the others in time, from {} to {}: show them",
        format::time(off.from_nanos, utc),
        format::time(off.to_nanos, utc)
    );
    let range = (off.from_nanos, off.to_nanos);
    Some(view! {
        <button
            class="off-axis"
            data-testid=testid
            title=title
            on:click=move |_| session.set_range(Some(range))
        >
            {label}
        </button>
    })
}

/// The stacked bars of an overview's histogram: one path per level.
fn bars(overview: &trawl_protocol::Overview) -> impl IntoView {
    let h = &overview.histogram;
    let n = h.buckets.len().max(1);
    let peak = h
        .buckets
        .iter()
        .map(|b| b.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let width = WIDTH / n as f64;
    let mut paths = vec![String::new(); LEVEL_NAMES.len()];
    for (i, counts) in h.buckets.iter().enumerate() {
        let mut y = HEIGHT;
        // Severe levels at the bottom, where they are easiest to see.
        for code in (0..counts.len()).rev() {
            let count = counts[code];
            if count == 0 {
                continue;
            }
            let height = count as f64 / peak * HEIGHT;
            y -= height;
            // Writing to a String cannot fail.
            let _ = write!(
                paths[code],
                "M{:.2} {:.2}h{:.2}v{:.2}h{:.2}z",
                i as f64 * width,
                y,
                width * 0.9,
                height,
                -width * 0.9
            );
        }
    }
    paths
        .into_iter()
        .enumerate()
        .filter(|(_, d)| !d.is_empty())
        .map(|(code, d)| view! { <path class=format!("bar level-{}", LEVEL_NAMES[code]) d=d /> })
        .collect_view()
}

/// "time: counts by level" of the bucket under `x` (a fraction of the width).
fn bucket_counts(h: &trawl_protocol::Histogram, x: f64, utc: bool) -> Option<String> {
    let i = ((x * h.buckets.len() as f64) as usize).min(h.buckets.len().checked_sub(1)?);
    let counts = &h.buckets[i];
    let start = h.start_nanos + h.bucket_nanos * i as i64;
    let levels: Vec<String> = (0..counts.len())
        .rev()
        .filter(|&code| counts[code] > 0)
        .map(|code| format!("{} {}", LEVEL_NAMES[code], format::count(counts[code])))
        .collect();
    Some(format!(
        "{}: {}",
        format::time(start, utc),
        if levels.is_empty() {
            "none".to_owned()
        } else {
            levels.join(" · ")
        }
    ))
}
