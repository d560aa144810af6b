//! Small blocks kept for reuse, in front of the system allocator.
//!
//! A lint run allocates and frees tens of thousands of small blocks (parsed
//! scalars, tree nodes, JSON values, Lua objects), and the C library keeps
//! only 7 freed blocks of a size ready for reuse: past those, each free and
//! each new block goes through its bins, a quarter of a chart lint's
//! instructions. This keeps more freed blocks (up to 32 KiB of each size
//! class, on each thread) in lists of its own, and hands them out again
//! without the C library. Blocks come from and go back to the system
//! allocator, sized to the classes glibc uses itself (16 n + 8 usable
//! bytes), so no block takes more memory than it would have; larger or
//! over-aligned blocks go straight to it. What a thread keeps when it exits
//! is not given back (at most 32 KiB a class, 2 MiB in all; mclint's
//! threads are few).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;

/// Classes 0..=64: blocks of 16 c + 8 usable bytes, up to 1,032.
const CLASSES: usize = 65;
/// Bytes of freed blocks a class keeps on a thread.
const KEEP_BYTES: usize = 32 << 10;
/// The alignment the C library's malloc gives every block (64-bit
/// Linux); elsewhere only blocks that ask for no more than 8 are kept.
const ALIGN: usize = if cfg!(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)) {
    16
} else {
    8
};

struct Lists {
    /// Each class's freed blocks, linked through their first word.
    heads: [*mut u8; CLASSES],
    counts: [u32; CLASSES],
}

thread_local! {
    static LISTS: UnsafeCell<Lists> = const {
        UnsafeCell::new(Lists {
            heads: [ptr::null_mut(); CLASSES],
            counts: [0; CLASSES],
        })
    };
}

/// The class of a block of this layout, if it is one kept here.
#[inline]
fn class_of(layout: &Layout) -> Option<usize> {
    let c = (layout.size() + 7) / 16;
    (c < CLASSES && layout.align() <= ALIGN).then_some(c)
}

#[inline]
fn usable(c: usize) -> usize {
    16 * c + 8
}

#[inline]
fn keep(c: usize) -> u32 {
    (KEEP_BYTES / usable(c)) as u32
}

/// The link to the next kept block, as stored in the block at `at`:
/// mixed with the address it is stored at, as glibc stores its own
/// lists' links ("safe-linking"), so that a stray write into a freed
/// block (a use after free in C code, the Lua VM's say) does not hand
/// out an address of the writer's choosing.
#[inline]
fn hide(at: *mut u8, next: *mut u8) -> usize {
    next.expose_provenance() ^ (at.addr() >> 12)
}

/// The link [`hide`] stored at `at`. One that does not decode to an
/// aligned block (null ends a list) means the freed block was written
/// to: the process stops rather than hand the address out.
#[inline]
fn unhide(at: *mut u8, stored: usize) -> *mut u8 {
    let next = stored ^ (at.addr() >> 12);
    if !next.is_multiple_of(ALIGN) {
        std::process::abort();
    }
    ptr::with_exposed_provenance_mut(next)
}

/// A kept block of class `c`, if the thread has one.
#[inline]
fn take(c: usize) -> *mut u8 {
    LISTS
        .try_with(|l| {
            // SAFETY: the lists are this thread's and nothing else runs
            // while they are changed (no allocation, no callback).
            let l = unsafe { &mut *l.get() };
            let head = l.heads[c];
            if !head.is_null() {
                // SAFETY: a kept block holds the next one in its first
                // word (at least 8 bytes, 16-aligned).
                let stored = unsafe { *(head as *const usize) };
                l.heads[c] = unhide(head, stored);
                l.counts[c] -= 1;
            }
            head
        })
        .unwrap_or(ptr::null_mut())
}

/// Keeps block `p` of class `c`; `false` when the class has enough.
#[inline]
fn give(c: usize, p: *mut u8) -> bool {
    LISTS
        .try_with(|l| {
            // SAFETY: as in `take`.
            let l = unsafe { &mut *l.get() };
            if l.counts[c] >= keep(c) {
                return false;
            }
            // SAFETY: `p` is a block of at least 8 bytes, 16-aligned,
            // that its owner has freed.
            unsafe { *(p as *mut usize) = hide(p, l.heads[c]) };
            l.heads[c] = p;
            l.counts[c] += 1;
            true
        })
        .unwrap_or(false)
}

pub struct SmallBlocks;

