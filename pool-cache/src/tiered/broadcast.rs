//! Cross-process invalidation over Redis pub/sub (feature `redis`, opt-in).
//!
//! Every write and invalidation publishes one message on the channel: this cache's random id,
//! an op byte (`K`: one key, `P`: a prefix) and the L2 key bytes. A thread subscribed to the
//! channel removes the named keys from this process's L1 (skipping its own messages), so the
//! next read goes to the L2. Pub/sub is at-most-once: a message sent while a subscriber is
//! disconnected is lost to it, and until a message arrives that L1 may serve the old value.
//! Give shared data a time to live to bound that window.

use crate::sync::{AtomicBool, Ordering};
use std::fmt;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the subscriber blocks on a read before checking whether it should stop.
const POLL: Duration = Duration::from_millis(100);

/// What a message asks receivers to drop from their L1.
pub(crate) enum Invalidation<'a> {
    Key(&'a [u8]),
    Prefix(&'a [u8]),
}

pub(crate) struct Broadcast {
    client: redis::Client,
    channel: String,
    id: [u8; 16],
    timeout: Duration,
    publisher: parking_lot::Mutex<Option<redis::Connection>>,
    stop: Arc<AtomicBool>,
    thread: parking_lot::Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for Broadcast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broadcast").field("channel", &self.channel).finish_non_exhaustive()
    }
}

fn instance_id() -> [u8; 16] {
    use std::hash::{BuildHasher, RandomState};
    let a = RandomState::new().hash_one(std::process::id());
    let b = RandomState::new().hash_one(std::time::SystemTime::now());
    let mut id = [0; 16];
    id[..8].copy_from_slice(&a.to_le_bytes());
    id[8..].copy_from_slice(&b.to_le_bytes());
    id
}

impl Broadcast {
    /// Connects lazily; starts the subscriber thread, which calls `apply` for every message
    /// another cache sent.
    pub(crate) fn start(
        url: &str,
        channel: String,
        timeout: Duration,
        apply: impl Fn(Invalidation<'_>) + Send + 'static,
    ) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("bad broadcast url: {e}"))?;
        let id = instance_id();
        let stop = Arc::new(AtomicBool::new(false));
        let (sub_client, sub_channel, sub_stop) = (client.clone(), channel.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("pool-tiered-broadcast".into())
            .spawn(move || subscribe(&sub_client, &sub_channel, id, timeout, &sub_stop, &apply))
            .map_err(|e| format!("cannot start the broadcast thread: {e}"))?;
        Ok(Self {
            client,
            channel,
            id,
            timeout,
            publisher: parking_lot::Mutex::new(None),
            stop,
            thread: parking_lot::Mutex::new(Some(thread)),
        })
    }

    /// Publishes one invalidation; `false` if Redis could not be reached (the caller counts
    /// it; the next publish reconnects).
    pub(crate) fn publish(&self, what: Invalidation<'_>) -> bool {
        let (op, bytes) = match what {
            Invalidation::Key(k) => (b'K', k),
            Invalidation::Prefix(p) => (b'P', p),
        };
        let mut msg = Vec::with_capacity(17 + bytes.len());
        msg.extend_from_slice(&self.id);
        msg.push(op);
        msg.extend_from_slice(bytes);
        let mut slot = self.publisher.lock();
        if slot.is_none() {
            let Ok(con) = self.client.get_connection_with_timeout(self.timeout) else {
                return false;
            };
            let _ = con.set_read_timeout(Some(self.timeout));
            let _ = con.set_write_timeout(Some(self.timeout));
            *slot = Some(con);
        }
        let Some(con) = slot.as_mut() else { return false };
        let sent: redis::RedisResult<i64> =
            redis::cmd("PUBLISH").arg(&self.channel).arg(msg).query(con);
        if sent.is_err() {
            *slot = None;
        }
        sent.is_ok()
    }

    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
    }
}

/// The subscriber loop: (re)connects, subscribes, applies messages, until stopped.
fn subscribe(
    client: &redis::Client,
    channel: &str,
    id: [u8; 16],
    timeout: Duration,
    stop: &AtomicBool,
    apply: &dyn Fn(Invalidation<'_>),
) {
    while !stop.load(Ordering::Acquire) {
        let Ok(mut con) = client.get_connection_with_timeout(timeout) else {
            std::thread::sleep(POLL);
            continue;
        };
        let mut ps = con.as_pubsub();
        if ps.subscribe(channel).is_err() || ps.set_read_timeout(Some(POLL)).is_err() {
            std::thread::sleep(POLL);
            continue;
        }
        while !stop.load(Ordering::Acquire) {
            match ps.get_message() {
                Ok(msg) => {
                    let payload = msg.get_payload_bytes();
                    if payload.len() < 17 || payload[..16] == id {
                        continue;
                    }
                    match payload[16] {
                        b'K' => apply(Invalidation::Key(&payload[17..])),
                        b'P' => apply(Invalidation::Prefix(&payload[17..])),
                        _ => {}
                    }
                }
                Err(e) if e.is_timeout() => {}
                Err(_) => break, // reconnect
            }
        }
    }
}
