//! Exact LRU: one index-linked list, the most recently used at the front.

use super::list::{Link, List, swap_remove_index};

#[derive(Debug, Default)]
pub(crate) struct Lru {
    links: Vec<Link>,
    list: List,
}

impl Lru {
    pub(crate) fn reserve_exact(&mut self, extra: usize) {
        self.links.reserve_exact(extra);
    }

    pub(crate) fn push(&mut self, idx: u32) {
        debug_assert_eq!(idx as usize, self.links.len());
        self.links.push(Link::UNLINKED);
        self.list.push_front(&mut self.links, idx);
    }

    pub(crate) fn touch(&mut self, idx: u32) {
        self.list.move_to_front(&mut self.links, idx);
    }

    pub(crate) fn victim(&self) -> Option<u32> {
        self.list.back()
    }

    pub(crate) fn remove(&mut self, idx: u32) {
        self.list.unlink(&mut self.links, idx);
        if let (_, Some(moved)) = swap_remove_index(&mut self.links, idx) {
            self.list.relocate(&mut self.links, moved, idx);
        }
    }

    #[cfg(test)]
    pub(crate) fn eviction_order(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.list.iter(&self.links).collect();
        v.reverse();
        v
    }
}
