//! Percent-encoding (RFC 3986 §2.1), the one implementation for every address we build: query
//! values of the back office's redirects, the tracked links of the mails, RFC 2231 file names.

/// `s` with every byte percent-encoded (`%XX`, upper-case hex) except ASCII letters and digits,
/// RFC 3986's unreserved `-._~`, and the bytes of `keep` (e.g. `/` in a path carried in a query,
/// which stays readable and is still decoded the same).
pub fn percent_encode_keeping(s: &str, keep: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.extend(['%', char::from(HEX[usize::from(b >> 4)]), char::from(HEX[usize::from(b & 0xF)])]);
        }
    }
    out
}

/// `s` as one URI component: only the unreserved characters stay as they are.
pub fn percent_encode(s: &str) -> String {
    percent_encode_keeping(s, b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_all_but_the_unreserved() {
        assert_eq!(percent_encode("https://a.example/x?y=1&z=é ~"), "https%3A%2F%2Fa.example%2Fx%3Fy%3D1%26z%3D%C3%A9%20~");
        assert_eq!(percent_encode("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(percent_encode(""), "");
    }

    #[test]
    fn keeps_what_the_caller_allows() {
        assert_eq!(percent_encode_keeping("/admin/bookings?q=a b", b"/"), "/admin/bookings%3Fq%3Da%20b");
        assert_eq!(percent_encode_keeping("reçu #1.pdf", b"!#$&+^`|"), "re%C3%A7u%20#1.pdf");
    }
}
