//! The binary in production: it refuses to start on a half-configured deployment, naming every
//! problem at once, and starts no server.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

#[actix_web::test]
async fn the_binary_refuses_to_start_in_production_and_lists_every_problem() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_billetterie"))
        .arg("serve")
        // Only what is set here: nothing from the machine's environment can fill a gap.
        .env_clear()
        .env("APP_ENV", "production")
        .env("APP_CONFIG_DIR", &config)
        .env("BIND", "127.0.0.1:0")
        .env("STRIPE_SECRET_KEY", "sk_test_51NqLmZ8vTbW3rY")
        .env("EMAIL_TRANSPORT", "smtp")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), run).await.expect("it stops by itself").unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {stdout}{stderr}");
    assert!(!stdout.contains("listening") && !stderr.contains("listening"), "no server started: {stdout}{stderr}");
    assert!(stderr.contains("refusing to start (production): 7 problems in the configuration"), "{stderr}");
    for setting in [
        "DATABASE_URL",
        "SECRET_KEY",
        "FRONTEND_URL",
        "STRIPE_PUBLISHABLE_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "SMTP_HOST",
        "SENDGRID_FROM_EMAIL",
    ] {
        assert!(stderr.lines().any(|l| l.trim_start().starts_with(&format!("- {setting}: "))), "{setting} named on its own line: {stderr}");
    }
    assert!(!stderr.contains("- STRIPE_SECRET_KEY:"), "a test key is accepted: {stderr}");
    assert!(!stderr.contains("- EMAIL_TRANSPORT:"), "smtp is a real transport: {stderr}");
}
