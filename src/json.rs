//! The JSON of a document, as the rules read it.
//!
//! A compact value: a map is one sorted array of (key, value) pairs, found
//! by binary search; a list is one array; a string a shared `str` (what
//! `check` keeps holds each text once: [`Strings`]). Each is one pointer,
//! with the length in the allocation, and a number is held inline, so a
//! value takes 16 bytes and a map entry 24, where `serde_json`'s
//! order-keeping map takes 112 bytes an entry in two allocations and hashes
//! every key it looks up. `mclint check` holds what the rules over the whole
//! set read of every object until the end of a run (see `crate::residue`),
//! so this size is what a large stream costs.
//!
//! The API follows `serde_json::Value`'s read API (`get`, `pointer`,
//! `as_str`, indexing that answers `Null` for what is not there), and a
//! value converts to and from `serde_json::Value` where a library needs one
//! (the full schema validator, writers).

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Deref;

/// A JSON number: an integer (as `serde_json` keeps one: unsigned when it
/// is not negative) or a finite float. Eight bytes and a tag, so that a
/// [`Value`] takes 16 bytes where `serde_json::Number` alone takes 16.
#[derive(Clone, Copy, PartialEq)]
pub struct Number(N);

#[derive(Clone, Copy, PartialEq)]
enum N {
    PosInt(u64),
    NegInt(i64),
    Float(f64),
}

impl Number {
    /// A number of a finite float (`None` for NaN and the infinities, which
    /// JSON has no way to write).
    pub fn from_f64(f: f64) -> Option<Number> {
        f.is_finite().then_some(Number(N::Float(f)))
    }

    pub fn is_i64(&self) -> bool {
        match self.0 {
            N::PosInt(u) => i64::try_from(u).is_ok(),
            N::NegInt(_) => true,
            N::Float(_) => false,
        }
    }

    pub fn is_u64(&self) -> bool {
        matches!(self.0, N::PosInt(_))
    }

    pub fn is_f64(&self) -> bool {
        matches!(self.0, N::Float(_))
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            N::PosInt(u) => i64::try_from(u).ok(),
            N::NegInt(i) => Some(i),
            N::Float(_) => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            N::PosInt(u) => Some(u),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        Some(match self.0 {
            N::PosInt(u) => u as f64,
            N::NegInt(i) => i as f64,
            N::Float(f) => f,
        })
    }

    /// As `serde_json` holds it.
    pub fn to_serde(self) -> serde_json::Number {
        match self.0 {
            N::PosInt(u) => u.into(),
            N::NegInt(i) => i.into(),
            N::Float(f) => serde_json::Number::from_f64(f).expect("finite by construction"),
        }
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Number {
        match u64::try_from(i) {
            Ok(u) => Number(N::PosInt(u)),
            Err(_) => Number(N::NegInt(i)),
        }
    }
}

impl From<u64> for Number {
    fn from(u: u64) -> Number {
        Number(N::PosInt(u))
    }
}

impl From<&serde_json::Number> for Number {
    fn from(n: &serde_json::Number) -> Number {
        if let Some(u) = n.as_u64() {
            Number(N::PosInt(u))
        } else if let Some(i) = n.as_i64() {
            Number(N::NegInt(i))
        } else {
            // A serde_json number is an integer or a finite float.
            Number(N::Float(n.as_f64().unwrap_or(0.0)))
        }
    }
}

impl PartialEq<serde_json::Number> for Number {
    fn eq(&self, other: &serde_json::Number) -> bool {
        *self == Number::from(other)
    }
}

/// As `serde_json` writes it.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_serde(), f)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_serde().serialize(s)
    }
}

