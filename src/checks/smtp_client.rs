//! A minimal SMTP client for checks: read the greeting, send one command, read its
//! (possibly multi-line) reply. It never sends DATA: the checks only look at what a
//! server offers and answers. Every read and write is bounded by the stream's timeout.

use crate::host::net::{Network, Stream};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

/// Longest reply line read, and most lines in one reply: a server that sends more is
/// not an SMTP server worth talking to.
const MAX_LINE: usize = 4096;
const MAX_LINES: usize = 100;

/// One SMTP reply: its code and the text of each line (after `NNN-` or `NNN `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The text of each line.
    pub lines: Vec<String>,
}

impl Reply {
    /// The reply as one line: `250 first line`.
    pub fn first(&self) -> String {
        format!(
            "{} {}",
            self.code,
            self.lines.first().map_or("", |l| l.as_str())
        )
    }

    /// Whether an EHLO reply offers `keyword` (an extension line starting with it,
    /// `AUTH PLAIN` or the old `AUTH=PLAIN`).
    pub fn offers(&self, keyword: &str) -> bool {
        self.lines.iter().skip(1).any(|l| {
            let word = l.split([' ', '=']).next().unwrap_or("");
            word.eq_ignore_ascii_case(keyword)
        })
    }
}

/// Why a session could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenError {
    /// What happened, naming the address.
    pub detail: String,
    /// The connection timed out (nothing answered: a filter drops the packets), rather
    /// than being refused or answered with something else.
    pub timed_out: bool,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

/// An open SMTP session.
pub struct Session {
    stream: Box<dyn Stream>,
    buf: Vec<u8>,
}

impl Session {
    /// Connect to `addr` and read the greeting.
    pub fn open(
        net: &dyn Network,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<(Session, Reply), OpenError> {
        let stream = net.tcp_connect(addr, timeout).map_err(|e| OpenError {
            detail: format!("cannot connect to {addr}: {e}"),
            timed_out: matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ),
        })?;
        let mut s = Session {
            stream,
            buf: Vec::new(),
        };
        let greeting = s.reply().map_err(|e| OpenError {
            detail: format!("{addr}: no greeting: {e}"),
            timed_out: false,
        })?;
        Ok((s, greeting))
    }

    /// Send `line` (CRLF added) and read the reply.
    pub fn command(&mut self, line: &str) -> Result<Reply, String> {
        let verb = line.split([' ', ':']).next().unwrap_or(line);
        self.stream
            .write_all(format!("{line}\r\n").as_bytes())
            .and_then(|_| self.stream.flush())
            .map_err(|e| format!("cannot send {verb}: {e}"))?;
        self.reply().map_err(|e| format!("no reply to {verb}: {e}"))
    }

    /// Say QUIT, ignoring what comes back: the session ends either way.
    pub fn quit(mut self) {
        let _ = self.command("QUIT");
    }

