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
    assert!(stderr.contains("refusing to start (production): 8 problems in the configuration"), "{stderr}");
    for setting in [
        "DATABASE_URL",
        "SECRET_KEY",
        "FRONTEND_URL",
        "STRIPE_PUBLISHABLE_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "SMTP_HOST",
        "SENDGRID_FROM_EMAIL",
        "METRICS_TOKEN",
    ] {
        assert!(stderr.lines().any(|l| l.trim_start().starts_with(&format!("- {setting}: "))), "{setting} named on its own line: {stderr}");
    }
    assert!(!stderr.contains("- STRIPE_SECRET_KEY:"), "a test key is accepted: {stderr}");
    assert!(!stderr.contains("- EMAIL_TRANSPORT:"), "smtp is a real transport: {stderr}");
}

/// Production starts from an empty catalogue: `seed` refuses, and asking for the demo is one of
/// the refusals; the database stays empty.
#[actix_web::test]
async fn production_never_seeds_the_demo() {
    let db = crate::helpers::TestDb::empty();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let run = |args: &[&str], extra: &[(&str, &str)]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_billetterie"));
        cmd.args(args)
            .env_clear()
            .env("APP_ENV", "production")
            .env("APP_CONFIG_DIR", &config)
            .env("DATABASE_URL", &db.url)
            .env("BIND", "127.0.0.1:0")
            // A complete production configuration, so only what the test adds can be refused.
            .env("SECRET_KEY", "f3a9c1e7b5d2086a4c9e1f7b3d5a2c8e6b0d4f1a")
            .env("FRONTEND_URL", "https://billetterie.actcanada.ca")
            .env("STRIPE_SECRET_KEY", "sk_test_51NqLmZ8vTbW3rY")
            .env("STRIPE_PUBLISHABLE_KEY", "pk_test_51NqLmZ8vTbW3rY")
            .env("STRIPE_WEBHOOK_SECRET", "whsec_9f8e7d6c5b4a3f2e1d0c")
            .env("EMAIL_TRANSPORT", "smtp")
            .env("SMTP_HOST", "smtp.actcanada.ca")
            .env("SENDGRID_FROM_EMAIL", "bonjour@actcanada.ca")
            .env("METRICS_TOKEN", "prom-7Hq2LxV9sK4mN8pR3tW6yZ1b")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output()
    };
    let out = tokio::time::timeout(Duration::from_secs(30), run(&["seed"], &[])).await.expect("it stops by itself").unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("never seeded in production"), "{stderr}");
    let out = tokio::time::timeout(Duration::from_secs(30), run(&["serve"], &[("SEED_DEMO", "true")]))
        .await
        .expect("it stops by itself")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {stderr}");
    assert!(stderr.lines().any(|l| l.trim_start().starts_with("- SEED_DEMO: ")), "SEED_DEMO named: {stderr}");
    assert_eq!(db.scalar("SELECT count(*) FROM masterclass_events") + db.scalar("SELECT count(*) FROM cities"), 0);
}

/// A webhook secret set without the secret key would be replaced by the stand-in's in silence:
/// the application refuses to start, naming the setting.
#[actix_web::test]
async fn a_webhook_secret_without_a_secret_key_refuses_to_start() {
    let db = crate::helpers::TestDb::new();
    let mut s = crate::helpers::settings(&db);
    s.stripe_webhook_secret = billetterie::config::Secret::new("whsec_operator_set_this_one".to_owned());
    let refused = billetterie::app::Application::build(s).await.err().expect("refused");
    let message = refused.to_string();
    assert!(message.contains("STRIPE_WEBHOOK_SECRET set without STRIPE_SECRET_KEY"), "{message}");
}
