//! Mailbox users of full mode outside config.yaml: the passwd-file Dovecot reads,
//! its parts (the block `firstboot run` renders from `mail.users`, the lines below it
//! that `firstboot mailbox` owns), password hashing and reading a password.

pub mod hash;
pub mod password;
pub mod users;

/// The passwd-file Dovecot authenticates against (0640 root:dovecot).
pub const USERS_FILE: &str = "/etc/dovecot/users";

/// Postfix's map of the virtual mailboxes (`name@domain name`, texthash): mail for a
/// name not listed is refused at RCPT time, never accepted and bounced. It is also the
/// first of `smtpd_sender_login_maps`: its right side is the login that owns the address.
pub const MAP_FILE: &str = "/etc/postfix/vmailbox";

/// The marker of the block `firstboot run` renders from `mail.users`.
pub const CONFIG_MARKER: &str = "firstboot mail.users";
