//! The trawl viewer's user interface. All data work happens in the store worker; this crate
//! only renders state and sends [`trawl_protocol`] requests.

mod platform;
mod status;
mod worker_client;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(status::App);
}
