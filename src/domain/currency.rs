//! A show's currency: an ISO 4217 code, checked against the list of active codes, so a
//! typo ("USS") is a 422 at the API rather than a price the console cannot format.

use super::input::Invalid;

/// The active ISO 4217 alphabetic codes (2026), space-separated.
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD \
BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP \
ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK \
JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK \
MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG \
QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT \
TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR \
ZMW ZWG";

/// `code` if it is an active ISO 4217 code (three capital letters, as listed).
pub fn check_currency(code: &str) -> Result<String, Invalid> {
    let known = code.len() == 3 && ISO_4217.split(' ').any(|c| c == code);
    if known {
        Ok(code.to_owned())
    } else {
        let shown: String = code.chars().take(20).collect();
        Err(Invalid(format!(
            "currency must be an ISO 4217 code such as USD or EUR, not {shown:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_codes_pass_and_anything_else_is_named() {
        for code in ["USD", "EUR", "JPY", "TRY", "GBP"] {
            assert_eq!(check_currency(code).unwrap(), code);
        }
        for bad in ["usd", "USS", "US", "USDX", "", "U D", "\0US"] {
            assert!(check_currency(bad).is_err(), "{bad:?}");
        }
        assert!(ISO_4217
            .split(' ')
            .all(|c| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase())));
    }
}
