//! The line of each key path in a YAML text (`steps[3].file.path`, `mail.users[1].name`),
//! for diagnostics: a small scan that follows indentation, sequence items (counted, so
//! `users[1]` is the second item, not the first line holding `name:`), flow collections
//! and block scalars. It reads positions only; values are parsed by `src/yaml.rs`.

use std::collections::HashMap;

/// Key path → 1-based line.
#[derive(Debug, Default, Clone)]
pub struct Lines(HashMap<String, usize>);

struct Node {
    col: usize,
    path: String,
    item: bool,
}

impl Lines {
    /// Index `text`.
    pub fn of(text: &str) -> Lines {
        let mut s = Scan::default();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            i = s.line(&lines, i);
        }
        Lines(s.out)
    }

    /// The line of `path`, or of its nearest ancestor that has one.
    pub fn line(&self, path: &str) -> Option<usize> {
        let mut p = path;
        loop {
            if let Some(l) = self.0.get(p) {
                return Some(*l);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

#[derive(Default)]
struct Scan {
    stack: Vec<Node>,
    counts: HashMap<String, usize>,
    out: HashMap<String, usize>,
}

impl Scan {
    fn parent(&self) -> String {
        self.stack
            .last()
            .map(|n| n.path.clone())
            .unwrap_or_default()
    }

    fn record(&mut self, path: &str, line: usize) {
        self.out.entry(path.to_string()).or_insert(line);
    }

    fn next_index(&mut self, parent: &str) -> String {
        let n = self.counts.entry(parent.to_string()).or_insert(0);
        *n += 1;
        format!("{parent}[{}]", *n - 1)
    }

    /// Scan line `i` (and any lines its value spans); returns the next line to scan.
    fn line(&mut self, lines: &[&str], i: usize) -> usize {
        let raw = lines[i];
        let t = raw.trim_start();
        if t.is_empty() || t.starts_with('#') || t.starts_with("---") {
            return i + 1;
        }
        let mut col = raw.len() - t.len();
        let mut rest = t;
        // Sequence items, possibly several on one line (`- - x`).
        while rest == "-" || rest.starts_with("- ") {
            self.stack
                .retain(|n| n.col < col || (n.col == col && !n.item));
            let parent = self.parent();
            let path = self.next_index(&parent);
            self.record(&path, i + 1);
            self.stack.push(Node {
                col,
                path,
                item: true,
            });
            let after = rest[1..].trim_start();
            col += rest.len() - after.len();
            rest = after;
        }
        if rest.is_empty() {
            return i + 1;
        }
        if rest.starts_with(['{', '[']) {
            let parent = self.parent();
            return self.flow(lines, i, col, &parent);
        }
        let Some((key, value)) = split_key(rest) else {
            return i + 1; // a scalar item or a continuation line
        };
        self.stack.retain(|n| n.col < col);
        let parent = self.parent();
        let path = join(&parent, key);
        self.record(&path, i + 1);
        self.stack.push(Node {
            col,
            path: path.clone(),
            item: false,
        });
        let v = value.trim();
        if v.starts_with(['{', '[']) {
            let at = col + rest.len() - value.trim_start().len();
            return self.flow(lines, i, at, &path);
        }
        if v.starts_with(['|', '>']) {
            // A block scalar: every following line indented deeper (or blank) is text.
            let mut j = i + 1;
            while j < lines.len() {
                let l = lines[j];
                let lt = l.trim_start();
                if !lt.is_empty() && l.len() - lt.len() <= col {
                    break;
                }
                j += 1;
            }
            return j;
        }
        for q in ['"', '\''] {
            if v.starts_with(q) && !closes(&v[1..], q) {
                let mut j = i + 1;
                while j < lines.len() && !closes(lines[j], q) {
                    j += 1;
                }
                return j + 1;
            }
        }
        i + 1
    }

    /// A flow collection starting at column `at` of line `i`, possibly over several
    /// lines; its keys and items are recorded under `base`.
    fn flow(&mut self, lines: &[&str], i: usize, at: usize, base: &str) -> usize {
        // (path of the collection, is a list, next item index)
        let mut stack: Vec<(String, bool, usize)> = Vec::new();
        let mut pending = base.to_string();
        let mut token = String::new();
        let mut j = i;
        let mut start = at;
        while j < lines.len() {
            let mut chars = lines[j][start.min(lines[j].len())..].chars().peekable();
            let mut quote: Option<char> = None;
            while let Some(c) = chars.next() {
                if let Some(q) = quote {
                    if c == q {
                        quote = None;
                    }
                    token.push(c);
                    continue;
                }
                match c {
                    '"' | '\'' if token.trim().is_empty() => {
                        quote = Some(c);
                        token.push(c);
                    }
                    '{' | '[' => {
                        stack.push((pending.clone(), c == '[', 0));
                        token.clear();
                        if c == '[' {
                            pending = self.flow_item(&mut stack, j);
                        }
                    }
                    '}' | ']' => {
                        stack.pop();
                        token.clear();
                        if stack.is_empty() {
                            return j + 1;
                        }
                    }
                    ',' => {
                        token.clear();
                        if stack.last().is_some_and(|s| s.1) {
                            pending = self.flow_item(&mut stack, j);
                        }
                    }
                    ':' if chars.peek().is_none_or(|n| n.is_whitespace()) => {
                        let key = unquote(token.trim());
                        if let Some((p, false, _)) = stack.last() {
                            pending = join(p, key);
                            self.record(&pending, j + 1);
                        }
                        token.clear();
                    }
                    '#' if token.is_empty() || token.ends_with(' ') => break,
                    _ => token.push(c),
                }
            }
            j += 1;
            start = 0;
        }
        j
    }

    fn flow_item(&mut self, stack: &mut [(String, bool, usize)], line: usize) -> String {
        let Some(top) = stack.last_mut() else {
            return String::new();
        };
        let path = format!("{}[{}]", top.0, top.2);
        top.2 += 1;
        self.record(&path, line + 1);
        path
    }
}

fn join(parent: &str, key: &str) -> String {
    match parent.is_empty() {
        true => key.to_string(),
        false => format!("{parent}.{key}"),
    }
}

fn unquote(k: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = k.strip_prefix(q).and_then(|x| x.strip_suffix(q)) {
            return inner;
        }
    }
    k
}

/// Whether `s` holds the closing quote `q` (a doubled `''` is an escaped quote).
fn closes(s: &str, q: char) -> bool {
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' && q == '"' {
            it.next();
        } else if c == q {
            if q == '\'' && it.peek() == Some(&'\'') {
                it.next();
                continue;
            }
            return true;
        }
    }
    false
}

