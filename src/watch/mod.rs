//! `firstboot watch`: what happened on the mail host since the last look, as one digest
//! for admin_email: fail2ban bans, SMTP and IMAP/POP3 authentication failures, Postfix
//! warnings and deferred mail. Log files are read from where the last run stopped
//! ([`tail`]), lines are classified ([`events`]) and summed up ([`digest`]).

pub mod digest;
pub mod events;
pub mod tail;
