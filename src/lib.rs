//! firstboot: a first-boot module engine that turns a fresh Linux VM into a mail host.
//!
//! The crate is organised in the order a run flows through it: the [`catalog`] of modules
//! and profiles, typed [`inputs`] resolved against host [`facts`], the [`steps`] each
//! module declares (each with plan and apply), the [`host`] boundary every change goes
//! through, and the [`engine`] that orders modules, backs up, checks and rolls back.

pub mod acme;
pub mod backup;
pub mod catalog;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod diag;
pub mod digest;
pub mod dns;
pub mod embedded;
pub mod engine;
pub mod error;
pub mod facts;
pub mod hold_rule;
pub mod host;
pub mod inputs;
pub mod instance_data;
pub mod journal;
pub mod lock;
pub mod logging;
pub mod mailbox;
pub mod manifest;
pub mod overrides;
pub mod paths;
pub mod postfix_fact;
pub mod preflight;
pub mod profile;
pub mod redact;
pub mod refs;
pub mod render;
pub mod report;
pub mod sshd_fact;
pub mod stamp;
pub mod state;
pub mod steps;
pub mod timefmt;
pub mod tls;
pub mod tvars;
pub mod watch;
pub mod yaml;
pub mod yamllines;

pub use error::{Error, Result};
