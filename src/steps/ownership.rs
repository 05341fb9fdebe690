//! Mode and owner as firstboot last set them, kept beside a managed file's content hash
//! (key `<key> (mode)`, value `0644` or `0644 0:0`), so a `chmod` or `chown` by hand is
//! drift like an edit: `plan` shows it with `!`, `run` stops, `--overwrite` resets it.

/// The state key under which the mode and owner of managed key `key` are kept.
pub fn key(key: &str) -> String {
    format!("{key} (mode)")
}

/// The recorded form of a mode and, when enforced, an owner.
pub fn text(mode: u32, ids: Option<(u32, u32)>) -> String {
    match ids {
        Some((u, g)) => format!("{mode:04o} {u}:{g}"),
        None => format!("{mode:04o}"),
    }
}

fn parse(s: &str) -> Option<(u32, Option<(u32, u32)>)> {
    let (mode, ids) = match s.split_once(' ') {
        Some((m, i)) => (m, Some(i)),
        None => (s, None),
    };
    let mode = u32::from_str_radix(mode, 8).ok()?;
    let ids = match ids {
        Some(i) => {
            let (u, g) = i.split_once(':')?;
            Some((u.parse().ok()?, g.parse().ok()?))
        }
        None => None,
    };
    Some((mode, ids))
}

/// Whether the metadata `now` was changed by hand: it differs from what firstboot set
/// (`ours`, as recorded) and from what it wants. Owners count only when both sides
/// know them.
pub fn edited(ours: &str, now: (u32, Option<(u32, u32)>), want: (u32, Option<(u32, u32)>)) -> bool {
    let Some((our_mode, our_ids)) = parse(ours) else {
        return false;
    };
    let mode_edited = now.0 != our_mode && now.0 != want.0;
    let owner_edited = match (our_ids, now.1) {
        (Some(o), Some(n)) => n != o && Some(n) != want.1,
        _ => false,
    };
    mode_edited || owner_edited
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_changes_are_told_from_ours_and_from_new_wishes() {
        let ours = text(0o644, Some((0, 0)));
        assert_eq!(ours, "0644 0:0");
        // chmod by hand.
        assert!(edited(&ours, (0o600, Some((0, 0))), (0o644, Some((0, 0)))));
        // chown by hand.
        assert!(edited(
            &ours,
            (0o644, Some((1000, 0))),
            (0o644, Some((0, 0)))
        ));
        // The manifest now wants another mode: ours on disk, not an edit.
        assert!(!edited(&ours, (0o644, Some((0, 0))), (0o640, Some((0, 0)))));
        // The manifest now wants another owner: ours on disk, not an edit.
        assert!(!edited(
            &ours,
            (0o644, Some((0, 0))),
            (0o644, Some((1000, 0)))
        ));
        // Already what is wanted.
        assert!(!edited(&ours, (0o640, Some((0, 0))), (0o640, Some((0, 0)))));
        // Owners unknown on one side: the mode alone decides.
        assert!(!edited("0644", (0o644, Some((5, 5))), (0o644, None)));
        assert!(edited("0644", (0o600, None), (0o644, None)));
        assert!(!edited("garbage", (0o600, None), (0o644, None)));
    }
}
