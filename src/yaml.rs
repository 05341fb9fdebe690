//! The one place YAML is parsed. serde_yaml is frozen upstream; replacing it with a
//! maintained fork touches only this file.

use serde::de::DeserializeOwned;

/// A YAML document that could not be read into the expected shape.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// 1-based line of the problem, when the parser knows it.
    pub line: Option<usize>,
    /// What went wrong, in the parser's words.
    pub message: String,
}

/// Parse `text` into `T` (strictly: `T`'s serde attributes decide what is unknown).
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_yaml::from_str(text).map_err(|e| YamlError {
        line: e.location().map(|l| l.line()),
        message: strip_location(&e.to_string()),
    })
}

/// serde_yaml appends " at line L column C" to its messages; we report the line separately.
fn strip_location(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_line_of_syntax_error() {
        let err = parse::<serde_json::Value>("a: 1\nb: [\n").unwrap_err();
        assert!(err.line.is_some());
        assert!(!err.message.contains(" at line "));
    }
}
