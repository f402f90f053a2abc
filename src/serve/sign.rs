//! TC3-HMAC-SHA256, as the Tencent Cloud SDKs sign a call (serve-wire.md §4): parsing the
//! `Authorization` header (whose credential scope also names the service: the one place a call
//! says which service it is for) and verifying the signature.
//!
//! The signature covers the method, the query (GET), the headers listed in `SignedHeaders` (the
//! SDK: `content-type;host`) and the SHA-256 of the raw body. Header values are taken as
//! received: the SDK signs them verbatim, the documentation says lower-cased, so both are tried.
//! MACs are compared in constant time ([`hmac::Mac::verify_slice`]).

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// What a parsed `Authorization` header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The caller's SecretId.
    pub secret_id: &'a str,
    /// `YYYY-MM-DD`, the UTC date of `X-TC-Timestamp`.
    pub date: &'a str,
    /// The service the call is for: `batch`, `dlc`, `tat`.
    pub service: &'a str,
    /// Lower-case header names, `;`-separated.
    pub signed_headers: &'a str,
    /// 64 lower-case hexadecimal digits.
    pub signature: &'a str,
}

/// Why a call is refused before anything else looks at it; [`AuthError::code`] is the API's
/// answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No header, or not one of the TC3 form, or a timestamp that is not a number.
    InvalidAuthorization,
    /// The timestamp is more than 300 s from the server's wall clock.
    SignatureExpire,
    /// The signature is not the one computed (or the scope's date is not the timestamp's).
    SignatureFailure,
    /// The SecretId is not in `--credentials`.
    SecretIdNotFound,
}

impl AuthError {
    /// The API's error code.
    pub fn code(self) -> &'static str {
        match self {
            AuthError::InvalidAuthorization => "AuthFailure.InvalidAuthorization",
            AuthError::SignatureExpire => "AuthFailure.SignatureExpire",
            AuthError::SignatureFailure => "AuthFailure.SignatureFailure",
            AuthError::SecretIdNotFound => "AuthFailure.SecretIdNotFound",
        }
    }

    /// The error's message.
    pub fn message(self) -> &'static str {
        match self {
            AuthError::InvalidAuthorization => "The Authorization header is missing or not a TC3-HMAC-SHA256 one.",
            AuthError::SignatureExpire => {
                "The request's X-TC-Timestamp differs from the server's time by more than 300 seconds."
            }
            AuthError::SignatureFailure => "The request's signature does not match the one computed for it.",
            AuthError::SecretIdNotFound => "The SecretId is not known.",
        }
    }
}

/// `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=H;H, Signature=HEX`,
/// with or without the spaces after the commas (serve-wire.md §4.2).
pub fn parse_authorization(header: &str) -> Option<Authorization<'_>> {
    let rest = header.strip_prefix("TC3-HMAC-SHA256 Credential=")?;
    let (credential, rest) = rest.split_once(',')?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest).strip_prefix("SignedHeaders=")?;
    let (signed_headers, rest) = rest.split_once(',')?;
    let signature = rest.strip_prefix(' ').unwrap_or(rest).strip_prefix("Signature=")?;
    let mut parts = credential.split('/');
    let (secret_id, date, service, scope_end) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let date_ok = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let lower_alnum = |s: &str, extra: &[u8]| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || extra.contains(&b))
    };
    let ok = parts.next().is_none()
        && scope_end == "tc3_request"
        && !secret_id.is_empty()
        && date_ok
        && lower_alnum(service, b"")
        && lower_alnum(signed_headers, b";-")
        && signature.len() == 64
        && signature.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    ok.then_some(Authorization { secret_id, date, service, signed_headers, signature })
}

/// What is signed of a request, as received.
pub struct Signed<'a> {
    /// `POST` (or `GET`).
    pub method: &'a str,
    /// The raw query string (after `?`), empty for POST.
    pub query: &'a str,
    /// A header's value by lower-case name, as received.
    pub header: &'a dyn Fn(&str) -> Option<&'a str>,
    /// The raw body.
    pub body: &'a [u8],
    /// `X-TC-Timestamp`, as received.
    pub timestamp: &'a str,
}

fn hmac(key: &[u8], message: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// The canonical request of serve-wire.md §4.1, with header values verbatim or lower-cased.
pub fn canonical_request(request: &Signed, signed_headers: &str, lower_values: bool) -> String {
    let payload: &[u8] = if request.header("x-tc-content-sha256") == Some("UNSIGNED-PAYLOAD") {
        b"UNSIGNED-PAYLOAD"
    } else if request.method == "GET" {
        b""
    } else {
        request.body
    };
    let mut headers = String::new();
    for name in signed_headers.split(';') {
        let value = request.header(name).unwrap_or("").trim();
        headers.push_str(name);
        headers.push(':');
        if lower_values {
            headers.push_str(&value.to_lowercase());
        } else {
            headers.push_str(value);
        }
        headers.push('\n');
    }
    format!("{}\n/\n{}\n{headers}\n{signed_headers}\n{}", request.method, request.query, hex(&Sha256::digest(payload)))
}

impl Signed<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        (self.header)(name)
    }
}

