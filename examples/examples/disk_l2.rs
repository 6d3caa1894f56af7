//! A persistent L2 in one redb file: typed values through the codec, survival across a
//! reopen (a restart), time to live, prefix deletion, and a clear error for a file that is not
//! a database. It checks its own results.
//!
//! `cargo run -p pool-examples --example disk_l2`
//!
//! The tiered cache (an L1 in front of this L2) and the memoizing `CachedPool` build on exactly
//! these calls; the `pipeline` example serves through `CachedPool` over them.

use std::time::Duration;

use anyhow::ensure;
use pool_cache::{DiskL2, L2BuildErrorKind, L2Namespace, MAX_TTL, ValueCodec};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    name: String,
    visits: u64,
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let path = dir.join("cache.redb");
    // Keys live in a namespace (name + version): bump the version and old records are ignored.
    let ns = L2Namespace::new("profiles", 1)?;
    let codec = ValueCodec::new(); // postcard, lz4 above a size threshold, a versioned header

    {
        let l2 = DiskL2::open(&path)?;
        let ada = Profile { name: "Ada".into(), visits: 3 };
        l2.set_sync(&ns.key("user:1"), &codec.encode(&ada)?, MAX_TTL)?; // no expiry
        l2.set_sync(&ns.key("user:2"), &codec.encode(&ada)?, Duration::from_millis(1))?;
        // Make the writes durable now (by default they are, at most a second later).
        l2.checkpoint()?;
    } // closed: as if the process stopped

    let l2 = DiskL2::open(&path)?;
    let back = l2.get_sync(&ns.key("user:1"))?.map(|e| codec.decode::<Profile>(&e.value));
    println!("after a reopen, user:1 = {back:?}");
    ensure!(matches!(back, Some(Ok(ref p)) if p.name == "Ada"), "the record did not survive");
    std::thread::sleep(Duration::from_millis(5));
    ensure!(l2.get_sync(&ns.key("user:2"))?.is_none(), "an expired record was served");

    // Invalidate a whole namespace by its prefix.
    let deleted = pool_cache::BlockingL2::new(l2)?.delete_prefix(ns.prefix())?;
    println!("deleted {deleted} record(s) under the namespace prefix");
    ensure!(deleted >= 1, "nothing deleted");

    // A file that is not a redb database is refused with a clear error, and left alone.
    let foreign = dir.join("notes.txt");
    std::fs::write(&foreign, "not a database")?;
    let err = DiskL2::open(&foreign).err().map(|e| (e.kind(), e.to_string()));
    println!("opening a text file: {err:?}");
    ensure!(matches!(err, Some((L2BuildErrorKind::NotADatabase, _))), "a text file was opened");
    ensure!(std::fs::read_to_string(&foreign)? == "not a database", "the text file was changed");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// A fresh directory under the system temp dir, removed at the end of a successful run.
fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("pool-disk-l2-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
