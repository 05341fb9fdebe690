//! Opening files safely: reads accept regular files only (a FIFO, device or socket is
//! refused without blocking), optionally size-capped; firstboot's own files (lock, logs)
//! are never opened through a symbolic link.

use super::HostError;
use nix::libc;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// What a non-regular file is, for messages.
fn kind_of(ft: std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// An open that failed: when something other than a regular file is at `path` (a link
/// refused by O_NOFOLLOW, a FIFO without a reader), say what it is.
fn open_error(op: &'static str, path: &Path, e: std::io::Error) -> HostError {
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.is_file() => HostError::NotRegular {
            path: path.display().to_string(),
            what: kind_of(m.file_type()),
        },
        _ => HostError::io(op, path, e),
    }
}

/// Refuse anything but a regular file, naming what it is.
fn regular(f: &File, path: &Path) -> Result<(), HostError> {
    let ft = f
        .metadata()
        .map_err(|e| HostError::io("stat", path, e))?
        .file_type();
    if ft.is_file() {
        Ok(())
    } else {
        Err(HostError::NotRegular {
            path: path.display().to_string(),
            what: kind_of(ft),
        })
    }
}

/// Contents of the regular file at `path` (a host path), `None` when absent. With
/// `nofollow`, a final symlink is refused (the caller resolved links already). More than
/// `limit` bytes is an error.
pub fn read_regular(
    path: &Path,
    limit: Option<u64>,
    nofollow: bool,
) -> Result<Option<Vec<u8>>, HostError> {
    let mut flags = libc::O_NONBLOCK;
    if nofollow {
        flags |= libc::O_NOFOLLOW;
    }
    let mut f = match OpenOptions::new().read(true).custom_flags(flags).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(open_error("read", path, e)),
    };
    regular(&f, path)?;
    let mut data = Vec::new();
    match limit {
        Some(max) => {
            (&mut f)
                .take(max + 1)
                .read_to_end(&mut data)
                .map_err(|e| HostError::io("read", path, e))?;
            if data.len() as u64 > max {
                return Err(HostError::TooLarge {
                    path: path.display().to_string(),
                    limit: max,
                });
            }
        }
        None => {
            f.read_to_end(&mut data)
                .map_err(|e| HostError::io("read", path, e))?;
        }
    }
    Ok(Some(data))
}

/// Open (creating with `mode`) one of firstboot's own files for appending or locking.
/// A symbolic link or anything but a regular file at `path` is refused.
pub fn open_own(path: &Path, mode: u32) -> Result<File, HostError> {
    let f = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| open_error("open", path, e))?;
    regular(&f, path)?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("fifo");
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let e = read_regular(&p, None, true).unwrap_err().to_string();
        assert!(e.contains("is a FIFO, not a regular file"), "{e}");
        let e = open_own(&p, 0o600).unwrap_err().to_string();
        assert!(e.contains("FIFO"), "{e}");
    }

    #[test]
    fn devices_directories_and_links_are_refused() {
        let e = read_regular(Path::new("/dev/zero"), Some(10), false).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        let t = tempfile::tempdir().unwrap();
        let e = read_regular(t.path(), None, true).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        std::fs::write(t.path().join("f"), "x").unwrap();
        std::os::unix::fs::symlink(t.path().join("f"), t.path().join("l")).unwrap();
        let e = read_regular(&t.path().join("l"), None, true).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let e = open_own(&t.path().join("l"), 0o600).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(
            read_regular(&t.path().join("l"), None, false).unwrap(),
            Some(b"x".to_vec())
        );
    }

    #[test]
    fn the_size_limit_is_exact() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("f");
        std::fs::write(&p, "12345").unwrap();
        assert_eq!(read_regular(&p, Some(5), true).unwrap().unwrap(), b"12345");
        let e = read_regular(&p, Some(4), true).unwrap_err().to_string();
        assert!(e.contains("larger than 4 bytes"), "{e}");
        assert!(read_regular(&t.path().join("none"), Some(4), true)
            .unwrap()
            .is_none());
    }
}
