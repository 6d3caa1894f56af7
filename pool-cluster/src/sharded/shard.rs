//! One node of a [`ShardedL2`](super::ShardedL2): its id, backend and health, and the call
//! wrapper that goes through its breaker and bounds the call by the timeout.

use crate::health::NodeHealth;
use pool_cache::{L2, L2Error, L2ErrorKind, L2Future};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct ShardInner {
    pub(crate) id: String,
    pub(crate) l2: Arc<dyn L2>,
    pub(crate) health: Arc<NodeHealth>,
}

/// A ring member: cheap to clone, placed by its id.
#[derive(Clone)]
pub(crate) struct Shard(pub(crate) Arc<ShardInner>);

impl AsRef<[u8]> for Shard {
    fn as_ref(&self) -> &[u8] {
        self.0.id.as_bytes()
    }
}

impl fmt::Debug for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.id)
    }
}

impl Shard {
    pub(crate) fn id(&self) -> &str {
        &self.0.id
    }

    pub(crate) fn l2(&self) -> &dyn L2 {
        &*self.0.l2
    }

    pub(crate) fn is_available(&self) -> bool {
        self.0.health.is_available()
    }

    /// Runs one call to this node through its breaker, bounded by `timeout`. A refused input
    /// (empty key, zero TTL, too large) says nothing about the node and counts as a success.
    pub(crate) async fn call<T>(
        &self,
        timeout: Duration,
        rejections: &std::sync::atomic::AtomicU64,
        fut: L2Future<'_, T>,
    ) -> Result<T, L2Error> {
        let Ok(permit) = self.0.health.breaker().try_acquire() else {
            super::stats::bump(rejections, 1);
            return Err(L2Error::custom(
                L2ErrorKind::Unavailable,
                format!("node {} is down (its circuit breaker is open)", self.0.id),
            ));
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(v)) => {
                permit.success();
                Ok(v)
            }
            Ok(Err(e)) if e.kind().is_rejected_input() => {
                permit.success();
                Err(e)
            }
            Ok(Err(e)) => {
                permit.failure();
                Err(e)
            }
            Err(_) => {
                permit.failure();
                Err(L2Error::custom(
                    L2ErrorKind::Timeout,
                    format!("node {} did not answer within {timeout:?}", self.0.id),
                ))
            }
        }
    }
}
