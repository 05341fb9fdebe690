//! A memoising resolver over one server, for the checks of a mail host's DNS: each
//! (name, type) is asked once per check run, and a batch of questions is asked
//! concurrently (one thread each), so a check that needs many answers waits about one
//! round trip per level of dependency instead of one per question.

use super::decl::RType;
use super::name::DName;
use super::query::{query, Answer};
use super::record::Data;
use super::wire::Client;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// One answer, or why there is none (the server could not be asked).
pub type Got = Result<Answer, String>;

/// Answers with records, shared by the lookups of one pass of checks: a question several
/// checks ask (the DKIM key, SPF, DMARC) goes out once, and a check that asks late (the
/// loopback probe, after its message is signed) finds the answer there. Empty answers
/// and errors are not shared: whoever asks again asks the server (a record that may
/// appear, a server that may answer).
#[derive(Clone, Default)]
pub struct Shared(Arc<Mutex<SharedMap>>);

/// Answers by server, name and type.
type SharedMap = HashMap<(IpAddr, String, RType), Answer>;

impl Shared {
    fn map(&self) -> std::sync::MutexGuard<'_, SharedMap> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Asks one server through the host's network, remembering every answer.
pub struct Lookup<'a> {
    client: Client<'a>,
    /// The server asked.
    pub server: IpAddr,
    memo: Mutex<HashMap<(String, RType), Got>>,
    shared: Option<Shared>,
}

impl<'a> Lookup<'a> {
    /// A resolver asking `server`.
    pub fn new(client: Client<'a>, server: IpAddr) -> Self {
        Lookup {
            client,
            server,
            memo: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// The same, taking and leaving answers with records in `shared`.
    pub fn sharing(mut self, shared: &Shared) -> Self {
        self.shared = Some(shared.clone());
        self
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, HashMap<(String, RType), Got>> {
        self.memo.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The records of `name` and `rtype` (asked once).
    pub fn get(&self, name: &DName, rtype: RType) -> Got {
        let key = (name.fqdn(), rtype);
        if let Some(g) = self.memo().get(&key) {
            return g.clone();
        }
        let wide = (self.server, key.0.clone(), rtype);
        let known = self
            .shared
            .as_ref()
            .and_then(|s| s.map().get(&wide).cloned());
        let got = match known {
            Some(a) => Ok(a),
            None => query(self.client, self.server, name, rtype).map_err(|e| e.to_string()),
        };
        if let (Some(s), Ok(a)) = (&self.shared, &got) {
            if !a.records.is_empty() {
                s.map().insert(wide, a.clone());
            }
        }
        self.memo().insert(key, got.clone());
        got
    }

    /// Ask all of `questions` at once (answers are remembered for [`Lookup::get`]).
    pub fn prefetch(&self, questions: &[(DName, RType)]) {
        let todo: Vec<&(DName, RType)> = {
            let memo = self.memo();
            questions
                .iter()
                .filter(|(n, t)| !memo.contains_key(&(n.fqdn(), *t)))
                .collect()
        };
        match todo.len() {
            0 => {}
            1 => {
                let _ = self.get(&todo[0].0, todo[0].1);
            }
            _ => std::thread::scope(|s| {
                for (n, t) in todo {
                    s.spawn(move || self.get(n, *t));
                }
            }),
        }
    }

    /// The TXT strings at `name` (empty when there are none).
    pub fn txt(&self, name: &DName) -> Result<Vec<String>, String> {
        Ok(self
            .get(name, RType::Txt)?
            .records
            .into_iter()
            .filter_map(|(_, d)| match d {
                Data::Txt(t) => Some(t),
                _ => None,
            })
            .collect())
    }

    /// The A and AAAA addresses of `name` (asked together).
    pub fn addrs(&self, name: &DName) -> Result<Vec<IpAddr>, String> {
        self.prefetch(&[(name.clone(), RType::A), (name.clone(), RType::Aaaa)]);
        let mut out = Vec::new();
        for t in [RType::A, RType::Aaaa] {
            for (_, d) in self.get(name, t)?.records {
                match d {
                    Data::A(a) => out.push(IpAddr::V4(a)),
                    Data::Aaaa(a) => out.push(IpAddr::V6(a)),
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    /// The names the PTR records of `ip` point to.
    pub fn ptr(&self, ip: IpAddr) -> Result<Vec<DName>, String> {
        Ok(self
            .get(&DName::reverse(ip), RType::Ptr)?
            .records
            .into_iter()
            .filter_map(|(_, d)| match d {
                Data::Ptr(n) => Some(n),
                _ => None,
            })
            .collect())
    }

    /// The exchanges of `name`'s MX records, with their preferences.
    pub fn mx(&self, name: &DName) -> Result<Vec<(u16, DName)>, String> {
        Ok(self
            .get(name, RType::Mx)?
            .records
            .into_iter()
            .filter_map(|(_, d)| match d {
                Data::Mx {
                    preference,
                    exchange,
                } => Some((preference, exchange)),
                _ => None,
            })
            .collect())
    }
}
