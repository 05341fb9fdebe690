//! `mail-auth` behind our own DNS client. Its verifiers are async and resolve through
//! caches given in `Parameters`; [`SeamCache`] answers every cache `get` from a
//! [`Lookup`] (the host's network seam, the server the module uses), so mail-auth's own
//! hickory resolver — built here with no name server at all — is never asked. Its
//! futures then never wait on I/O and [`block_on`] (a thread-parking waker, no runtime)
//! drives them to the end.

use super::lookup::Lookup;
use super::name::DName;
use super::spf_exists::{settle, SpfWho, OVER_LIMIT};
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::spf::Spf;
use mail_auth::{DnssecStatus, MessageAuthenticator, RecordSet, ResolverCache, Txt, MX};
use std::borrow::Borrow;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake};

/// Run a future that never waits on I/O to its end on this thread.
pub fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark()
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// An authenticator whose resolver has no name server: every answer must come from a
/// [`SeamCache`].
pub fn authenticator() -> Result<MessageAuthenticator, String> {
    MessageAuthenticator::new(
        ResolverConfig::from_parts(None, vec![], vec![]),
        ResolverOpts::default(),
    )
    .map_err(|e| format!("mail-auth: {e}"))
}

/// Records what a `Hash` impl writes: for a `str` key, its bytes then `0xff`.
#[derive(Default)]
struct Bytes(Vec<u8>);

impl Hasher for Bytes {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

/// The text of a cache key mail-auth passes as `&Q` (always `str` for names): the
/// bytes its `Hash` writes, less `str`'s terminating `0xff`.
fn key_text<Q: Hash + ?Sized>(q: &Q) -> String {
    let mut h = Bytes::default();
    q.hash(&mut h);
    let mut b = h.0;
    if b.last() == Some(&0xff) {
        b.pop();
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn set<T>(items: Vec<T>) -> RecordSet<T> {
    RecordSet {
        rrset: items.into(),
        dnssec_status: DnssecStatus::Indeterminate,
    }
}

/// mail-auth's caches, answered from a [`Lookup`]. `addresses` are the client
/// addresses being evaluated (PTR keys are matched against them); every failure to ask
/// the server is kept in `errors` (mail-auth sees it as a temporary error). A cache made
/// [`SeamCache::for_spf`] settles each SPF record's `exists:` terms for its evaluation
/// before mail-auth sees the record ([`super::spf_exists`]).
pub struct SeamCache<'l, 'a> {
    look: &'l Lookup<'a>,
    addresses: Vec<IpAddr>,
    who: Option<SpfWho>,
    /// Why the server could not be asked, per question.
    pub errors: Mutex<Vec<String>>,
}

impl<'l, 'a> SeamCache<'l, 'a> {
    /// A cache answering from `look`, for these client addresses.
    pub fn new(look: &'l Lookup<'a>, addresses: Vec<IpAddr>) -> Self {
        SeamCache {
            look,
            addresses,
            who: None,
            errors: Mutex::new(Vec::new()),
        }
    }

    /// A cache answering from `look` for one SPF evaluation, that of `who`.
    pub fn for_spf(look: &'l Lookup<'a>, who: SpfWho) -> Self {
        SeamCache {
            who: Some(who.clone()),
            ..SeamCache::new(look, vec![who.ip])
        }
    }

    /// The SPF record among `txt`, the TXT strings at `key`, with its `exists:` settled
    /// when this cache is for one evaluation.
    fn spf_at(&self, key: &str, txt: &[String]) -> Txt {
        let rec = spf_of(txt);
        let (Some(who), Txt::Spf(spf)) = (&self.who, &rec) else {
            return rec;
        };
        match settle(self.look, who, key, spf) {
            Ok(Some(s)) => Txt::Spf(Arc::new(s)),
            Ok(None) => rec,
            Err(e) => {
                self.failed(e.clone());
                Txt::Error(resolver_error(Some(e)))
            }
        }
    }

    fn name(&self, key: &str) -> Option<DName> {
        DName::parse(key.trim_end_matches('.')).ok()
    }

    /// The TXT strings at a cache key, or why there are none to give: a name that is not
    /// one is `None` (not found); a server not answering is the error, noted in `errors`.
    pub fn txt_strings<Q: Hash + ?Sized>(&self, q: &Q) -> Result<Vec<String>, Option<String>> {
        let Some(name) = self.name(&key_text(q)) else {
            return Err(None);
        };
        self.look.txt(&name).map_err(|e| {
            self.failed(e.clone());
            Some(e)
        })
    }

    fn failed(&self, e: String) {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(e);
    }
}

/// mail-auth's "no such record" error.
pub fn not_found() -> mail_auth::Error {
    mail_auth::Error::Dns(mail_auth::DnsError::RecordNotFound(ResponseCode::NXDomain))
}

/// mail-auth's error for a question not answered (`None`: the name is not a name).
pub fn resolver_error(e: Option<String>) -> mail_auth::Error {
    match e {
        Some(e) => mail_auth::Error::Dns(mail_auth::DnsError::Resolver(e)),
        None => not_found(),
    }
}

/// The SPF record among TXT strings, as mail-auth's own lookup picks it.
pub fn spf_of(txt: &[String]) -> Txt {
    let mut result = Err(not_found());
    for t in txt {
        result = Spf::parse(t.as_bytes());
        if result.is_ok() {
            break;
        }
    }
    match result {
        Ok(s) => Txt::Spf(Arc::new(s)),
        Err(e) => Txt::Error(e),
    }
}

macro_rules! no_cache_writes {
    ($k:ty, $v:ty) => {
        fn remove<Q>(&self, _: &Q) -> Option<$v>
        where
            $k: Borrow<Q>,
            Q: Hash + Eq + ?Sized,
        {
            None
        }
        fn insert(&self, _: $k, _: $v, _: std::time::Instant) {}
    };
}

impl ResolverCache<Box<str>, Txt> for SeamCache<'_, '_> {
    fn get<Q>(&self, q: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let key = key_text(q);
        if key.trim_end_matches('.') == OVER_LIMIT {
            return Some(Txt::Error(mail_auth::Error::ParseError));
        }
        Some(match self.txt_strings(q) {
            Ok(txt) => self.spf_at(&key, &txt),
            Err(e) => Txt::Error(resolver_error(e)),
        })
    }
    no_cache_writes!(Box<str>, Txt);
}

impl ResolverCache<Box<str>, RecordSet<MX>> for SeamCache<'_, '_> {
    fn get<Q>(&self, q: &Q) -> Option<RecordSet<MX>>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.name(&key_text(q)).map(|n| self.look.mx(&n));
        let mut mx = match found {
            Some(Ok(mx)) => mx,
            Some(Err(e)) => {
                self.failed(e);
                Vec::new()
            }
            None => Vec::new(),
        };
        mx.sort_by_key(|(p, _)| *p);
        let mut groups: Vec<MX> = Vec::new();
        for (p, n) in mx {
            let host: Box<str> = n.fqdn().to_ascii_lowercase().into();
            match groups.last_mut() {
                Some(g) if g.preference == p => {
                    let mut v = g.exchanges.to_vec();
                    v.push(host);
                    g.exchanges = v.into();
                }
                _ => groups.push(MX {
                    exchanges: vec![host].into(),
                    preference: p,
                }),
            }
        }
        Some(set(groups))
    }
    no_cache_writes!(Box<str>, RecordSet<MX>);
}

impl SeamCache<'_, '_> {
    fn addrs(&self, key: &str) -> Vec<IpAddr> {
        match self.name(key).map(|n| self.look.addrs(&n)) {
            Some(Ok(a)) => a,
            Some(Err(e)) => {
                self.failed(e);
                Vec::new()
            }
            None => Vec::new(),
        }
    }
}

impl ResolverCache<Box<str>, RecordSet<Ipv4Addr>> for SeamCache<'_, '_> {
    fn get<Q>(&self, q: &Q) -> Option<RecordSet<Ipv4Addr>>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let v4 = self.addrs(&key_text(q)).into_iter();
        Some(set(v4
            .filter_map(|a| match a {
                IpAddr::V4(a) => Some(a),
                IpAddr::V6(_) => None,
            })
            .collect()))
    }
    no_cache_writes!(Box<str>, RecordSet<Ipv4Addr>);
}

impl ResolverCache<Box<str>, RecordSet<Ipv6Addr>> for SeamCache<'_, '_> {
    fn get<Q>(&self, q: &Q) -> Option<RecordSet<Ipv6Addr>>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let v6 = self.addrs(&key_text(q)).into_iter();
        Some(set(v6
            .filter_map(|a| match a {
                IpAddr::V6(a) => Some(a),
                IpAddr::V4(_) => None,
            })
            .collect()))
    }
    no_cache_writes!(Box<str>, RecordSet<Ipv6Addr>);
}

