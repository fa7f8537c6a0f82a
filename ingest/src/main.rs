//! `trawl`: offline log review for incident work.
//!
//! Exit codes: 0 success, 1 a problem with the input or the environment (reported on stderr),
//! 2 a usage error (reported by clap).

mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "trawl",
    version,
    about = "Offline log review for incident work"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the built viewer (and bundle directories) on a loopback address.
    Serve(serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("trawl: error: {err:#}");
            ExitCode::from(1)
        }
    }
}
