//! Exact counts of level, service and host among the results. Click a value to keep only it,
//! alt-click to leave it out.

use leptos::{ev, prelude::*};
use trawl_protocol::{results::level_name, FacetValue};

use crate::{format, session::Session};

/// The three facets of the current query.
#[component]
pub fn Facets() -> impl IntoView {
    let session = expect_context::<Session>();
    let facet = move |title: &'static str, field: &'static str| {
        view! {
            <FacetList
                title
                field
                values=Signal::derive(move || {
                    session.overview.with(|o| {
                        o.as_ref().map_or_else(Vec::new, |o| match field {
                            "level" => o.levels.iter().map(|v| FacetValue {
                                value: v.value.as_deref().map(|code| {
                                    level_name(code.parse().ok()).to_owned()
                                }),
                                count: v.count,
                            }).collect(),
                            "service" => o.services.clone(),
                            _ => o.hosts.clone(),
                        })
                    })
                })
            />
        }
    };
    view! {
        <section class="panel facets">
            {facet("Level", "level")}
            {facet("Service", "service")}
            {facet("Host", "host")}
        </section>
    }
}

#[component]
fn FacetList(
    title: &'static str,
    field: &'static str,
    values: Signal<Vec<FacetValue>>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        <h2>{title}</h2>
        <ul class="facet-values">
            {move || values.get().into_iter().map(|FacetValue { value, count }| {
                let label = value.clone().unwrap_or_else(|| "(none)".to_owned());
                let on_click = move |event: ev::MouseEvent| {
                    let Some(value) = value.clone() else { return };
                    let term = format!("{field}:{}", format::query_value(&value));
                    session.add_term(if event.alt_key() { format!("-{term}") } else { term });
                };
                view! {
                    <li>
                        <button
                            class="facet"
                            data-testid="facet"
                            data-facet=field
                            data-value=label.clone()
                            title="Click: only these. Alt-click: without these."
                            on:click=on_click
                        >
                            <span class=if field == "level" {
                                format!("name level-{label}")
                            } else {
                                "name".to_owned()
                            }>{label.clone()}</span>
                            <span class="count">{format::count(count)}</span>
                        </button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
