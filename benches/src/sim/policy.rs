//! The policy names `cachesim` accepts.

use std::fmt;
use std::str::FromStr;

/// A cache policy `cachesim` can replay a trace through.
///
/// Ours (`lru`, `lfu`, `tinylfu` from `pool-cache`; `fifo` and Belady's `opt` from this crate) and
/// the anchors we compare against (`moka`, `quick_cache`, `lru-crate`).
///
/// ```
/// use pool_benches::sim::SimPolicy;
/// let p: SimPolicy = "tinylfu".parse()?;
/// assert_eq!(p, SimPolicy::TinyLfu);
/// assert_eq!(p.to_string(), "tinylfu");
/// # Ok::<(), pool_benches::sim::UnknownPolicy>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SimPolicy {
    /// `pool-cache` in its exact-LRU configuration.
    Lru,
    /// `pool-cache` with LFU eviction.
    Lfu,
    /// `pool-cache` with W-TinyLFU (the default policy).
    TinyLfu,
    /// First in, first out ([`crate::sim::FifoCache`]).
    Fifo,
    /// Belady's optimal offline policy ([`crate::sim::belady`]): the upper bound for every other.
    Opt,
    /// `moka::sync::Cache` with `max_capacity(capacity)`.
    Moka,
    /// `quick_cache::sync::Cache::new(capacity)`.
    QuickCache,
    /// `Mutex<lru::LruCache>`: exact LRU, one lock.
    LruCrate,
}

impl SimPolicy {
    /// Every policy, in the order reports list them.
    pub const ALL: [SimPolicy; 8] = [
        Self::Lru,
        Self::Lfu,
        Self::TinyLfu,
        Self::Fifo,
        Self::Opt,
        Self::Moka,
        Self::QuickCache,
        Self::LruCrate,
    ];

    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lru => "lru",
            Self::Lfu => "lfu",
            Self::TinyLfu => "tinylfu",
            Self::Fifo => "fifo",
            Self::Opt => "opt",
            Self::Moka => "moka",
            Self::QuickCache => "quick_cache",
            Self::LruCrate => "lru-crate",
        }
    }

    /// Whether the policy is an online cache that a replay drives with `get` and `insert` (every
    /// policy but [`SimPolicy::Opt`], which needs the whole trace up front).
    pub fn is_online(self) -> bool {
        self != Self::Opt
    }

    /// The valid names, comma-separated, for messages.
    pub fn valid_names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }
}

impl fmt::Display for SimPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a policy name that [`SimPolicy`] does not know.
///
/// ```
/// let err = "arc".parse::<pool_benches::sim::SimPolicy>().unwrap_err();
/// assert!(err.to_string().starts_with("unknown policy \"arc\"; valid policies: lru, lfu"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPolicy {
    name: String,
}

impl fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown policy {:?}; valid policies: {}", self.name, SimPolicy::valid_names())
    }
}

impl std::error::Error for UnknownPolicy {}

impl FromStr for SimPolicy {
    type Err = UnknownPolicy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Self::ALL
            .into_iter()
            .find(|p| p.name() == wanted)
            .or(match wanted {
                // Spellings people reach for first.
                "w-tinylfu" | "wtinylfu" => Some(Self::TinyLfu),
                "quick-cache" | "quickcache" => Some(Self::QuickCache),
                "lru_crate" => Some(Self::LruCrate),
                "belady" => Some(Self::Opt),
                _ => None,
            })
            .ok_or_else(|| UnknownPolicy { name: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for p in SimPolicy::ALL {
            assert_eq!(p.name().parse::<SimPolicy>().unwrap(), p);
        }
        assert!("LRU".parse::<SimPolicy>().is_err());
    }
}
