//! Owned storage of a bit array: a heap vector, or zeroed anonymous memory for a build.
//!
//! A build's arrays ([`super::AtomicBloom`]) are anonymous mappings: the kernel hands them
//! out already zero and backs a page only when an insert first touches it, so a fresh filter
//! costs no memset, and the first touches (slow on fresh memory in a VM) are spread over the
//! build's workers instead of one thread before parsing starts. The 2 MiB-aligned part of an
//! array is advised `MADV_HUGEPAGE` before that first touch: inserts land at random over
//! hundreds of MB, and 2 MiB pages keep the whole array within the TLB's reach (4 KiB pages
//! cover a few MB). The mapping is made a whole number of 2 MiB units long so that Linux
//! places it 2 MiB-aligned; the part past the array is never touched, and its last partial
//! 2 MiB stays in small pages, so the resident size stays the array's size.

use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

use memmap2::MmapMut;

use super::{AtomicBlock, Block};

/// The unit of a transparent huge page on x86-64 and most arm64 kernels.
const HUGE_PAGE: usize = 2 << 20;

/// The bit array of a [`super::Bloom`].
pub(super) enum Bits {
    /// Allocated on the heap: filters read, merged or made in tests.
    Heap(Vec<Block>),
    /// The anonymous mapping a build filled.
    Anon(AnonBlocks),
}

impl Bits {
    pub(super) fn as_slice(&self) -> &[Block] {
        match self {
            Bits::Heap(v) => v,
            Bits::Anon(a) => a.blocks(),
        }
    }

    pub(super) fn as_mut_slice(&mut self) -> &mut [Block] {
        match self {
            Bits::Heap(v) => v,
            Bits::Anon(a) => a.blocks_mut(),
        }
    }
}

/// `len` blocks of anonymous memory, zero until written.
pub(super) struct AnonBlocks {
    map: MmapMut,
    len: usize,
}

impl AnonBlocks {
    /// Maps zeroed memory for `len ≥ 1` blocks, advised for huge pages (module docs).
    fn zeroed(len: usize) -> std::io::Result<AnonBlocks> {
        let bytes = len.checked_mul(std::mem::size_of::<Block>()).ok_or_else(too_large)?;
        let huge = bytes / HUGE_PAGE * HUGE_PAGE;
        let mapped = if huge == 0 {
            bytes
        } else {
            bytes.checked_next_multiple_of(HUGE_PAGE).ok_or_else(too_large)?
        };
        let map = MmapMut::map_anon(mapped)?;
        #[cfg(target_os = "linux")]
        if huge > 0 {
            use memmap2::Advice;
            // Advice only: a kernel without transparent huge pages refuses it, and the array
            // then works in small pages as before.
            let _ = map.advise_range(Advice::HugePage, 0, huge);
            if mapped > huge {
                let _ = map.advise_range(Advice::NoHugePage, huge, mapped - huge);
            }
        }
        Ok(AnonBlocks { map, len })
    }

    fn bytes(&self) -> usize {
        self.len * std::mem::size_of::<Block>()
    }

    pub(super) fn blocks(&self) -> &[Block] {
        // Page-aligned, so aligned for `Block`; `bytes() ≤ map.len()`.
        bytemuck::cast_slice(&self.map[..self.bytes()])
    }

    pub(super) fn blocks_mut(&mut self) -> &mut [Block] {
        let bytes = self.bytes();
        bytemuck::cast_slice_mut(&mut self.map[..bytes])
    }

    /// Hands the array's bytes to `f` in order, in pieces of `piece` bytes (a multiple of the
    /// page size), and gives each piece's memory back to the system once `f` returned.
    pub(super) fn drain(
        self,
        piece: usize,
        f: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let bytes = self.bytes();
        let mut at = 0;
        while at < bytes {
            let end = bytes.min(at.saturating_add(piece));
            f(&self.map[at..end])?;
            #[cfg(unix)]
            // SAFETY: `MADV_DONTNEED` makes the piece read as zero afterwards (a valid value of
            // every byte); no reference to it is left (`f` returned) and none is made again:
            // `self` is consumed and the pieces only move forward. `at` is a multiple of
            // `piece`, so page aligned.
            unsafe {
                use memmap2::UncheckedAdvice;
                let _ = self.map.unchecked_advise_range(UncheckedAdvice::DontNeed, at, end - at);
            }
            at = end;
        }
        Ok(())
    }
}

fn too_large() -> std::io::Error {
    std::io::Error::other("bit array larger than the address space")
}

/// [`AnonBlocks`] shared by threads that set bits with atomic operations only. No
/// non-atomic view exists while it is shared: [`AtomicBlocks::into_blocks`] takes it by value.
pub(super) struct AtomicBlocks {
    anon: AnonBlocks,
    /// The mapping's first block, taken from a unique borrow of it when it was made: the only
    /// pointer through which the memory is accessed until `into_blocks`.
    first: NonNull<AtomicBlock>,
}

// SAFETY: the memory behind `first` is owned by `anon` (a `Send + Sync` mapping) and only
// ever accessed through `&[AtomicBlock]`, which is `Send + Sync` itself.
unsafe impl Send for AtomicBlocks {}
// SAFETY: as above.
unsafe impl Sync for AtomicBlocks {}

impl AtomicBlocks {
    /// Zeroed memory for `len ≥ 1` blocks.
    pub(super) fn zeroed(len: usize) -> std::io::Result<AtomicBlocks> {
        let mut anon = AnonBlocks::zeroed(len)?;
        let first = NonNull::from(anon.map.as_mut()).cast::<AtomicBlock>();
        Ok(AtomicBlocks { anon, first })
    }

    /// The blocks, as atomics.
    pub(super) fn blocks(&self) -> &[AtomicBlock] {
        const _: () = assert!(std::mem::size_of::<AtomicU64>() == std::mem::size_of::<u64>());
        // SAFETY: `first` points to a readable and writable mapping of `bytes() ≥ len · 64`
        // bytes, page aligned (so aligned for `AtomicBlock`, whose layout is asserted equal to
        // `Block`'s) and zero-initialised (a valid `AtomicU64`); it was derived from a unique
        // borrow, so writes through it are allowed. The slice borrows `self`, which owns the
        // mapping; while `self` exists, every access to the memory goes through such slices,
        // atomically: `into_blocks` consumes `self` before any non-atomic view is made.
        unsafe { std::slice::from_raw_parts(self.first.as_ptr(), self.anon.len) }
    }

    /// The memory for non-atomic use, once no thread can still hold the atomics.
    pub(super) fn into_blocks(self) -> AnonBlocks {
        self.anon
    }
}
