//! Mailbox users of full mode outside config.yaml: the passwd-file Dovecot reads,
//! its parts (the block `firstboot run` renders from `mail.users`, the lines below it
//! that `firstboot mailbox` owns), password hashing and reading a password.

pub mod hash;
pub mod password;
pub mod users;

/// The passwd-file Dovecot authenticates against (0640 root:dovecot).
pub const USERS_FILE: &str = "/etc/dovecot/users";

/// The marker of the block `firstboot run` renders from `mail.users`.
pub const CONFIG_MARKER: &str = "firstboot mail.users";