/// The signing key of a secret for a date and service.
fn signing_key(secret_key: &str, date: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("TC3{secret_key}").as_bytes(), date.as_bytes()).finalize().into_bytes();
    let k_service = hmac(&k_date, service.as_bytes()).finalize().into_bytes();
    hmac(&k_service, b"tc3_request").finalize().into_bytes().to_vec()
}

/// The string to sign for a canonical request.
pub fn string_to_sign(timestamp: &str, date: &str, service: &str, canonical: &str) -> String {
    format!("TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}", hex(&Sha256::digest(canonical)))
}

/// The signature a client with `secret_key` computes (lower-case hex): what the tests' own
/// signer uses.
pub fn signature(secret_key: &str, auth: &Authorization, request: &Signed) -> String {
    let canonical = canonical_request(request, auth.signed_headers, false);
    let to_sign = string_to_sign(request.timestamp, auth.date, auth.service, &canonical);
    hex(&hmac(&signing_key(secret_key, auth.date, auth.service), to_sign.as_bytes()).finalize().into_bytes())
}

/// Checks a parsed header against the request: the timestamp within `max_skew_s` of `now_s`
/// (wall-clock Unix seconds), the scope's date that of the timestamp, the secret known
/// (`secret_of`), and the signature, compared in constant time.
pub fn verify<'k>(
    auth: &Authorization,
    request: &Signed,
    now_s: i64,
    max_skew_s: i64,
    secret_of: impl Fn(&str) -> Option<&'k str>,
) -> Result<(), AuthError> {
    if request.timestamp.is_empty() || !request.timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthError::InvalidAuthorization);
    }
    let Ok(timestamp) = request.timestamp.parse::<i64>() else { return Err(AuthError::InvalidAuthorization) };
    if (now_s - timestamp).abs() > max_skew_s {
        return Err(AuthError::SignatureExpire);
    }
    if utc_date(timestamp) != auth.date {
        return Err(AuthError::SignatureFailure);
    }
    let secret = secret_of(auth.secret_id).ok_or(AuthError::SecretIdNotFound)?;
    let given = hex_decode(auth.signature).ok_or(AuthError::InvalidAuthorization)?;
    let key = signing_key(secret, auth.date, auth.service);
    for lower_values in [false, true] {
        let canonical = canonical_request(request, auth.signed_headers, lower_values);
        let to_sign = string_to_sign(request.timestamp, auth.date, auth.service, &canonical);
        if hmac(&key, to_sign.as_bytes()).verify_slice(&given).is_ok() {
            return Ok(());
        }
    }
    Err(AuthError::SignatureFailure)
}

