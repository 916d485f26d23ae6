//! Reading and setting the cookies of sign-in: the session cookie, and the
//! short-lived cookie that protects the sign-in form itself.

use axum::http::{header, HeaderMap, HeaderValue};

/// Cookie that carries the session secret.
pub const SESSION: &str = "filiere_session";
/// Cookie that carries the CSRF token of the sign-in form, before any
/// session exists (a double-submit cookie).
pub const SIGN_IN: &str = "filiere_connexion";
/// Lifetime of the sign-in form's cookie, in seconds.
pub const SIGN_IN_MAX_AGE: i64 = 3600;

/// Value of the cookie `name` sent with the request.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().trim_matches('"').to_string())
        .filter(|value| !value.is_empty())
}

/// Builds a `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, and Secure when
/// the public URL is https. `max_age` 0 deletes the cookie.
pub fn set(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    // A secret is hex and a name is ASCII, so the value is a valid header.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Compares two secrets in a time that does not depend on where they
/// differ.
pub fn same_secret(given: &str, expected: &str) -> bool {
    if given.len() != expected.len() || expected.is_empty() {
        return false;
    }
    given
        .bytes()
        .zip(expected.bytes())
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_finds_named_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("other=1; filiere_session=abc ; x=y"),
        );
        assert_eq!(read(&headers, SESSION).as_deref(), Some("abc"));
        assert_eq!(read(&headers, SIGN_IN), None);
    }

    #[test]
    fn set_cookie_attributes() {
        let value = set(SESSION, "abc", 60, true);
        let text = value.to_str().unwrap();
        for part in [
            "filiere_session=abc",
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Secure",
            "Max-Age=60",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
        assert!(!set(SESSION, "abc", 60, false)
            .to_str()
            .unwrap()
            .contains("Secure"));
    }

    #[test]
    fn same_secret_compares_whole_value() {
        assert!(same_secret("abcd", "abcd"));
        assert!(!same_secret("abce", "abcd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", ""));
    }
}
