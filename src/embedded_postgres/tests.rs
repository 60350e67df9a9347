//! The pure parts of the cluster manager: URLs, versions, names, quoting, parsing of what
//! PostgreSQL writes, and the policy's refusals that need no server.

use std::path::{Path, PathBuf};

use super::cluster::{parse_postmaster_pid, process_state, unix_socket_dir};
use super::policy::validate_db_name;
use super::tools::{effective_uid_from_status, major_version, newest_first, no_binaries_message, shell_quote, tail_lines};
use super::url::{mask_password, replace_database, tcp_host_port, with_query_param};
use super::{resolve, DatabaseOrigin};

#[test]
fn replaces_the_database_and_keeps_everything_else() {
    let db = |url| replace_database(url, "billetterie").unwrap();
    assert_eq!(db("postgres://postgres@127.0.0.1:5432/postgres"), "postgres://postgres@127.0.0.1:5432/billetterie");
    assert_eq!(db("postgresql://u:p@h/postgres?sslmode=disable"), "postgresql://u:p@h/billetterie?sslmode=disable");
    assert_eq!(db("postgres://h:5433"), "postgres://h:5433/billetterie");
    assert_eq!(db("postgres://h:5433/"), "postgres://h:5433/billetterie");
    assert_eq!(db("postgres://h?connect_timeout=2"), "postgres://h/billetterie?connect_timeout=2");
    assert_eq!(db("postgres:///postgres?host=/var/run/postgresql"), "postgres:///billetterie?host=/var/run/postgresql");
    assert!(replace_database("host=localhost dbname=postgres", "x").is_err());
}

