//! Integration tests for `ringsim`: the balance and movement figures through the
//! simulator, and the command line's output contract and bad input.
#![allow(clippy::unwrap_used)] // tests may unwrap, helpers included

mod cli;
mod sim;
