//! The bundles in the store: name, time range, records, size, integrity report (findings and
//! time gaps), delete; and the space used against the browser's quota.

use leptos::prelude::*;
use trawl_protocol::{BundleSummary, Gap, WorkerError};

use crate::{
    format,
    session::{BundleExportState, Session},
    ui::{export::save_blob, store_card::storage_label},
};

/// The library panel.
#[component]
pub fn Library() -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        <section class="panel library" data-testid="library">
            <h2>"Bundles"</h2>
            {move || {
                let bundles = session.library.get();
                if bundles.is_empty() {
                    view! {
                        <p class="note">"No bundles yet: open a bundle folder, or drop one here."</p>
                    }.into_any()
                } else {
                    view! {
                        <ul class="bundles">
                            {bundles.into_iter().map(|b| view! { <BundleItem bundle=b /> }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
            <p class="note" data-testid="storage-used">
                {move || session.status.get().map(|s| {
                    format!("Space used: {}", storage_label(s.storage_usage, s.storage_quota))
                })}
            </p>
        </section>
    }
}

#[component]
fn BundleItem(bundle: BundleSummary) -> impl IntoView {
    let session = expect_context::<Session>();
    let name = bundle.name.clone();
    let (from, to) = (bundle.min_ts_nanos, bundle.max_ts_nanos);
    let findings = bundle.findings;
    let gaps = bundle.gaps;
    let export = {
        let name = name.clone();
        Memo::new(move |_| {
            session
                .bundle_exports
                .with(|exports| exports.get(&name).cloned())
        })
    };
    let exporting =
        Memo::new(move |_| export.with(|e| e.as_ref().is_some_and(BundleExportState::running)));
    view! {
        <li class="bundle" data-testid="bundle" data-name=bundle.name.clone()>
            <div class="bundle-head">
                <strong>{bundle.name.clone()}</strong>
                <span class="bundle-actions">
                <ExportBundle name=name.clone() export exporting />
                <button
                    class="delete"
                    data-testid="delete-bundle"
                    title="Remove this bundle's records from the store"
                    disabled=exporting
                    on:click=move |_| {
                        let confirmed = web_sys::window()
                            .and_then(|w| w.confirm_with_message(&format!(
                                "Remove bundle '{name}' and its records from this browser?"
                            )).ok())
                            .unwrap_or(false);
                        if confirmed {
                            session.delete_bundle(name.clone());
                        }
                    }
                >"Delete"</button>
                </span>
            </div>
            {move || export.with(|e| match e {
                Some(BundleExportState::Ended(text)) => Some(view! {
                    <div class="note" data-testid="export-bundle-note">{text.clone()}</div>
                }),
                _ => None,
            })}
            <div class="note">
                {format::count(bundle.records)} " records · " {format::bytes(bundle.bytes as f64)}
                {(!bundle.complete).then_some(" · partly imported")}
            </div>
            <div class="note">
                {move || {
                    let utc = session.utc.get();
                    format!("{} → {}", format::maybe_time(from, utc), format::maybe_time(to, utc))
                }}
            </div>
            {(!findings.is_empty()).then(|| view! {
                <details class="findings" data-testid="findings">
                    <summary>{format::counted(findings.len() as u64, "integrity finding")}</summary>
                    <ul>{findings.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                </details>
            })}
            {(!gaps.is_empty()).then(|| view! {
                <details class="findings" data-testid="gaps">
                    <summary>{format::counted(gaps.len() as u64, "time gap")}</summary>
                    <ul>{gaps.into_iter().map(|gap| view! { <GapItem gap /> }).collect_view()}</ul>
                </details>
            })}
        </li>
    }
}

/// Saves the bundle as a bundle archive: to open in the viewer on another site (whose
/// storage is separate), or to unpack with `tar -xf` for `trawl`. While it runs the button
/// shows how far it is, with Cancel beside it; `export` is the bundle's latest export, and
/// `exporting` whether it still runs.
#[component]
fn ExportBundle(
    name: String,
    export: Memo<Option<BundleExportState>>,
    exporting: Memo<bool>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let on_click = move |_| {
        session.export_bundle(name.clone(), |answer| match answer {
            Ok((archive, blob)) => match save_blob(&archive.file_name, &blob) {
                Ok(()) => format!(
                    "saved {} ({}, {})",
                    archive.file_name,
                    format::counted(archive.records, "record"),
                    format::bytes(archive.bytes as f64)
                ),
                Err(err) => format!("could not save the file: {err:?}"),
            },
            Err(WorkerError::Cancelled) => "export cancelled: nothing was saved".to_owned(),
            Err(err) => format!("export failed: {err}"),
        });
    };
    let label = move || {
        export.with(|e| match e {
            Some(BundleExportState::Running(p)) if p.records_total > 0 => {
                format!("Exporting… {}%", p.records * 100 / p.records_total)
            }
            Some(BundleExportState::Starting | BundleExportState::Running(_)) => {
                "Exporting…".to_owned()
            }
            None | Some(BundleExportState::Ended(_)) => "Export".to_owned(),
        })
    };
    let cancel = move |_| {
        if let Some(BundleExportState::Running(p)) = export.get_untracked() {
            session.cancel_export(p.export);
        }
    };
    view! {
        <button
            class="small"
            data-testid="export-bundle"
            title="Save this bundle as one .tar file: drop it on trawl elsewhere (another site's \
                   storage is separate), or unpack it with tar -xf for the trawl command"
            disabled=exporting
            on:click=on_click
        >
            {label}
        </button>
        {move || export.with(|e| matches!(e, Some(BundleExportState::Running(_)))).then(|| view! {
            <button
                class="small"
                data-testid="export-bundle-cancel"
                title="Stop the export; nothing is saved"
                on:click=cancel
            >"Cancel"</button>
        })}
    }
}

/// One gap of the integrity report; a click shows the source's records around it.
#[component]
fn GapItem(gap: Gap) -> impl IntoView {
    let session = expect_context::<Session>();
    let source = gap
        .source
        .clone()
        .unwrap_or_else(|| "(no source)".to_owned());
    // A file's name says which stream; its whole path is in the tooltip.
    let name = source
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(&source)
        .to_owned();
    let silent = format::duration((gap.to_nanos - gap.from_nanos) as f64 / 1e6);
    let (from, to) = (gap.from_nanos, gap.to_nanos);
    view! {
        <li>
            <button
                class="link"
                data-testid="gap"
                title=format!("Show the records of {source} around the gap")
                on:click=move |_| session.show_gap(&gap)
            >{name} " silent for " {silent}</button>
            <div class="note">
                {move || {
                    let utc = session.utc.get();
                    format!("{} → {}", format::time(from, utc), format::time(to, utc))
                }}
            </div>
        </li>
    }
}
