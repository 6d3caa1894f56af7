//! Node health: a prober per node with failure and recovery thresholds, a circuit breaker per
//! node, change notifications, and a health-filtered ring lookup.

mod config;
mod error;
mod event;
mod monitor;
mod node;
mod prober;
mod subscription;

pub use config::{HealthConfig, HealthConfigBuilder};
pub use error::{DuplicateNodeError, HealthBuildError, HealthBuildErrorKind};
pub use event::{HealthEvent, HealthEventKind};
pub use monitor::HealthMonitor;
pub use node::NodeHealth;
pub use prober::{PROBER_TICK, ProberHandle};
pub use subscription::Subscription;
