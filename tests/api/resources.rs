//! A masterclass's resources: the organiser uploads a file (checked by its first bytes, limited in
//! size, nothing left behind when refused) and adds links; the booking's signed link lists them and
//! serves the file with its type, name and checksum until the policy's access period ends.

use billetterie::domain::tokens::{resources_key, resources_url};
use billetterie::domain::Language;
use reqwest::header::COOKIE;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::admin::Organiser;
use crate::helpers::*;
use crate::self_service::{paid, starts_in_days};

async fn upload(app: &TestApp, org: &Organiser, masterclass: i64, filename: &str, bytes: Vec<u8>) -> (u16, Value) {
    let res =
        app.client
            .post(app.url(&format!(
                "/api/v1/admin/masterclasses/{masterclass}/resources/files?title=Cahier%20du%20participant&filename={filename}"
            )))
            .header(COOKIE, &org.cookies)
            .header("x-csrf-token", &org.csrf)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The files in the resources folder, temporary ones included.
fn stored(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return vec![] };
    entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect()
}

fn pdf(size: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.4\n".to_vec();
    b.resize(size, b'x');
    b
}

#[actix_web::test]
async fn an_uploaded_workbook_reaches_attendees_until_the_access_period_ends() {
    let dir = std::env::temp_dir().join(format!("billetterie-resources-{}", hex::encode(rand::random::<[u8; 8]>())));
    let d = dir.clone();
    let app = spawn_app_with(move |s| {
        s.resources_dir = d;
        s.resources_max_bytes = 4096;
    })
    .await;
    let org = crate::admin::login(&app).await;
    let (reference, id) = paid(&app, "halifax", 1).await;
    let masterclass = app.db.scalar(&format!("SELECT masterclass_event_id FROM city_events WHERE id = {id}"));
    let rows = || app.db.scalar("SELECT count(*) FROM resources");

    let workbook = pdf(2000);
    let (status, body) = upload(&app, &org, masterclass, "cahier.pdf", workbook.clone()).await;
    assert_eq!(status, 201, "{body}");
    let sha = hex::encode(Sha256::digest(&workbook));
    assert_eq!(
        (body["sha256"].as_str(), body["content_type"].as_str(), body["size_bytes"].as_i64()),
        (Some(sha.as_str()), Some("application/pdf"), Some(2000))
    );
    assert_eq!(stored(&dir), vec![sha.clone()]);
    let (status, link) = org
        .post(
            &app,
            &format!("/api/v1/admin/masterclasses/{masterclass}/resources/links"),
            json!({"title": "Enregistrements", "url": "https://example.ca/enregistrements"}),
        )
        .await;
    assert_eq!(status, 201, "{link}");
    let (status, bad) = org
        .post(
            &app,
            &format!("/api/v1/admin/masterclasses/{masterclass}/resources/links"),
            json!({"title": "X", "url": "javascript:alert(1)"}),
        )
        .await;
    assert_eq!((status, bad["error"]["code"].as_str()), (422, Some("invalid_url")), "{bad}");

    // Too large, or not what it claims to be: refused, no row, no file, no temporary file.
    let (status, body) = upload(&app, &org, masterclass, "gros.pdf", pdf(5000)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("file_too_large")), "{body}");
    let (status, body) = upload(&app, &org, masterclass, "cahier.pdf", b"MZ\x90\0\x03\0\0\0 an executable".to_vec()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (415, Some("unsupported_file_type")), "{body}");
    assert_eq!(rows(), 2);
    assert_eq!(stored(&dir), vec![sha.clone()]);

    // The back office lists both, and its form adds a link.
    let admin_page = format!("/admin/catalogue/masterclasses/{masterclass}/resources?lang=fr");
    let (status, headers, html) = org.text(&app, &admin_page).await;
    let html = String::from_utf8(html).unwrap();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(&sha) && html.contains("cahier.pdf") && html.contains("https://example.ca/enregistrements"), "{html}");
    let token = html.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let mut cookie = org.cookies.clone();
    for c in headers.get_all("set-cookie") {
        cookie.push_str("; ");
        cookie.push_str(c.to_str().unwrap().split(';').next().unwrap());
    }
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = no_redirect
        .post(app.url(&format!("/admin/catalogue/masterclasses/{masterclass}/resources/links")))
        .header(COOKIE, &cookie)
        .form(&[("csrf_token", token.as_str()), ("title", "Diapositives"), ("url", "https://example.ca/diapos")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert!(res.headers()["location"].to_str().unwrap().ends_with("notice=saved"));
    assert_eq!(rows(), 3);

    // The attendee's page lists them; the file comes with its type, name and bytes.
    let url = resources_url(&app.state.settings.frontend_url, app.state.settings.secret_key.expose(), Language::Fr, &reference);
    let path = url.strip_prefix(app.state.settings.frontend_url.trim_end_matches('/')).unwrap().to_owned();
    let res = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Cahier du participant") && html.contains("https://example.ca/enregistrements"), "{html}");
    let file_id = body_id(&html);
    let k = resources_key(app.state.settings.secret_key.expose(), &reference);
    let res = app.client.get(app.url(&format!("/fr/ressources/{reference}/files/{file_id}?k={k}"))).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["content-disposition"], "attachment; filename=\"cahier.pdf\"");
    assert_eq!(hex::encode(Sha256::digest(res.bytes().await.unwrap())), sha);

    // A forged key: 404, for the page and the file.
    for p in [
        format!("/fr/ressources/{reference}?k={}", "0".repeat(64)),
        format!("/fr/ressources/{reference}/files/{file_id}?k={}", "0".repeat(64)),
    ] {
        assert_eq!(app.client.get(app.url(&p)).send().await.unwrap().status().as_u16(), 404, "{p}");
    }

    // Past the policy's 60 days: a clear page, and no file.
    starts_in_days(&app, id, -61);
    let res = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 410);
    let html = res.text().await.unwrap();
    assert!(html.contains("L’accès aux ressources a pris fin le") && !html.contains("Cahier du participant"), "{html}");
    let res = app.client.get(app.url(&format!("/fr/ressources/{reference}/files/{file_id}?k={k}"))).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 410);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The id in the page's first file link (`…/files/<id>?k=`).
fn body_id(html: &str) -> i64 {
    html.split("/files/").nth(1).and_then(|s| s.split('?').next()).and_then(|s| s.parse().ok()).expect("a file link")
}
