//! The trawl viewer's user interface. All data work happens in the store worker; this crate
//! renders state and sends [`trawl_protocol`] requests.

mod embed;
mod format;
mod platform;
mod refresh_pace;
mod session;
mod ui;
mod view_state;
mod worker_client;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(ui::App);
}
