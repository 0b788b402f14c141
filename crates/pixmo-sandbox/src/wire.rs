//! The bytes between parent and worker: one request in, one reply out.
//!
//! Request: `PXSB` 1, then `memory_bytes`, `cpu_seconds`, `open_files` (u64 LE each), the
//! job name (u32 LE length + UTF-8) and the input (u64 LE length + bytes).
//! Reply: `PXSR` 1, a status byte (0 ok, 1 rejected, 2 panicked) and the body (u64 LE length
//! + bytes: the result, or the message).

use std::io::{self, Read, Write};

use crate::limits::Limits;

const REQUEST_MAGIC: &[u8; 5] = b"PXSB\x01";
const REPLY_MAGIC: &[u8; 5] = b"PXSR\x01";

/// Longest job name.
const MAX_JOB_NAME: u32 = 256;
/// Longest input a worker reads.
pub(crate) const MAX_INPUT: u64 = 256 << 20;

/// A request as the worker reads it.
pub(crate) struct Request {
    pub(crate) limits: Limits,
    pub(crate) job: String,
    pub(crate) input: Vec<u8>,
}

/// Reply status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Ok = 0,
    Rejected = 1,
    Panicked = 2,
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

fn read_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn read_exactly(r: &mut impl Read, len: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    r.take(len).read_to_end(&mut out)?;
    if out.len() as u64 != len {
        return Err(bad("truncated message"));
    }
    Ok(out)
}

pub(crate) fn write_request(
    w: &mut impl Write,
    limits: &Limits,
    job: &str,
    input: &[u8],
) -> io::Result<()> {
    let mut head = Vec::with_capacity(64 + job.len());
    head.extend_from_slice(REQUEST_MAGIC);
    for v in [limits.memory_bytes, limits.cpu_seconds, limits.open_files] {
        head.extend_from_slice(&v.to_le_bytes());
    }
    let name_len = u32::try_from(job.len()).map_err(|_| bad("job name too long"))?;
    head.extend_from_slice(&name_len.to_le_bytes());
    head.extend_from_slice(job.as_bytes());
    head.extend_from_slice(&(input.len() as u64).to_le_bytes());
    w.write_all(&head)?;
    w.write_all(input)?;
    w.flush()
}

pub(crate) fn read_request(r: &mut impl Read) -> io::Result<Request> {
    let mut magic = [0u8; 5];
    r.read_exact(&mut magic)?;
    if &magic != REQUEST_MAGIC {
        return Err(bad("not a pixmo sandbox request"));
    }
    let memory_bytes = read_u64(r)?;
    let cpu_seconds = read_u64(r)?;
    let open_files = read_u64(r)?;
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    let name_len = u32::from_le_bytes(b);
    if name_len > MAX_JOB_NAME {
        return Err(bad("job name too long"));
    }
    let job = String::from_utf8(read_exactly(r, u64::from(name_len))?)
        .map_err(|_| bad("job name is not UTF-8"))?;
    let input_len = read_u64(r)?;
    if input_len > MAX_INPUT {
        return Err(bad("input too large"));
    }
    let input = read_exactly(r, input_len)?;
    Ok(Request {
        limits: Limits {
            memory_bytes,
            cpu_seconds,
            open_files,
            ..Limits::default()
        },
        job,
        input,
    })
}

pub(crate) fn write_reply(w: &mut impl Write, status: Status, body: &[u8]) -> io::Result<()> {
    let mut head = Vec::with_capacity(14);
    head.extend_from_slice(REPLY_MAGIC);
    head.push(status as u8);
    head.extend_from_slice(&(body.len() as u64).to_le_bytes());
    w.write_all(&head)?;
    w.write_all(body)?;
    w.flush()
}

/// Parses a whole reply as the parent read it.
pub(crate) fn parse_reply(bytes: &[u8]) -> Result<(Status, &[u8]), String> {
    if bytes.len() < 14 || &bytes[..5] != REPLY_MAGIC {
        return Err(format!(
            "the worker's reply is malformed ({} bytes)",
            bytes.len()
        ));
    }
    let status = match bytes[5] {
        0 => Status::Ok,
        1 => Status::Rejected,
        2 => Status::Panicked,
        other => return Err(format!("the worker's reply has unknown status {other}")),
    };
    let len = u64::from_le_bytes(bytes[6..14].try_into().unwrap_or([0; 8]));
    let body = &bytes[14..];
    if body.len() as u64 != len {
        return Err(format!(
            "the worker's reply is truncated ({} of {len} bytes)",
            body.len()
        ));
    }
    Ok((status, body))
}

/// Packs a small header (JSON, say) and a blob (pixels, say) into one reply body.
#[must_use]
pub fn pack(header: &[u8], blob: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + header.len() + blob.len());
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(blob);
    out
}

/// Splits what [`pack`] made.
///
/// # Errors
/// A message when `bytes` is not a packed body.
pub fn unpack(bytes: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let len = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or("packed body too short")?;
    let rest = &bytes[8..];
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= rest.len())
        .ok_or("packed header length out of range")?;
    Ok(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_reject_garbage() {
        let limits = Limits::default();
        let mut buf = Vec::new();
        write_request(&mut buf, &limits, "docs.svg", b"<svg/>").unwrap();
        let r = read_request(&mut buf.as_slice()).unwrap();
        assert_eq!(r.job, "docs.svg");
        assert_eq!(r.input, b"<svg/>");
        assert_eq!(r.limits.memory_bytes, limits.memory_bytes);
        assert!(read_request(&mut &buf[..buf.len() - 1]).is_err());
        assert!(read_request(&mut &b"PXSB\x02"[..]).is_err());
    }

    #[test]
    fn replies_are_checked() {
        let mut buf = Vec::new();
        write_reply(&mut buf, Status::Rejected, b"no").unwrap();
        assert_eq!(parse_reply(&buf).unwrap(), (Status::Rejected, &b"no"[..]));
        assert!(parse_reply(&buf[..buf.len() - 1]).is_err());
        assert!(parse_reply(b"hello").is_err());
        let packed = pack(b"{}", b"pixels");
        assert_eq!(unpack(&packed).unwrap(), (&b"{}"[..], &b"pixels"[..]));
        assert!(unpack(&packed[..4]).is_err());
        assert!(unpack(&[255, 0, 0, 0, 0, 0, 0, 0, 1]).is_err());
    }
}