/// A string of a value or a map key: one pointer to its text, which
/// copies share (what `check` keeps of thousands of objects holds each key
/// and each repeated value once: [`Strings`]). The count of holders, the
/// length and the text live in one allocation ([`Items`]: 8 bytes before
/// the text), behind a pointer of 8 bytes where `Arc<str>` takes 16; the
/// empty string has no allocation.
///
/// The count is not atomic, so a `Str` (and a [`Value`]) stays on the
/// thread that made it: a lint reads its documents on one thread, and a
/// locked count made each copy and drop of a string several times dearer
/// (sharing the strings of what `check` keeps is mostly copies and drops).
#[derive(Clone)]
pub struct Str(Items<u8>);

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Str {}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Str) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Str) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// As `str` hashes, so that a set of `Str` is found by a `&str`.
impl std::hash::Hash for Str {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

/// The empty string, which has no allocation.
impl Default for Str {
    fn default() -> Str {
        Str(Items::new())
    }
}

impl Str {
    pub fn as_str(&self) -> &str {
        // SAFETY: a `Str` is only ever made from a `&str` (`From<&str>`),
        // whose bytes are UTF-8, and its bytes are never changed.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// Is `other` the same text in the same allocation (or are both empty)?
    fn same(&self, other: &Str) -> bool {
        self.0.same(&other.0)
    }

    /// The address of the text's allocation (0 for the empty string).
    fn addr(&self) -> usize {
        self.0.addr()
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl serde::Serialize for Str {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        Str::from(s.as_str())
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str(Items::from(s.as_bytes()))
    }
}

impl From<&String> for Str {
    fn from(s: &String) -> Str {
        Str::from(s.as_str())
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        s.as_str().to_string()
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Str> for str {
    fn eq(&self, other: &Str) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Str> for String {
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == other.as_str()
    }
}

/// The strings, lists and maps met so far, each held once:
/// [`Value::share_strings`] makes a value's strings, and the lists and maps
/// within it, copies of these. A stream's objects repeat much of each
/// other (the same ports, mounts, arguments, probes and selector shapes),
/// and what `check` keeps of them holds each once. Strings are found by
/// their text; a list or a map by its items, whose strings, lists and maps
/// are already the held ones, so by their addresses. Hashed with keys
/// drawn at random, so input cannot be crafted to collide.
#[derive(Default)]
pub struct Strings {
    set: HashSet<Str, foldhash::quality::RandomState>,
    lists: HashSet<Shape<Value>, foldhash::quality::RandomState>,
    maps: HashSet<Shape<(Str, Value)>, foldhash::quality::RandomState>,
    /// Blocks of words (the line indexes of documents of one shape).
    words: HashSet<Shape<u32>, foldhash::quality::RandomState>,
    /// Blocks made from other blocks (see [`Strings::derived`]).
    derived: Derived,
    /// Words of the blocks `derived` is keyed by, bounded by
    /// [`DERIVED_WORDS`].
    derived_words: usize,
    /// The strings met last, each in the slot of its hash's low bits: a
    /// table small enough to stay in the processor's first cache, in front
    /// of `set`, whose size grows with the strings of the whole stream.
    /// Field names and the values every object repeats are found here.
    /// Empty until the first string is shared. Each is a copy of one
    /// `set` holds, not counted as a holder (see [`Strings::share`]).
    recent: Box<[(u64, Option<std::mem::ManuallyDrop<Str>>)]>,
    /// Lists and maps are left as they are while this is set.
    strings_only: bool,
}

/// Blocks made from blocks, by a tag and the block made from: the block
/// made and a number (see [`Strings::derived`]).
type Derived = HashMap<(Str, Shape<u32>), (Items<u32>, i64), foldhash::quality::RandomState>;

/// Slots of [`Strings::recent`] (16 bytes each).
const RECENT: usize = 1024;

/// The most words the keys of [`Strings::derived`] hold: 1 MiB. Past it,
/// blocks of new shapes are made again each time.
const DERIVED_WORDS: usize = 1 << 18;

impl Strings {
    pub fn new() -> Strings {
        Strings::default()
    }

    /// `s` as a copy of the string of the same text met before; `false`
    /// when none was (`s` is held from now on).
    pub fn share(&mut self, s: &mut Str) -> bool {
        use std::hash::BuildHasher;
        let hash = self.set.hasher().hash_one(s.as_str());
        if self.recent.is_empty() {
            self.recent = vec![(0, None); RECENT].into_boxed_slice();
        }
        let slot = hash as usize & (RECENT - 1);
        if let (h, Some(held)) = &self.recent[slot]
            && *h == hash
            && held.as_str() == s.as_str()
        {
            if !held.same(s) {
                *s = Str::clone(held);
            }
            return true;
        }
        let met = match self.set.get(s.as_str()) {
            Some(held) => {
                if !held.same(s) {
                    *s = held.clone();
                }
                true
            }
            None => {
                // The held copy is a new one, among the blocks kept to the
                // end of a run (see [`Value::share_strings`]).
                *s = crate::small_blocks::keeping(|| Str::from(s.as_str()));
                self.set.insert(s.clone());
                false
            }
        };
        // SAFETY: a copy of a string `set` holds (`s` now is one), not
        // counted: `set` keeps it alive as long as `recent` (neither lets a
        // string go before both do), and `ManuallyDrop` never lowers its
        // count. Counting it cost a cache miss on each string it replaced.
        self.recent[slot] = (
            hash,
            Some(std::mem::ManuallyDrop::new(unsafe { std::ptr::read(s) })),
        );
        met
    }

    /// `items` as a copy of the equal list (or map) met before, its own
    /// items already shared; `false` when none was.
    fn share_items<T: Shallow>(
        set: &mut HashSet<Shape<T>, foldhash::quality::RandomState>,
        items: &mut Items<T>,
    ) -> bool {
        if items.is_empty() {
            return true;
        }
        let shape = Shape(items.clone());
        match set.get(&shape) {
            Some(held) => {
                *items = held.0.clone();
                true
            }
            None => {
                // The held list is moved first (see
                // [`Value::share_strings`]): the look-up's copy goes.
                drop(shape);
                items.relocate();
                set.insert(Shape(items.clone()));
                false
            }
        }
    }

    /// Whether lists and maps are held once too (they are unless told not).
    pub fn hold_lists(&mut self, yes: bool) {
        self.strings_only = !yes;
    }

    /// `words` as a copy of the equal block met before.
    pub fn share_words(&mut self, words: &mut Items<u32>) {
        Strings::share_items(&mut self.words, words);
    }

    /// The block made from `from` under `tag` before, if one was (see
    /// [`Strings::remember_derived`]), with the number remembered with it.
    /// For a maker whose result depends on nothing else: the kept part of
    /// a line index depends only on the whole index and the object's kind
    /// (`manifest::Document::shrink`), and documents of one shape have
    /// equal whole indexes.
    pub fn derived(&self, tag: &Str, from: &Items<u32>) -> Option<(Items<u32>, i64)> {
        if self.derived.is_empty() {
            return None;
        }
        // The key is made of clones (two counts raised and lowered): the
        // map looks up by the pair it holds.
        let key = (tag.clone(), Shape(from.clone()));
        self.derived.get(&key).cloned()
    }

    /// Remembers that `to` (already shared) and `number` were made from
    /// `from` under `tag`, while the remembered keys hold fewer than
    /// [`DERIVED_WORDS`] words.
    pub fn remember_derived(&mut self, tag: &Str, from: &Items<u32>, to: &Items<u32>, number: i64) {
        if self.derived_words + from.len() > DERIVED_WORDS {
            return;
        }
        self.derived_words += from.len();
        self.derived
            .insert((tag.clone(), Shape(from.clone())), (to.clone(), number));
    }

    /// How many blocks [`Strings::remember_derived`] holds.
    pub fn derived_len(&self) -> usize {
        self.derived.len()
    }

    /// How many different strings are held.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// How many different lists and maps are held.
    pub fn containers(&self) -> usize {
        self.lists.len() + self.maps.len()
    }
}

/// A list or a map's items, hashed and compared by [`Shallow`] identity.
struct Shape<T>(Items<T>);

/// Hashing and equality of an item by what it holds directly: scalars by
/// value, strings, lists and maps by address. Equal to value equality for
/// items whose strings, lists and maps are all held once.
trait Shallow: Sized {
    fn shallow_hash<H: std::hash::Hasher>(&self, h: &mut H);
    fn shallow_eq(&self, other: &Self) -> bool;
    /// Hashes a list's items, one at a time unless a kind does better.
    fn shallow_hash_all<H: std::hash::Hasher>(items: &[Self], h: &mut H) {
        items.iter().for_each(|item| item.shallow_hash(h));
    }
}

/// A word of a line index's block. A block is hashed all at once: a line
/// index of a few hundred entries is a thousand words.
impl Shallow for u32 {
    fn shallow_hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u32(*self);
    }
    fn shallow_eq(&self, other: &u32) -> bool {
        self == other
    }
    fn shallow_hash_all<H: std::hash::Hasher>(items: &[u32], h: &mut H) {
        use std::hash::Hash;
        u32::hash_slice(items, h);
    }
}

impl Value {
    /// The value's type and what stands for its content at one level.
    fn shallow(&self) -> (u8, u64) {
        match self {
            Value::Null => (0, 0),
            Value::Bool(b) => (1, u64::from(*b)),
            Value::Number(n) => match n.0 {
                N::PosInt(u) => (2, u),
                N::NegInt(i) => (3, i as u64),
                N::Float(f) => (4, f.to_bits()),
            },
            Value::String(s) => (5, s.addr() as u64),
            Value::Array(a) => (6, a.addr() as u64),
            Value::Object(m) => (7, m.entries.addr() as u64),
        }
    }
}

impl Shallow for Value {
    fn shallow_hash<H: std::hash::Hasher>(&self, h: &mut H) {
        use std::hash::Hash;
        self.shallow().hash(h);
    }
    fn shallow_eq(&self, other: &Value) -> bool {
        self.shallow() == other.shallow()
    }
}

impl Shallow for (Str, Value) {
    fn shallow_hash<H: std::hash::Hasher>(&self, h: &mut H) {
        use std::hash::Hash;
        self.0.addr().hash(h);
        self.1.shallow_hash(h);
    }
    fn shallow_eq(&self, other: &Self) -> bool {
        self.0.same(&other.0) && self.1.shallow_eq(&other.1)
    }
}

impl<T: Shallow> std::hash::Hash for Shape<T> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_usize(self.0.len());
        T::shallow_hash_all(&self.0, h);
    }
}

impl<T: Shallow> PartialEq for Shape<T> {
    fn eq(&self, other: &Shape<T>) -> bool {
        self.0.same(&other.0)
            || (self.0.len() == other.0.len()
                && self
                    .0
                    .iter()
                    .zip(other.0.iter())
                    .all(|(a, b)| a.shallow_eq(b)))
    }
}

impl<T: Shallow> Eq for Shape<T> {}

/// A JSON value.
#[derive(Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(Str),
    /// Items behind one pointer (their count of holders and length live in
    /// the allocation).
    Array(Items<Value>),
    Object(Map),
}

mod items;
pub use items::Items;
pub use thin_vec::ThinVec;

/// Maps of at most this many entries are searched in order.
const SMALL_MAP: usize = 8;

/// A JSON object: its entries sorted by key, each key once.
#[derive(Clone, PartialEq, Default)]
pub struct Map {
    entries: Items<(Str, Value)>,
}

impl Map {
    pub fn new() -> Map {
        Map::default()
    }

