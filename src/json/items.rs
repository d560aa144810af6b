//! The items of a JSON list or the entries of a map: one pointer to one
//! allocation holding a reference count, the length and the items, so
//! that equal lists and maps of what `check` keeps can be one list held
//! once ([`super::Strings`] finds them).
//!
//! An 8-byte header where a `Vec` takes 24 bytes beside its items and
//! `thin_vec` 16 in its allocation. The length is exact (there is no spare
//! room): lists and maps are built once, from a parsed document, and the
//! few edits (cutting what is not kept) rebuild them. A list shared by
//! several values is copied before it is changed, so sharing never shows.

use std::alloc::{self, Layout};
use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

#[repr(C)]
struct Header {
    count: Cell<u32>,
    len: u32,
}

/// A shared, exactly sized list of `T` (empty without an allocation).
pub struct Items<T> {
    /// The allocation, or [`NONE`] for an empty list: a pointer that is
    /// never null, so that an `Option` of a list (or of a string, see
    /// [`super::Str`]) takes no more room than the list.
    ptr: NonNull<Header>,
    owns: PhantomData<T>,
}

/// The pointer of an empty list: the lowest address aligned as a header,
/// where no allocation can be. Never read through.
const NONE: NonNull<Header> = NonNull::dangling();

impl<T> Items<T> {
    pub const fn new() -> Items<T> {
        Items {
            ptr: NONE,
            owns: PhantomData,
        }
    }

    /// The allocation, if the list has one.
    fn allocation(&self) -> Option<NonNull<Header>> {
        (self.ptr != NONE).then_some(self.ptr)
    }

    /// Where the items start in the allocation.
    const OFFSET: usize = size_of::<Header>().next_multiple_of(align_of::<T>());

    /// The allocation's layout for `len` items.
    fn layout(len: usize) -> Layout {
        let (layout, offset) = Layout::new::<Header>()
            .extend(Layout::array::<T>(len).expect("a list that fits in memory"))
            .expect("a list that fits in memory");
        debug_assert_eq!(offset, Self::OFFSET);
        layout.pad_to_align()
    }

    /// A new allocation for `len` items (at least one), its header written
    /// (one holder); the items are the caller's to write.
    fn allocate(len: usize) -> NonNull<Header> {
        let header = Header {
            count: Cell::new(1),
            // An input budget of 256 MiB holds far fewer items than this.
            len: u32::try_from(len).expect("a list of fewer than 2^32 items"),
        };
        let layout = Self::layout(len);
        // SAFETY: a layout of non-zero size (it holds the header).
        let p = unsafe { alloc::alloc(layout) }.cast::<Header>();
        let Some(p) = NonNull::new(p) else {
            alloc::handle_alloc_error(layout)
        };
        // SAFETY: the header's place at the start of the new allocation.
        unsafe { p.as_ptr().write(header) };
        p
    }

    /// Where the items of the allocation at `p` start.
    fn items_of(p: NonNull<Header>) -> *mut T {
        // SAFETY: within the allocation (at its end for no items).
        unsafe { p.as_ptr().cast::<u8>().add(Self::OFFSET).cast() }
    }

    fn data(&self) -> *mut T {
        match self.allocation() {
            Some(p) => Self::items_of(p),
            None => NonNull::dangling().as_ptr(),
        }
    }