    fn line(&mut self) -> Result<String, String> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = self.buf.drain(..=i).collect();
                let text = String::from_utf8_lossy(&raw);
                return Ok(text.trim_end_matches(['\r', '\n']).to_string());
            }
            if self.buf.len() > MAX_LINE {
                return Err(format!("a line longer than {MAX_LINE} bytes"));
            }
            let mut chunk = [0u8; 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err("connection closed".into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    fn reply(&mut self) -> Result<Reply, String> {
        let mut lines = Vec::new();
        loop {
            let l = self.line()?;
            let code = l
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c))
                .ok_or_else(|| format!("not an SMTP reply: {:?}", truncate(&l)))?;
            let more = l.as_bytes().get(3) == Some(&b'-');
            lines.push(l.get(4..).unwrap_or("").to_string());
            if !more {
                return Ok(Reply { code, lines });
            }
            if lines.len() >= MAX_LINES {
                return Err(format!("a reply of more than {MAX_LINES} lines"));
            }
        }
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::{self, ScriptedSmtp};

    fn addr() -> SocketAddr {
        "192.0.2.10:25".parse().unwrap()
    }

    #[test]
    fn greeting_multi_line_replies_and_extensions_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let (h, f) = fake::host(dir.path());
        f.net.smtp(ScriptedSmtp::new(
            "220 mail.example.test ESMTP",
            |cmd| match cmd {
                c if c.starts_with("EHLO") => {
                    "250-mail.example.test\r\n250-STARTTLS\r\n250 AUTH=PLAIN LOGIN".into()
                }
                _ => "250 ok".into(),
            },
        ));
        let (mut s, greeting) =
            Session::open(h.net.as_ref(), addr(), Duration::from_secs(1)).unwrap();
        assert_eq!(greeting.first(), "220 mail.example.test ESMTP");
        let ehlo = s.command("EHLO probe.invalid").unwrap();
        assert_eq!(ehlo.code, 250);
        assert_eq!(ehlo.lines.len(), 3);
        assert!(ehlo.offers("starttls"));
        assert!(ehlo.offers("AUTH"));
        assert!(!ehlo.offers("PIPELINING"));
        s.quit();
        let seen = f.net.smtp_lines();
        assert_eq!(seen, ["EHLO probe.invalid", "QUIT"]);
    }

    #[test]
    fn garbage_silence_and_refused_connections_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (h, f) = fake::host(dir.path());
        let t = Duration::from_secs(1);
        let e = Session::open(h.net.as_ref(), addr(), t).err().unwrap();
        assert!(e.detail.contains("cannot connect to 192.0.2.10:25"), "{e}");
        assert!(!e.timed_out);
        f.net
            .smtp(ScriptedSmtp::new("SSH-2.0-OpenSSH_9.2", |_| String::new()));
        let e = Session::open(h.net.as_ref(), addr(), t).err().unwrap();
        assert!(e.detail.contains("not an SMTP reply"), "{e}");
        f.net.smtp(ScriptedSmtp::new("220 x", |_| String::new()));
        let (mut s, _) = Session::open(h.net.as_ref(), addr(), t).unwrap();
        let e = s.command("NOOP").unwrap_err();
        assert!(e.contains("no reply to NOOP"), "{e}");
    }

    #[test]
    fn what_is_not_smtp_is_quoted_up_to_80_characters() {
        let dir = tempfile::tempdir().unwrap();
        let (h, f) = fake::host(dir.path());
        let t = Duration::from_secs(1);
        f.net
            .smtp(ScriptedSmtp::new("SSH-2.0-OpenSSH_9.2", |_| String::new()));
        let e = Session::open(h.net.as_ref(), addr(), t).err().unwrap();
        assert!(
            e.detail
                .ends_with("not an SMTP reply: \"SSH-2.0-OpenSSH_9.2\""),
            "{e}"
        );
        assert_eq!(e.to_string(), e.detail);
        let long = "x".repeat(200);
        f.net.smtp(ScriptedSmtp::new(&long, |_| String::new()));
        let e = Session::open(h.net.as_ref(), addr(), t).err().unwrap();
        assert!(
            e.detail.ends_with(&format!("\"{}\"", "x".repeat(80))),
            "{e}"
        );
    }

    #[test]
    fn a_line_of_the_longest_length_is_read_a_longer_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (h, f) = fake::host(dir.path());
        let t = Duration::from_secs(1);
        let longest = format!("220 {}", "a".repeat(MAX_LINE - 4));
        f.net.smtp(ScriptedSmtp::new(&longest, |_| String::new()));
        let (_, greeting) = Session::open(h.net.as_ref(), addr(), t).unwrap();
        assert_eq!(greeting.first().len(), MAX_LINE);
        let longer = format!("220 {}", "a".repeat(MAX_LINE + 2000));
        f.net.smtp(ScriptedSmtp::new(&longer, |_| String::new()));
        let e = Session::open(h.net.as_ref(), addr(), t).err().unwrap();
        assert!(e.detail.contains("a line longer than 4096 bytes"), "{e}");
    }
}
