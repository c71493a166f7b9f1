//! The `plaudit` binary: parse the command line, load settings, start logging, dispatch.
#![forbid(unsafe_code)]

use clap::Parser;
use plaudit::{cli::Cli, config::Settings};

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
