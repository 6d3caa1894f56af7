//! Process memory: snapshots from `/proc/self/statm`, a counting allocator, a monitor with
//! thresholds and alerts, and the memory-pressure signal.

mod alloc;
mod error;
mod monitor;
mod pressure;
mod probe;
mod subscription;

pub use alloc::CountingAlloc;
pub use error::{
    MemoryError, MemoryErrorKind, MemoryMonitorBuildError, MemoryMonitorBuildErrorKind,
    SpawnSamplerError, SpawnSamplerErrorKind,
};
pub use monitor::{
    MemoryAlert, MemoryAlertKind, MemoryMonitor, MemoryMonitorBuilder, MemorySample, MemorySampler,
};
pub use pressure::{MemoryPressure, PressureLevel};
pub use probe::{MemoryProbe, MemorySnapshot, ProcessStats, process_stats};
pub use subscription::Subscription;