    /// A map of `entries` sorted by key; of a key given twice the last
    /// value is kept (as `kubectl` keeps the last of repeated keys).
    pub fn from_entries(entries: impl Into<Items<(Str, Value)>>) -> Map {
        let mut entries: Items<(Str, Value)> = entries.into();
        // Stable: of equal keys the later stays later.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        if entries.windows(2).any(|w| w[0].0 == w[1].0) {
            entries.edit(|entries| {
                // The later value moves into the one entry kept.
                entries.dedup_by(|later, kept| {
                    let same = later.0 == kept.0;
                    if same {
                        std::mem::swap(&mut later.1, &mut kept.1);
                    }
                    same
                })
            });
        }
        Map { entries }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.0.as_str().cmp(key))
    }

    /// The position of `key`: in a small map (most of a manifest's) by
    /// length first, which rules out most keys without reading them; in a
    /// larger one by binary search.
    fn position(&self, key: &str) -> Option<usize> {
        if self.entries.len() <= SMALL_MAP {
            self.entries
                .iter()
                .position(|e| e.0.len() == key.len() && e.0.as_str() == key)
        } else {
            self.find(key).ok()
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.position(key).map(move |i| &mut self.entries[i].1)
    }

    pub fn get_key_value(&self, key: &str) -> Option<(&Str, &Value)> {
        self.position(key)
            .map(|i| (&self.entries[i].0, &self.entries[i].1))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.entries.iter(),
        }
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Str> + ExactSizeIterator {
        self.entries.iter().map(|e| &e.0)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.entries.iter().map(|e| &e.1)
    }

    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.entries.iter_mut().map(|e| &mut e.1)
    }

    /// Sets `key` to `value`, answering the value it had.
    pub fn insert(&mut self, key: impl Into<Str>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes `key`, answering its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key).ok()?;
        let (_, value) = self.entries.remove(i);
        Some(value)
    }

    /// Keeps the entries `keep` answers true for.
    pub fn retain(&mut self, mut keep: impl FnMut(&Str, &mut Value) -> bool) {
        self.entries.retain_mut(|(k, val)| keep(k, val));
    }
}

