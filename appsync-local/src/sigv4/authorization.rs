//! Strict parsing of the SigV4 `Authorization` header:
//! `AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex`.

use super::SigV4Error;

/// The only algorithm AppSync's IAM mode uses (SigV4A is `AWS4-ECDSA-P256-SHA256`, not supported).
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The fixed last element of every SigV4 credential scope.
const TERMINATOR: &str = "aws4_request";

/// The parts of an `Authorization` header, borrowed from it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Authorization<'a> {
    pub access_key_id: &'a str,
    /// The credential scope day, `YYYYMMDD`.
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    /// `SignedHeaders` exactly as sent: it is part of the canonical request.
    pub signed_headers_raw: &'a str,
    /// Lowercase, sorted, unique header names.
    pub signed_headers: Vec<&'a str>,
    pub signature: [u8; 32],
}

impl Authorization<'_> {
    /// `DATE/REGION/SERVICE/aws4_request`, the scope line of the string to sign.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.date, self.region, self.service
        )
    }

    pub fn signs(&self, name: &str) -> bool {
        self.signed_headers.binary_search(&name).is_ok()
    }
}

/// Parses the header value. Reasons are fixed strings so that nothing from the header (which
/// holds the signature) reaches an error message or a log line.
pub(crate) fn parse(value: &[u8]) -> Result<Authorization<'_>, SigV4Error> {
    let value = std::str::from_utf8(value)
        .map_err(|_| SigV4Error::MalformedAuthorization("not valid utf-8"))?;
    let (algorithm, rest) = value
        .split_once(' ')
        .ok_or(SigV4Error::MalformedAuthorization(
            "no space after the algorithm",
        ))?;
    if algorithm != ALGORITHM {
        return Err(SigV4Error::UnsupportedAlgorithm);
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for component in rest.split(',') {
        // AWS signers write `, ` between components; some write `,`. Nothing else is tolerated.
        let component = component.trim_matches(' ');
        let (key, val) = component
            .split_once('=')
            .ok_or(SigV4Error::MalformedAuthorization("component without '='"))?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(SigV4Error::MalformedAuthorization("unknown component")),
        };
        if slot.replace(val).is_some() {
            return Err(SigV4Error::MalformedAuthorization("duplicate component"));
        }
    }
    let credential = credential.ok_or(SigV4Error::MalformedAuthorization("missing Credential"))?;
    let signed_headers_raw =
        signed_headers.ok_or(SigV4Error::MalformedAuthorization("missing SignedHeaders"))?;
    let signature = signature.ok_or(SigV4Error::MalformedAuthorization("missing Signature"))?;

    let mut parts = credential.split('/');
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(SigV4Error::MalformedAuthorization(
            "Credential is not AKID/DATE/REGION/SERVICE/aws4_request",
        ));
    };
    if access_key_id.is_empty() || region.is_empty() || service.is_empty() {
        return Err(SigV4Error::MalformedAuthorization(
            "empty Credential element",
        ));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SigV4Error::MalformedAuthorization(
            "Credential date is not YYYYMMDD",
        ));
    }
    if terminator != TERMINATOR {
        return Err(SigV4Error::MalformedAuthorization(
            "Credential does not end with aws4_request",
        ));
    }

    let signed_headers: Vec<&str> = signed_headers_raw.split(';').collect();
    if !signed_headers.iter().all(|name| is_lowercase_token(name)) {
        return Err(SigV4Error::MalformedAuthorization(
            "SignedHeaders holds an invalid header name",
        ));
    }
    // The spec sorts the list; requiring it (and no duplicates) keeps the canonical request unambiguous.
    if !signed_headers.windows(2).all(|pair| pair[0] < pair[1]) {
        return Err(SigV4Error::MalformedAuthorization(
            "SignedHeaders is not sorted and unique",
        ));
    }

    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(SigV4Error::MalformedAuthorization(
            "Signature is not 64 lowercase hex digits",
        ));
    }
    let mut signature_bytes = [0u8; 32];
    hex::decode_to_slice(signature, &mut signature_bytes)
        .map_err(|_| SigV4Error::MalformedAuthorization("Signature is not hex"))?;

    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers_raw,
        signed_headers,
        signature: signature_bytes,
    })
}

/// An HTTP field name (RFC 9110 `token`) in lowercase, as SigV4 requires in `SignedHeaders`.
fn is_lowercase_token(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    fn reason(value: &str) -> SigV4Error {
        match parse(value.as_bytes()) {
            Ok(auth) => panic!("accepted {value:?} as {auth:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_well_formed_header_is_split_into_its_parts() {
        let auth = parse(GOOD.as_bytes()).unwrap();
        assert_eq!(auth.access_key_id, "AKIDEXAMPLE");
        assert_eq!(auth.date, "20150830");
        assert_eq!(auth.region, "us-east-1");
        assert_eq!(auth.service, "service");
        assert_eq!(auth.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(auth.signed_headers_raw, "host;x-amz-date");
        assert_eq!(auth.signature[0], 0x5f);
        assert_eq!(auth.scope(), "20150830/us-east-1/service/aws4_request");
        assert!(auth.signs("host") && !auth.signs("content-type"));
    }

    #[test]
    fn components_may_be_separated_without_a_space_and_in_any_order() {
        let value = "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date,Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31,Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
        assert_eq!(
            parse(value.as_bytes()).unwrap(),
            parse(GOOD.as_bytes()).unwrap()
        );
    }

    #[test]
    fn another_algorithm_is_unsupported() {
        let value = GOOD.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256");
        assert_eq!(reason(&value), SigV4Error::UnsupportedAlgorithm);
        assert_eq!(
            reason("Bearer eyJhbGciOi"),
            SigV4Error::UnsupportedAlgorithm
        );
    }

    #[test]
    fn malformed_headers_are_refused_with_a_reason() {
        let cases = [
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 ",
            &GOOD.replace("Credential=", "Credential:"),
            &GOOD.replace("Credential", "Credentials"),
            &format!("{GOOD}, Signature=00"),
            &GOOD.replace("/aws4_request", "/aws5_request"),
            &GOOD.replace("/aws4_request", "/aws4_request/extra"),
            &GOOD.replace("/20150830/", "/2015083/"),
            &GOOD.replace("/20150830/", "/2015O830/"),
            &GOOD.replace("AKIDEXAMPLE/", "/"),
            &GOOD.replace("/us-east-1/", "//"),
            &GOOD.replace("host;x-amz-date", "x-amz-date;host"),
            &GOOD.replace("host;x-amz-date", "host;host"),
            &GOOD.replace("host;x-amz-date", "Host;x-amz-date"),
            &GOOD.replace("host;x-amz-date", "host;;x-amz-date"),
            &GOOD.replace("host;x-amz-date", ""),
            &GOOD.replace("Signature=5f", "Signature=5F"),
            &GOOD.replace("Signature=5f", "Signature=5"),
            &GOOD.replace("Signature=5f", "Signature=zz"),
            &GOOD.replace(", SignedHeaders=host;x-amz-date", ""),
            &GOOD.replace(", Signature", ", Extra=1, Signature"),
        ];
        for value in cases {
            assert!(
                matches!(reason(value), SigV4Error::MalformedAuthorization(_)),
                "{value:?}"
            );
        }
        assert!(matches!(
            parse(b"AWS4-HMAC-SHA256 Credential=\xff"),
            Err(SigV4Error::MalformedAuthorization(_))
        ));
    }
}
