//! Small blocks without headers, in front of the system allocator.
//!
//! A lint run allocates and frees millions of small blocks (parsed
//! scalars, tree nodes, JSON values, Lua objects), and what `mclint check`
//! keeps of a large stream until its end is mostly small blocks: the JSON
//! of every object cut down to what the rules over the whole set read.
//! The C library puts an 8-byte header before each block and rounds it up
//! to 16 bytes, so a 24-byte string took 32 and a 64-byte map 80: a fifth
//! of what a 100,000-document run held was that. Its bins are also a
//! quarter of a chart lint's instructions.
//!
//! So blocks of up to 1,024 bytes are cut here, back to back, out of
//! spans taken from the system allocator, in size classes 8 bytes apart
//! up to 256 and 16 apart above; a freed block goes onto its class's list
//! on the freeing thread and is the next one that class hands out there.
//! Classes whose size is a multiple of 16 are cut at 16-byte boundaries,
//! so a block asked for with an alignment of 16 (the Lua VM asks every
//! one so) comes from one of them. Larger or more aligned blocks are the
//! system allocator's.
//!
//! What `check` keeps to the end of a run is copied, as it is kept, into
//! blocks cut from spans of their own ([`keeping`]), so that it lies
//! together and the blocks the next documents' parsing takes and frees
//! stay together too: at 100,000 documents the whole lint took about a
//! tenth less time, for 2 MiB more.
//!
//! Spans are never given back, and a freed block serves only its class:
//! what is held is at most the most each class held at once, plus the
//! unused end of each thread's current span. Blocks left on the lists of a
//! thread that exits are not given back either (mclint starts one thread,
//! in `diff`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;

/// Blocks of more bytes than this are the system allocator's.
const MAX_SMALL: usize = 1024;
/// Classes 0..32 hold 8 (c + 1) bytes, 32..CLASSES 256 + 16 (c - 31).
const CLASSES: usize = 32 + (MAX_SMALL - 256) / 16;
/// The alignment no block asks more than to be one of ours.
const ALIGN: usize = 16;
/// Bytes of the first span a thread takes; each next one is twice the
/// last, up to [`MAX_SPAN`], so a chart lint takes little and a large
/// stream few spans.
const FIRST_SPAN: usize = 64 << 10;
const MAX_SPAN: usize = 4 << 20;

struct Lists {
    /// Each class's freed blocks, linked through their first word.
    heads: [*mut u8; CLASSES],
    /// The unused part of the current span: `next..end`.
    next: *mut u8,
    end: *mut u8,
    /// Bytes of the next span to take.
    span: usize,
}

/// A thread's lists: those of blocks in use for a while, and those of
/// blocks kept to the end of a run (see [`keeping`]).
struct Heap {
    lists: Lists,
    kept: Lists,
    keeping: bool,
}

const NO_LISTS: Lists = Lists {
    heads: [ptr::null_mut(); CLASSES],
    next: ptr::null_mut(),
    end: ptr::null_mut(),
    span: FIRST_SPAN,
};

thread_local! {
    static HEAP: UnsafeCell<Heap> = const {
        UnsafeCell::new(Heap {
            lists: NO_LISTS,
            kept: NO_LISTS,
            keeping: false,
        })
    };
}

/// Runs `f` with this thread's new blocks cut from spans of their own,
/// apart from those of blocks in use for a while: what `check` keeps of
/// each document to the end of a run is copied there, so that it lies
/// together (the rules over the whole set read it all, several times)
/// instead of among the blocks each next document's parsing takes and
/// frees, which then stay together too. Freed blocks go onto the usual
/// lists either way. Without this allocator (the library's tests), the
/// setting changes nothing.
pub fn keeping<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let was = self.0;
            with_heap(|h| h.keeping = was);
        }
    }
    let was = with_heap(|h| std::mem::replace(&mut h.keeping, true)).unwrap_or(false);
    let _restore = Restore(was);
    f()
}