    pub fn len(&self) -> usize {
        match self.allocation() {
            // SAFETY: a live allocation's header.
            Some(p) => unsafe { p.as_ref().len as usize },
            None => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ptr == NONE
    }

    /// Is this the same allocation as `other` (or are both empty)?
    pub fn same(&self, other: &Items<T>) -> bool {
        self.ptr == other.ptr
    }

    /// The address of the allocation (0 when empty), which stands for the
    /// list where lists are told apart by identity.
    pub fn addr(&self) -> usize {
        self.allocation().map_or(0, |p| p.as_ptr().addr())
    }

    /// Is this the one value holding the list?
    fn unique(&self) -> bool {
        match self.allocation() {
            // SAFETY: a live allocation's header.
            Some(p) => unsafe { p.as_ref().count.get() == 1 },
            None => true,
        }
    }

    /// Moves the items into a new allocation among the blocks kept to the
    /// end of a run ([`crate::small_blocks::keeping`]), the old one freed,
    /// when this is their one holder; a shared list stays where it is.
    pub fn relocate(&mut self) {
        let Some(p) = self.allocation() else {
            return;
        };
        if !self.unique() {
            return;
        }
        let len = self.len();
        let q = crate::small_blocks::keeping(|| Self::allocate(len));
        // SAFETY: the `len` items are moved into the new allocation, and
        // the old one, which nothing else holds, is freed without dropping
        // them.
        unsafe {
            ptr::copy_nonoverlapping(Self::items_of(p), Self::items_of(q), len);
            alloc::dealloc(p.as_ptr().cast(), Self::layout(len));
        }
        self.ptr = q;
    }

    /// The items, moved out of the allocation (which is freed) when this
    /// was its one holder.
    fn into_vec_unique(mut self) -> Result<Vec<T>, Items<T>> {
        if !self.unique() {
            return Err(self);
        }
        let len = self.len();
        let Some(p) = self.allocation() else {
            return Ok(Vec::new());
        };
        self.ptr = NONE;
        let mut v = Vec::with_capacity(len);
        // SAFETY: the `len` items are moved into `v`, and the allocation,
        // which nothing else holds, is freed without dropping them.
        unsafe {
            ptr::copy_nonoverlapping(Self::items_of(p), v.as_mut_ptr(), len);
            v.set_len(len);
            alloc::dealloc(p.as_ptr().cast(), Self::layout(len));
        }
        Ok(v)
    }
}

impl<T: Clone> Items<T> {
    /// The items as a `Vec`: moved when this is their one holder, cloned
    /// otherwise.
    pub fn into_vec(self) -> Vec<T> {
        self.into_vec_unique()
            .unwrap_or_else(|shared| shared.to_vec())
    }

    /// Edits the items as a `Vec`, then holds them exactly sized again.
    pub fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<T>) -> R) -> R {
        let mut v = std::mem::take(self).into_vec();
        let r = f(&mut v);
        *self = Items::from(v);
        r
    }

    pub fn push(&mut self, item: T) {
        self.edit(|v| v.push(item));
    }

    pub fn insert(&mut self, i: usize, item: T) {
        self.edit(|v| v.insert(i, item));
    }

    pub fn remove(&mut self, i: usize) -> T {
        self.edit(|v| v.remove(i))
    }

    pub fn retain_mut(&mut self, keep: impl FnMut(&mut T) -> bool) {
        if !self.is_empty() {
            self.edit(|v| v.retain_mut(keep));
        }
    }
}

impl<T> From<Vec<T>> for Items<T> {
    fn from(mut v: Vec<T>) -> Items<T> {
        let len = v.len();
        if len == 0 {
            return Items::new();
        }
        let p = Self::allocate(len);
        // SAFETY: the `len` items are written into the new allocation, and
        // `v` gives up its items without dropping them.
        unsafe {
            ptr::copy_nonoverlapping(v.as_ptr(), Self::items_of(p), len);
            v.set_len(0);
        }
        Items {
            ptr: p,
            owns: PhantomData,
        }
    }
}

/// A copy of the items of a slice, written straight into the allocation.
impl<T: Copy> From<&[T]> for Items<T> {
    fn from(items: &[T]) -> Items<T> {
        let len = items.len();
        if len == 0 {
            return Items::new();
        }
        let p = Self::allocate(len);
        // SAFETY: `len` items copied into the new allocation's room for them.
        unsafe { ptr::copy_nonoverlapping(items.as_ptr(), Self::items_of(p), len) };
        Items {
            ptr: p,
            owns: PhantomData,
        }
    }
}

impl<T> std::ops::Deref for Items<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: `len` initialized items (or an empty slice at a dangling,
        // aligned pointer).
        unsafe { std::slice::from_raw_parts(self.data(), self.len()) }
    }
}

/// Changing the items first copies them when another value holds them too.
impl<T: Clone> std::ops::DerefMut for Items<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        if !self.unique() {
            *self = Items::from(self.to_vec());
        }
        // SAFETY: this value is the items' one holder.
        unsafe { std::slice::from_raw_parts_mut(self.data(), self.len()) }
    }
}

