//! Kubernetes quantities (`400Mi`, `0.5`, `1e3`, `100m`, `1Gi`).
//!
//! The generated schemas give every `Quantity` field the schema
//! `{"type": ["string", "number"], "pattern": PATTERN}`: any number, or a string
//! in the quantity grammar. The xtask writes the same pattern text (see
//! `xtask/src/strict.rs`); a test below checks the embedded schemas use exactly
//! this one, since messages recognise quantity fields by it.

/// Written from the grammar in apimachinery's `Quantity` documentation, plus the
/// `n` and `u` suffixes its parser also accepts:
/// `[sign] (digits[.digits] | .digits) [Ki|Mi|Gi|Ti|Pi|Ei | n|u|m|k|M|G|T|P|E | (e|E)[sign]number]`.
pub const PATTERN: &str = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+))?$";

/// What a quantity looks like, for messages.
pub const EXPLANATION: &str = "a number with an optional suffix: Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024), n, u, m, k, M, G, T, P, E (powers of 1000) or an exponent such as e3";

/// A likely intended quantity for a common mistake (`400MB`, `1 Gi`, `2gi`).
pub fn hint(value: &str) -> Option<String> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let is_number = |s: &str| {
        !s.is_empty()
            && s.parse::<f64>().is_ok()
            && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    };
    // `400MB`, `400mb`, `400MiB`: a byte unit.
    let unit_start = compact.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = compact.split_at(unit_start);
    if !is_number(number) {
        return None;
    }
    let lower = unit.to_ascii_lowercase();
    let letter = match lower.trim_end_matches('b').trim_end_matches('i') {
        "k" => 'K',
        "m" => 'M',
        "g" => 'G',
        "t" => 'T',
        "p" => 'P',
        "e" => 'E',
        _ => return None,
    };
    let decimal = if letter == 'K' {
        "k".to_string()
    } else {
        letter.to_string()
    };
    let binary = format!("{number}{letter}i");
    if compact != value || unit.ends_with(['B', 'b']) {
        Some(format!(
            "write `{binary}` for {letter}i-bytes (powers of 1024) or `{number}{decimal}` (powers of 1000)"
        ))
    } else if unit.eq_ignore_ascii_case(&format!("{letter}i")) {
        Some(format!("suffixes are case-sensitive: write `{binary}`"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validator() -> jsonschema::Validator {
        let schema = serde_json::json!({"type": ["string", "number"], "pattern": PATTERN});
        jsonschema::options().build(&schema).unwrap()
    }

    #[test]
    fn accepts_the_quantity_grammar() {
        let v = validator();
        for ok in [
            "400Mi", "0.5", "1e3", "100m", "1Gi", "1", "+1", "-1", ".5", "5.", "1E3", "1.5e-3",
            "2E+2", "100n", "12u", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Ti", "1Pi", "1Ei",
            "0", "1e.5",
        ] {
            assert!(
                v.is_valid(&serde_json::json!(ok)),
                "{ok} should be a quantity"
            );
        }
        for n in [
            serde_json::json!(2),
            serde_json::json!(0.25),
            serde_json::json!(-3),
        ] {
            assert!(v.is_valid(&n), "{n} should be a quantity");
        }
    }

    #[test]
    fn rejects_what_is_not_a_quantity() {
        let v = validator();
        for bad in [
            "400MB", "1mi", "Mi", "", "1.2.3", "1 Gi", "1e", "1KiB", "1Ki3", "abc", "1e3Mi",
            "0x10", "1K", "1gi", "+", ".", "1Gi ", " 1", "1,5", "1_000",
        ] {
            assert!(
                !v.is_valid(&serde_json::json!(bad)),
                "{bad:?} should not be a quantity"
            );
        }
        assert!(!v.is_valid(&serde_json::json!(true)));
        assert!(!v.is_valid(&serde_json::json!({"a": 1})));
    }

    #[test]
    fn hints_at_the_likely_spelling() {
        assert_eq!(
            hint("400MB").unwrap(),
            "write `400Mi` for Mi-bytes (powers of 1024) or `400M` (powers of 1000)"
        );
        assert_eq!(
            hint("1KB").unwrap(),
            "write `1Ki` for Ki-bytes (powers of 1024) or `1k` (powers of 1000)"
        );
        assert_eq!(
            hint("2gi").unwrap(),
            "suffixes are case-sensitive: write `2Gi`"
        );
        assert!(hint("1 Gi").unwrap().contains("`1Gi`"));
        assert_eq!(hint("lots"), None);
        assert_eq!(hint("12x"), None);
    }

    #[test]
    fn the_embedded_schemas_use_this_pattern() {
        let mut seen = 0;
        for (version, file, text) in crate::schema::embedded::FILES {
            let schema: serde_json::Value = serde_json::from_str(text).unwrap();
            // (A CRD's schema also has a property named `pattern`: look at
            // the Quantity definition itself.)
            if let Some(q) = schema["$defs"].get("io.k8s.apimachinery.pkg.api.resource.Quantity") {
                assert_eq!(
                    q["pattern"].as_str(),
                    Some(PATTERN),
                    "{version} {file} uses another quantity pattern"
                );
                seen += 1;
            }
        }
        assert!(seen > 0, "no embedded schema has a quantity field");
    }
}
