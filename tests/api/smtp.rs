//! The SMTP transport against a real SMTP server: Python's `aiosmtpd` (installed by
//! scripts/test), with the handler in tests/smtp/recorder.py, which parses what it receives with
//! Python's own e-mail package and writes it as JSON.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use billetterie::config::SmtpTls;
use billetterie::domain::{EmailKind, Language};
use billetterie::email::smtp::{SmtpSettings, SmtpTransport};
use billetterie::email::transport::{Attachment, EmailTransport, OutgoingEmail, TransportError};
use serde_json::Value;

/// `python3 -m aiosmtpd` on a free loopback port, recording into a folder of its own.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl SmtpServer {
    /// Fails (never skips) when Python or aiosmtpd is missing: the tests would prove nothing.
    pub fn start() -> Self {
        let check = Command::new("python3").args(["-m", "aiosmtpd", "--version"]).output();
        match check {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!(
                "the SMTP tests need Python's aiosmtpd: run scripts/test, which installs it \
                 (or: python3 -m pip install --user aiosmtpd)\n{}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => panic!("the SMTP tests need python3 with aiosmtpd ({e}): run scripts/test, which installs them"),
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("test-smtp").join(format!("{port}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let handlers = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("smtp");
        let mut child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "recorder.Recorder"])
            .arg(&dir)
            .env("PYTHONPATH", &handlers)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                let mut stderr = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
                panic!("aiosmtpd exited ({status}) before listening: {stderr}");
            }
            assert!(Instant::now() < deadline, "aiosmtpd did not listen on port {port} within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port, dir }
    }

    /// Settings for the transport: plain SMTP to this server, no login.
    pub fn settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: SmtpTls::None,
            username: String::new(),
            password: String::new(),
            hello_name: Some("billets.actcanada.ca".into()),
            timeout: Duration::from_secs(5),
        }
    }

    /// Every message received so far, as recorder.py wrote it.
    pub fn received(&self) -> Vec<Value> {
        let mut records: Vec<(PathBuf, Value)> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| {
                let value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                (p, value)
            })
            .collect();
        records.sort_by(|a, b| a.0.cmp(&b.0));
        records.into_iter().map(|(_, v)| v).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The value of the one header `name` of a received message.
pub fn header<'a>(message: &'a Value, name: &str) -> &'a str {
    let matching: Vec<&str> = message["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|h| h[1].as_str().unwrap())
        .collect();
    assert_eq!(matching.len(), 1, "one {name} header in {message}");
    matching[0]
}

/// The leaf parts of a received message of one content type.
pub fn parts<'a>(message: &'a Value, content_type: &str) -> Vec<&'a Value> {
    message["parts"].as_array().unwrap().iter().filter(|p| p["content_type"] == content_type).collect()
}

const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Masterclass ACT — Montréal\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn mail(to: &str) -> OutgoingEmail {
    OutgoingEmail {
        campaign_id: 4242,
        kind: EmailKind::JMinus1,
        language: Language::Fr,
        to: to.into(),
        to_name: Some("Zoé Tremblay".into()),
        from: "billets@actcanada.ca".into(),
        from_name: "Équipe ACT".into(),
        subject: "C'est demain : la masterclass à Montréal".into(),
        html: "<p>Bonjour Zoé,</p><p>À demain, 8 h 30 !</p>".into(),
        text: "Bonjour Zoé,\n\nÀ demain, 8 h 30 !\n".into(),
        attachments: vec![Attachment {
            filename: "masterclass.ics".into(),
            content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
            bytes: ICS.as_bytes().to_vec(),
        }],
    }
}