impl<T> Clone for Items<T> {
    fn clone(&self) -> Items<T> {
        if let Some(p) = self.allocation() {
            // SAFETY: a live allocation's header.
            let count = unsafe { &p.as_ref().count };
            let before = count.get();
            count.set(before + 1);
            if before >= u32::MAX / 2 {
                // As `Arc` does: a count this high means copies leaked.
                std::process::abort();
            }
        }
        Items {
            ptr: self.ptr,
            owns: PhantomData,
        }
    }
}

impl<T> Drop for Items<T> {
    fn drop(&mut self) {
        let Some(p) = self.allocation() else {
            return;
        };
        // SAFETY: a live allocation's header; the last holder drops the
        // items and frees the allocation.
        unsafe {
            let count = &p.as_ref().count;
            let before = count.get();
            count.set(before - 1);
            if before != 1 {
                return;
            }
            let len = p.as_ref().len as usize;
            ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(self.data(), len));
            alloc::dealloc(p.as_ptr().cast(), Self::layout(len));
        }
    }
}

impl<T> Default for Items<T> {
    fn default() -> Items<T> {
        Items::new()
    }
}

impl<T: PartialEq> PartialEq for Items<T> {
    fn eq(&self, other: &Items<T>) -> bool {
        self.same(other) || **self == **other
    }
}

impl<T: Eq> Eq for Items<T> {}

impl<T: std::fmt::Debug> std::fmt::Debug for Items<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Items of an iterator that tells its length exactly are written straight
/// into their allocation (a parsed list or map is built so); others are
/// gathered first.
impl<T> FromIterator<T> for Items<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Items<T> {
        let mut iter = iter.into_iter();
        let len = match iter.size_hint() {
            (lo, Some(hi)) if lo == hi && lo > 0 && u32::try_from(lo).is_ok() => lo,
            _ => return Items::from(iter.collect::<Vec<T>>()),
        };
        let p = Self::allocate(len);
        /// Drops what was written and frees the allocation if the
        /// iterator panics, or when the items move elsewhere.
        struct Filling<T> {
            p: NonNull<Header>,
            len: usize,
            written: usize,
            owns: PhantomData<T>,
        }
        impl<T> Drop for Filling<T> {
            fn drop(&mut self) {
                // SAFETY: the first `written` items were written; the
                // allocation is one of `len` items.
                unsafe {
                    ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                        Items::<T>::items_of(self.p),
                        self.written,
                    ));
                    alloc::dealloc(self.p.as_ptr().cast(), Items::<T>::layout(self.len));
                }
            }
        }
        let mut filling = Filling::<T> {
            p,
            len,
            written: 0,
            owns: PhantomData,
        };
        let data = Self::items_of(p);
        for item in iter.by_ref().take(len) {
            // SAFETY: within the `len` items' room.
            unsafe { data.add(filling.written).write(item) };
            filling.written += 1;
        }
        // An iterator that told its length wrong may hold more yet.
        let more = if filling.written == len {
            iter.next()
        } else {
            None
        };
        if filling.written < len || more.is_some() {
            // Gathered again, with all it holds.
            let mut v: Vec<T> = Vec::with_capacity(filling.written + 1);
            // SAFETY: the written items move into `v`; the guard then
            // frees the allocation without dropping them.
            unsafe {
                ptr::copy_nonoverlapping(data, v.as_mut_ptr(), filling.written);
                v.set_len(filling.written);
            }
            filling.written = 0;
            drop(filling);
            v.extend(more);
            v.extend(iter);
            return Items::from(v);
        }
        // The `len` items are written: the allocation is the list's.
        std::mem::forget(filling);
        Items {
            ptr: p,
            owns: PhantomData,
        }
    }
}

