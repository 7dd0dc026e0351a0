//! The idempotency index of the [`Ledger`](super::Ledger): a fast hasher for 128-bit entry ids
//! and an open-addressing table from entry id to entry position.

use super::{EntryId, NONE};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast, non-cryptographic hasher for 128-bit entry ids. Ids come from the clinic's own
/// systems, so hash flooding is not in the threat model.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    z = (z ^ (z >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    z ^ (z >> 33)
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = mix64(self.0 ^ u64::from_le_bytes(b));
        }
    }
    fn write_u128(&mut self, v: u128) {
        let x = (v as u64) ^ ((v >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // The low bits pick the bucket, so time-ordered or sequential ids fill neighbouring
        // buckets (cache-friendly inserts and lookups); the top seven bits, which the table
        // uses as a tag while probing, come from a full mix so probes stay selective.
        const LOW: u64 = u64::MAX >> 7;
        self.0 = (x & LOW) | (mix64(x) & !LOW);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = mix64(self.0 ^ v);
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = mix64(self.0 ^ u64::from(v));
    }
    fn write_u8(&mut self, v: u8) {
        self.0 = mix64(self.0 ^ u64::from(v));
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// One slot of the [`IdTable`]. `seq == NONE` marks an empty slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    key: [u64; 2],
    seq: u32,
}

const EMPTY_SLOT: Slot = Slot {
    key: [0, 0],
    seq: u32::MAX,
};

/// The idempotency index: an open-addressing table (linear probing, load at most one half)
/// from entry id to entry position. Lookup and insert share one probe: [`IdTable::find`]
/// returns either the entry or the empty slot where it goes. Buckets keep the order of the
/// ids' low bits, so sequential or time-ordered ids fill neighbouring slots (every other one)
/// and the table is written and read almost sequentially.
#[derive(Debug, Clone, Default)]
pub(super) struct IdTable {
    slots: Vec<Slot>,
    len: usize,
}

impl IdTable {
    pub(super) fn with_capacity(entries: usize) -> Self {
        let cap = entries.saturating_mul(2).next_power_of_two().max(16);
        // `vec![EMPTY_SLOT; cap]` writes every slot, so the memory is faulted in up front
        // (like TigerBeetle's static allocation) rather than on the hot path.
        Self {
            slots: vec![EMPTY_SLOT; cap],
            len: 0,
        }
    }

    fn key(id: EntryId) -> [u64; 2] {
        [id.0 as u64, (id.0 >> 64) as u64]
    }

    fn home(key: [u64; 2], mask: usize) -> usize {
        // Fold each half onto itself so ids that vary only in high bits still vary in low
        // bits; consecutive ids keep consecutive values. Neighbouring ids then go to every
        // other slot: dense runs would leave no room for a displaced key and make probes long.
        let fold = |v: u64| v ^ v.rotate_right(32);
        let x = fold(key[0]) ^ fold(key[1].wrapping_mul(0x9E37_79B9_7F4A_7C15));
        (x << 1) as usize & mask
    }

    /// `Ok(seq)` when the id is present, else `Err(slot)` for [`IdTable::insert_at`].
    pub(super) fn find(&self, id: EntryId) -> Result<u32, usize> {
        if self.slots.is_empty() {
            return Err(usize::MAX);
        }
        let key = Self::key(id);
        let mask = self.slots.len() - 1;
        let mut i = Self::home(key, mask);
        loop {
            let s = self.slots[i];
            if s.seq == NONE {
                return Err(i);
            }
            if s.key == key {
                return Ok(s.seq);
            }
            i = (i + 1) & mask;
        }
    }

    pub(super) fn get(&self, id: EntryId) -> Option<u32> {
        self.find(id).ok()
    }

    /// Inserts at the slot `find` returned (re-probing after growth).
    pub(super) fn insert_at(&mut self, slot: usize, id: EntryId, seq: u32) {
        if slot == usize::MAX || (self.len + 1) * 2 > self.slots.len() {
            self.grow();
            if let Err(s) = self.find(id) {
                self.slots[s] = Slot {
                    key: Self::key(id),
                    seq,
                };
                self.len += 1;
            }
            return;
        }
        self.slots[slot] = Slot {
            key: Self::key(id),
            seq,
        };
        self.len += 1;
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY_SLOT; cap]);
        let mask = cap - 1;
        for s in old.into_iter().filter(|s| s.seq != NONE) {
            let mut i = Self::home(s.key, mask);
            while self.slots[i].seq != NONE {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }
}
