//! Scripted fakes for the host's seams, so tests drive package, service, account,
//! command, host-name and network steps plan → apply → plan without root: [`host`] makes
//! a [`Host`] that is live (those steps act) while its files go to a temporary root.
//! Each fake records what was asked of it and can be told to fail.

use super::net::{Network, Stream, Transport};
use super::packages::Packages;
use super::runner::{CommandOutput, Exec};
use super::services::{ServiceVerb, Services};
use super::system::Kernel;
use super::{Host, HostError, Root, Runner, Seams};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn injected(what: &str, reason: String) -> HostError {
    HostError::Command {
        cmd: format!("(fake) {what}"),
        reason,
    }
}

/// A command handler: gets argv and stdin, returns what the command would.
pub type Handler = Box<dyn Fn(&[String], Option<&[u8]>) -> CommandOutput + Send + Sync>;

/// Commands answered by handlers registered per program name; an unscripted program
/// exits 127. Every command line run is kept.
#[derive(Default)]
pub struct FakeExec {
    handlers: Mutex<Vec<(String, Arc<Handler>)>>,
    /// Command lines run, in order.
    pub calls: Mutex<Vec<String>>,
}

impl FakeExec {
    /// Answer `program` with `h` (a later registration wins).
    pub fn on(&self, program: &str, h: Handler) {
        lock(&self.handlers).insert(0, (program.to_string(), Arc::new(h)));
    }

    /// The command lines run so far.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.calls).clone()
    }
}

/// The output of a command that exited with `code`.
pub fn exit(code: i32, stdout: &str) -> CommandOutput {
    CommandOutput {
        code: Some(code),
        stdout: stdout.to_string(),
        stderr: if code == 0 {
            String::new()
        } else {
            format!("exit {code}")
        },
    }
}

impl Exec for FakeExec {
    fn exec(
        &self,
        argv: &[String],
        stdin: Option<&[u8]>,
        _env: &[(&str, &str)],
        _timeout: Duration,
    ) -> Result<CommandOutput, String> {
        lock(&self.calls).push(argv.join(" "));
        let h = lock(&self.handlers)
            .iter()
            .find(|(p, _)| argv.first() == Some(p))
            .map(|(_, h)| h.clone());
        Ok(match h {
            Some(h) => h(argv, stdin),
            None => exit(127, ""),
        })
    }
}

/// Installed packages, a set; `install` adds to it unless a failure is injected.
#[derive(Default)]
pub struct FakePackages {
    /// Installed package names.
    pub installed: Mutex<BTreeSet<String>>,
    /// When set, the next installs fail with this reason.
    pub fail: Mutex<Option<String>>,
}

impl Packages for Arc<FakePackages> {
    fn installed(&self, name: &str) -> Result<bool, HostError> {
        Ok(lock(&self.installed).contains(name))
    }
    fn install(&self, names: &[String], _debconf: &[String]) -> Result<(), HostError> {
        if let Some(r) = lock(&self.fail).clone() {
            return Err(injected(&format!("install {}", names.join(" ")), r));
        }
        lock(&self.installed).extend(names.iter().cloned());
        Ok(())
    }
}

/// Running and enabled services; every action is kept as `verb name`.
#[derive(Default)]
pub struct FakeServices {
    /// Running services.
    pub running: Mutex<BTreeSet<String>>,
    /// Services enabled at boot.
    pub enabled: Mutex<BTreeSet<String>>,
    /// Actions taken (`start postfix`, `restart postfix`...).
    pub actions: Mutex<Vec<String>>,
    /// When set, acting on a service (start, reload, restart, enable) fails.
    pub fail: Mutex<Option<String>>,
}

impl Services for Arc<FakeServices> {
    fn is_running(&self, name: &str) -> Result<bool, HostError> {
        Ok(lock(&self.running).contains(name))
    }
    fn act(&self, name: &str, verb: ServiceVerb) -> Result<(), HostError> {
        if let Some(r) = lock(&self.fail).clone() {
            return Err(injected(&format!("{} {name}", verb.as_str()), r));
        }
        lock(&self.actions).push(format!("{} {name}", verb.as_str()));
        match verb {
            ServiceVerb::Stop => lock(&self.running).remove(name),
            _ => lock(&self.running).insert(name.to_string()),
        };
        Ok(())
    }
    fn is_enabled(&self, name: &str) -> Result<bool, HostError> {
        Ok(lock(&self.enabled).contains(name))
    }
    fn enable(&self, name: &str) -> Result<(), HostError> {
        if let Some(r) = lock(&self.fail).clone() {
            return Err(injected(&format!("enable {name}"), r));
        }
        lock(&self.enabled).insert(name.to_string());
        Ok(())
    }
}

/// The host name, in memory.
pub struct FakeKernel {
    /// The current name.
    pub hostname: Mutex<String>,
    /// When set, setting the name fails.
    pub fail: Mutex<Option<String>>,
}

impl Kernel for Arc<FakeKernel> {
    fn hostname(&self) -> Result<String, HostError> {
        Ok(lock(&self.hostname).clone())
    }
    fn set_hostname(&self, name: &str) -> Result<(), HostError> {
        if let Some(r) = lock(&self.fail).clone() {
            return Err(injected(&format!("sethostname {name}"), r));
        }
        *lock(&self.hostname) = name.to_string();
        Ok(())
    }
}

