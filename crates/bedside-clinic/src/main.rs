//! `bedside-clinic`: the reference clinic backend as a binary (the same as
//! `cargo run --example clinic`; see [`bedside_clinic::server`] for the flags).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    bedside_clinic::server::run(std::env::args().skip(1))
}
