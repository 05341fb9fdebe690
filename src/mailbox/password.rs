//! Reading a new password: from the terminal with echo off (asked twice), or one line
//! from standard input (`--password-stdin`). The password is never echoed, logged or
//! put in an error message.

use nix::sys::termios::{self, LocalFlags, SetArg};
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Read, Write};

/// Shortest password accepted.
pub const MIN_CHARS: usize = 8;
/// Longest line read (a password is never this long; more is refused, not cut).
const MAX_BYTES: usize = 4096;

/// The password, checked: at least [`MIN_CHARS`] characters, no control characters.
pub fn check(pw: &str) -> Result<(), String> {
    if pw.chars().count() < MIN_CHARS {
        return Err(format!(
            "the password is too short (at least {MIN_CHARS} characters)"
        ));
    }
    if pw.chars().any(char::is_control) {
        return Err("the password holds a control character".into());
    }
    Ok(())
}

/// One line from `input` without its line end; too long or empty is an error.
pub fn read_line(input: impl Read) -> Result<String, String> {
    let mut line = String::new();
    BufReader::new(input.take(MAX_BYTES as u64 + 1))
        .read_line(&mut line)
        .map_err(|e| format!("reading the password: {e}"))?;
    if line.len() > MAX_BYTES {
        return Err(format!(
            "the password line is longer than {MAX_BYTES} bytes"
        ));
    }
    let pw = line.strip_suffix('\n').unwrap_or(&line);
    let pw = pw.strip_suffix('\r').unwrap_or(pw).to_string();
    if pw.is_empty() {
        return Err("no password given (an empty line)".into());
    }
    Ok(pw)
}

/// From standard input, one line.
pub fn from_stdin() -> Result<String, String> {
    let pw = read_line(std::io::stdin().lock())?;
    check(&pw)?;
    Ok(pw)
}

/// From the controlling terminal, echo off, asked twice.
pub fn from_tty(name: &str) -> Result<String, String> {
    let tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| "no terminal to ask for the password on; use --password-stdin".to_string())?;
    let first = ask(&tty, &format!("New password for {name}: "))?;
    check(&first)?;
    let again = ask(&tty, "The same password again: ")?;
    if again != first {
        return Err("the two passwords differ".into());
    }
    Ok(first)
}

fn ask(tty: &std::fs::File, prompt: &str) -> Result<String, String> {
    let mut w = tty;
    let _ = w.write_all(prompt.as_bytes());
    let _ = w.flush();
    let old = termios::tcgetattr(tty).map_err(|e| format!("terminal: {e}"))?;
    let mut quiet = old.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    quiet.local_flags.insert(LocalFlags::ECHONL);
    termios::tcsetattr(tty, SetArg::TCSAFLUSH, &quiet).map_err(|e| format!("terminal: {e}"))?;
    let line = read_line(tty);
    // Echo back on whatever happened.
    let restored = termios::tcsetattr(tty, SetArg::TCSAFLUSH, &old);
    let line = line?;
    restored.map_err(|e| format!("terminal: {e}"))?;
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_without_its_end() {
        assert_eq!(
            read_line(&b"s3cret pass\r\nmore\n"[..]).unwrap(),
            "s3cret pass"
        );
        assert_eq!(read_line(&b"last"[..]).unwrap(), "last");
        assert!(read_line(&b"\n"[..]).is_err());
        assert!(read_line(&b""[..]).is_err());
        assert!(read_line(&vec![b'a'; MAX_BYTES + 10][..]).is_err());
    }

    #[test]
    fn checks_never_repeat_the_password() {
        for bad in ["pw12", "tab\there-pass"] {
            let e = check(bad).unwrap_err();
            assert!(!e.contains(bad), "{e}");
        }
        assert!(check("long enough").is_ok());
    }
}
