//! `termsim serve`'s own request handling on arbitrary bytes: the `Authorization` header parsed,
//! the TC3 signature verified, and the body turned into a call for every action. Input: the
//! header, a newline, `X-TC-Timestamp`, a newline, then the body. Never a panic; a signature
//! computed for the request with the known secret always verifies, and any other never does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use termsim::model::Action;
use termsim::serve::{sign, wire};

const NOW: i64 = 1_796_046_690;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let (Some(header), Some(timestamp), body) = (parts.next(), parts.next(), parts.next().unwrap_or_default()) else {
        return;
    };
    let (Ok(header), Ok(timestamp)) = (std::str::from_utf8(header), std::str::from_utf8(timestamp)) else { return };
    let host = |name: &str| match name {
        "content-type" => Some("application/json"),
        "host" => Some("127.0.0.1:9000"),
        _ => None,
    };
    let request = sign::Signed { method: "POST", query: "", header: &host, body, timestamp };
    if let Some(auth) = sign::parse_authorization(header) {
        let secrets = |id: &str| (id == auth.secret_id).then_some("fuzz-key");
        let verdict = sign::verify(&auth, &request, NOW, 300, secrets);
        let expected = sign::signature("fuzz-key", &auth, &request);
        let in_window = timestamp.parse::<i64>().is_ok_and(|t| (NOW - t).abs() <= 300 && sign::utc_date(t) == auth.date);
        if in_window && timestamp.bytes().all(|b| b.is_ascii_digit()) {
            // The signature the known secret gives verifies exactly when it is the one given.
            assert_eq!(verdict.is_ok(), expected == auth.signature, "{auth:?}");
        }
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) {
        for action in Action::ALL {
            let _ = wire::call_of(action, &map);
        }
    }
});