#[actix_web::test]
async fn a_mail_reaches_a_real_smtp_server_whole() {
    let server = SmtpServer::start();
    let transport = SmtpTransport::new(&server.settings()).unwrap();
    assert_eq!(transport.name(), "smtp");
    let answer = transport.send(&mail("zoe@example.ca")).await.expect("sent");
    assert!(answer.starts_with("250") && answer.contains("queued as"), "the relay's answer is kept: {answer}");

    let received = server.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let m = &received[0];
    assert_eq!(m["helo"], "billets.actcanada.ca");
    assert_eq!(m["mail_from"], "billets@actcanada.ca");
    assert_eq!(m["rcpt_tos"], serde_json::json!(["zoe@example.ca"]));
    assert_eq!(header(m, "To"), "Zoé Tremblay <zoe@example.ca>");
    assert_eq!(header(m, "From"), "Équipe ACT <billets@actcanada.ca>");
    assert_eq!(header(m, "Subject"), "C'est demain : la masterclass à Montréal");
    assert_eq!(header(m, "X-Billetterie-Campaign"), "4242");
    assert_eq!(header(m, "X-Billetterie-Kind"), "j_minus_1");
    assert_eq!(header(m, "Message-ID"), "<campaign-4242@billetterie.local>");
    assert_eq!(header(m, "Content-Language"), "fr");
    assert_eq!(m["content_type"], "multipart/mixed");

    let text = parts(m, "text/plain");
    assert_eq!(text.len(), 1, "{m}");
    assert_eq!(text[0]["body"].as_str().unwrap().replace("\r\n", "\n"), "Bonjour Zoé,\n\nÀ demain, 8 h 30 !\n");
    let html = parts(m, "text/html");
    assert_eq!(html.len(), 1, "{m}");
    assert_eq!(html[0]["body"], "<p>Bonjour Zoé,</p><p>À demain, 8 h 30 !</p>");
    let ics = parts(m, "text/calendar");
    assert_eq!(ics.len(), 1, "{m}");
    assert_eq!(ics[0]["filename"], "masterclass.ics");
    assert_eq!(ics[0]["disposition"], "attachment");
    assert_eq!(ics[0]["params"]["method"], "PUBLISH");
    assert_eq!(ics[0]["body"].as_str().unwrap().replace("\r\n", "\n"), ICS.replace("\r\n", "\n"));
}

#[actix_web::test]
async fn refusals_are_permanent_for_5xx_and_transient_for_4xx_a_refused_login_and_no_server() {
    let server = SmtpServer::start();
    let transport = SmtpTransport::new(&server.settings()).unwrap();

    match transport.send(&mail("refused@example.ca")).await {
        Err(TransportError::Permanent(message)) => assert!(message.contains("550") && message.contains("no such user"), "{message}"),
        other => panic!("a 550 recipient is permanent: {other:?}"),
    }
    match transport.send(&mail("busy@example.ca")).await {
        Err(TransportError::Transient(message)) => assert!(message.contains("451"), "{message}"),
        other => panic!("a 451 recipient is transient: {other:?}"),
    }
    // A refused login is a 5xx too, but the operator's to fix: retried, not failed for good.
    match transport.send(&OutgoingEmail { from: "locked-out@actcanada.ca".into(), ..mail("zoe@example.ca") }).await {
        Err(TransportError::Transient(message)) => assert!(message.contains("535") && message.contains("SMTP_PASSWORD"), "{message}"),
        other => panic!("a 535 is transient: {other:?}"),
    }
    assert!(server.received().is_empty(), "nothing was delivered: {:?}", server.received());

    // Nobody listening: a connection failure is worth retrying.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let nobody = SmtpTransport::new(&SmtpSettings { port: closed, ..server.settings() }).unwrap();
    match nobody.send(&mail("zoe@example.ca")).await {
        Err(TransportError::Transient(message)) => assert!(message.contains(&format!("127.0.0.1:{closed}")), "{message}"),
        other => panic!("no server is transient: {other:?}"),
    }
    // The same server still takes a good mail afterwards.
    transport.send(&mail("zoe@example.ca")).await.expect("sent");
    assert_eq!(server.received().len(), 1);
}
