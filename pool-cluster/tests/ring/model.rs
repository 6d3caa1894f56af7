//! A brute-force reference ring: every point listed, the owner found by a linear scan.

use pool_cluster::key_hash;

/// All points of all nodes, with no index and no merging.
pub(crate) struct ModelRing {
    /// (point, node id)
    points: Vec<(u64, Vec<u8>)>,
    live: Vec<Vec<u8>>,
}

/// The placement contract, written independently: blake3 in key-derivation mode over the id,
/// the output stream cut into little-endian u64s.
fn points_of(id: &[u8], count: usize) -> Vec<u64> {
    let mut hasher = blake3::Hasher::new_derive_key("pool-cluster 2026-12 ring node points v1");
    hasher.update(id);
    let mut bytes = vec![0u8; count * 8];
    hasher.finalize_xof().fill(&mut bytes);
    bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
}

impl ModelRing {
    pub(crate) fn new<'a>(vnodes: u32, nodes: impl IntoIterator<Item = (&'a str, f64)>) -> Self {
        let mut points = Vec::new();
        let mut live = Vec::new();
        for (id, weight) in nodes {
            let count = (f64::from(vnodes) * weight).round() as usize;
            if count > 0 {
                live.push(id.as_bytes().to_vec());
            }
            points.extend(
                points_of(id.as_bytes(), count).into_iter().map(|p| (p, id.as_bytes().to_vec())),
            );
        }
        Self { points, live }
    }

    /// Points in ring order from `hash`: clockwise distance, ties by id.
    fn walk(&self, hash: u64) -> Vec<&[u8]> {
        let mut order: Vec<(u64, &[u8])> =
            self.points.iter().map(|(p, id)| (p.wrapping_sub(hash), id.as_slice())).collect();
        order.sort();
        order.into_iter().map(|(_, id)| id).collect()
    }

    pub(crate) fn owner(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.walk(key_hash(key)).first().map(|id| id.to_vec())
    }

    pub(crate) fn owners(&self, key: &[u8], r: usize) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        for id in self.walk(key_hash(key)) {
            if out.len() == r.min(self.live.len()) {
                break;
            }
            if !out.iter().any(|o| o == id) {
                out.push(id.to_vec());
            }
        }
        out
    }
}