/// Iterator of a [`Map`]'s entries.
#[derive(Clone)]
pub struct Iter<'a> {
    inner: std::slice::Iter<'a, (Str, Value)>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Str, &'a Value);
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|e| (&e.0, &e.1))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|e| (&e.0, &e.1))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Str, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Map {
    type Item = (Str, Value);
    type IntoIter = std::vec::IntoIter<(Str, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: Into<Str>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Map {
        Map::from_entries(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v))
                .collect::<Items<_>>(),
        )
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// What indexes a value: a key of an object or a position in a list.
pub trait Index {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value>;
    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value>;
}

impl Index for str {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        match v {
            Value::Object(m) => m.get(self),
            _ => None,
        }
    }
    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        match v {
            Value::Object(m) => m.get_mut(self),
            _ => None,
        }
    }
}

impl Index for String {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        self.as_str().index_into(v)
    }
    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        self.as_str().index_into_mut(v)
    }
}

impl Index for usize {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        match v {
            Value::Array(a) => a.get(*self),
            _ => None,
        }
    }
    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        match v {
            Value::Array(a) => a.get_mut(*self),
            _ => None,
        }
    }
}

impl<T: Index + ?Sized> Index for &T {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        (**self).index_into(v)
    }
    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        (**self).index_into_mut(v)
    }
}

