//! Kubernetes resource quantities (`256Mi`, `1.5G`, `128974848`, `129e6`,
//! `100m`), parsed exactly as apimachinery's `resource.Quantity` grammar:
//!
//! ```text
//! <quantity>        ::= <signedNumber><suffix>
//! <signedNumber>    ::= [+-] <number>
//! <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
//! <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
//! <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
//! <decimalSI>       ::= m | "" | k | M | G | T | P | E
//! <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>
//! ```
//!
//! Memory is a count of bytes: a fractional byte count is rounded up, as the
//! kubelet does when it converts the quantity to an integer.

/// A parsed quantity: the exact value is `mantissa * base^exp / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    negative: bool,
    mantissa: u128,
    /// Decimal places of the mantissa.
    scale: u32,
    base: u32,
    exp: i32,
}

/// Why a quantity could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error(
        "`{0}` is not a Kubernetes quantity (expected a number with an optional suffix such as Mi, Gi, M, G or e6)"
    )]
    Syntax(String),
    #[error("`{0}` is too large")]
    TooLarge(String),
}

impl Quantity {
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let err = || QuantityError::Syntax(text.to_string());
        let s = text.trim();
        if s.is_empty() || s != text {
            return Err(err());
        }
        let (negative, rest) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, rest) = rest.split_at(int_len);
        let (frac_part, rest) = match rest.strip_prefix('.') {
            Some(r) => {
                let n = r.bytes().take_while(u8::is_ascii_digit).count();
                r.split_at(n)
            }
            None => ("", rest),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err());
        }
        // The digits of both parts as one number, leading zeros aside; at
        // most 30 significant ones (10^30 < 2^128).
        let mut mantissa: u128 = 0;
        let mut significant = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            if significant == 0 && b == b'0' {
                continue;
            }
            significant += 1;
            if significant > 30 {
                return Err(QuantityError::TooLarge(text.to_string()));
            }
            mantissa = mantissa * 10 + u128::from(b - b'0');
        }
        let scale = frac_part.len() as u32;
        let (base, exp) = match rest {
            "" => (10, 0),
            "Ki" => (2, 10),
            "Mi" => (2, 20),
            "Gi" => (2, 30),
            "Ti" => (2, 40),
            "Pi" => (2, 50),
            "Ei" => (2, 60),
            "n" => (10, -9),
            "u" => (10, -6),
            "m" => (10, -3),
            "k" => (10, 3),
            "M" => (10, 6),
            "G" => (10, 9),
            "T" => (10, 12),
            "P" => (10, 15),
            "E" => (10, 18),
            other if other.starts_with(['e', 'E']) => {
                let e = &other[1..];
                let body = e.strip_prefix(['+', '-']).unwrap_or(e);
                if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) || body.len() > 4 {
                    return Err(err());
                }
                (10, e.parse::<i32>().map_err(|_| err())?)
            }
            _ => return Err(err()),
        };
        Ok(Quantity {
            negative,
            mantissa,
            scale,
            base,
            exp,
        })
    }

    /// The value as a float (exact for the whole numbers and binary or
    /// decimal suffixes resources use; for comparing quantities).
    pub fn as_f64(&self) -> f64 {
        let v = self.mantissa as f64 / 10f64.powi(self.scale as i32)
            * f64::from(self.base).powi(self.exp);
        if self.negative { -v } else { v }
    }

    /// A whole number (no fraction, no milli units).
    pub fn is_whole(&self) -> bool {
        let v = self.as_f64();
        v.is_finite() && v.fract() == 0.0
    }

    pub fn is_negative(&self) -> bool {
        self.negative && self.mantissa > 0
    }

    /// The value in whole units (bytes for memory), rounded up; `None` when it
    /// is negative or does not fit in 64 bits.
    pub fn to_bytes_ceil(&self) -> Option<u64> {
        if self.is_negative() {
            return None;
        }
        // value = mantissa * base^exp / 10^scale
        let mut num: u128 = self.mantissa;
        let mut den: u128 = 10u128.checked_pow(self.scale)?;
        if self.exp >= 0 {
            num = num.checked_mul(u128::from(self.base).checked_pow(self.exp as u32)?)?;
        } else {
            den = den.checked_mul(u128::from(self.base).checked_pow((-self.exp) as u32)?)?;
        }
        let v = num.div_ceil(den);
        u64::try_from(v).ok()
    }
}

