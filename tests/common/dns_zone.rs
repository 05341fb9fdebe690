//! A DNS server for the fake network (`firstboot::host::fake::FakeNetwork`): answers
//! queries from an in-memory zone, refuses updates.

use firstboot::dns::wire::{to_name, to_rdata, to_type};
use firstboot::dns::{DName, Data, RType};
use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::Record;
use std::sync::{Arc, Mutex};

/// A zone answered by the fake network: (name, type, value) with TTL 3600.
pub type Zone = Arc<Mutex<Vec<(&'static str, RType, &'static str)>>>;

/// Answer queries from `zone` (authoritative, TTL 3600; NXDOMAIN for an unknown name)
/// and refuse updates (NOTAUTH, unsigned); every exchange is noted in `asked`.
pub fn serve(zone: Zone, asked: Arc<Mutex<Vec<String>>>) -> firstboot::host::fake::NetHandler {
    Box::new(move |transport, server, bytes| {
        let q = Message::from_vec(bytes).map_err(std::io::Error::other)?;
        let query = q.queries[0].clone();
        if q.metadata.op_code == OpCode::Update {
            asked
                .lock()
                .unwrap()
                .push(format!("{transport:?} {server} UPDATE {}", query.name()));
            let mut r = Message::response(q.metadata.id, OpCode::Update);
            r.metadata.response_code = ResponseCode::NotAuth;
            return r.to_vec().map_err(std::io::Error::other);
        }
        asked.lock().unwrap().push(format!(
            "{transport:?} {server} {} {}",
            query.query_type(),
            query.name()
        ));
        let mut r = Message::response(q.metadata.id, OpCode::Query);
        r.add_query(query.clone());
        r.metadata.authoritative = true;
        let mut known = false;
        for (name, rtype, value) in zone.lock().unwrap().iter() {
            let n = to_name(&DName::parse(name).unwrap()).unwrap();
            if n != *query.name() {
                continue;
            }
            known = true;
            if to_type(*rtype) == query.query_type() {
                let data = to_rdata(&Data::parse(*rtype, value).unwrap()).unwrap();
                r.add_answer(Record::from_rdata(n, 3600, data));
            }
        }
        if !known {
            r.metadata.response_code = ResponseCode::NXDomain;
        }
        r.to_vec().map_err(std::io::Error::other)
    })
}
