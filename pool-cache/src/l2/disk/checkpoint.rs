//! The background thread that turns non-durable commits into a durable checkpoint.

use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Wakes every `interval` and runs `tick`; stopped (and joined) on drop.
pub(crate) struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(crate) fn spawn(
        interval: Duration,
        tick: impl Fn() + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let flag = Arc::clone(&stop);
        let thread =
            std::thread::Builder::new().name("pool-l2-checkpoint".into()).spawn(move || {
                let (lock, cvar) = &*flag;
                let mut stopped = lock.lock();
                while !*stopped {
                    // Waking early (spuriously) only checkpoints early, which is harmless.
                    cvar.wait_for(&mut stopped, interval);
                    if *stopped {
                        break;
                    }
                    drop(stopped);
                    tick();
                    stopped = lock.lock();
                }
            })?;
        Ok(Self { stop, thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