/// The class of a block of this layout, if it is one of ours.
#[inline]
fn class_of(layout: &Layout) -> Option<usize> {
    let size = layout.size().max(1);
    if size > MAX_SMALL || layout.align() > ALIGN {
        return None;
    }
    // A block aligned to 16 is one whose class holds a multiple of 16.
    let size = if layout.align() > 8 {
        size.next_multiple_of(16)
    } else {
        size
    };
    Some(if size <= 256 {
        size.div_ceil(8) - 1
    } else {
        31 + (size - 256).div_ceil(16)
    })
}

/// Bytes of a block of class `c`.
#[inline]
fn class_size(c: usize) -> usize {
    if c < 32 {
        8 * (c + 1)
    } else {
        256 + 16 * (c - 31)
    }
}

/// The alignment blocks of class `c` are cut at.
#[inline]
fn class_align(c: usize) -> usize {
    if class_size(c).is_multiple_of(16) {
        16
    } else {
        8
    }
}

/// The link to the next free block, as stored in the block at `at`:
/// mixed with the address it is stored at, as glibc stores its own
/// lists' links ("safe-linking"), so that a stray write into a freed
/// block (a use after free in C code, the Lua VM's say) does not hand
/// out an address of the writer's choosing.
#[inline]
fn hide(at: *mut u8, next: *mut u8) -> usize {
    next.expose_provenance() ^ (at.addr() >> 12)
}

/// The link [`hide`] stored at `at`, in a list of blocks aligned to
/// `align`. One that does not decode to such a block (null ends a list)
/// means the freed block was written to: the process stops rather than
/// hand the address out.
#[inline]
fn unhide(at: *mut u8, stored: usize, align: usize) -> *mut u8 {
    let next = stored ^ (at.addr() >> 12);
    if !next.is_multiple_of(align) {
        std::process::abort();
    }
    ptr::with_exposed_provenance_mut(next)
}

impl Lists {
    /// A block of class `c`: a freed one, or one cut from the span.
    #[inline]
    fn take(&mut self, c: usize) -> *mut u8 {
        let head = self.heads[c];
        if !head.is_null() {
            // SAFETY: a free block holds the next one in its first word
            // (every block has at least 8 bytes, aligned to 8).
            let stored = unsafe { *(head as *const usize) };
            self.heads[c] = unhide(head, stored, class_align(c));
            return head;
        }
        self.cut(c)
    }

    /// A new block of class `c` from the current span, or from a new one.
    fn cut(&mut self, c: usize) -> *mut u8 {
        let size = class_size(c);
        let align = class_align(c);
        let start = self.next.addr().next_multiple_of(align);
        if self.next.is_null() || start + size > self.end.addr() {
            // What is left of the span is cut into blocks of the classes
            // that fit it, so no byte of it is lost.
            self.spend_rest();
            let bytes = self.span;
            // SAFETY: a non-zero size and a valid alignment.
            let span = unsafe { System.alloc(Layout::from_size_align_unchecked(bytes, 4096)) };
            if span.is_null() {
                return span;
            }
            self.span = (bytes * 2).min(MAX_SPAN);
            self.next = span;
            // SAFETY: the end of the span just taken.
            self.end = unsafe { span.add(bytes) };
            return self.cut(c);
        }
        if start != self.next.addr() {
            // The 8 bytes skipped to reach a 16-byte boundary are a block
            // of the smallest class.
            let gap = self.next;
            self.give(0, gap);
        }
        let p = self.next.with_addr(start);
        // SAFETY: `start + size` is within the span (checked above).
        self.next = unsafe { p.add(size) };
        p
    }

    /// Puts what is left of the current span on the free lists, in the
    /// largest blocks that fit.
    fn spend_rest(&mut self) {
        if self.next.is_null() {
            return;
        }
        loop {
            let left = self.end.addr() - self.next.addr();
            if left < 8 {
                break;
            }
            // The largest class that fits from `next`, at its alignment.
            let fits = (0..CLASSES).rev().find(|&c| {
                let start = self.next.addr().next_multiple_of(class_align(c));
                start + class_size(c) <= self.end.addr()
            });
            let Some(c) = fits else { break };
            let p = self.cut(c);
            self.give(c, p);
        }
        self.next = ptr::null_mut();
        self.end = ptr::null_mut();
    }

