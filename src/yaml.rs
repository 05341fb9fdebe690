//! The one place YAML is parsed. serde_yaml is frozen upstream; replacing it with a
//! maintained fork touches only this file. Before serde_yaml sees a document, one pass
//! over the events of libyaml (the parser inside serde_yaml) caps its size and nesting,
//! stopping early on a deep document, and refuses duplicate keys naming both lines.

use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::mem::MaybeUninit;
use unsafe_libyaml as unsafe_sys;

/// Largest document parsed (16 MiB, the config file's own limit).
pub const MAX_BYTES: usize = 16 << 20;
/// Deepest nesting of maps and lists accepted.
pub const MAX_DEPTH: usize = 64;

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
    shape(text).map_err(|e| tab_hint(text, e))?;
    serde_yaml::from_str(text).map_err(|e| {
        tab_hint(
            text,
            YamlError {
                line: e.location().map(|l| l.line()),
                message: strip_location(&e.to_string()),
            },
        )
    })
}

/// serde_yaml appends " at line L column C" to its messages; we report the line separately.
fn strip_location(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// A syntax error on a line indented with a tab says so (YAML allows only spaces).
fn tab_hint(text: &str, e: YamlError) -> YamlError {
    let tabbed = |l: usize| {
        text.lines()
            .nth(l.wrapping_sub(1))
            .is_some_and(|s| s[..s.len() - s.trim_start().len()].contains('\t'))
    };
    match e.line {
        Some(l) if tabbed(l) || tabbed(l + 1) => YamlError {
            line: Some(if tabbed(l) { l } else { l + 1 }),
            message: format!(
                "{}: a tab in the indentation (indent with spaces)",
                e.message
            ),
        },
        _ => e,
    }
}

/// One event of interest.
enum Event {
    /// A map (true) or list (false) starts.
    Open(bool),
    Close,
    Scalar(String),
    Alias,
    Other,
    End,
}

/// libyaml's event parser over borrowed text, freed on drop.
struct Events<'a> {
    parser: Box<MaybeUninit<unsafe_sys::yaml_parser_t>>,
    _text: std::marker::PhantomData<&'a [u8]>,
}

impl<'a> Events<'a> {
    fn new(text: &'a [u8]) -> Option<Self> {
        let mut parser = Box::new(MaybeUninit::<unsafe_sys::yaml_parser_t>::uninit());
        // SAFETY: the parser lives in a Box (it never moves once initialised) and reads
        // `text`, which outlives it ('a); it is deleted exactly once, in Drop.
        unsafe {
            if unsafe_sys::yaml_parser_initialize(parser.as_mut_ptr()).fail {
                return None;
            }
            unsafe_sys::yaml_parser_set_encoding(
                parser.as_mut_ptr(),
                unsafe_sys::YAML_UTF8_ENCODING,
            );
            unsafe_sys::yaml_parser_set_input_string(
                parser.as_mut_ptr(),
                text.as_ptr(),
                text.len() as u64,
            );
        }
        Some(Events {
            parser,
            _text: std::marker::PhantomData,
        })
    }

    /// The next event and its 1-based line.
    fn next(&mut self) -> Result<(Event, usize), YamlError> {
        let mut ev = MaybeUninit::<unsafe_sys::yaml_event_t>::uninit();
        // SAFETY: the parser was initialised in `new`; a parsed event is read, then
        // deleted before returning; on failure libyaml fills no event.
        unsafe {
            let p = self.parser.as_mut_ptr();
            if unsafe_sys::yaml_parser_parse(p, ev.as_mut_ptr()).fail {
                let parser: &unsafe_sys::yaml_parser_t = &*p;
                let problem = if parser.problem.is_null() {
                    "invalid YAML".to_string()
                } else {
                    std::ffi::CStr::from_ptr(parser.problem.cast())
                        .to_string_lossy()
                        .into_owned()
                };
                return Err(YamlError {
                    line: Some(parser.problem_mark.line as usize + 1),
                    message: problem,
                });
            }
            let e = ev.as_mut_ptr();
            let line = (*e).start_mark.line as usize + 1;
            let kind = match (*e).type_ {
                unsafe_sys::YAML_MAPPING_START_EVENT => Event::Open(true),
                unsafe_sys::YAML_SEQUENCE_START_EVENT => Event::Open(false),
                unsafe_sys::YAML_MAPPING_END_EVENT | unsafe_sys::YAML_SEQUENCE_END_EVENT => {
                    Event::Close
                }
                unsafe_sys::YAML_SCALAR_EVENT => {
                    let s = (*e).data.scalar;
                    let bytes = std::slice::from_raw_parts(s.value, s.length as usize);
                    Event::Scalar(String::from_utf8_lossy(bytes).into_owned())
                }
                unsafe_sys::YAML_ALIAS_EVENT => Event::Alias,
                unsafe_sys::YAML_STREAM_END_EVENT => Event::End,
                _ => Event::Other,
            };
            unsafe_sys::yaml_event_delete(e);
            Ok((kind, line))
        }
    }
}

impl Drop for Events<'_> {
    fn drop(&mut self) {
        // SAFETY: initialised in `new` (a failed initialisation never builds an Events).
        unsafe { unsafe_sys::yaml_parser_delete(self.parser.as_mut_ptr()) }
    }
}

