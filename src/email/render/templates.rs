//! The two handlebars registries of the mails (HTML and plain text, `templates/emails/`, compiled
//! into the binary), their helpers, and the clean-up of what they produce.

use anyhow::Context as _;
use handlebars::{handlebars_helper, Handlebars};

use crate::domain::EmailKind;

/// Width of the plain-text part's receipt lines and rules.
const TEXT_WIDTH: usize = 64;

/// `(name, html, text)`; names starting with `_` are partials (registered without the `_`).
macro_rules! email_templates {
    ($($name:literal),* $(,)?) => {
        &[$((
            $name,
            include_str!(concat!("../../../templates/emails/html/", $name, ".hbs")),
            include_str!(concat!("../../../templates/emails/text/", $name, ".hbs")),
        )),*]
    };
}

const TEMPLATES: &[(&str, &str, &str)] = email_templates!(
    "_layout",
    "_event",
    "_receipt",
    "_attendees",
    "_manage",
    "_booking",
    "_agenda",
    "_agenda_brief",
    "_bring",
    "_logistics",
    "_late",
    "confirmation",
    "j_minus_30",
    "j_minus_14",
    "j_minus_7",
    "j_minus_1",
    "j_plus_1",
    "refund_notice",
    "waitlist_offer",
    "broadcast",
    "date_cancelled",
    "receipt_document",
);

handlebars_helper!(rule_helper: |heading: str, c: str| c.repeat(heading.chars().count()));
handlebars_helper!(hr_helper: |c: str| c.repeat(TEXT_WIDTH));
handlebars_helper!(row_helper: |label: str, amount: str| text_row(label, amount));

/// `label` then `amount` flush right on a `TEXT_WIDTH` line (the amount goes on its own line when
/// both do not fit).
fn text_row(label: &str, amount: &str) -> String {
    let (l, a) = (label.chars().count(), amount.chars().count());
    if l + a + 2 <= TEXT_WIDTH {
        format!("{label}{}{amount}", " ".repeat(TEXT_WIDTH - l - a))
    } else {
        format!("{label}\n{}{amount}", " ".repeat(TEXT_WIDTH.saturating_sub(a)))
    }
}

/// HTML escaping for text and attribute values. Unlike handlebars' default it leaves `=` and `` ` ``
/// alone, so tracked URLs stay readable for link rewriters.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML and plain-text registries, strict: a value a template names and the data lacks is an
/// error, not an empty string. Every kind of mail must have its template.
pub(super) fn registries() -> anyhow::Result<(Handlebars<'static>, Handlebars<'static>)> {
    let mut html = Handlebars::new();
    html.set_strict_mode(true);
    html.set_prevent_indent(true);
    html.register_escape_fn(escape_html);
    let mut text = Handlebars::new();
    text.set_strict_mode(true);
    text.set_prevent_indent(true);
    text.register_escape_fn(handlebars::no_escape);
    text.register_helper("rule", Box::new(rule_helper));
    text.register_helper("hr", Box::new(hr_helper));
    text.register_helper("row", Box::new(row_helper));
    for (name, html_src, text_src) in TEMPLATES {
        if let Some(partial) = name.strip_prefix('_') {
            html.register_partial(partial, *html_src).with_context(|| format!("templates/emails/html/{name}.hbs"))?;
            text.register_partial(partial, *text_src).with_context(|| format!("templates/emails/text/{name}.hbs"))?;
        } else {
            html.register_template_string(name, *html_src).with_context(|| format!("templates/emails/html/{name}.hbs"))?;
            text.register_template_string(name, *text_src).with_context(|| format!("templates/emails/text/{name}.hbs"))?;
        }
    }
    for kind in EmailKind::ALL {
        anyhow::ensure!(html.has_template(kind.as_str()), "no template for the {} mail", kind.as_str());
    }
    Ok((html, text))
}

/// Trailing spaces off, at most one blank line in a row, one final newline.
pub(super) fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = true;
    for line in s.lines() {
        let line = line.trim_end_matches([' ', '\t', '\r']);
        if line.trim().is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
        } else {
            out.push_str(line);
            out.push('\n');
            blank = false;
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