const NULL: &Value = &Value::Null;

impl<I: Index> std::ops::Index<I> for Value {
    type Output = Value;
    /// The value at `index`, or `Null` when there is none.
    fn index(&self, index: I) -> &Value {
        index.index_into(self).unwrap_or(NULL)
    }
}

impl Value {
    pub fn get<I: Index>(&self, index: I) -> Option<&Value> {
        index.index_into(self)
    }

    pub fn get_mut<I: Index>(&mut self, index: I) -> Option<&mut Value> {
        index.index_into_mut(self)
    }

    /// The value at a JSON pointer (RFC 6901), read as `serde_json` reads
    /// one: `""` is the value itself; a list index is digits, no sign and
    /// no leading zero.
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        let mut target = self;
        for token in tokens(rest) {
            target = match target {
                Value::Object(m) => m.get(&token)?,
                Value::Array(a) => a.get(parse_index(&token)?)?,
                _ => return None,
            };
        }
        Some(target)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn is_boolean(&self) -> bool {
        matches!(self, Value::Bool(_))
    }
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }
    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }
    pub fn is_i64(&self) -> bool {
        matches!(self, Value::Number(n) if n.is_i64())
    }
    pub fn is_u64(&self) -> bool {
        matches!(self, Value::Number(n) if n.is_u64())
    }
    pub fn is_f64(&self) -> bool {
        matches!(self, Value::Number(n) if n.is_f64())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_array_mut(&mut self) -> Option<&mut [Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Takes the value, leaving `Null`.
    pub fn take(&mut self) -> Value {
        std::mem::take(self)
    }

    /// The value as a `serde_json::Value`.
    pub fn to_serde(&self) -> serde_json::Value {
        self.into()
    }

    /// Makes every key and string of the value a copy of the one of the same
    /// text in `strings`, and every list and map within it a copy of an
    /// equal one there (adding those not there yet), so that values kept
    /// together hold each once. The value itself stays its own (an
    /// object's root, whose identity rules may compare).
    ///
    /// Each list, map and string it keeps (one met for the first time) is
    /// moved on the way to a new allocation among the blocks kept to the
    /// end of a run ([`crate::small_blocks::keeping`]): what is kept lies
    /// together, apart from what later documents' parsing takes and frees.
    pub fn share_strings(&mut self, strings: &mut Strings) {
        let _ = self.share_within(strings);
        self.relocate_self();
    }

    /// Moves a list's or map's items to a new allocation (see
    /// [`Items::relocate`]).
    fn relocate_self(&mut self) {
        match self {
            Value::Array(a) => a.relocate(),
            Value::Object(m) => m.entries.relocate(),
            _ => {}
        }
    }

    /// Shares what is within the value, answering whether all of it was
    /// met before: only then can a list or map holding it equal one met
    /// before, so one holding anything new is neither looked up nor held
    /// (an equal one met later finds its items held, and is).
    fn share_within(&mut self, strings: &mut Strings) -> bool {
        let mut met = true;
        match self {
            Value::String(s) => met = strings.share(s),
            Value::Array(a) => {
                for v in a.iter_mut() {
                    met &= v.share_child(strings);
                }
            }
            Value::Object(m) => {
                for (k, v) in m.entries.iter_mut() {
                    met &= strings.share(k);
                    met &= v.share_child(strings);
                }
            }
            _ => {}
        }
        met
    }

    /// An item of a list or a value of a map: what is within it shared,
    /// then itself. A list or map is looked up only when all it holds was
    /// met before (and lists are held at all): the equal one held takes its
    /// place, or it is held from now on; either way, or when not looked up,
    /// one not held before is moved, as [`Value::share_strings`] says.
    /// Whether all of it was met before.
    fn share_child(&mut self, strings: &mut Strings) -> bool {
        let within = self.share_within(strings);
        let look = within && !strings.strings_only;
        match self {
            Value::Array(a) if look => Strings::share_items(&mut strings.lists, a),
            Value::Object(m) if look => Strings::share_items(&mut strings.maps, &mut m.entries),
            Value::Array(a) => {
                a.relocate();
                false
            }
            Value::Object(m) => {
                m.entries.relocate();
                false
            }
            _ => within,
        }
    }
}

/// The tokens of a JSON pointer without its leading `/`, unescaped. Rules
/// look fields up by pointer millions of times in a large stream, so the
/// text is read once, byte by byte (a token is a few bytes, shorter than a
/// vectorised search needs to pay off).
fn tokens(rest: &str) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
    let mut start = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let bytes = rest.as_bytes();
        let mut end = start;
        let mut tilde = false;
        while end < bytes.len() && bytes[end] != b'/' {
            tilde |= bytes[end] == b'~';
            end += 1;
        }
        let raw = &rest[start..end];
        done = end == bytes.len();
        start = end + 1;
        Some(if tilde {
            unescape(raw)
        } else {
            std::borrow::Cow::Borrowed(raw)
        })
    })
}