impl<'a, T> IntoIterator for &'a Items<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T: Clone> IntoIterator for &'a mut Items<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<T: Clone> IntoIterator for Items<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn items_are_held_exactly_and_dropped_once() {
        let token = Rc::new(());
        let items: Items<Rc<()>> = (0..5).map(|_| token.clone()).collect();
        assert_eq!(items.len(), 5);
        assert_eq!(Rc::strong_count(&token), 6);
        let copy = items.clone();
        assert!(copy.same(&items));
        drop(items);
        assert_eq!(Rc::strong_count(&token), 6);
        drop(copy);
        assert_eq!(Rc::strong_count(&token), 1);
        let empty: Items<Rc<()>> = Vec::new().into();
        assert!(empty.is_empty() && empty.addr() == 0 && empty.iter().next().is_none());
        assert_eq!(std::mem::size_of::<Items<u64>>(), 8);
        // An empty list has a pointer that is not null: an optional list or
        // string takes no more room than one.
        assert_eq!(std::mem::size_of::<Option<Items<u64>>>(), 8);
        assert_eq!(std::mem::size_of::<Option<crate::json::Str>>(), 8);
        assert_eq!(std::mem::size_of::<crate::json::Value>(), 16);
    }

    #[test]
    fn a_list_held_once_moves_and_a_shared_one_stays() {
        let token = Rc::new(());
        let mut items: Items<Rc<()>> = (0..3).map(|_| token.clone()).collect();
        let first: Vec<*const ()> = items.iter().map(Rc::as_ptr).collect();
        // A second allocation alive, so the new one cannot be the old
        // address reused.
        let before = items.addr();
        let other: Items<Rc<()>> = vec![token.clone()].into();
        items.relocate();
        assert_ne!(items.addr(), before);
        assert_eq!(items.iter().map(Rc::as_ptr).collect::<Vec<_>>(), first);
        assert_eq!(
            Rc::strong_count(&token),
            5,
            "moved, neither dropped nor copied"
        );
        let copy = items.clone();
        let shared_at = items.addr();
        items.relocate();
        assert_eq!(items.addr(), shared_at);
        assert!(copy.same(&items));
        drop((items, copy, other));
        assert_eq!(Rc::strong_count(&token), 1);
        let mut empty: Items<Rc<()>> = Items::new();
        empty.relocate();
        assert!(empty.is_empty());
    }

    #[test]
    fn a_shared_list_is_copied_before_it_changes() {
        let mut a: Items<String> = vec!["x".to_string(), "y".to_string()].into();
        let b = a.clone();
        a[0].push('!');
        assert_eq!(&*a, ["x!", "y"]);
        assert_eq!(&*b, ["x", "y"]);
        assert!(!a.same(&b));
        let mut c = b.clone();
        c.push("z".into());
        c.insert(0, "w".into());
        assert_eq!(c.remove(1), "x");
        c.retain_mut(|s| s != "y");
        assert_eq!(&*c, ["w", "z"]);
        assert_eq!(&*b, ["x", "y"]);
        // The one holder's items move out, a shared list's are cloned.
        let shared = b.clone();
        assert_eq!(b.into_vec(), ["x", "y"]);
        assert_eq!(shared.into_iter().collect::<Vec<_>>(), ["x", "y"]);
    }

    /// An iterator that says it holds `said` items and holds `has`.
    struct Lying {
        said: usize,
        has: usize,
        taken: usize,
    }

    impl Iterator for Lying {
        type Item = String;
        fn next(&mut self) -> Option<String> {
            (self.has > 0).then(|| {
                self.has -= 1;
                self.taken += 1;
                self.has.to_string()
            })
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            // Told at first, then counted down to nothing (so that what
            // comes past the told length is only found by asking).
            let left = self.said.saturating_sub(self.taken);
            (left, Some(left))
        }
    }

    #[test]
    fn an_iterator_that_tells_its_length_wrong_gives_all_it_holds() {
        for (said, has) in [(3, 3), (3, 1), (3, 5), (0, 2), (2, 0)] {
            let items: Items<String> = Lying {
                said,
                has,
                taken: 0,
            }
            .collect();
            let expect: Vec<String> = (0..has).rev().map(|i| i.to_string()).collect();
            assert_eq!(&*items, expect.as_slice(), "{said} {has}");
        }
    }

    #[test]
    fn over_aligned_and_zero_sized_items() {
        #[derive(Clone, Debug, PartialEq)]
        #[repr(align(32))]
        struct Wide(u8);
        let w: Items<Wide> = (0..3).map(Wide).collect();
        assert_eq!(w.as_ptr().addr() % 32, 0);
        assert_eq!(&*w, [Wide(0), Wide(1), Wide(2)]);
        let z: Items<()> = vec![(), ()].into();
        assert_eq!(z.len(), 2);
        assert_eq!(z.clone(), z);
    }
}
