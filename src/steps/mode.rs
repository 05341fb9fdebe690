//! File modes written as quoted octal strings (`"0644"`): YAML would read a bare 0644 as
//! the decimal number 644, a classic way to ship world-writable files.

use serde::{de::Error as _, Deserialize, Deserializer};

/// Permission bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode(pub u32);

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let s = v.as_str().ok_or_else(|| {
            D::Error::custom(format!(
                "mode must be a quoted octal string like \"0644\", got {v}"
            ))
        })?;
        let bits = u32::from_str_radix(s, 8)
            .ok()
            .filter(|b| *b <= 0o7777 && s.len() >= 3)
            .ok_or_else(|| {
                D::Error::custom(format!("mode {s:?} is not an octal mode like \"0644\""))
            })?;
        Ok(Mode(bits))
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_strings_only() {
        assert_eq!(
            serde_json::from_str::<Mode>("\"0640\"").unwrap(),
            Mode(0o640)
        );
        assert!(serde_json::from_str::<Mode>("644").is_err());
        assert!(serde_json::from_str::<Mode>("\"0999\"").is_err());
    }

    #[test]
    fn at_most_0o7777_and_at_least_three_digits() {
        let read = |s: &str| serde_json::from_value::<Mode>(serde_json::json!(s));
        assert_eq!(read("7777").map_err(|e| e.to_string()), Ok(Mode(0o7777)));
        assert_eq!(read("600").map_err(|e| e.to_string()), Ok(Mode(0o600)));
        for bad in ["10000", "17777", "64", "7"] {
            assert_eq!(
                read(bad).map_err(|e| e.to_string()),
                Err(format!("mode {bad:?} is not an octal mode like \"0644\"")),
                "{bad}"
            );
        }
    }
}
