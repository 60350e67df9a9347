//! The day's PDFs: how long one ticket, one certificate and one invoice take to draw, and how
//! big they are, against the confirmation mail's HTML rendered in the same run (the work the
//! dispatcher already does per mail). `cargo bench --bench documents`; sizes are printed first.

use criterion::{criterion_group, criterion_main, Criterion};

use billetterie::documents::{certificate, invoice, ticket};
use billetterie::domain::{EmailKind, Language};
use billetterie::email::paperwork;
use billetterie::email::render::{EmailContext, EmailRenderer, NoTracking};

fn seat() -> ticket::Seat {
    ticket::Seat {
        position: 1,
        name: Some("Zoé Côté-Tremblay".into()),
        token: billetterie::domain::tokens::ticket_token("bench secret", "0123456789abcdef0123456789abcdef"),
    }
}

fn the_invoice(ctx: &EmailContext) -> invoice::Invoice {
    invoice::Invoice {
        kind: invoice::Kind::Invoice,
        number: "F-000042".into(),
        issued_on: ctx.starts_at.date_naive(),
        buyer_name: ctx.buyer_name.clone(),
        buyer_email: "marie.tremblay@example.ca".into(),
        company_name: Some("CIUSSS du Centre-Sud-de-l’Île-de-Montréal".into()),
        billing_address: Some("1560, rue Sherbrooke Est\nMontréal (Québec) H2L 4M1".into()),
        purchase_order: Some("PO-7781".into()),
        attendee_names: vec!["Zoé Côté-Tremblay".into(), "Luc Roy".into()],
        quantity: ctx.quantity,
        unit_price_cents: ctx.unit_price_cents,
        subtotal_cents: ctx.subtotal_cents,
        discount_cents: ctx.discount_cents,
        taxes: ctx.taxes.clone(),
        total_cents: ctx.total_cents,
        settled_on: Some(ctx.starts_at.date_naive()),
    }
}

fn documents(c: &mut Criterion) {
    let ctx = EmailContext::sample(EmailKind::Confirmation, Language::Fr);
    let day = paperwork::day(&ctx);
    let who = certificate::Attendance {
        name: "Zoé Côté-Tremblay".into(),
        licence_number: Some("OPQ 12345-67".into()),
        issued_on: ctx.starts_at.date_naive(),
    };
    let renderer = EmailRenderer::new().unwrap();
    let inv = the_invoice(&ctx);
    println!(
        "sizes: ticket {} bytes, certificate {} bytes, invoice {} bytes, confirmation mail HTML {} bytes",
        ticket::tickets(&day, 1, &[seat()]).unwrap().len(),
        certificate::render(&day, &who).unwrap().len(),
        invoice::render(&day, &inv).unwrap().len(),
        renderer.render(&ctx, &NoTracking).unwrap().html.len()
    );
    let mut g = c.benchmark_group("documents");
    g.bench_function("baseline: confirmation mail (HTML + text)", |b| b.iter(|| renderer.render(&ctx, &NoTracking).unwrap()));
    g.bench_function("ticket (one seat, QR)", |b| b.iter(|| ticket::tickets(&day, 1, &[seat()]).unwrap()));
    g.bench_function("certificate", |b| b.iter(|| certificate::render(&day, &who).unwrap()));
    g.bench_function("invoice", |b| b.iter(|| invoice::render(&day, &inv).unwrap()));
    g.finish();
}

criterion_group!(benches, documents);
criterion_main!(benches);
