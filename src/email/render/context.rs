//! What a mail knows about one booking, already in the mail's language and zone.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;

use crate::calendar::BookingDay;
use crate::domain::facts::{Bilingual, DateFacts, MasterclassFacts, Organiser, Policies, ProgrammeItem, VenueFacts};
use crate::domain::taxes::TaxLine;
use crate::domain::{EmailKind, Language};

/// Everything a mail says about one booking.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailContext {
    pub kind: EmailKind,
    pub language: Language,
    /// Greeting "Bonjour Marie," / "Hello Marie,"; generic greeting when `None` or blank.
    pub recipient_first_name: Option<String>,
    /// e.g. `MTL-7KQ2-M9XD`
    pub booking_reference: String,
    pub buyer_name: String,
    pub quantity: i32,
    /// One per seat; `None` is shown as "name to come" / « nom à venir ».
    pub attendee_names: Vec<Option<String>>,
    /// Already in the mail's language.
    pub city_name: String,
    pub venue_name: String,
    pub venue_address: String,
    pub venue_postal_code: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Dates and times are shown in this zone, with its abbreviation (EDT / HAE…).
    pub time_zone: Tz,
    pub unit_price_cents: i64,
    /// Unit price × quantity, before the discount.
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub taxes: Vec<TaxLine>,
    pub total_cents: i64,
    /// The booking page (view, how to cancel).
    pub manage_url: String,
    /// J-30 documents; J+1 resources, online for 3 months.
    pub resources_url: String,
    /// J+1 feedback form.
    pub feedback_url: String,
    /// The organiser, the masterclass's policies and programme, the venue's practical facts:
    /// read from their one source (`db::facts`) for each mail.
    pub facts: DateFacts,
    /// A confirmation for a booking made after the J-30/J-14/J-7 reminders went out: it also
    /// carries their essentials (resources link, the day in brief, logistics).
    pub confirmed_late: bool,
    /// A refund the buyer or the organiser asked for (the booking is `refunded`), not the automatic
    /// one of a payment that arrived after its hold expired on a sold-out day.
    pub refund_requested: bool,
    /// A waiting-list offer's deadline (its `manage_url` is then the claim link).
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// The organiser's own words, in the mail's language: a broadcast's subject and text, or why
    /// a date is cancelled (no subject).
    pub message: Option<Message>,
    /// A partial refund's amount (the booking stays confirmed, its seats kept).
    pub partial_refund_cents: Option<i64>,
    /// Written to someone on the waiting list, who holds no booking (no reference, no amount).
    pub waitlisted: bool,
}

/// Words the organiser wrote for one mail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

impl EmailContext {
    /// A realistic sample context for `billetterie emails preview <kind> --lang fr|en` and the
    /// snapshot tests: Montréal, Friday 16 April 2027 from 9:00 to 16:30 EDT, 2 seats (one name to
    /// come), GST and QST.
    pub fn sample(kind: EmailKind, language: Language) -> Self {
        let starts_at = chrono_tz::America::Toronto.with_ymd_and_hms(2027, 4, 16, 9, 0, 0).unwrap().with_timezone(&Utc);
        let ends_at = chrono_tz::America::Toronto.with_ymd_and_hms(2027, 4, 16, 16, 30, 0).unwrap().with_timezone(&Utc);
        let (unit, quantity) = (49_500_i64, 2_i32);
        let subtotal = unit * i64::from(quantity);
        let tax = |code: &str, label_en: &str, label_fr: &str, rate: i32, number: &str| TaxLine {
            code: code.into(),
            label_en: label_en.into(),
            label_fr: label_fr.into(),
            rate_per_100k: rate,
            registration_number: number.into(),
            amount_cents: (subtotal * i64::from(rate) + 50_000).div_euclid(100_000),
        };
        let taxes = vec![tax("GST", "GST", "TPS", 5_000, "123456789 RT0001"), tax("QST", "QST", "TVQ", 9_975, "1234567890 TQ0001")];
        let total = subtotal + taxes.iter().map(|t| t.amount_cents).sum::<i64>();
        let reference = "MTL-7KQ2-M9XD";
        let site = "https://billetterie.example";
        let lang = language.as_str();
        Self {
            kind,
            language,
            recipient_first_name: Some("Marie".into()),
            booking_reference: reference.into(),
            buyer_name: "Marie Tremblay".into(),
            quantity,
            attendee_names: vec![Some("Marie Tremblay".into()), None],
            city_name: "Montréal".into(),
            venue_name: "Palais des congrès de Montréal".into(),
            venue_address: "1001, place Jean-Paul-Riopelle, Montréal (Québec)".into(),
            venue_postal_code: "H2Z 1H5".into(),
            starts_at,
            ends_at,
            time_zone: chrono_tz::America::Toronto,
            unit_price_cents: unit,
            subtotal_cents: subtotal,
            discount_cents: 0,
            taxes,
            total_cents: total,
            manage_url: if kind == EmailKind::WaitlistOffer {
                format!("{site}/{lang}/waiting-list/claim?token=4b1d0c2e.1805300000.9f3a")
            } else {
                format!("{site}/{lang}/bookings/{reference}")
            },
            resources_url: format!("{site}/{lang}/resources/{reference}"),
            feedback_url: format!("{site}/{lang}/feedback/{reference}"),
            facts: sample_facts(),
            confirmed_late: false,
            refund_requested: false,
            offer_expires_at: (kind == EmailKind::WaitlistOffer).then(|| starts_at - Duration::days(30)),
            message: match (kind, language) {
                (EmailKind::Broadcast, Language::Fr) => Some(Message {
                    subject: "Changement de salle pour le 16 avril".into(),
                    body: "Bonjour à toutes et à tous,\n\nLa journée aura lieu dans la salle 517 du Palais, au cinquième étage.\nL’accueil ouvre à 8 h 30.".into(),
                }),
                (EmailKind::Broadcast, Language::En) => Some(Message {
                    subject: "New room for April 16".into(),
                    body: "Hello everyone,\n\nThe day will be held in room 517 of the Palais, on the fifth floor.\nDoors open at 8:30.".into(),
                }),
                (EmailKind::DateCancelled, Language::Fr) => {
                    Some(Message { subject: String::new(), body: "Une tempête de neige majeure est annoncée à Montréal ce jour-là.".into() })
                }
                (EmailKind::DateCancelled, Language::En) => {
                    Some(Message { subject: String::new(), body: "A major snowstorm is forecast in Montréal that day.".into() })
                }
                _ => None,
            },
            waitlisted: false,
            partial_refund_cents: None,
        }
    }