/// `~1` is `/` and `~0` is `~`, in that order.
fn unescape(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains('~') {
        token.replace("~1", "/").replace("~0", "~").into()
    } else {
        token.into()
    }
}

fn parse_index(s: &str) -> Option<usize> {
    if s.starts_with('+') || (s.starts_with('0') && s.len() != 1) {
        return None;
    }
    s.parse().ok()
}

impl From<&Value> for serde_json::Value {
    fn from(v: &Value) -> serde_json::Value {
        match v {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.to_serde()),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(Into::into).collect()),
            Value::Object(m) => serde_json::Value::Object(
                m.iter().map(|(k, v)| (k.to_string(), v.into())).collect(),
            ),
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(Number::from(&n)),
            serde_json::Value::String(s) => Value::String(s.into()),
            serde_json::Value::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(m) => {
                Value::Object(m.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s.into())
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(n.into())
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Number(n.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Object(m)
    }
}

impl From<Vec<Value>> for Value {
    fn from(a: Vec<Value>) -> Value {
        Value::Array(a.into())
    }
}

impl PartialEq<serde_json::Value> for Value {
    fn eq(&self, other: &serde_json::Value) -> bool {
        match (self, other) {
            (Value::Null, serde_json::Value::Null) => true,
            (Value::Bool(a), serde_json::Value::Bool(b)) => a == b,
            (Value::Number(a), serde_json::Value::Number(b)) => a == b,
            (Value::String(a), serde_json::Value::String(b)) => a == b,
            (Value::Array(a), serde_json::Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
            }
            (Value::Object(a), serde_json::Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.get(k.as_str()).is_some_and(|w| v == w))
            }
            _ => false,
        }
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<bool> for Value {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

impl PartialEq<i64> for Value {
    fn eq(&self, other: &i64) -> bool {
        self.as_i64() == Some(*other)
    }
}

impl PartialEq<f64> for Value {
    fn eq(&self, other: &f64) -> bool {
        self.as_f64() == Some(*other)
    }
}

/// As `serde_json` shows a value: compact JSON.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&serde_json::Value::from(self), f)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Number(n) => write!(f, "Number({n})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::Array(a) => {
                f.write_str("Array ")?;
                f.debug_list().entries(a.iter()).finish()
            }
            Value::Object(m) => {
                f.write_str("Object ")?;
                fmt::Debug::fmt(m, f)
            }
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(v) => s.serialize_str(v),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a.iter() {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k.as_str(), v)?;
                }
                map.end()
            }
        }
    }
}

