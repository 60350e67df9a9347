//! Every public page has a French and an English address (`/fr/tarifs`, `/en/pricing`); the
//! language switcher and the `hreflang` links go from one to the other.

use crate::domain::Language;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Home,
    About,
    Masterclass,
    Cities,
    Pricing,
    Testimonials,
    Faq,
    Book,
    Privacy,
    Terms,
    Resources,
    Feedback,
}

impl Page {
    /// The pages listed in the sitemap and tested in both languages.
    pub const ALL: [Page; 12] = [
        Page::Home,
        Page::About,
        Page::Masterclass,
        Page::Cities,
        Page::Pricing,
        Page::Testimonials,
        Page::Faq,
        Page::Book,
        Page::Privacy,
        Page::Terms,
        Page::Resources,
        Page::Feedback,
    ];

    /// The key of its strings in the locale files and its template's name.
    pub fn id(self) -> &'static str {
        match self {
            Page::Home => "home",
            Page::About => "about",
            Page::Masterclass => "masterclass",
            Page::Cities => "cities",
            Page::Pricing => "pricing",
            Page::Testimonials => "testimonials",
            Page::Faq => "faq",
            Page::Book => "book",
            Page::Privacy => "privacy",
            Page::Terms => "terms",
            Page::Resources => "resources",
            Page::Feedback => "feedback",
        }
    }

    pub fn slug(self, lang: Language) -> &'static str {
        let (fr, en) = match self {
            Page::Home => ("", ""),
            Page::About => ("russ-harris", "russ-harris"),
            Page::Masterclass => ("formation", "masterclass"),
            Page::Cities => ("villes", "cities"),
            Page::Pricing => ("tarifs", "pricing"),
            Page::Testimonials => ("temoignages", "testimonials"),
            Page::Faq => ("faq", "faq"),
            Page::Book => ("reserver", "book"),
            Page::Privacy => ("confidentialite", "privacy"),
            Page::Terms => ("conditions", "terms"),
            Page::Resources => ("ressources", "resources"),
            Page::Feedback => ("commentaires", "feedback"),
        };
        match lang {
            Language::Fr => fr,
            Language::En => en,
        }
    }

    pub fn url(self, lang: Language) -> String {
        format!("/{}/{}", lang.as_str(), self.slug(lang))
    }
}

pub fn city(slug: &str, lang: Language) -> String {
    format!("{}/{slug}", Page::Cities.url(lang))
}

pub fn booking_form(city_event_id: i64, lang: Language) -> String {
    format!("{}/{city_event_id}", Page::Book.url(lang))
}

pub fn checkout(reference: &str, key: &str, lang: Language) -> String {
    let slug = if lang == Language::Fr { "paiement" } else { "checkout" };
    format!("/{}/{slug}/{reference}?k={key}", lang.as_str())
}

pub fn confirmation(reference: &str, key: &str, lang: Language) -> String {
    format!("/{}/confirmation/{reference}?k={key}", lang.as_str())
}

pub fn receipt(reference: &str, key: &str, lang: Language) -> String {
    format!("/{}/confirmation/{reference}/receipt?k={key}", lang.as_str())
}

/// One of "my booking"'s PDFs: `tickets.pdf`, `invoice.pdf`, `credit-notes/NC-000001.pdf`,
/// `certificates/2.pdf`.
pub fn document(reference: &str, key: &str, lang: Language, file: &str) -> String {
    format!("/{}/confirmation/{reference}/{file}?k={key}", lang.as_str())
}

pub fn calendar(reference: &str, key: &str, lang: Language) -> String {
    format!("/{}/confirmation/{reference}/calendar.ics?k={key}", lang.as_str())
}

/// "My booking": the address the mails and the calendar file link to (it asks for the e-mail).
pub fn manage(reference: &str, lang: Language) -> String {
    format!("/{}/bookings/{reference}", lang.as_str())
}

/// The same page in the other language: the first segment swapped and the page's slug
/// translated; an address it cannot map goes to the other language's home page.
pub fn translate(path: &str, to: Language) -> String {
    let rest = path.strip_prefix("/fr").or_else(|| path.strip_prefix("/en")).unwrap_or(path);
    let rest = rest.trim_start_matches('/');
    let (first, tail) = rest.split_once('/').map(|(a, b)| (a, Some(b))).unwrap_or((rest, None));
    let from = if to == Language::Fr { Language::En } else { Language::Fr };
    let dynamic: [(&str, &str); 3] = [("paiement", "checkout"), ("confirmation", "confirmation"), ("bookings", "bookings")];
    let mapped = Page::ALL.iter().find(|p| p.slug(from) == first).map(|p| p.slug(to)).or_else(|| {
        dynamic.iter().find(|(fr, en)| if from == Language::Fr { *fr == first } else { *en == first }).map(|(fr, en)| {
            if to == Language::Fr {
                *fr
            } else {
                *en
            }
        })
    });
    match (mapped, tail) {
        (Some(slug), Some(tail)) => format!("/{}/{slug}/{tail}", to.as_str()),
        (Some(slug), None) => format!("/{}/{slug}", to.as_str()),
        (None, _) => format!("/{}/", to.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switcher_keeps_the_page() {
        assert_eq!(translate("/fr/tarifs", Language::En), "/en/pricing");
        assert_eq!(translate("/en/pricing", Language::Fr), "/fr/tarifs");
        assert_eq!(translate("/fr/", Language::En), "/en/");
        assert_eq!(translate("/fr", Language::En), "/en/");
        assert_eq!(translate("/fr/villes/montreal", Language::En), "/en/cities/montreal");
        assert_eq!(translate("/en/book/3", Language::Fr), "/fr/reserver/3");
        assert_eq!(translate("/fr/paiement/MTL-AAAA-BBBB", Language::En), "/en/checkout/MTL-AAAA-BBBB");
        assert_eq!(translate("/en/checkout/MTL-AAAA-BBBB", Language::Fr), "/fr/paiement/MTL-AAAA-BBBB");
        assert_eq!(translate("/fr/nimporte-quoi", Language::En), "/en/");
        for p in Page::ALL {
            for (a, b) in [(Language::Fr, Language::En), (Language::En, Language::Fr)] {
                assert_eq!(translate(&translate(&p.url(a), b), a), p.url(a), "{p:?}");
            }
        }
    }
}
