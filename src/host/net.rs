//! The network behind the [`Network`] trait: one DNS exchange over UDP or TCP, and a
//! TCP conversation ([`Stream`], an SMTP session) with a time limit on every operation
//! ([`LiveNetwork`] opens the sockets; tests answer from scripted fakes, `host::fake`).
//! Message encoding, retries and truncation handling stay in `src/dns/wire.rs`; the SMTP
//! dialogue in `src/checks/smtp_client.rs`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

/// How a DNS message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// One datagram each way.
    Udp,
    /// A TCP connection, each message prefixed by its two-byte length.
    Tcp,
}

/// Sends DNS messages.
pub trait Network: Send + Sync {
    /// Send `msg` (wire bytes) to `server` and return the bytes of one answer, waiting at
    /// most `timeout` for each operation.
    fn dns_exchange(
        &self,
        transport: Transport,
        server: SocketAddr,
        msg: &[u8],
        timeout: Duration,
    ) -> std::io::Result<Vec<u8>>;

    /// Open a TCP connection to `addr`: connecting, and each read and write after it,
    /// wait at most `timeout`.
    fn tcp_connect(&self, addr: SocketAddr, timeout: Duration) -> std::io::Result<Box<dyn Stream>>;
}

/// A byte stream to a server (a TCP connection, or a scripted fake).
pub trait Stream: Read + Write + Send {}

impl<T: Read + Write + Send> Stream for T {}

/// Real sockets.
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveNetwork;

impl Network for LiveNetwork {
    fn dns_exchange(
        &self,
        transport: Transport,
        server: SocketAddr,
        msg: &[u8],
        timeout: Duration,
    ) -> std::io::Result<Vec<u8>> {
        match transport {
            Transport::Udp => {
                let bind = if server.is_ipv4() {
                    SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))
                } else {
                    SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))
                };
                let sock = UdpSocket::bind(bind)?;
                sock.connect(server)?;
                sock.set_read_timeout(Some(timeout))?;
                sock.send(msg)?;
                let mut buf = vec![0u8; 65535];
                let n = sock.recv(&mut buf)?;
                buf.truncate(n);
                Ok(buf)
            }
            Transport::Tcp => {
                let mut s = TcpStream::connect_timeout(&server, timeout)?;
                s.set_read_timeout(Some(timeout))?;
                s.set_write_timeout(Some(timeout))?;
                let len = u16::try_from(msg.len())
                    .map_err(|_| std::io::Error::other("message longer than 65535 bytes"))?;
                let mut framed = len.to_be_bytes().to_vec();
                framed.extend_from_slice(msg);
                s.write_all(&framed)?;
                let mut lenb = [0u8; 2];
                s.read_exact(&mut lenb)?;
                let mut answer = vec![0u8; u16::from_be_bytes(lenb) as usize];
                s.read_exact(&mut answer)?;
                Ok(answer)
            }
        }
    }

    fn tcp_connect(&self, addr: SocketAddr, timeout: Duration) -> std::io::Result<Box<dyn Stream>> {
        let s = TcpStream::connect_timeout(&addr, timeout)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        Ok(Box::new(s))
    }
}