/// `key: value` → (key, value); `None` when the text is not a mapping entry.
fn split_key(t: &str) -> Option<(&str, &str)> {
    if t.starts_with(['"', '\'']) {
        let q = t.chars().next()?;
        let end = t[1..].find(q)? + 1;
        let after = &t[end + 1..];
        let value = after.trim_start().strip_prefix(':')?;
        return Some((&t[1..end], value));
    }
    let mut from = 0;
    while let Some(p) = t[from..].find(':') {
        let at = from + p;
        let next = t[at + 1..].chars().next();
        if next.is_none_or(char::is_whitespace) {
            let key = t[..at].trim_end();
            if key.contains(" #") {
                return None;
            }
            return Some((key, &t[at + 1..]));
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_are_counted_not_searched() {
        let text = "domain: a.test\nmail:\n  users:\n    - name: alice\n      password_hash: x\n    - name: bob\n  relay: {host: x, port: 70000}\n";
        let l = Lines::of(text);
        assert_eq!(l.line("mail.users[0].name"), Some(4));
        assert_eq!(l.line("mail.users[1].name"), Some(6));
        assert_eq!(l.line("mail.relay.port"), Some(7));
        assert_eq!(
            l.line("mail.users[1].password_hash"),
            Some(6),
            "nearest ancestor"
        );
        assert_eq!(l.line("nothere"), None);
    }

    #[test]
    fn manifests_with_flow_items_block_scalars_and_comments() {
        let text = "name: m\ndescription: |\n  steps:\n    - nope\nsteps:\n# a comment\n- file:\n    path: /a\n  when: x\n- service: {name: postfix}\nrecords:\n  - {name: a, type: TXT, value: \"x: y\"}\n  - name: b\n    type: A\nusers: [{name: a}, {name: b}]\n";
        let l = Lines::of(text);
        assert_eq!(l.line("steps[0].file.path"), Some(8));
        assert_eq!(l.line("steps[0].when"), Some(9));
        assert_eq!(l.line("steps[1].service.name"), Some(10));
        assert_eq!(l.line("records[0].value"), Some(12));
        assert_eq!(l.line("records[1].type"), Some(14));
        assert_eq!(l.line("users[1].name"), Some(15));
        assert_eq!(l.line("description"), Some(2));
    }
}