/// Parses a quantity given as a YAML/JSON value (a string or a plain number).
pub fn bytes_of(value: &crate::json::Value) -> Result<u64, QuantityError> {
    let number;
    let text: &str = match value {
        crate::json::Value::String(s) => s,
        crate::json::Value::Number(n) => {
            number = n.to_string();
            &number
        }
        other => return Err(QuantityError::Syntax(other.to_string())),
    };
    let q = Quantity::parse(text)?;
    if q.is_negative() {
        return Err(QuantityError::Syntax(text.to_string()));
    }
    q.to_bytes_ceil()
        .ok_or_else(|| QuantityError::TooLarge(text.to_string()))
}

/// Bytes shown as a Kubernetes quantity in MiB, rounded up (`301Mi`).
pub fn mi_ceil(bytes: u64) -> String {
    format!("{}Mi", bytes.div_ceil(1 << 20))
}

/// Bytes in MiB with one decimal (rounded to the nearest), for messages.
pub fn mib(bytes: u64) -> String {
    let tenths = (bytes as u128 * 10 + (1 << 19)) >> 20;
    format!("{}.{} MiB", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Option<u64> {
        Quantity::parse(s).ok().and_then(|q| q.to_bytes_ceil())
    }

    #[test]
    fn binary_and_decimal_suffixes() {
        assert_eq!(b("256Mi"), Some(256 << 20));
        assert_eq!(b("1Ki"), Some(1024));
        assert_eq!(b("2Gi"), Some(2 << 30));
        assert_eq!(b("1Ti"), Some(1 << 40));
        assert_eq!(b("256M"), Some(256_000_000));
        assert_eq!(b("1k"), Some(1000));
        assert_eq!(b("1G"), Some(1_000_000_000));
        assert_eq!(b("128974848"), Some(128_974_848));
        assert_eq!(b("1E"), Some(1_000_000_000_000_000_000));
    }

    #[test]
    fn decimals_exponents_and_milli() {
        assert_eq!(b("1.5Gi"), Some(1610612736));
        assert_eq!(b("0.5Mi"), Some(524288));
        assert_eq!(b(".5Ki"), Some(512));
        assert_eq!(b("1.Ki"), Some(1024));
        assert_eq!(b("129e6"), Some(129_000_000));
        assert_eq!(b("129E6"), Some(129_000_000));
        assert_eq!(b("1e+3"), Some(1000));
        assert_eq!(b("12e-1"), Some(2)); // 1.2 bytes rounds up
        assert_eq!(b("100m"), Some(1)); // 0.1 byte rounds up
        assert_eq!(b("1500m"), Some(2));
        assert_eq!(b("+64Mi"), Some(64 << 20));
        assert_eq!(b("0"), Some(0));
        assert_eq!(b("1.000001Mi"), Some(1048578));
    }

    #[test]
    fn rejects_what_kubernetes_rejects() {
        for bad in [
            "", "Mi", "256 Mi", " 1Gi", "1GB", "1mi", "1KI", "1.2.3", "e6", "1e", "1ee3", "1Mi ",
            "0x10", "1,5Gi",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(b("-1Gi").is_none());
        assert!(bytes_of(&crate::json_value!("-1Gi")).is_err());
        assert!(bytes_of(&crate::json_value!(true)).is_err());
        assert_eq!(bytes_of(&crate::json_value!(1048576)), Ok(1048576));
        assert!(matches!(
            bytes_of(&crate::json_value!("100Ei")),
            Err(QuantityError::TooLarge(_))
        ));
    }

    #[test]
    fn display_helpers() {
        assert_eq!(mi_ceil(300 << 20), "300Mi");
        assert_eq!(mi_ceil((300 << 20) + 1), "301Mi");
        assert_eq!(mib(1 << 20), "1.0 MiB");
        assert_eq!(mib(1_572_864), "1.5 MiB");
    }
}
