//! Reading log files from where the last look stopped. Each file's inode and offset are
//! kept; a file whose inode changed or that shrank was rotated: the rest of the old file
//! is read from `<path>.1` when that is the old inode (logrotate's and syslog's usual
//! name), then the new file from its start. Nothing is reported twice or skipped.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Where reading stopped in one file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The file's inode when it was read.
    pub inode: u64,
    /// Bytes already read.
    pub offset: u64,
    /// Hash of the file's first bytes (up to 256 of those read): a file removed and made
    /// anew may get the old inode number back, but not the same first line.
    #[serde(default)]
    pub head: u64,
}

/// The state of `firstboot watch`: positions by file path, and the checks that were
/// failing at its last run (`module/id`), so an alert is sent once per change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offsets {
    /// Path (as given) → position.
    pub files: BTreeMap<String, Position>,
    /// Checks failing at the last run.
    #[serde(default)]
    pub failing: std::collections::BTreeSet<String>,
}

/// At most this much is read from one file in one look (a log gone wild must not
/// exhaust memory; the rest is read next time).
pub const MAX_READ: u64 = 64 * 1024 * 1024;

/// The complete lines of `path` (a real path on this machine) written since `from`, and
/// the position to start from next time. A missing file gives nothing and keeps no
/// position; a partial last line is left for the next look.
pub fn read_new(
    path: &Path,
    from: Option<Position>,
) -> std::io::Result<(Vec<String>, Option<Position>)> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), None)),
        Err(e) => return Err(e),
    };
    let mut lines = Vec::new();
    let mut start = 0;
    if let Some(p) = from {
        if same_file(path, &meta, p)? {
            start = p.offset;
        } else {
            // Rotated: finish the old file first when it is still beside the new one.
            let old = rotated_name(path);
            if let Ok(m) = std::fs::metadata(&old) {
                if same_file(&old, &m, p)? {
                    lines.extend(read_lines(&old, p.offset, m.len())?.0);
                }
            }
        }
    }
    let (new, used) = read_lines(path, start, meta.len())?;
    lines.extend(new);
    let offset = start + used;
    Ok((
        lines,
        Some(Position {
            inode: meta.ino(),
            offset,
            head: head_hash(path, offset)?,
        }),
    ))
}

/// Whether `path` (with `meta`) is the file `p` was taken in.
fn same_file(path: &Path, meta: &std::fs::Metadata, p: Position) -> std::io::Result<bool> {
    Ok(meta.ino() == p.inode && p.offset <= meta.len() && head_hash(path, p.offset)? == p.head)
}

/// FNV-1a of the first `min(offset, 256)` bytes.
fn head_hash(path: &Path, offset: u64) -> std::io::Result<u64> {
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(offset.min(256))
        .read_to_end(&mut buf)?;
    Ok(buf.iter().fold(0xcbf29ce484222325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    }))
}

/// `<path>.1`.
fn rotated_name(path: &Path) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".1");
    s.into()
}

/// Complete lines between `start` and `end` (at most [`MAX_READ`] bytes), and how many
/// bytes they span.
fn read_lines(path: &Path, start: u64, end: u64) -> std::io::Result<(Vec<String>, u64)> {
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    f.take(end.saturating_sub(start).min(MAX_READ))
        .read_to_end(&mut buf)?;
    let complete = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let lines = String::from_utf8_lossy(&buf[..complete])
        .lines()
        .map(str::to_string)
        .collect();
    Ok((lines, complete as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn append(p: &Path, s: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap();
        f.write_all(s.as_bytes()).unwrap();
    }

    #[test]
    fn each_line_once_across_rotation_and_partial_lines() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("mail.log");
        assert_eq!(read_new(&log, None).unwrap(), (Vec::new(), None));
        append(&log, "one\ntwo\nthr");
        let (l, p) = read_new(&log, None).unwrap();
        assert_eq!(l, ["one", "two"]);
        append(&log, "ee\nfour\n");
        let (l, p) = read_new(&log, p).unwrap();
        assert_eq!(l, ["three", "four"]);
        let (l, p) = read_new(&log, p).unwrap();
        assert!(l.is_empty());
        // Rotated by rename: the old file's last lines, then the new file's.
        append(&log, "five\n");
        std::fs::rename(&log, d.path().join("mail.log.1")).unwrap();
        append(&log, "six\n");
        let (l, p) = read_new(&log, p).unwrap();
        assert_eq!(l, ["five", "six"]);
        // Truncated in place (copytruncate): read from the start again.
        std::fs::write(&log, "seven\n").unwrap();
        let (l, _) = read_new(&log, p).unwrap();
        assert_eq!(l, ["seven"]);
    }

    #[test]
    fn a_rotated_file_that_is_gone_starts_the_new_one_from_its_start() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("f.log");
        append(&log, "a\n");
        let (_, p) = read_new(&log, None).unwrap();
        std::fs::remove_file(&log).unwrap();
        append(&log, "b\n");
        let (l, _) = read_new(&log, p).unwrap();
        assert_eq!(l, ["b"]);
    }
}