/// An open map (with the line of each key seen, and whether a key comes next) or list.
struct Frame {
    keys: Option<HashMap<String, usize>>,
    key_next: bool,
    /// The map's latest key, or the list's item count: where the open child sits.
    last_key: String,
    items: usize,
}

/// The key path (`mail.relay`, `mail.users[1]`) of the innermost open node.
fn path_of(stack: &[Frame]) -> String {
    let mut out = String::new();
    for f in stack {
        if f.keys.is_some() {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&truncate(&f.last_key, 60));
        } else {
            out.push_str(&format!("[{}]", f.items.saturating_sub(1)));
        }
    }
    out
}

/// Size, nesting and duplicate keys, checked on the event stream before serde_yaml
/// builds anything (a deep document is refused after reading only its first levels).
fn shape(text: &str) -> Result<(), YamlError> {
    if text.len() > MAX_BYTES {
        return Err(YamlError {
            line: None,
            message: format!("the document is larger than {} MiB", MAX_BYTES >> 20),
        });
    }
    let Some(mut events) = Events::new(text.as_bytes()) else {
        return Ok(()); // out of memory: serde_yaml reports it
    };
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let (ev, line) = events.next()?;
        // Whether this node is a map key (the parent is a map expecting one).
        let is_key = match stack.last_mut() {
            Some(f) if f.keys.is_some() && !matches!(ev, Event::Close | Event::Other) => {
                let k = f.key_next;
                f.key_next = !k;
                k
            }
            _ => false,
        };
        if let Some(f) = stack.last_mut() {
            if f.keys.is_none() && !matches!(ev, Event::Close | Event::Other | Event::End) {
                f.items += 1;
            }
        }
        match ev {
            Event::Open(is_map) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(YamlError {
                        line: Some(line),
                        message: format!("nested more than {MAX_DEPTH} levels deep"),
                    });
                }
                stack.push(Frame {
                    keys: is_map.then(HashMap::new),
                    key_next: true,
                    last_key: String::new(),
                    items: 0,
                });
            }
            Event::Close => {
                stack.pop();
            }
            Event::Scalar(k) if is_key => {
                let n = stack.len();
                let within = path_of(&stack[..n.saturating_sub(1)]);
                if let Some(f) = stack.last_mut() {
                    if let Some(first) = f.keys.as_mut().and_then(|m| m.insert(k.clone(), line)) {
                        let within = if within.is_empty() {
                            String::new()
                        } else {
                            format!(" in {within}")
                        };
                        return Err(YamlError {
                            line: Some(line),
                            message: format!(
                                "duplicate key `{}`{within} (first on line {first}, again on line {line})",
                                truncate(&k, 60)
                            ),
                        });
                    }
                    f.last_key = k;
                }
            }
            Event::End => return Ok(()),
            Event::Scalar(_) | Event::Alias | Event::Other => {}
        }
    }
}

/// At most `max` characters of `s`, with "…" when cut.
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn reports_line_of_syntax_error() {
        let err = parse::<Value>("a: 1\nb: [\n").unwrap_err();
        assert!(err.line.is_some());
        assert!(!err.message.contains(" at line "));
    }

    #[test]
    fn duplicate_keys_name_both_lines_in_block_and_flow_maps() {
        let e = parse::<Value>("domain: a.test\nx: 1\ndomain: b.test\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(
            e.message
                .contains("duplicate key `domain` (first on line 1, again on line 3)"),
            "{}",
            e.message
        );
        let e = parse::<Value>("m:\n  r: {host: a,\n     port: 1, host: b}\n").unwrap_err();
        assert!(
            e.message
                .contains("duplicate key `host` in m.r (first on line 2, again on line 3)"),
            "{}",
            e.message
        );
        let e = parse::<Value>("u:\n- {a: 1}\n- x\n- {a: 1, b: [1, {c: 1, c: 2}]}\n").unwrap_err();
        assert!(
            e.message.contains("duplicate key `c` in u[2].b[1] "),
            "{}",
            e.message
        );
        // The same key in two different maps, and values equal to keys, are fine.
        let v: Value = parse("a: {x: 1}\nb: {x: 1}\nc: [x, x]\nd: {x: x}\n").unwrap();
        assert_eq!(v["b"]["x"], 1);
        let v: Value = parse("- {a: 1}\n- {a: 2}\n").unwrap();
        assert_eq!(v[1]["a"], 2);
    }

    #[test]
    fn deep_and_large_documents_are_refused_quickly() {
        let start = std::time::Instant::now();
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = parse::<Value>(&deep).unwrap_err();
        assert!(
            e.message.contains("nested more than 64 levels"),
            "{}",
            e.message
        );
        let deep = format!("{}x\n", "- ".repeat(100_000));
        assert!(parse::<Value>(&deep)
            .unwrap_err()
            .message
            .contains("nested"));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse::<Value>(&ok).is_ok());
        let big = format!("a: 1\n#{}\n", "x".repeat(MAX_BYTES));
        assert!(parse::<Value>(&big)
            .unwrap_err()
            .message
            .contains("larger than 16 MiB"));
    }

    #[test]
    fn a_tab_in_the_indentation_says_to_indent_with_spaces() {
        let e = parse::<Value>("mail:\n\tmode: full\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("indent with spaces"), "{}", e.message);
    }

    #[test]
    fn truncates_long_values() {
        assert_eq!(truncate("abcdef", 3), "abc…");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("ééé", 2), "éé…");
    }
}
