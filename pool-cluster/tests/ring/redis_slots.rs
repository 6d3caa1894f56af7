//! `key_slot` against a real cluster-enabled `redis-server`'s `CLUSTER KEYSLOT`, for 10 000
//! keys: plain, with hash tags, with empty tags, and binary.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use pool_cluster::key_slot;
use pool_testkit::RedisFleet;

/// 10 000 keys covering the hash-tag rules.
fn keys() -> Vec<Vec<u8>> {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut keys: Vec<Vec<u8>> = [
        &b""[..],
        b"{}",
        b"{",
        b"}",
        b"}{",
        b"{}{x}",
        b"foo{}{bar}",
        b"foo{{bar}}zap",
        b"foo{bar}{zap}",
        b"{user1000}.following",
        b"\xff\x00{\x00}",
        b"{a",
        b"a}",
    ]
    .iter()
    .map(|k| k.to_vec())
    .collect();
    while keys.len() < 10_000 {
        let len = (next() % 24) as usize;
        let mut key: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        match next() % 4 {
            // a tag, maybe empty, somewhere in the key
            0 => {
                let at = if key.is_empty() { 0 } else { (next() as usize) % key.len() };
                let tag_len = (next() % 4) as usize;
                let tag: Vec<u8> = (0..tag_len).map(|_| b'a' + (next() % 26) as u8).collect();
                key.splice(at..at, [&b"{"[..], &tag, b"}"].concat());
            }
            // printable
            1 => key.iter_mut().for_each(|b| *b = b' ' + *b % 95),
            // binary as it is (may hold braces)
            _ => {}
        }
        keys.push(key);
    }
    keys
}

/// Sends every `CLUSTER KEYSLOT` down one connection, pipelined, and reads the integer replies.
fn keyslots(port: u16, keys: &[Vec<u8>]) -> Vec<i64> {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut request = Vec::new();
    for key in keys {
        request.extend_from_slice(b"*3\r\n$7\r\nCLUSTER\r\n$7\r\nKEYSLOT\r\n");
        request.extend_from_slice(format!("${}\r\n", key.len()).as_bytes());
        request.extend_from_slice(key);
        request.extend_from_slice(b"\r\n");
    }
    // Write from another thread so a full socket buffer cannot stall reading the replies.
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(&request).unwrap());
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let slots = (0..keys.len())
        .map(|i| {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let reply = line.trim_end();
            reply
                .strip_prefix(':')
                .unwrap_or_else(|| panic!("key {i}: reply {reply:?}"))
                .parse()
                .unwrap()
        })
        .collect();
    sender.join().unwrap();
    slots
}

#[test]
fn key_slot_matches_cluster_keyslot_for_10k_keys() {
    let Some(fleet) = RedisFleet::builder(1)
        .cluster_enabled()
        .start_or_skip("key_slot_matches_cluster_keyslot_for_10k_keys")
    else {
        return;
    };
    // One query through the testkit, as a check of the pipelined path below.
    let foo = fleet.query(0, &[b"CLUSTER", b"KEYSLOT", b"foo"]).unwrap().as_int();
    assert_eq!(foo, Some(i64::from(key_slot(b"foo"))));
    let keys = keys();
    let want = keyslots(fleet.port(0).unwrap(), &keys);
    assert_eq!(want.len(), keys.len());
    let tagged = keys.iter().filter(|k| k.contains(&b'{')).count();
    assert!(tagged > 2_000, "{tagged} keys with a brace");
    for (key, want) in keys.iter().zip(want) {
        assert_eq!(i64::from(key_slot(key)), want, "key {:?}", key.escape_ascii().to_string());
    }
}
