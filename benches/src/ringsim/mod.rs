//! The `ringsim` simulator: balance, movement and lookup cost of pool-cluster's ring, next to
//! the `hashring` crate on the same keys.

mod anchor;
mod keys;
mod plot;
mod report;

pub use anchor::HashringAnchor;
pub use keys::keys_24;
pub use plot::{PlotError, plot_shares};
pub use report::{RingReport, RingSim, RingSimError};