    /// What the calendar file attached to a confirmation says.
    pub fn calendar_day(&self) -> BookingDay<'_> {
        BookingDay {
            language: self.language,
            reference: &self.booking_reference,
            city: &self.city_name,
            venue_name: &self.venue_name,
            venue_address: &self.venue_address,
            venue_postal_code: &self.venue_postal_code,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            manage_url: &self.manage_url,
            organiser_name: &self.facts.organiser.legal_name,
            support_email: &self.facts.organiser.support_email,
        }
    }
}

/// The demo's facts (as `db/seed.sql` has them for Montréal), for previews and tests.
fn sample_facts() -> DateFacts {
    let item = |starts: i32, ends: Option<i32>, en: &str, fr: &str, brief: bool| ProgrammeItem {
        starts_minutes: starts,
        ends_minutes: ends,
        label: Bilingual::new(en, fr),
        brief,
    };
    DateFacts {
        organiser: Organiser {
            legal_name: "Formations ACT Canada inc.".into(),
            address: "400, boulevard De Maisonneuve Ouest, bureau 700, Montréal (Québec) H3A 1L4".into(),
            support_email: "aide@billetterie.example".into(),
            support_phone: "1 888 555-0142".into(),
        },
        masterclass: MasterclassFacts {
            title: Bilingual::new(
                "ACT Made Simple: a one-day masterclass with Dr Russ Harris",
                "L’ACT en toute simplicité : une journée de classe de maître avec le Dr Russ Harris",
            ),
            presenter: "Dr Russ Harris".into(),
            presenter_photo_url: String::new(),
        },
        policies: Policies::default(),
        programme: vec![
            item(-30, None, "Registration and check-in, coffee", "Accueil et inscription, café", true),
            item(0, None, "Welcome and overview of the day", "Mot de bienvenue et présentation de la journée", true),
            item(15, None, "Block 1 — The hexaflex", "Bloc 1 — L’hexaflex", false),
            item(90, Some(105), "Break", "Pause", false),
            item(180, Some(240), "Lunch (on your own)", "Dîner libre", true),
            item(450, None, "End of the day", "Fin de la journée", true),
        ],
        venue: VenueFacts {
            transit: Bilingual::new("Place-d’Armes metro station (orange line).", "Station de métro Place-d’Armes (ligne orange)."),
            parking: Bilingual::new("Underground parking at the Palais.", "Stationnement souterrain du Palais."),
            hotels: Bilingual::new("Hotel Monville, a five-minute walk.", "Hôtel Monville, à cinq minutes à pied."),
            restaurants: Bilingual::new("Chinatown, a few minutes on foot.", "Le quartier chinois, à quelques minutes à pied."),
            accessibility: Bilingual::new("Step-free access from the metro.", "Accès sans marche depuis le métro."),
            wifi_network: "ACT-Montreal".into(),
            wifi_password: "hexaflex-mtl".into(),
            emergency_phone: "514 555-0199".into(),
        },
    }
}
