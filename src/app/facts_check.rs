//! Production refuses to start while a date on sale would print an empty fact: the organiser's
//! name, address or support contact, its venue's Wi-Fi and emergency phone, or its province's
//! tax registration numbers. An empty catalogue
//! starts (the organiser fills it in from the back office before opening sales).

use diesel_async::AsyncPgConnection;

use crate::config::{fact_problem, FactKind};
use crate::db;
use crate::db::site_facts::SiteFacts;
use crate::domain::SalesStatus;

/// Every missing fact at once, or nothing.
pub async fn check(conn: &mut AsyncPgConnection, facts: &SiteFacts) -> anyhow::Result<()> {
    let on_sale: Vec<_> = db::catalogue::city_events(conn).await?.into_iter().filter(|d| d.event.status == SalesStatus::OnSale).collect();
    let problems = problems(facts, &on_sale);
    anyhow::ensure!(
        problems.is_empty(),
        "refusing to start in production: dates are on sale with facts missing (fill them in the back office, or close the sales):\n  - {}",
        problems.join("\n  - ")
    );
    Ok(())
}

fn problems(facts: &SiteFacts, on_sale: &[db::catalogue::CityEventDetails]) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |whose: &str, kind: FactKind, value: &str, what: &str| {
        if let Some(problem) = fact_problem(kind, value, what) {
            out.push(format!("{whose}: {problem}"));
        }
    };
    if !on_sale.is_empty() {
        let o = &facts.organiser;
        check("organiser", FactKind::Text, &o.legal_name, "the legal name on the receipts and in the footer");
        check("organiser", FactKind::Text, &o.address, "the address on the receipts");
        check("organiser", FactKind::Address, &o.support_email, "the support address in every mail and page");
        check("organiser", FactKind::Phone, &o.support_phone, "the support phone");
    }
    let mut seen = std::collections::BTreeSet::new();
    for d in on_sale.iter().filter(|d| seen.insert(d.venue.id)) {
        let v = facts.for_date(d.event.masterclass_event_id, d.venue.id.0).venue;
        let whose = format!("venue {} ({})", d.venue.name, d.city.slug);
        check(&whose, FactKind::Text, &v.wifi_network, "the Wi-Fi network in the J-1 mail");
        check(&whose, FactKind::Text, &v.wifi_password, "the Wi-Fi password in the J-1 mail");
        check(&whose, FactKind::Phone, &v.emergency_phone, "the emergency phone in the J-1 mail");
    }
    // Every receipt of a province on sale prints its tax numbers (the seed's are samples).
    let mut provinces = std::collections::BTreeSet::new();
    for d in on_sale.iter().filter(|d| provinces.insert(d.city.province.clone())) {
        for tax in &d.taxes {
            if let Some(problem) = tax.registration_problem() {
                out.push(format!("taxes of {}: {problem}", d.city.province));
            }
        }
    }
    out
}