#[test]
fn masks_passwords_in_urls_and_parameters() {
    assert_eq!(mask_password("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
    assert_eq!(mask_password("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
    assert_eq!(mask_password("postgres://u@h/db"), "postgres://u@h/db");
    assert_eq!(mask_password("postgres://h/db"), "postgres://h/db");
    assert_eq!(mask_password("postgres://u@h/db?password=secret&sslmode=require"), "postgres://u@h/db?password=***&sslmode=require");
    assert_eq!(mask_password("host=h password='a b\\' c' user=u"), "host=h password=*** user=u");
    assert_eq!(mask_password("host=h password=secret"), "host=h password=***");
    // Only a parameter named exactly `password`.
    assert_eq!(mask_password("postgres://h/db?old_password=x"), "postgres://h/db?old_password=x");
}

#[test]
fn picks_the_newest_version_directory() {
    let dir = |v: &str| PathBuf::from(format!("/usr/lib/postgresql/{v}/bin"));
    let labelled = ["9.6", "15", "10", "common", "12", "16beta"].map(|v| (v.to_owned(), dir(v)));
    assert_eq!(newest_first(labelled), vec![dir("15"), dir("12"), dir("10"), dir("9.6")]);
    assert!(newest_first(Vec::new()).is_empty());
}

#[test]
fn reads_major_versions_like_pg_version_does() {
    assert_eq!(major_version("postgres (PostgreSQL) 15.8 (Debian 15.8-1.pgdg120+1)\n").as_deref(), Some("15"));
    assert_eq!(major_version("postgres (PostgreSQL) 9.6.24").as_deref(), Some("9.6"));
    assert_eq!(major_version("postgres (PostgreSQL) 17beta1").as_deref(), Some("17"));
    assert_eq!(major_version("garbage"), None);
}

#[test]
fn finds_the_host_to_probe() {
    assert_eq!(tcp_host_port("postgres://postgres@127.0.0.1:5432/postgres"), Some(("127.0.0.1".into(), 5432)));
    assert_eq!(tcp_host_port("postgres://u:p@localhost/db"), Some(("localhost".into(), 5432)));
    assert_eq!(tcp_host_port("postgres://[::1]:5433/db"), Some(("::1".into(), 5433)));
    assert_eq!(tcp_host_port("postgres://a:5433,b:5434/db"), Some(("a".into(), 5433)));
    assert_eq!(tcp_host_port("postgres:///db"), None);
    assert_eq!(tcp_host_port("postgres://%2Fvar%2Frun%2Fpostgresql/db"), None);
}

#[test]
fn adds_query_parameters_once() {
    assert_eq!(with_query_param("postgres://h/db", "connect_timeout", "5"), "postgres://h/db?connect_timeout=5");
    assert_eq!(
        with_query_param("postgres://h/db?sslmode=disable", "connect_timeout", "5"),
        "postgres://h/db?sslmode=disable&connect_timeout=5"
    );
    assert_eq!(with_query_param("postgres://h/db?connect_timeout=9", "connect_timeout", "5"), "postgres://h/db?connect_timeout=9");
    assert_eq!(with_query_param("postgres://h/db?", "k", "v"), "postgres://h/db?k=v");
}

#[test]
fn validates_database_names() {
    assert!(validate_db_name("billetterie").is_ok());
    assert!(validate_db_name("embedded_check_db2").is_ok());
    for bad in ["", "Billetterie", "a-b", "a\"; DROP DATABASE x; --", "é", &"a".repeat(64)] {
        assert!(validate_db_name(bad).is_err(), "{bad:?} should be rejected");
    }
}

#[test]
fn quotes_for_the_shell() {
    assert_eq!(shell_quote("/usr/lib/postgresql/15/bin/pg_ctl"), "/usr/lib/postgresql/15/bin/pg_ctl");
    assert_eq!(shell_quote("-p 5 -c x=y"), "'-p 5 -c x=y'");
    assert_eq!(shell_quote("it's"), r"'it'\''s'");
    assert_eq!(shell_quote(""), "''");
}

#[test]
fn falls_back_to_tcp_only_for_long_paths() {
    assert_eq!(unix_socket_dir(Path::new("/tmp/x/postgres"), 54329), Some(Path::new("/tmp/x/postgres")));
    let long = PathBuf::from(format!("/{}/postgres", "d".repeat(90)));
    assert_eq!(unix_socket_dir(&long, 54329), None);
}

#[test]
fn parses_proc_status_and_postmaster_pid() {
    let status = "Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
    assert_eq!(effective_uid_from_status(status), Some(0));
    assert_eq!(effective_uid_from_status("Name:\tx\n"), None);
    let pid = "4242\n/tmp/d/postgres\n1700000000\n54329\n/tmp/d/postgres\n127.0.0.1\n  1234  5678\nready   \n";
    assert_eq!(parse_postmaster_pid(pid), Some((4242, 54329)));
    assert_eq!(parse_postmaster_pid("4242\n/tmp/d\n"), None);
    assert_eq!(process_state("4242 (postgres) S 1 4242"), Some('S'));
    assert_eq!(process_state("4242 (odd) name) Z 1 4242"), Some('Z'));
}

#[test]
fn keeps_the_end_of_long_output() {
    let text = (1..=100).map(|i| i.to_string()).collect::<Vec<_>>().join("\n");
    assert_eq!(tail_lines(&text, 3), "98\n99\n100");
    assert_eq!(tail_lines("a", 3), "a");
}

#[test]
fn says_what_to_install() {
    let message = no_binaries_message("postgres://u:secret@127.0.0.1:5432/postgres");
    assert!(message.contains("postgres://u:***@127.0.0.1:5432/postgres"), "{message}");
    assert!(message.contains("apt-get install postgresql") && message.contains("DATABASE_URL"), "{message}");
}

#[test]
fn an_empty_configured_url_is_an_error() {
    let err = resolve(Some(" "), "postgres://x/y", Path::new("/nonexistent"), 1, "app").unwrap_err();
    assert!(err.to_string().contains("DATABASE_URL is set but empty"), "{err}");
}

#[test]
fn configured_url_is_returned_untouched() {
    let resolved = resolve(Some("postgres://u:p@db.example/app"), "postgres://x/y", Path::new("/nonexistent"), 1, "INVALID!").unwrap();
    assert_eq!(resolved.url(), "postgres://u:p@db.example/app");
    assert_eq!(resolved.origin(), &DatabaseOrigin::Configured);
    assert!(!format!("{resolved:?}").contains(":p@"));
}
