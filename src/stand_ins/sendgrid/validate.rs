//! SendGrid's checks of a v3 mail/send body, for the parts the app sends: a malformed request
//! fails here rather than in production.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;

use super::error;

/// SendGrid's checks of the fields the app sends; every problem found, as SendGrid lists them.
pub(super) fn validate(message: &Value) -> Vec<Value> {
    let mut problems = Vec::new();

    match message.get("personalizations").and_then(Value::as_array).filter(|p| !p.is_empty()) {
        None => problems
            .push(error("The personalizations field is required and must have at least one personalization.", Some("personalizations"))),
        Some(personalizations) => {
            for (i, personalization) in personalizations.iter().enumerate() {
                validate_personalization(i, personalization, &mut problems);
            }
        }
    }

    match message.get("from").and_then(|from| from.get("email")).and_then(Value::as_str) {
        None => problems.push(error(
            "The from object must be provided for every email send. It is an object that requires the email parameter, but may also \
             contain a name parameter.",
            Some("from"),
        )),
        Some(address) if !is_address(address) => {
            problems.push(error("The from email does not contain a valid address.", Some("from.email")))
        }
        Some(_) => {}
    }

    if message.get("subject").and_then(Value::as_str).is_none_or(str::is_empty) {
        problems.push(error(
            "The subject is required. You can get around this requirement if you use a template with a subject defined or if every \
             personalization has a subject defined.",
            Some("subject"),
        ));
    }

    match message.get("content").and_then(Value::as_array).filter(|c| !c.is_empty()) {
        None => problems.push(error(
            "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. \
             We typically suggest both text/plain and text/html blocks are included, but only one block is required.",
            Some("content"),
        )),
        Some(blocks) => {
            let types: Vec<&str> = blocks.iter().map(|b| b.get("type").and_then(Value::as_str).unwrap_or_default()).collect();
            for (i, block) in blocks.iter().enumerate() {
                if types[i].is_empty() {
                    problems.push(error("The content type must be provided.", Some(&format!("content.{i}.type"))));
                }
                if block.get("value").and_then(Value::as_str).is_none_or(str::is_empty) {
                    problems.push(error(
                        "The content value must be a string at least one character in length.",
                        Some(&format!("content.{i}.value")),
                    ));
                }
            }
            let plain = types.iter().position(|t| *t == "text/plain");
            let html = types.iter().position(|t| *t == "text/html");
            if plain.is_some_and(|p| p != 0) || (plain.is_none() && html.is_some_and(|h| h != 0)) {
                problems.push(error(
                    "If present, text/plain and text/html may only be provided in this order, before any other content.",
                    Some("content"),
                ));
            }
        }
    }

    if let Some(attachments) = message.get("attachments") {
        match attachments.as_array().filter(|a| !a.is_empty()) {
            None => problems.push(error("The attachments array must have at least one attachment.", Some("attachments"))),
            Some(attachments) => {
                for (i, attachment) in attachments.iter().enumerate() {
                    let content = attachment.get("content").and_then(Value::as_str).unwrap_or_default();
                    if content.is_empty() || STANDARD.decode(content).is_err() {
                        problems.push(error("The attachment content must be base64 encoded.", Some(&format!("attachments.{i}.content"))));
                    }
                    if attachment.get("filename").and_then(Value::as_str).is_none_or(str::is_empty) {
                        problems.push(error("The attachment filename parameter is required.", Some(&format!("attachments.{i}.filename"))));
                    }
                    if attachment.get("type").and_then(Value::as_str).is_some_and(|t| t.contains([';', '\r', '\n'])) {
                        problems.push(error(
                            "The attachment type cannot contain ';', or CRLF characters.",
                            Some(&format!("attachments.{i}.type")),
                        ));
                    }
                }
            }
        }
    }

    problems
}

fn validate_personalization(i: usize, personalization: &Value, problems: &mut Vec<Value>) {
    match personalization.get("to").and_then(Value::as_array).filter(|to| !to.is_empty()) {
        None => problems.push(error(
            "The to array is required for all personalization objects, and must have at least one email object with a valid email address.",
            Some(&format!("personalizations.{i}.to")),
        )),
        Some(recipients) => {
            for (j, recipient) in recipients.iter().enumerate() {
                if !recipient.get("email").and_then(Value::as_str).is_some_and(is_address) {
                    problems.push(error("Does not contain a valid address.", Some(&format!("personalizations.{i}.to.{j}.email"))));
                }
            }
        }
    }
    match personalization.get("custom_args") {
        None => {}
        Some(Value::Object(args)) => {
            for (key, value) in args {
                if !value.is_string() {
                    problems.push(error("Invalid type. Expected: string.", Some(&format!("personalizations.{i}.custom_args.{key}"))));
                }
            }
        }
        Some(_) => problems.push(error("Invalid type. Expected: object.", Some(&format!("personalizations.{i}.custom_args")))),
    }
}

fn is_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address.contains(char::is_whitespace)
}