/// A [`Value`] written as JSON, as `serde_json::json!` writes one.
#[macro_export]
macro_rules! json_value {
    ($($t:tt)+) => {
        $crate::json::Value::from(::serde_json::json!($($t)+))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(j: serde_json::Value) -> Value {
        j.into()
    }

    #[test]
    fn a_value_and_an_entry_stay_small() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<(Str, Value)>(), 24);
        assert_eq!(std::mem::size_of::<Option<Value>>(), 16);
    }

    #[test]
    fn numbers_read_and_print_as_serde_json_numbers() {
        let samples = serde_json::json!([
            0,
            1,
            -1,
            80,
            65536,
            i64::MAX,
            i64::MIN,
            u64::MAX,
            0.5,
            -2.5,
            1e300,
            3.0
        ]);
        for n in samples.as_array().unwrap() {
            let serde_json::Value::Number(sn) = n else {
                unreachable!()
            };
            let ours = Number::from(sn);
            assert_eq!(ours.is_i64(), sn.is_i64(), "{sn}");
            assert_eq!(ours.is_u64(), sn.is_u64(), "{sn}");
            assert_eq!(ours.is_f64(), sn.is_f64(), "{sn}");
            assert_eq!(ours.as_i64(), sn.as_i64(), "{sn}");
            assert_eq!(ours.as_u64(), sn.as_u64(), "{sn}");
            assert_eq!(ours.as_f64(), sn.as_f64(), "{sn}");
            assert_eq!(ours.to_string(), sn.to_string());
            assert_eq!(&ours.to_serde(), sn);
            assert_eq!(v(n.clone()).to_serde(), *n);
        }
        assert_eq!(Number::from(-3i64).as_i64(), Some(-3));
        assert!(Number::from(7i64).is_u64());
        assert!(Number::from_f64(f64::NAN).is_none());
        assert!(Number::from_f64(f64::INFINITY).is_none());
    }

    #[test]
    fn maps_keep_keys_sorted_and_the_last_of_a_repeated_key() {
        let m = Map::from_entries(vec![
            ("b".into(), Value::from(1i64)),
            ("a".into(), Value::from(2i64)),
            ("b".into(), Value::from(3i64)),
        ]);
        let keys: Vec<&str> = m.keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(m.get("b"), Some(&Value::from(3i64)));
        assert_eq!(m.get("c"), None);
        let mut m = m;
        assert_eq!(m.insert("c", Value::Null), None);
        assert_eq!(m.insert("a", Value::from(true)), Some(Value::from(2i64)));
        assert_eq!(m.remove("b"), Some(Value::from(3i64)));
        let keys: Vec<&str> = m.keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["a", "c"]);
    }

    #[test]
    fn small_and_large_maps_find_every_key_and_no_other() {
        for n in [0, 1, 7, 8, 9, 40] {
            let m: Map = (0..n)
                .map(|i| (format!("k{}", i * 2), Value::from(i as i64)))
                .collect();
            for i in 0..n {
                assert_eq!(m.get(&format!("k{}", i * 2)), Some(&Value::from(i as i64)));
                assert!(m.get(&format!("k{}", i * 2 + 1)).is_none(), "{n} {i}");
            }
            assert!(!m.contains_key("k"));
            assert!(!m.contains_key(""));
        }
    }

    #[test]
    fn shared_strings_are_held_once_and_read_the_same() {
        let mut strings = Strings::new();
        let mut a = v(serde_json::json!({"name": "web", "labels": {"app": "web"}}));
        let mut b = v(serde_json::json!({"name": "db", "labels": {"app": "web"}}));
        let (a0, b0) = (a.clone(), b.clone());
        a.share_strings(&mut strings);
        b.share_strings(&mut strings);
        assert_eq!((&a, &b), (&a0, &b0));
        // "name", "labels", "app", "web", "db"
        assert_eq!(strings.len(), 5);
        let (Value::String(x), Value::String(y)) = (&a["labels"]["app"], &b["labels"]["app"])
        else {
            panic!("strings");
        };
        assert!(x.same(y));
        assert!(x.same(match &a["name"] {
            Value::String(s) => s,
            _ => unreachable!(),
        }));
    }

    #[test]
    fn equal_lists_and_maps_are_held_once_and_roots_stay_their_own() {
        let mut strings = Strings::new();
        let doc = |name: &str, port: i64, x: f64| {
            v(serde_json::json!({
                "metadata": {"name": name, "labels": {"app": "web", "tier": 1}},
                "ports": [{"port": port, "name": "mc"}, {"port": 9, "name": "m"}],
                "args": ["-m", "64", x, -1, true, null, [], {}],
            }))
        };
        let mut a = doc("a", 11211, 0.5);
        let mut b = doc("b", 11211, 0.5);
        // Same shape, one number apart (and 1 against 1.0): not shared.
        let mut c = doc("a", 11212, 0.5);
        let mut d = doc("a", 11211, 1.0);
        let same = v(serde_json::json!({"x": [1]}));
        let (mut e, mut f) = (same.clone(), same.clone());
        let before = [a.clone(), b.clone(), c.clone(), d.clone()];
        // A list or map holding something new is not held: one is held from
        // the first time it comes with all its items met, so a value nested
        // n deep is shared from its (n + 1)th time on.
        for _ in 0..4 {
            for x in [&a, &b, &c, &d, &e, &f] {
                x.clone().share_strings(&mut strings);
            }
        }
        for x in [&mut a, &mut b, &mut c, &mut d, &mut e, &mut f] {
            x.share_strings(&mut strings);
        }
        assert_eq!(
            [&a, &b, &c, &d],
            [&before[0], &before[1], &before[2], &before[3]]
        );
        let addr = |x: &Value| x.shallow().1;
        assert_eq!(addr(&a["ports"]), addr(&b["ports"]));
        assert_eq!(addr(&a["args"]), addr(&b["args"]));
        assert_eq!(
            addr(&a["metadata"]["labels"]),
            addr(&c["metadata"]["labels"])
        );
        assert_ne!(addr(&a["metadata"]), addr(&b["metadata"]));
        assert_ne!(addr(&a["ports"]), addr(&c["ports"]));
        assert_eq!(addr(&a["ports"][1]), addr(&c["ports"][1]));
        assert_ne!(addr(&a["args"]), addr(&d["args"]));
        // The first time, ["v"] holds a new string: it is not held; the
        // second time it is; the third finds it.
        let mut fresh = Strings::new();
        let mut xs: Vec<Value> = (0..3).map(|_| v(serde_json::json!({"k": ["v"]}))).collect();
        for x in &mut xs {
            x.share_strings(&mut fresh);
        }
        assert_ne!(addr(&xs[0]["k"]), addr(&xs[1]["k"]));
        assert_eq!(addr(&xs[1]["k"]), addr(&xs[2]["k"]));
        assert_eq!(fresh.containers(), 1);
        // Told to hold strings only, equal lists stay apart.
        let mut only = Strings::new();
        only.hold_lists(false);
        let mut ys: Vec<Value> = (0..3).map(|_| v(serde_json::json!({"k": ["v"]}))).collect();
        for y in &mut ys {
            y.share_strings(&mut only);
        }
        assert_ne!(addr(&ys[1]["k"]), addr(&ys[2]["k"]));
        assert_eq!(addr(&ys[1]["k"][0]), addr(&ys[2]["k"][0]));
        assert_eq!(only.containers(), 0);
        // Equal whole values keep roots of their own; what is in them is one.
        assert_ne!(addr(&e), addr(&f));
        assert_eq!(addr(&e["x"]), addr(&f["x"]));
        // A shared map changed through one value is copied first.
        let Some(Value::Object(labels)) = b.get_mut("metadata").and_then(|m| m.get_mut("labels"))
        else {
            panic!("map");
        };
        labels.insert("app", Value::from("changed"));
        *labels.get_mut("tier").unwrap() = Value::from(2i64);
        assert_eq!(b["metadata"]["labels"]["app"], "changed");
        assert_eq!(b["metadata"]["labels"]["tier"], 2);
        assert_eq!(a["metadata"]["labels"]["app"], "web");
        assert_eq!(c["metadata"]["labels"]["tier"], 1);
        assert_eq!(a, before[0]);
    }

    #[test]
    fn pointers_read_as_serde_json_reads_them() {
        let j = serde_json::json!({
            "a/b": {"c~d": [10, {"e": null}]},
            "": 1,
            "x": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        });
        let ours = v(j.clone());
        for p in [
            "",
            "/",
            "/a~1b",
            "/a~1b/c~0d",
            "/a~1b/c~0d/0",
            "/a~1b/c~0d/1/e",
            "/a~1b/c~0d/01",
            "/a~1b/c~0d/+1",
            "/a~1b/c~0d/2",
            "/x/11",
            "/x/-1",
            "x",
            "/x/1/y",
            "/nope",
            "/a~1b/c~0d/1/e/f",
            "/x/",
            "//",
            "/a~1b/",
            "/~01",
            "/a~1b/c~0d/1/e~",
        ] {
            assert_eq!(
                ours.pointer(p).map(serde_json::Value::from),
                j.pointer(p).cloned(),
                "{p}"
            );
        }
    }

    #[test]
    fn converts_both_ways_and_shows_as_serde_json() {
        let mut j = serde_json::json!({"z": [1, -2, 2.5, "s\n", null, true], "a": {"b": {}}});
        let ours = v(j.clone());
        // Keys in order, as every map of the project is.
        j.sort_all_objects();
        assert_eq!(serde_json::Value::from(&ours), j);
        assert_eq!(ours.to_string(), j.to_string());
        assert_eq!(
            serde_json::to_string(&ours).unwrap(),
            serde_json::to_string(&j).unwrap()
        );
        assert!(ours == j);
        assert_eq!(ours["z"][1], Value::from(-2i64));
        assert!(ours["z"][9].is_null());
        assert!(ours["nope"]["deeper"].is_null());
    }
}
