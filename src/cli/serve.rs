//! `workbench serve`: start the HTTP service.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::WrapErr;
use workbench::serve::{self, Config, Flags, Service, config};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (`API_HOST`, default 127.0.0.1).
    #[arg(long)]
    host: Option<String>,
    /// Port (`API_PORT`, default 8000; 0 picks a free one).
    #[arg(long)]
    port: Option<String>,
    /// Database (`DATABASE_URL`, default `sqlite:///./messaging.db`).
    #[arg(long)]
    database_url: Option<String>,
    /// Rules file (`RULES_PATH`, default `rules/rules.yaml`).
    #[arg(long)]
    rules: Option<String>,
    /// Where deliveries are appended (`MESSAGES_PATH`, default `messages.txt`).
    #[arg(long)]
    messages: Option<String>,
    /// PostgreSQL connections, one per writer (`DATABASE_POOL_SIZE`, default 8).
    #[arg(long)]
    pool_size: Option<String>,
    /// PostgreSQL: the most events a writer commits in one transaction, their users locked
    /// up front (`DATABASE_GROUP_SIZE`, default 32; 1 commits every event alone).
    #[arg(long)]
    group_size: Option<String>,
}

pub fn serve(a: ServeArgs) -> color_eyre::Result<ExitCode> {
    let flags = Flags {
        host: a.host,
        port: a.port,
        database_url: a.database_url,
        rules_path: a.rules,
        messages_path: a.messages,
        pool_size: a.pool_size,
        group_size: a.group_size,
    };
    let dotenv = config::read_dotenv(&std::env::current_dir()?)?;
    let config = Config::resolve(&flags, |k| std::env::var(k).ok(), &dotenv)?;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        // Colours only on a terminal: a log file or a pipe gets plain text.
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?;
    // Before anything writes: recovery at start may meet a file-size limit too.
    runtime.block_on(async { serve::survive_file_size_limits() });
    let service = Service::start(&config)?;
    if let Some(file) = &config.clock_file {
        tracing::warn!(
            file = %file.display(),
            "the clock is read from WORKBENCH_CLOCK_FILE (a test hook), not the system clock"
        );
    }
    if service.recovered > 0 {
        tracing::warn!(
            count = service.recovered,
            "messages that a crash had left unwritten are written (or wait, if they cannot be yet)"
        );
    }
    runtime.block_on(async {
        let addr = serve::address(&config);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .wrap_err_with(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        tracing::info!(
            rules = %config.rules_path.display(),
            messages = %config.messages_path.display(),
            "listening on http://{local}"
        );
        serve::run(listener, service, serve::shutdown_signal())
            .await
            .wrap_err("serving")
    })?;
    Ok(ExitCode::SUCCESS)
}
