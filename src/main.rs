//! The `plaudit` binary: parse the command line, load settings, start logging, dispatch;
//! and the allocator the process runs on.
#![forbid(unsafe_code)]

use clap::Parser;
use plaudit::{cli::Cli, config::Settings};

/// jemalloc, with a background thread that hands the pages freed more than a
/// second ago back to the system (options in `.cargo/config.toml`). glibc's
/// allocator kept what a burst of work freed in the arena of the thread that
/// freed it until a periodic `malloc_trim`; mimalloc kept it too (110 MB ten
/// seconds after a burst of ingest, against 44 MB here; see `docs/decisions.md`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("plaudit: bad configuration: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    plaudit::telemetry::init(&settings);
    match plaudit::cli::run(cli, settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plaudit: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