/// `YYYY-MM-DD` of a Unix time, in UTC (the proleptic Gregorian calendar).
pub fn utc_date(unix_s: i64) -> String {
    let (y, m, d) = civil_from_days(unix_s.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDThh:mm:ssZ` of a Unix time, in UTC.
pub fn utc_datetime(unix_s: i64) -> String {
    let seconds = unix_s.rem_euclid(86_400);
    format!("{}T{:02}:{:02}:{:02}Z", utc_date(unix_s), seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serve-wire.md §3.1: TerminateTaskInstance as the Python SDK sent it, secret `keytest`.
    const AUTH_A: &str = "TC3-HMAC-SHA256 Credential=AKIDtest/2026-11-30/batch/tc3_request, SignedHeaders=content-type;host, Signature=39a265277d630e18f20ee23894b1bc9f7453e428261d497f8ea6c72656b3e491";
    const BODY_A: &[u8] = br#"{"JobId": "job-abc12345", "TaskName": "A", "TaskInstanceIndex": 0}"#;

    fn headers_a(name: &str) -> Option<&'static str> {
        match name {
            "content-type" => Some("application/json"),
            "host" => Some("127.0.0.1:18765"),
            _ => None,
        }
    }

    fn request_a<'a>(body: &'a [u8], header: &'a dyn Fn(&str) -> Option<&'a str>) -> Signed<'a> {
        Signed { method: "POST", query: "", header, body, timestamp: "1796046690" }
    }

    #[test]
    fn the_sdk_capture_verifies_step_by_step() {
        let auth = parse_authorization(AUTH_A).expect("the SDK's header parses");
        assert_eq!((auth.secret_id, auth.date, auth.service), ("AKIDtest", "2026-11-30", "batch"));
        let header = |n: &str| headers_a(n);
        let request = request_a(BODY_A, &header);
        let canonical = canonical_request(&request, auth.signed_headers, false);
        assert_eq!(
            canonical,
            "POST\n/\n\ncontent-type:application/json\nhost:127.0.0.1:18765\n\ncontent-type;host\n\
             28af29e9ba1f44bcf6408cfe40232764168e51c7467145f60f8d6ea8d2d4a7c3"
        );
        assert_eq!(
            string_to_sign("1796046690", auth.date, auth.service, &canonical),
            "TC3-HMAC-SHA256\n1796046690\n2026-11-30/batch/tc3_request\n\
             7c526022a9fd5231bd72d02b931cfbb590f822279ab9326b3002dc19ddf055ee"
        );
        assert_eq!(signature("keytest", &auth, &request), auth.signature);
        let secrets = |id: &str| (id == "AKIDtest").then_some("keytest");
        assert_eq!(verify(&auth, &request, 1_796_046_690 + 300, 300, secrets), Ok(()));
    }

    #[test]
    fn every_alteration_is_refused_with_its_code() {
        let auth = parse_authorization(AUTH_A).unwrap();
        let header = |n: &str| headers_a(n);
        let now = 1_796_046_690;
        let secrets = |id: &str| (id == "AKIDtest").then_some("keytest");
        let wrong_key = |id: &str| (id == "AKIDtest").then_some("keytesT");
        let request = request_a(BODY_A, &header);
        assert_eq!(verify(&auth, &request, now, 300, wrong_key), Err(AuthError::SignatureFailure));
        assert_eq!(verify(&auth, &request, now, 300, |_| None), Err(AuthError::SecretIdNotFound));
        assert_eq!(verify(&auth, &request, now + 301, 300, secrets), Err(AuthError::SignatureExpire));
        assert_eq!(verify(&auth, &request, now - 301, 300, secrets), Err(AuthError::SignatureExpire));
        let mut longer = BODY_A.to_vec();
        longer.push(b' ');
        assert_eq!(verify(&auth, &request_a(&longer, &header), now, 300, secrets), Err(AuthError::SignatureFailure));
        let other_host = |n: &str| if n == "host" { Some("127.0.0.1:18766") } else { headers_a(n) };
        let request = request_a(BODY_A, &other_host);
        assert_eq!(verify(&auth, &request, now, 300, secrets), Err(AuthError::SignatureFailure));
        let bad_stamp = Signed { timestamp: "17960466x0", ..request_a(BODY_A, &header) };
        assert_eq!(verify(&auth, &bad_stamp, now, 300, secrets), Err(AuthError::InvalidAuthorization));
        // The scope's date must be the timestamp's: a day later is refused even when signed.
        let next_day = AUTH_A.replace("2026-11-30", "2026-12-01");
        let auth = parse_authorization(&next_day).unwrap();
        assert_eq!(verify(&auth, &request_a(BODY_A, &header), now, 300, secrets), Err(AuthError::SignatureFailure));
    }

    #[test]
    fn the_documented_example_verifies() {
        // serve-wire.md §4.3 B: the public Signature v3 example (cvm DescribeInstances).
        let body = br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        let header = |n: &str| match n {
            "content-type" => Some("application/json; charset=utf-8"),
            "host" => Some("cvm.tencentcloudapi.com"),
            _ => None,
        };
        let request = Signed { method: "POST", query: "", header: &header, body, timestamp: "1551113065" };
        let canonical = canonical_request(&request, "content-type;host", false);
        assert!(canonical.ends_with("35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"));
        assert_eq!(
            hex(&Sha256::digest(&canonical)),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        let auth = Authorization {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
            date: "2019-02-25",
            service: "cvm",
            signed_headers: "content-type;host",
            signature: "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c",
        };
        assert_eq!(signature("Gu5t9xGARNpq86cd98joQYCN3*******", &auth, &request), auth.signature);
    }

    #[test]
    fn malformed_headers_do_not_parse() {
        for bad in [
            "",
            "Bearer x",
            "TC3-HMAC-SHA256 Credential=AKID/2026-11-30/batch/tc3_request, SignedHeaders=content-type;host, Signature=00",
            "TC3-HMAC-SHA256 Credential=AKID/2026-11-30/batch, SignedHeaders=content-type;host, Signature=39a265277d630e18f20ee23894b1bc9f7453e428261d497f8ea6c72656b3e491",
            "TC3-HMAC-SHA256 Credential=AKID/20261130/batch/tc3_request, SignedHeaders=content-type;host, Signature=39a265277d630e18f20ee23894b1bc9f7453e428261d497f8ea6c72656b3e491",
            "TC3-HMAC-SHA256 Credential=AKID/2026-11-30/Batch/tc3_request, SignedHeaders=content-type;host, Signature=39a265277d630e18f20ee23894b1bc9f7453e428261d497f8ea6c72656b3e491",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
        let compact = AUTH_A.replace(", ", ",");
        assert!(parse_authorization(&compact).is_some(), "the spaces after the commas are optional");
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_796_046_690), "2026-11-30");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_datetime(1_518_013_749), "2018-02-07T14:29:09Z");
        assert_eq!(utc_date(-1), "1969-12-31");
    }
}
