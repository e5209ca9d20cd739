//! Configuration facts that must hold for the whole crate: the version pin
//! matches the pinned spec, and no `Debug` output shows a secret.

use pinwheel::{API_VERSION, Client, Mode};

#[test]
fn the_pinned_version_is_the_version_of_the_pinned_spec() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../specs/pinwheel/SOURCE.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let source: toml::Table = text.parse().unwrap();
    let api_version = source["upstream"]["api_version"].as_str().unwrap();
    assert_eq!(api_version, format!("v{API_VERSION}"));
}

#[test]
fn debug_output_of_builders_and_clients_never_shows_the_secret() {
    let secret = "sk-live-do-not-print-7c1d";
    let builder = Client::builder(secret).mode(Mode::Production);
    let debug = format!("{builder:?} {builder:#?}");
    assert!(!debug.contains(secret), "{debug}");
    let client = builder.build().unwrap();
    let debug = format!("{client:?} {client:#?} {:?}", client.api());
    assert!(!debug.contains(secret), "{debug}");
    assert!(debug.contains("api.getpinwheel.com"));
}

#[test]
fn production_is_paced_at_fifty_and_sandbox_at_ten_per_second() {
    assert_eq!(Mode::Production.rate_limit().limit().get(), 50);
    assert_eq!(Mode::Sandbox.rate_limit().limit().get(), 10);
}
