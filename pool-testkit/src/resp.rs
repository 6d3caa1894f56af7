//! A minimal RESP2 client: enough to prepare and check server state in tests without a client
//! library (and so without trusting the client library under test).

use crate::error::{RedisError, RedisErrorKind, err};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// One RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A simple string (`+OK`), without the `+`.
    Simple(String),
    /// An error reply (`-ERR ...`), without the `-`.
    Error(String),
    /// An integer (`:1`).
    Int(i64),
    /// A bulk string; `None` is the nil bulk.
    Bulk(Option<Vec<u8>>),
    /// An array; `None` is the nil array.
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The integer of an [`Reply::Int`], if it is one.
    ///
    /// ```
    /// assert_eq!(pool_testkit::Reply::Int(3).as_int(), Some(3));
    /// assert_eq!(pool_testkit::Reply::Simple("OK".into()).as_int(), None);
    /// ```
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Reply::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The bytes of a non-nil [`Reply::Bulk`] or the text of a [`Reply::Simple`].
    ///
    /// ```
    /// use pool_testkit::Reply;
    /// assert_eq!(Reply::Bulk(Some(b"v".to_vec())).as_bytes(), Some(&b"v"[..]));
    /// assert_eq!(Reply::Bulk(None).as_bytes(), None);
    /// ```
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(Some(b)) => Some(b),
            Reply::Simple(s) => Some(s.as_bytes()),
            _ => None,
        }
    }
}

/// Credentials sent with `AUTH` on every connection the kit opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Auth {
    None,
    Password(String),
    User { user: String, password: String },
}

/// Opens a connection to `127.0.0.1:port`, authenticates, and sends one command.
pub(crate) fn query(port: u16, auth: &Auth, args: &[&[u8]]) -> Result<Reply, RedisError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(&stream);
    match auth {
        Auth::None => {}
        Auth::Password(p) => expect_ok(send(&stream, &mut reader, &[b"AUTH", p.as_bytes()])?)?,
        Auth::User { user, password } => expect_ok(send(
            &stream,
            &mut reader,
            &[b"AUTH", user.as_bytes(), password.as_bytes()],
        )?)?,
    }
    send(&stream, &mut reader, args)
}

fn expect_ok(reply: Reply) -> Result<(), RedisError> {
    match reply {
        Reply::Error(e) => Err(err(RedisErrorKind::Server(e))),
        _ => Ok(()),
    }
}

fn send(
    mut stream: &TcpStream,
    reader: &mut BufReader<&TcpStream>,
    args: &[&[u8]],
) -> Result<Reply, RedisError> {
    let mut request = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        request.extend_from_slice(arg);
        request.extend_from_slice(b"\r\n");
    }
    stream.write_all(&request)?;
    read_reply(reader, 0)
}

fn invalid(what: impl Into<String>) -> RedisError {
    io::Error::new(io::ErrorKind::InvalidData, what.into()).into()
}

fn read_reply(reader: &mut impl BufRead, depth: usize) -> Result<Reply, RedisError> {
    if depth > 32 {
        return Err(invalid("reply nested deeper than 32 levels"));
    }
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line)? == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed").into());
    }
    let text = String::from_utf8_lossy(&line).trim_end().to_owned();
    let (tag, rest) = text.split_at(text.len().min(1));
    let number = || rest.parse::<i64>().map_err(|_| invalid(text.clone()));
    match tag {
        "+" => Ok(Reply::Simple(rest.to_owned())),
        "-" => Ok(Reply::Error(rest.to_owned())),
        ":" => Ok(Reply::Int(number()?)),
        "$" => {
            let len = number()?;
            if len < 0 {
                return Ok(Reply::Bulk(None));
            }
            let len = usize::try_from(len).map_err(|_| invalid(text.clone()))?;
            let mut body = vec![0; len + 2];
            reader.read_exact(&mut body)?;
            body.truncate(len);
            Ok(Reply::Bulk(Some(body)))
        }
        "*" => {
            let len = number()?;
            if len < 0 {
                return Ok(Reply::Array(None));
            }
            let len = usize::try_from(len).map_err(|_| invalid(text.clone()))?;
            let mut items = Vec::with_capacity(len.min(1024));
            for _ in 0..len {
                items.push(read_reply(reader, depth + 1)?);
            }
            Ok(Reply::Array(Some(items)))
        }
        _ => Err(invalid(text)),
    }
}

/// The legacy one-line rendering of a reply used by `RedisFleet::command`.
pub(crate) fn render(reply: &Reply) -> String {
    match reply {
        Reply::Simple(s) => format!("+{s}"),
        Reply::Error(e) => format!("-{e}"),
        Reply::Int(n) => format!(":{n}"),
        Reply::Bulk(None) | Reply::Array(None) => "(nil)".to_owned(),
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        Reply::Array(Some(items)) => format!("*{}", items.len()),
    }
}