/// A DNS exchange handler: transport, server and query bytes in, answer bytes out.
pub type NetHandler =
    Box<dyn Fn(Transport, SocketAddr, &[u8]) -> std::io::Result<Vec<u8>> + Send + Sync>;

/// A TCP connection handler: the address in, a stream (or the error connecting) out.
pub type TcpHandler = Box<dyn Fn(SocketAddr) -> std::io::Result<Box<dyn Stream>> + Send + Sync>;

/// The network: every exchange and connection goes to a handler (default: connection
/// refused).
#[derive(Default)]
pub struct FakeNetwork {
    /// Answers exchanges.
    pub handler: Mutex<Option<Arc<NetHandler>>>,
    /// Answers TCP connections.
    pub tcp: Mutex<Option<Arc<TcpHandler>>>,
    /// Lines clients wrote to [`ScriptedSmtp`] servers, in order.
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl FakeNetwork {
    /// Answer every TCP connection with a fresh copy of `server`.
    pub fn smtp(&self, server: ScriptedSmtp) {
        let lines = self.lines.clone();
        let h: TcpHandler = Box::new(move |_| {
            let mut s = server.clone();
            s.log = lines.clone();
            s.out = format!("{}\r\n", s.banner).into_bytes().into();
            Ok(Box::new(s) as Box<dyn Stream>)
        });
        *lock(&self.tcp) = Some(Arc::new(h));
    }

    /// The lines clients wrote so far.
    pub fn smtp_lines(&self) -> Vec<String> {
        lock(&self.lines).clone()
    }
}

/// A scripted SMTP server: sends `banner` on connect and answers each line the client
/// writes with `answer(line)` (lines separated by CRLF; empty: silence, a read then
/// times out). It answers QUIT with 221 by itself.
#[derive(Clone)]
pub struct ScriptedSmtp {
    banner: String,
    answer: Arc<dyn Fn(&str) -> String + Send + Sync>,
    pending: Vec<u8>,
    out: std::collections::VecDeque<u8>,
    log: Arc<Mutex<Vec<String>>>,
}

impl ScriptedSmtp {
    /// A server greeting with `banner` and answering with `answer`.
    pub fn new(banner: &str, answer: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        ScriptedSmtp {
            banner: banner.to_string(),
            answer: Arc::new(answer),
            pending: Vec::new(),
            out: Default::default(),
            log: Default::default(),
        }
    }
}

impl std::io::Read for ScriptedSmtp {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.out.is_empty() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        let n = buf.len().min(self.out.len());
        for (i, b) in self.out.drain(..n).enumerate() {
            buf[i] = b;
        }
        Ok(n)
    }
}

impl std::io::Write for ScriptedSmtp {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.pending.drain(..=i).collect();
            let line = String::from_utf8_lossy(&raw).trim_end().to_string();
            lock(&self.log).push(line.clone());
            let reply = if line.eq_ignore_ascii_case("QUIT") {
                "221 bye".to_string()
            } else {
                (self.answer)(&line)
            };
            if !reply.is_empty() {
                self.out.extend(format!("{reply}\r\n").into_bytes());
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Network for Arc<FakeNetwork> {
    fn dns_exchange(
        &self,
        transport: Transport,
        server: SocketAddr,
        msg: &[u8],
        _timeout: Duration,
    ) -> std::io::Result<Vec<u8>> {
        let h = lock(&self.handler).clone();
        match h {
            Some(h) => h(transport, server, msg),
            None => Err(std::io::ErrorKind::ConnectionRefused.into()),
        }
    }

    fn tcp_connect(
        &self,
        addr: SocketAddr,
        _timeout: Duration,
    ) -> std::io::Result<Box<dyn Stream>> {
        let h = lock(&self.tcp).clone();
        match h {
            Some(h) => h(addr),
            None => Err(std::io::ErrorKind::ConnectionRefused.into()),
        }
    }
}

/// Handles on the fakes behind a [`host`], to script and inspect them.
#[derive(Clone)]
pub struct Fakes {
    /// Commands.
    pub exec: Arc<FakeExec>,
    /// Packages.
    pub packages: Arc<FakePackages>,
    /// Services.
    pub services: Arc<FakeServices>,
    /// Host name.
    pub kernel: Arc<FakeKernel>,
    /// Network.
    pub net: Arc<FakeNetwork>,
}

/// A live host made of fakes whose files live under `root` (a temporary directory),
/// with host name `debian`.
pub fn host(root: &std::path::Path) -> (Host, Fakes) {
    let fakes = Fakes {
        exec: Arc::new(FakeExec::default()),
        packages: Arc::new(FakePackages::default()),
        services: Arc::new(FakeServices::default()),
        kernel: Arc::new(FakeKernel {
            hostname: Mutex::new("debian".into()),
            fail: Mutex::new(None),
        }),
        net: Arc::new(FakeNetwork::default()),
    };
    let runner = Runner::with_exec(
        Duration::from_secs(10),
        crate::redact::Redactor::default(),
        fakes.exec.clone(),
    );
    let seams = Seams {
        packages: Box::new(fakes.packages.clone()),
        services: Box::new(fakes.services.clone()),
        kernel: Box::new(fakes.kernel.clone()),
        net: Box::new(fakes.net.clone()),
    };
    (
        Host::with_seams(Root::new(root), runner, seams, true),
        fakes,
    )
}