// SAFETY: every block handed out is one the system allocator made for
// at least the class's usable size and alignment 16, and is handed out
// once until it is freed again.
unsafe impl GlobalAlloc for SmallBlocks {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(c) = class_of(&layout) else {
            // SAFETY: the caller's layout, passed on.
            return unsafe { System.alloc(layout) };
        };
        let p = take(c);
        if !p.is_null() {
            return p;
        }
        // SAFETY: a non-zero size; the C library's malloc (which any
        // alignment up to `ALIGN` gets from it) is asked for it.
        unsafe { System.alloc(Layout::from_size_align_unchecked(usable(c), 8)) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if class_of(&layout).is_none() {
            // SAFETY: the caller's layout, passed on.
            return unsafe { System.alloc_zeroed(layout) };
        }
        // SAFETY: as `alloc`; the block has at least `layout.size()` bytes.
        unsafe {
            let p = self.alloc(layout);
            if !p.is_null() {
                ptr::write_bytes(p, 0, layout.size());
            }
            p
        }
    }

    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if let Some(c) = class_of(&layout)
            && give(c, p)
        {
            return;
        }
        // SAFETY: a block the system allocator made (the C library's
        // free reads no size from the layout).
        unsafe { System.dealloc(p, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `new_size` is non-zero and, rounded up to the
        // alignment, fits `isize` (the caller's promise).
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let Some(new_c) = class_of(&new) else {
            // A large block: the system allocator's (it may grow it in
            // place); a small one it was made for is its block too.
            // SAFETY: the caller's block and layout, passed on.
            return unsafe { System.realloc(p, layout, new_size) };
        };
        if class_of(&layout) == Some(new_c) {
            // The block has the class's usable size.
            return p;
        }
        // Into a block of the new class (so every block kept here has
        // its class's usable size, whatever the C library's realloc
        // would have returned).
        // SAFETY: both blocks hold the smaller size; `p` is freed once,
        // here.
        unsafe {
            let q = self.alloc(new);
            if !q.is_null() {
                ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                self.dealloc(p, layout);
            }
            q
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn every_class_holds_its_sizes_and_blocks_are_reused() {
        for size in [1, 8, 9, 24, 25, 100, 1031, 1032, 1033, 5000] {
            let l = layout(size, 8);
            if let Some(c) = class_of(&l) {
                assert!(
                    usable(c) >= size && (c == 0 || usable(c - 1) < size),
                    "{size}"
                );
            } else {
                assert!(size > 1032, "{size}");
            }
        }
        let a = SmallBlocks;
        let l = layout(40, 8);
        // SAFETY: blocks of `l`, written within their size, freed once.
        unsafe {
            let p = a.alloc(l);
            assert_eq!(p.addr() % ALIGN, 0);
            p.write_bytes(0xab, 40);
            a.dealloc(p, l);
            // The freed block is the next one of its class on this thread.
            let q = a.alloc(l);
            assert_eq!(p, q);
            let z = a.alloc_zeroed(l);
            assert!((0..40).all(|i| *z.add(i) == 0));
            a.dealloc(q, l);
            a.dealloc(z, l);
        }
    }

    #[test]
    fn realloc_keeps_the_contents_across_classes_and_to_the_system() {
        let a = SmallBlocks;
        // SAFETY: each block is used within its current size and freed once.
        unsafe {
            let mut size = 3;
            let mut p = a.alloc(layout(size, 1));
            for i in 0..size {
                *p.add(i) = i as u8;
            }
            for next in [7, 24, 25, 600, 1032, 4000, 90_000, 500, 2] {
                p = a.realloc(p, layout(size, 1), next);
                assert!(!p.is_null());
                for i in 0..size.min(next) {
                    assert_eq!(*p.add(i), i as u8, "{size} -> {next} at {i}");
                }
                for i in size.min(next)..next {
                    *p.add(i) = i as u8;
                }
                size = next;
            }
            a.dealloc(p, layout(size, 1));
            // Over-aligned blocks are the system's.
            let big = layout(64, 64);
            assert!(class_of(&big).is_none());
            let p = a.alloc(big);
            assert_eq!(p.addr() % 64, 0);
            a.dealloc(p, big);
        }
    }

    #[test]
    fn a_class_keeps_no_more_than_its_share() {
        let a = SmallBlocks;
        let l = layout(1000, 8);
        let c = class_of(&l).unwrap();
        // SAFETY: blocks of `l`, freed once each.
        unsafe {
            let blocks: Vec<*mut u8> = (0..keep(c) as usize + 5).map(|_| a.alloc(l)).collect();
            for &p in &blocks {
                a.dealloc(p, l);
            }
        }
        LISTS.with(|lists| {
            // SAFETY: this thread's lists, read while nothing allocates.
            let lists = unsafe { &*lists.get() };
            assert_eq!(lists.counts[c], keep(c));
        });
    }

    #[test]
    fn a_link_overwritten_in_a_freed_block_does_not_decode_to_a_block() {
        let at = 0x7f00_1234_5670usize as *mut u8;
        let next = 0x7f00_1234_9980usize as *mut u8;
        let stored = hide(at, next);
        assert_ne!(stored, next.addr());
        assert_eq!(unhide(at, stored), next);
        assert_eq!(unhide(at, hide(at, ptr::null_mut())), ptr::null_mut());
        // A plain address written over the link (what an unmixed list would
        // hand out next) decodes to one that is not aligned, unless bits 12
        // to 15 of where it is stored happen to be zero: the process stops.
        let raw = next.addr();
        assert_ne!((raw ^ (at.addr() >> 12)) % ALIGN, 0);
    }
}