    /// Frees block `p` of class `c`. A block freed twice in a row (the
    /// commonest double free) stops the process, as glibc does, instead of
    /// being handed out twice.
    #[inline]
    fn give(&mut self, c: usize, p: *mut u8) {
        if p == self.heads[c] {
            std::process::abort();
        }
        // SAFETY: `p` is a block of class `c` (at least 8 bytes, aligned
        // to 8) that its owner has freed.
        unsafe { *(p as *mut usize) = hide(p, self.heads[c]) };
        self.heads[c] = p;
    }
}

/// Runs `f` on this thread's heap; `None` once the thread's storage is
/// gone (while it exits).
#[inline]
fn with_heap<R>(f: impl FnOnce(&mut Heap) -> R) -> Option<R> {
    HEAP.try_with(|h| {
        // SAFETY: the heap is this thread's, and nothing else runs while
        // it is changed (`f` calls the system allocator at most, never
        // this one).
        f(unsafe { &mut *h.get() })
    })
    .ok()
}

/// Runs `f` on this thread's lists of blocks in use for a while.
#[inline]
fn with_lists<R>(f: impl FnOnce(&mut Lists) -> R) -> Option<R> {
    with_heap(|h| f(&mut h.lists))
}

pub struct SmallBlocks;

// SAFETY: a block of a small layout is cut from a span of the system
// allocator's, within it, at least its layout's size and alignment, and
// handed out once until it is freed again; every other block is the
// system allocator's, asked for with the caller's layout.
unsafe impl GlobalAlloc for SmallBlocks {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class_of(&layout) {
            Some(c) => with_heap(|h| {
                if h.keeping {
                    h.kept.take(c)
                } else {
                    h.lists.take(c)
                }
            })
            .unwrap_or_else(|| {
                // The thread's lists are gone (on platforms whose
                // thread-locals can be destroyed before the thread's last
                // allocation): a block of its own, never freed (its dealloc
                // would find no lists either).
                // SAFETY: a non-zero size and a valid alignment.
                unsafe { System.alloc(Layout::from_size_align_unchecked(class_size(c), ALIGN)) }
            }),
            // SAFETY: the caller's layout, passed on.
            None => unsafe { System.alloc(layout) },
        }
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
        match class_of(&layout) {
            // A block freed while its thread exits is left where it is.
            Some(c) => {
                with_lists(|l| l.give(c, p));
            }
            // SAFETY: a block the system allocator made with this layout.
            None => unsafe { System.dealloc(p, layout) },
        }
    }

    #[inline]
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `new_size` is non-zero and, rounded up to the
        // alignment, fits `isize` (the caller's promise).
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let old_c = class_of(&layout);
        let new_c = class_of(&new);
        match (old_c, new_c) {
            // The block has its class's size.
            (Some(a), Some(b)) if a == b => p,
            // A large block stays the system allocator's (which may grow
            // it in place).
            // SAFETY: the caller's block and layout, passed on.
            (None, None) => unsafe { System.realloc(p, layout, new_size) },
            // Into a block of the new class or size.
            // SAFETY: both blocks hold the smaller size; `p` is freed
            // once, here, with the layout it was made with.
            _ => unsafe {
                let q = self.alloc(new);
                if !q.is_null() {
                    ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                    self.dealloc(p, layout);
                }
                q
            },
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
    fn blocks_made_while_keeping_come_from_spans_of_their_own() {
        // Each test runs on a thread of its own: its heap starts empty.
        let l = layout(40, 8);
        let c = class_of(&l).unwrap();
        // SAFETY: blocks of this allocator, freed once with their layout.
        unsafe {
            let usual = SmallBlocks.alloc(l);
            let kept = keeping(|| SmallBlocks.alloc(l));
            let (next, kept_free) = with_heap(|h| (h.kept.next, h.kept.heads[c])).unwrap();
            assert_eq!(
                kept.addr() + class_size(c),
                next.addr(),
                "cut from the kept span"
            );
            assert!(kept_free.is_null());
            assert!(usual.addr().abs_diff(kept.addr()) >= class_size(c));
            // Freed blocks go onto the usual lists, whichever span they are of.
            SmallBlocks.dealloc(kept, l);
            assert_eq!(with_lists(|l| l.heads[c]).unwrap(), kept);
            SmallBlocks.dealloc(usual, l);
        }
        assert!(!with_heap(|h| h.keeping).unwrap());
        let nested = keeping(|| {
            keeping(|| ());
            with_heap(|h| h.keeping).unwrap()
        });
        assert!(nested, "an inner keeping leaves the outer one on");
        let _ = std::panic::catch_unwind(|| keeping(|| panic!("inside keeping")));
        assert!(!with_heap(|h| h.keeping).unwrap(), "restored after a panic");
    }

    #[test]
    fn every_class_holds_its_sizes_at_its_alignment() {
        for size in (0..=MAX_SMALL + 1).chain([5000]) {
            for align in [1, 8, 16, 32] {
                let l = layout(size, align);
                match class_of(&l) {
                    Some(c) => {
                        assert!(c < CLASSES);
                        assert!(class_size(c) >= size.max(1), "{size}");
                        assert!(class_align(c) >= align, "{size} {align}");
                        // The smallest class that holds it, at that alignment.
                        assert!(
                            (0..c).all(|d| class_size(d) < size || class_align(d) < align),
                            "{size} {align}"
                        );
                    }
                    None => assert!(size > MAX_SMALL || align > ALIGN, "{size} {align}"),
                }
            }
        }
        assert_eq!(class_size(CLASSES - 1), MAX_SMALL);
    }

    #[test]
    fn blocks_are_aligned_apart_and_reused_last_freed_first() {
        let a = SmallBlocks;
        // SAFETY: blocks of their layouts, written within their size,
        // freed once each.
        unsafe {
            let mut held: Vec<(*mut u8, Layout)> = Vec::new();
            for i in 0..20_000usize {
                let l = layout(1 + i % 700, if i % 3 == 0 { 16 } else { 8 });
                let p = a.alloc(l);
                assert!(!p.is_null());
                assert_eq!(p.addr() % l.align(), 0);
                p.write_bytes((i % 251) as u8, l.size());
                held.push((p, l));
            }
            // No two blocks overlap, and none was overwritten.
            let mut spans: Vec<(usize, usize)> = held
                .iter()
                .map(|(p, l)| (p.addr(), p.addr() + l.size()))
                .collect();
            spans.sort();
            assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0));
            for (i, (p, l)) in held.iter().enumerate() {
                assert!((0..l.size()).all(|k| *p.add(k) == (i % 251) as u8), "{i}");
            }
            for (p, l) in held.drain(..) {
                a.dealloc(p, l);
            }
            let l = layout(40, 8);
            let p = a.alloc(l);
            a.dealloc(p, l);
            assert_eq!(a.alloc(l), p);
            let z = a.alloc_zeroed(l);
            assert!((0..40).all(|i| *z.add(i) == 0));
            a.dealloc(p, l);
            a.dealloc(z, l);
        }
    }

    #[test]
    fn a_block_freed_by_an_8_aligned_owner_serves_a_16_aligned_one() {
        let a = SmallBlocks;
        // SAFETY: blocks of their layouts, freed once each.
        unsafe {
            for size in [9usize, 17, 24, 32, 40, 48, 250, 264, 1000] {
                let p = a.alloc(layout(size.next_multiple_of(16), 8));
                a.dealloc(p, layout(size.next_multiple_of(16), 8));
                let q = a.alloc(layout(size, 16));
                assert_eq!(q.addr() % 16, 0, "{size}");
                a.dealloc(q, layout(size, 16));
            }
        }
    }

    #[test]
    fn realloc_keeps_the_contents_across_classes_and_to_the_system() {
        let a = SmallBlocks;
        // SAFETY: each block is used within its current size and freed once.
        unsafe {
            for align in [1, 16] {
                let mut size = 3;
                let mut p = a.alloc(layout(size, align));
                for i in 0..size {
                    *p.add(i) = i as u8;
                }
                for next in [7, 24, 25, 600, 1024, 4000, 90_000, 500, 1025, 2] {
                    p = a.realloc(p, layout(size, align), next);
                    assert!(!p.is_null());
                    assert_eq!(p.addr() % align, 0);
                    for i in 0..size.min(next) {
                        assert_eq!(*p.add(i), i as u8, "{size} -> {next} at {i}");
                    }
                    for i in size.min(next)..next {
                        *p.add(i) = i as u8;
                    }
                    size = next;
                }
                a.dealloc(p, layout(size, align));
            }
            // Over-aligned blocks are the system's.
            let big = layout(64, 64);
            assert!(class_of(&big).is_none());
            let p = a.alloc(big);
            assert_eq!(p.addr() % 64, 0);
            a.dealloc(p, big);
        }
    }

    #[test]
    fn the_rest_of_a_span_is_not_lost() {
        // A span of 1,000 bytes cut for a block of 600 (608 with its
        // class): the other 392 go onto the lists when the next span is
        // needed. (Nothing allocates through these lists while they are
        // borrowed.)
        let span = vec![0u64; 125].leak().as_mut_ptr() as *mut u8;
        let c600 = class_of(&layout(600, 8)).unwrap();
        let (first, gained) = with_lists(|l| {
            let saved = (l.next, l.end);
            l.next = span;
            // SAFETY: within the leaked buffer.
            l.end = unsafe { span.add(1000) };
            let first = l.cut(c600);
            let heads = l.heads;
            l.spend_rest();
            let mut gained = [(0usize, 0usize); CLASSES];
            for c in 0..CLASSES {
                // Each block given, taken back off (the buffer is leaked,
                // so one left on a list would be safe to hand out too).
                while l.heads[c] != heads[c] {
                    let p = l.take(c);
                    gained[c].0 += 1;
                    gained[c].1 = gained[c].1.max(p.addr() + class_size(c) - span.addr());
                }
            }
            (l.next, l.end) = saved;
            (first, gained)
        })
        .unwrap();
        assert_eq!(first, span);
        let bytes: usize = (0..CLASSES).map(|c| gained[c].0 * class_size(c)).sum();
        assert_eq!(class_size(c600), 608);
        assert_eq!(bytes, 392);
        assert!(gained.iter().all(|&(_, end)| end <= 1000));
    }

    #[test]
    fn the_bytes_skipped_to_a_16_byte_boundary_are_not_lost() {
        let span = vec![0u64; 16].leak().as_mut_ptr() as *mut u8;
        let (c24, c32) = (
            class_of(&layout(24, 8)).unwrap(),
            class_of(&layout(32, 8)).unwrap(),
        );
        let (a, b, gap) = with_lists(|l| {
            let saved = (l.next, l.end, l.heads[0]);
            l.next = span;
            // SAFETY: within the leaked buffer of 128 bytes.
            l.end = unsafe { span.add(128) };
            let a = l.cut(c24);
            let b = l.cut(c32);
            let gap = l.take(0);
            (l.next, l.end, l.heads[0]) = saved;
            (a, b, gap)
        })
        .unwrap();
        assert_eq!(span.addr() % 16, 0);
        assert_eq!((a.addr() - span.addr(), b.addr() - span.addr()), (0, 32));
        assert_eq!(gap.addr() - span.addr(), 24);
    }

    #[test]
    fn a_link_overwritten_in_a_freed_block_does_not_decode_to_a_block() {
        let at = 0x7f00_1234_5670usize as *mut u8;
        let next = 0x7f00_1234_9980usize as *mut u8;
        let stored = hide(at, next);
        assert_ne!(stored, next.addr());
        assert_eq!(unhide(at, stored, 16), next);
        assert_eq!(unhide(at, hide(at, ptr::null_mut()), 16), ptr::null_mut());
        // A plain address written over the link (what an unmixed list would
        // hand out next) decodes to one that is not aligned, unless bits 12
        // to 15 of where it is stored happen to be zero: the process stops.
        let raw = next.addr();
        assert_ne!((raw ^ (at.addr() >> 12)) % 16, 0);
    }
}