impl ResolverCache<IpAddr, RecordSet<Box<str>>> for SeamCache<'_, '_> {
    fn get<Q>(&self, q: &Q) -> Option<RecordSet<Box<str>>>
    where
        IpAddr: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        // The key is one of the addresses evaluated: found by comparing, as the trait
        // gives no other way to read it.
        let ip = self.addresses.iter().find(|a| (*a).borrow() == q)?;
        let names = match self.look.ptr(*ip) {
            Ok(n) => n,
            Err(e) => {
                self.failed(e);
                Vec::new()
            }
        };
        Some(set(names
            .into_iter()
            .map(|n| n.fqdn().to_ascii_lowercase().into())
            .collect()))
    }
    no_cache_writes!(IpAddr, RecordSet<Box<str>>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_str_key_is_read_back_from_its_hash() {
        let k: Box<str> = "_spf.Example.test.".into();
        assert_eq!(key_text::<str>(k.borrow()), "_spf.Example.test.");
        assert_eq!(key_text::<str>(""), "");
    }

    #[test]
    fn block_on_runs_a_ready_future_and_one_that_wakes_itself() {
        assert_eq!(block_on(async { 7 }), 7);
        let mut polled = false;
        let f = std::future::poll_fn(move |cx| {
            if polled {
                Poll::Ready(1)
            } else {
                polled = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        });
        assert_eq!(block_on(f), 1);
    }
}
