//! Index-linked doubly linked lists over a dense entry slab.
//!
//! Entries live in dense vectors (`Vec<(K, V)>` and parallel per-entry vectors) and are removed
//! with `swap_remove`, so a slot never needs an `Option` tag and `(u64, u64)` costs 16 bytes.
//! The lists link entries by `u32` index (8 bytes a link instead of two 8-byte pointers), and
//! when `swap_remove` moves the last entry into a freed slot, [`List::relocate`] patches the two
//! neighbours that pointed at it: every operation is O(1) and needs no `unsafe`.

/// "No entry": the end of a list.
pub(crate) const NIL: u32 = u32::MAX;

/// The two links of one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    pub(crate) prev: u32,
    pub(crate) next: u32,
}

impl Link {
    pub(crate) const UNLINKED: Link = Link { prev: NIL, next: NIL };
}

/// One list: `head` is the most recently used end, `tail` the least.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct List {
    head: u32,
    tail: u32,
    len: u32,
}

impl Default for List {
    fn default() -> Self {
        Self { head: NIL, tail: NIL, len: 0 }
    }
}

impl List {
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The least recently used end.
    pub(crate) fn back(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    /// The most recently used end.
    pub(crate) fn front(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }

    pub(crate) fn push_front(&mut self, links: &mut [Link], i: u32) {
        links[i as usize] = Link { prev: NIL, next: self.head };
        if self.head == NIL {
            self.tail = i;
        } else {
            links[self.head as usize].prev = i;
        }
        self.head = i;
        self.len += 1;
    }

    pub(crate) fn unlink(&mut self, links: &mut [Link], i: u32) {
        let Link { prev, next } = links[i as usize];
        if prev == NIL {
            self.head = next;
        } else {
            links[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            links[next as usize].prev = prev;
        }
        links[i as usize] = Link::UNLINKED;
        self.len -= 1;
    }

    pub(crate) fn move_to_front(&mut self, links: &mut [Link], i: u32) {
        if self.head != i {
            self.unlink(links, i);
            self.push_front(links, i);
        }
    }

    /// The entry that was at `from` now sits at `to` (its link already copied there): point
    /// its neighbours, or the list ends, at the new index.
    pub(crate) fn relocate(&mut self, links: &mut [Link], from: u32, to: u32) {
        let Link { prev, next } = links[to as usize];
        if prev == NIL {
            debug_assert_eq!(self.head, from);
            self.head = to;
        } else {
            links[prev as usize].next = to;
        }
        if next == NIL {
            debug_assert_eq!(self.tail, from);
            self.tail = to;
        } else {
            links[next as usize].prev = to;
        }
    }

    /// Indices from the most to the least recently used end.
    #[cfg(test)]
    pub(crate) fn iter<'a>(&self, links: &'a [Link]) -> impl Iterator<Item = u32> + 'a {
        let mut cur = self.head;
        std::iter::from_fn(move || {
            (cur != NIL).then(|| {
                let i = cur;
                cur = links[i as usize].next;
                i
            })
        })
    }
}

/// Removes entry `i` from a per-entry vector the way the slab does, returning the index whose
/// entry moved into `i` (the old last index), if any.
pub(crate) fn swap_remove_index<T>(v: &mut Vec<T>, i: u32) -> (T, Option<u32>) {
    let last = v.len() - 1;
    let item = v.swap_remove(i as usize);
    (item, (i as usize != last).then_some(last as u32))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn push_unlink_relocate_keep_order() {
        let mut links = vec![Link::UNLINKED; 4];
        let mut list = List::default();
        for i in 0..4 {
            list.push_front(&mut links, i);
        }
        assert_eq!(list.iter(&links).collect::<Vec<_>>(), vec![3, 2, 1, 0]);
        list.move_to_front(&mut links, 0);
        assert_eq!(list.iter(&links).collect::<Vec<_>>(), vec![0, 3, 2, 1]);
        // Remove entry 2 the slab way: unlink, swap_remove, relocate the moved last entry.
        list.unlink(&mut links, 2);
        let (_, moved) = swap_remove_index(&mut links, 2);
        assert_eq!(moved, Some(3));
        list.relocate(&mut links, 3, 2);
        assert_eq!(list.iter(&links).collect::<Vec<_>>(), vec![0, 2, 1]);
        assert_eq!(list.back(), Some(1));
        assert_eq!(list.front(), Some(0));
        assert_eq!(list.len(), 3);
    }
}
