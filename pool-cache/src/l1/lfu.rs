//! O(1) LFU (Shah, Mitra and Matani, 2010): a list of frequency nodes in increasing order, each
//! holding an LRU list of the entries with that count. A hit moves the entry to the next node
//! (created if missing); the victim is the least recently used entry of the first node.

use super::list::{Link, List, NIL, swap_remove_index};

#[derive(Debug, Clone, Copy)]
struct FreqNode {
    freq: u64,
    prev: u32,
    next: u32,
    entries: List,
}

#[derive(Debug)]
pub(crate) struct Lfu {
    links: Vec<Link>,
    /// The frequency node of each entry.
    node_of: Vec<u32>,
    nodes: Vec<FreqNode>,
    free_nodes: Vec<u32>,
    /// The lowest-frequency node.
    first: u32,
}

impl Default for Lfu {
    fn default() -> Self {
        Self {
            links: Vec::new(),
            node_of: Vec::new(),
            nodes: Vec::new(),
            free_nodes: Vec::new(),
            first: NIL,
        }
    }
}

impl Lfu {
    /// A new node for `freq` linked after `prev` (or first when `prev` is `NIL`).
    fn new_node(&mut self, freq: u64, prev: u32) -> u32 {
        let next = if prev == NIL { self.first } else { self.nodes[prev as usize].next };
        let node = FreqNode { freq, prev, next, entries: List::default() };
        let n = match self.free_nodes.pop() {
            Some(n) => {
                self.nodes[n as usize] = node;
                n
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        if prev == NIL {
            self.first = n;
        } else {
            self.nodes[prev as usize].next = n;
        }
        if next != NIL {
            self.nodes[next as usize].prev = n;
        }
        n
    }

    fn drop_node_if_empty(&mut self, n: u32) {
        let FreqNode { prev, next, entries, .. } = self.nodes[n as usize];
        if !entries.is_empty() {
            return;
        }
        if prev == NIL {
            self.first = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next != NIL {
            self.nodes[next as usize].prev = prev;
        }
        self.free_nodes.push(n);
    }

    pub(crate) fn reserve_exact(&mut self, extra: usize) {
        self.links.reserve_exact(extra);
        self.node_of.reserve_exact(extra);
    }

    pub(crate) fn push(&mut self, idx: u32) {
        debug_assert_eq!(idx as usize, self.links.len());
        self.links.push(Link::UNLINKED);
        let n = if self.first != NIL && self.nodes[self.first as usize].freq == 1 {
            self.first
        } else {
            self.new_node(1, NIL)
        };
        self.nodes[n as usize].entries.push_front(&mut self.links, idx);
        self.node_of.push(n);
    }

    pub(crate) fn touch(&mut self, idx: u32) {
        let n = self.node_of[idx as usize];
        let freq = self.nodes[n as usize].freq;
        let next = self.nodes[n as usize].next;
        let target = if next != NIL && self.nodes[next as usize].freq == freq + 1 {
            next
        } else {
            self.new_node(freq + 1, n)
        };
        self.nodes[n as usize].entries.unlink(&mut self.links, idx);
        self.nodes[target as usize].entries.push_front(&mut self.links, idx);
        self.node_of[idx as usize] = target;
        self.drop_node_if_empty(n);
    }

    pub(crate) fn victim(&self) -> Option<u32> {
        if self.first == NIL { None } else { self.nodes[self.first as usize].entries.back() }
    }

    pub(crate) fn remove(&mut self, idx: u32) {
        let n = self.node_of[idx as usize];
        self.nodes[n as usize].entries.unlink(&mut self.links, idx);
        self.drop_node_if_empty(n);
        swap_remove_index(&mut self.node_of, idx);
        if let (_, Some(moved)) = swap_remove_index(&mut self.links, idx) {
            let m = self.node_of[idx as usize];
            self.nodes[m as usize].entries.relocate(&mut self.links, moved, idx);
        }
    }

    #[cfg(test)]
    pub(crate) fn eviction_order(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let mut n = self.first;
        while n != NIL {
            let node = &self.nodes[n as usize];
            let mut v: Vec<u32> = node.entries.iter(&self.links).collect();
            v.reverse();
            out.extend(v);
            n = node.next;
        }
        out
    }
}
