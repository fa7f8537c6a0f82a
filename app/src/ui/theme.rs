//! Light and dark themes; the choice is stored in the store's settings.

use leptos::{prelude::*, task::spawn_local};
use trawl_protocol::{Request, Response, WorkerState};

use crate::{session::Session, worker_client};

/// The setting key under which the theme is stored.
const THEME_KEY: &str = "theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theme {
    Light,
    Dark,
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    fn toggled(self) -> Self {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }
}

/// The theme button; applies the stored theme once the store is open.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let session = expect_context::<Session>();
    let theme = RwSignal::new(Theme::Light);

    Effect::new(move |_| {
        if session.worker.get() == WorkerState::Ready {
            spawn_local(async move {
                let key = THEME_KEY.to_owned();
                match worker_client::request(Request::GetSetting { key }).await {
                    Ok(Response::Setting { value }) => {
                        if let Some(t) = value.as_deref().and_then(Theme::parse) {
                            theme.set(t);
                        }
                    }
                    other => session.report(other.err()),
                }
            });
        }
    });
    Effect::new(move |_| {
        let value = theme.get().as_str();
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-theme", value);
        }
    });

    let toggle = move |_| {
        let next = theme.get_untracked().toggled();
        theme.set(next);
        spawn_local(async move {
            let request = Request::SetSetting {
                key: THEME_KEY.to_owned(),
                value: next.as_str().to_owned(),
            };
            if let Err(err) = worker_client::request(request).await {
                session
                    .errors
                    .update(|e| e.push(format!("the theme was not saved: {err}")));
            }
        });
    };

    view! {
        <button data-testid="theme-toggle" class="theme" on:click=toggle>
            {move || match theme.get() {
                Theme::Light => "Dark theme",
                Theme::Dark => "Light theme",
            }}
        </button>
    }
}
