use anyhow::Context;
use billetterie::cli::{Cli, Command};
use billetterie::config::{AppEnv, Settings};
use billetterie::startup::{self, Application};
use billetterie::telemetry;
use clap::Parser;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut settings = Settings::load().context("loading configuration")?;
    telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve { bind: None }) {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                settings.bind = bind;
            }
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "Billetterie is listening: http://127.0.0.1:{}/ (API under /api/v1)", app.port());
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let db = startup::resolve_database(&settings).await?;
            let url = db.url().to_owned();
            tokio::task::spawn_blocking(move || startup::prepare_database(&url, false)).await??;
            println!("Migrations are up to date.");
        }
        Command::Seed => {
            anyhow::ensure!(settings.app_env != AppEnv::Production, "the demo catalogue is never seeded in production");
            let db = startup::resolve_database(&settings).await?;
            let url = db.url().to_owned();
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                use diesel::Connection;
                startup::prepare_database(&url, false)?;
                let mut conn = diesel::pg::PgConnection::establish(&url)?;
                billetterie::db::seed::seed_demo(&mut conn)
            })
            .await??;
            println!("Demo catalogue seeded.");
        }
    }
    Ok(())
}
