//! The command line (clap). Parsing only: `commands/` turns it into engine calls.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// firstboot turns a fresh Linux VM into a working, trusted mail host on its first boot.
///
/// It runs numbered modules (7-ssl_config, 8-dns_config, 9-mail_config, 10-monitoring)
/// chosen by a profile, backs up every file it touches under /var/log/firstboot/backups,
/// checks its own work and rolls a module back when a check fails.
///
/// Exit status: 0 success; 1 a module failed (and was rolled back) or a check failed;
/// 2 usage or input error (nothing on the host changed); 3 another firstboot is running
/// on the same tree (nothing changed; try again when it has finished).
///
/// --profile: run, plan, validate and records all need a profile; without --profile they
/// use `profile:` from the config file, else the profile of the last run on this tree,
/// and refuse when there is none.
#[derive(Debug, Parser)]
#[command(
    name = "firstboot",
    version,
    propagate_version = true,
    after_help = "Examples:\n  \
    firstboot list                                   inputs, modules, profiles\n  \
    firstboot plan --profile standard                what would change (diffs)\n  \
    firstboot run --profile advanced                 provision (as root)\n  \
    firstboot validate mail                          check a module now\n  \
    firstboot records --diff                         DNS records to publish, against the name server\n  \
    firstboot rollback dns                           undo a module's last run\n  \
    firstboot --root /mnt/img run --profile standard  apply to an offline image tree\n\n\
    Config: /etc/firstboot/config.yaml (see `firstboot list`). Logs and backups: /var/log/firstboot."
)]
pub struct Cli {
    /// Manage this tree instead of the running system (image builds): files are
    /// written under DIR; packages, services and commands are shown, not run.
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Add or override modules from DIR (NN-name/module.yaml + templates/); repeatable.
    #[arg(long = "modules-dir", global = true, value_name = "DIR")]
    pub modules_dirs: Vec<PathBuf>,
    /// Log lines on stderr too (-v info, -vv debug); progress stays on stdout.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress lines on stdout; only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Which modules and inputs.
#[derive(Debug, Clone, Args)]
pub struct Selection {
    /// Profile: standard (ssl, dns, mail in local mode) or advanced (all four, full mail)
    /// [default: `profile:` in the config, else the last run's; required when neither].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Config file [default: /etc/firstboot/config.yaml inside --root].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only this module (full id like 9-mail_config or short name like mail); repeatable.
    #[arg(long, value_name = "MODULE")]
    pub only: Vec<String>,
    /// Seconds before an external command is killed.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the profile's modules in order (modules done on this instance are skipped).
    ///
    /// Example: firstboot run --profile advanced
    Run {
        #[command(flatten)]
        sel: Selection,
        /// Re-run modules already done on this instance (and ignore the stamp of
        /// --once-per-instance).
        #[arg(long)]
        force: bool,
        /// Replace managed files edited by hand since firstboot wrote them (the edited
        /// copy is kept in the backup).
        #[arg(long)]
        overwrite: bool,
        /// Do nothing, before reading the config, when a complete run of a whole profile
        /// already succeeded on this instance (/var/lib/firstboot/instance.json names its
        /// id): the systemd unit's way to run once per instance.
        #[arg(long, conflicts_with = "only")]
        once_per_instance: bool,
    },
    /// Show what `run` would change, as unified diffs; changes nothing.
    ///
    /// Example: firstboot plan --profile standard --config ./config.yaml
    Plan {
        #[command(flatten)]
        sel: Selection,
        /// Plan modules already done on this instance as if --force were given.
        #[arg(long)]
        force: bool,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Run modules' checks against the host as it is now (default: the profile's modules).
    ///
    /// Each check has a stable id (`dns.spf`, `postfix.config`...) and ends pass, warn,
    /// pending (a DNS record not visible yet), fail or skipped (with why). Checks run
    /// concurrently. Exit 0 when nothing failed, 1 when a check failed.
    ///
    /// Examples: firstboot validate 9-mail_config
    ///           firstboot validate --wait 10m   (until new DNS records are visible)
    ///           firstboot validate --textfile /var/lib/prometheus/node-exporter
    Validate {
        /// Modules to check (id or short name).
        modules: Vec<String>,
        #[command(flatten)]
        sel: Selection,
        /// Print one JSON document (format in docs/guide.md, "validate --json").
        #[arg(long)]
        json: bool,
        /// Re-check pending checks until they settle or this much time passed (`90s`, `10m`).
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        wait: Option<std::time::Duration>,
        /// Also write the results as DIR/firstboot.prom in Prometheus' text format, for
        /// node_exporter's textfile collector.
        #[arg(long, value_name = "DIR")]
        textfile: Option<std::path::PathBuf>,
    },
    /// Mail admin_email a digest of what happened since the last `watch`: fail2ban bans,
    /// SMTP and IMAP/POP3 authentication failures, Postfix warnings and deferred mail,
    /// read from the mail and fail2ban logs. Each line is reported once (positions are
    /// kept in /var/lib/firstboot/watch.json, log rotation is followed); an empty
    /// period sends nothing. It also runs the profile's checks: a check that starts
    /// failing is alerted once, its recovery once. 10-monitoring runs it every 15
    /// minutes from cron.
    ///
    /// Example: firstboot watch --print
    Watch {
        #[command(flatten)]
        sel: Selection,
        /// Print the digest instead of mailing it (positions move on all the same).
        #[arg(long)]
        print: bool,
    },
    /// The DNS records the modules need: what to publish, what is pending, and what you
    /// must add at your DNS provider (PTR). Changes nothing.
    ///
    /// Example: firstboot records --diff --server 192.0.2.53
    Records {
        #[command(flatten)]
        sel: Selection,
        /// Print one JSON document.
        #[arg(long, conflicts_with = "zone")]
        json: bool,
        /// Print a zone-file fragment (provider records commented out).
        #[arg(long)]
        zone: bool,
        /// Compare with what a server answers now: ok, missing or different per record set.
        #[arg(long, conflicts_with = "zone")]
        diff: bool,
        /// Server for --diff [default: dns.publish.server, else the domain's first name server].
        #[arg(long, value_name = "IP", requires = "diff")]
        server: Option<std::net::IpAddr>,
    },
    /// Restore what a module's last run (or run RUN_ID) changed.
    ///
    /// Example: firstboot rollback dns
    Rollback {
        /// Module (id or short name).
        module: String,
        /// Run id (see `firstboot status`); default: the latest run with a backup.
        #[arg(long = "run", value_name = "RUN_ID")]
        run_id: Option<String>,
        /// Roll back even if files were edited since that run (those edits are lost).
        #[arg(long)]
        force: bool,
    },
    /// List modules in order, their inputs, and the profiles.
    List {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Last run of each module: result, run id, instance.
    Status {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Add, remove, re-password or list the IMAP/POP3 mailboxes of full mode.
    ///
    /// Mailboxes live in Dovecot's passwd-file /etc/dovecot/users (hashes only). Those
    /// declared in config.yaml (mail.users) are written there by `firstboot run` and are
    /// changed in config.yaml; those made here are kept below them and a later run leaves
    /// them alone. Every change is backed up like a module's: `firstboot rollback mail`
    /// undoes the last one. The password is read from the terminal without echo (asked
    /// twice) or, with --password-stdin, as one line of standard input; it is hashed here
    /// (ARGON2ID) and never shown or logged. Removing a mailbox keeps its mail under
    /// /var/vmail.
    #[command(after_help = "Examples:\n  \
    firstboot mailbox add alice                      asks for alice's password twice\n  \
    printf '%s\\n' \"$PW\" | firstboot mailbox passwd alice --password-stdin\n  \
    firstboot mailbox remove alice                   she can no longer log in\n  \
    firstboot mailbox list                           every mailbox and where it is declared\n\n\
    Exit status: 0 done; 2 bad name, unknown or duplicate mailbox, mailbox from config.yaml,\n\
    no users file (run full mode first) or a refused password: nothing changed.")]
    Mailbox {
        /// What to do.
        #[command(subcommand)]
        action: MailboxAction,
    },
    /// Rotate the DKIM key in stages, one stage per call; `status` says where it stands.
    ///
    /// `rotate` first makes a new selector's key and publishes its record beside the
    /// signing one; called again once that record resolves, it moves signing to the new
    /// selector and keeps the old record published; called again after
    /// mail.dkim.retire_after (default 7 days), it withdraws the old record. Each stage
    /// runs 9-mail_config again (backed up, checked, rolled back on failure), and a stage
    /// that cannot proceed yet says why and changes nothing.
    #[command(after_help = "Examples:\n  \
    firstboot dkim rotate                       start (new selector s<YYYYMMDD>) or continue\n  \
    firstboot dkim rotate --selector mail2027   start with a chosen selector\n  \
    firstboot dkim status                       signing selector and the rotation's stage")]
    Dkim {
        /// What to do.
        #[command(subcommand)]
        action: DkimAction,
    },
    /// What no configuration can fix, found before anything is installed (also the start
    /// of every `run`, as warnings that never stop it).
    ///
    /// Outbound TCP port 25 (an SMTP greeting from smtp_probe: a domain's MX, HOST:PORT or
    /// an address; default gmail.com), a PTR naming `hostname` for each public address,
    /// ports 25 and 80 free or held by Postfix, `hostname` resolving to `ipv4`/`ipv6`,
    /// 1024 MiB free on / and /var, and with ssl.provider acme whether certbot can get a
    /// certificate (the name resolves here, port 80 is free). Each warning says what to
    /// ask your provider (or DNS host) for. Reads the config; changes nothing. Without
    /// --profile, `profile:` or a last run, the standard profile's inputs are read.
    ///
    /// Ids: preflight.outbound_25, preflight.ptr_ipv4, preflight.ptr_ipv6,
    /// preflight.port_25, preflight.port_80, preflight.fqdn, preflight.disk_root,
    /// preflight.disk_var, preflight.acme (docs/guide.md).
    #[command(after_help = "Examples:\n  \
    firstboot preflight                                 with /etc/firstboot/config.yaml\n  \
    firstboot preflight --probe-target mx.example.net:25  try port 25 against that server\n  \
    firstboot preflight --json                          one JSON document\n\n\
    Exit status: 0 nothing to warn about; 1 something warns; 2 bad config.")]
    Preflight {
        #[command(flatten)]
        sel: Selection,
        /// Where to try outbound port 25 [default: smtp_probe in the config, else gmail.com].
        #[arg(long, value_name = "HOST[:PORT]")]
        probe_target: Option<String>,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// The ACME certificate of provider acme: issue it once the CA can reach this host,
    /// renew it before it runs out, and say where it stands.
    ///
    /// On a first boot the host name often does not resolve to the host yet (8-dns_config
    /// publishes it later in the same run), so 7-ssl_config serves a self-signed stand-in
    /// made with the key firstboot keeps, and cron runs `firstboot acme renew` every 5
    /// minutes (/etc/cron.d/firstboot-acme). It asks the CA only when something is due: no
    /// certificate from the CA yet, or fewer than 30 days left. After a failure it waits 5
    /// minutes, doubling up to 6 hours (kept in /var/lib/firstboot/acme.json), so a CA is
    /// never hammered. The key never changes, so a TLSA `3 1 1` record stays valid.
    #[command(after_help = "Examples:\n  \
    firstboot acme status              certificate, failures, last error, next try\n  \
    firstboot acme renew               what cron runs: ask the CA only when due\n  \
    firstboot acme renew --now         ask now, ignoring the backoff (after fixing DNS)\n  \
    firstboot acme renew --force       a new certificate even if the current one is good\n\n\
    Exit status: 0 installed, not due, waiting, or nothing to renew (the config asks for no\n\
    ACME certificate); 1 the CA was asked and did not issue; 2 no key yet, --only given, or\n\
    (status) the provider is not acme; 3 another firstboot is running.")]
    Acme {
        /// What to do.
        #[command(subcommand)]
        action: AcmeAction,
    },
    /// Print shell completions for SHELL on stdout (packages install them).
    ///
    /// Example: firstboot completions bash > /usr/share/bash-completion/completions/firstboot
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page, firstboot(8), as roff on stdout (packages install it).
    ///
    /// Example: firstboot man > /usr/share/man/man8/firstboot.8
    Man,
}

/// `firstboot mailbox` actions.
#[derive(Debug, Subcommand)]
pub enum MailboxAction {
    /// Make a mailbox NAME@<domain> with a new password.
    Add {
        /// Local part: lower-case letters, digits, '.', '_', '-'.
        name: String,
        /// Read the password as one line of standard input instead of the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Give a mailbox made with `mailbox add` a new password.
    Passwd {
        /// Mailbox name.
        name: String,
        /// Read the password as one line of standard input instead of the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a mailbox made with `mailbox add` (its mail stays under /var/vmail).
    Remove {
        /// Mailbox name.
        name: String,
    },
    /// List mailboxes and where each is declared (config.yaml or `mailbox add`).
    List,
}

/// `firstboot dkim` actions.
#[derive(Debug, Subcommand)]
pub enum DkimAction {
    /// Start a rotation, or take its next stage.
    Rotate {
        /// The new selector when starting [default: s<YYYYMMDD>].
        #[arg(long, value_name = "NAME")]
        selector: Option<String>,
        #[command(flatten)]
        sel: Selection,
    },
    /// The signing selector and where a rotation stands.
    Status {
        #[command(flatten)]
        sel: Selection,
    },
}

/// `firstboot acme` actions.
#[derive(Debug, Subcommand)]
pub enum AcmeAction {
    /// Ask the CA when due (no CA certificate yet, or fewer than 30 days left) and the
    /// backoff allows; install what it issues and reload postfix and dovecot.
    Renew {
        #[command(flatten)]
        sel: Selection,
        /// Ask now even if the backoff says later.
        #[arg(long)]
        now: bool,
        /// Ask for a new certificate even if the current one is good (implies --now).
        #[arg(long)]
        force: bool,
    },
    /// The certificate served, the failures so far, the last error and the next try.
    Status {
        #[command(flatten)]
        sel: Selection,
    },
}
