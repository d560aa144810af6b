//! The second reading of a large YAML file `mclint check` reads as it goes
//! (the first is [`crate::manifest::StreamedFile`]'s): its documents, split
//! as [`crate::manifest::documents`] splits a text and parsed one at a
//! time, a block of the file at a time, so that the input is never held
//! whole (at 100,000 documents the text alone is 53 MiB). If the file
//! changed since the first reading (it grew, shrank, or now holds bytes that
//! reading refused), the reading stops there and the place is reported as a
//! YAML error of the file, at the line where it was found.

use std::fs::File;
use std::io::Read;
use std::sync::Arc;

use crate::manifest::{BLOCK, Document, Splitter, parse_doc};
pub use crate::manifest::{Reread, STREAM_FROM_BYTES, Source, StreamedFile};

impl StreamedFile {
    /// The file's documents, read and parsed as they are taken (the second
    /// reading): as [`crate::manifest::documents`] gives those of its text.
    /// The file is closed with the iterator.
    pub fn documents(self) -> StreamedDocuments {
        StreamedDocuments {
            name: self.name,
            file: self.file.take(self.len.saturating_add(1)),
            len: self.len,
            read: 0,
            buf: Vec::new(),
            start: 0,
            pos: 0,
            scanned: 0,
            digest: xxhash_rust::xxh3::Xxh3Default::new(),
            expected: self.digest,
            eof: false,
            split: Splitter::new(),
            done: false,
            last_source: None,
        }
    }
}

/// Iterator of [`StreamedFile::documents`].
pub struct StreamedDocuments {
    name: Arc<str>,
    file: std::io::Take<File>,
    len: u64,
    /// Bytes read so far.
    read: u64,
    /// The current chunk from `start`, its lines split up to `pos`, then
    /// bytes read but not yet split. What is before `start` is done with,
    /// and dropped before the next read.
    buf: Vec<u8>,
    start: usize,
    pos: usize,
    /// Where the search for the end of the line at `pos` goes on.
    scanned: usize,
    /// Of the bytes read so far, and what the first reading found.
    digest: xxhash_rust::xxh3::Xxh3Default,
    expected: u64,
    eof: bool,
    split: Splitter,
    done: bool,
    last_source: Option<Arc<str>>,
}

/// What ended: a chunk between separators (`buf[start..end]`), or the
/// reading.
enum Chunk {
    /// (end, first line, index).
    Text(usize, u32, usize),
    /// The document that says why.
    Failed(Document),
}

impl StreamedDocuments {
    fn next_chunk(&mut self) -> Option<Chunk> {
        if self.done {
            return None;
        }
        loop {
            // A line longer than a block is searched once, not again from
            // its start after each block.
            let from = self.scanned.max(self.pos);
            let line_end = match memchr::memchr(b'\n', &self.buf[from..]) {
                Some(i) => from + i + 1,
                None if !self.eof => {
                    self.scanned = self.buf.len();
                    if let Err(why) = self.fill() {
                        return Some(self.stop(&why));
                    }
                    continue;
                }
                None if self.pos < self.buf.len() => self.buf.len(),
                None => {
                    self.done = true;
                    let (line, index) = self.split.last();
                    return Some(Chunk::Text(self.buf.len(), line, index));
                }
            };
            let line_start = self.pos;
            self.pos = line_end;
            if let Some((line, index)) = self.split.line(&self.buf[line_start..line_end]) {
                // The separator starts the next chunk.
                return Some(Chunk::Text(line_start, line, index));
            }
        }
    }

    /// Reads the next block, after dropping what is done with.
    fn fill(&mut self) -> Result<(), String> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.pos -= self.start;
            self.scanned = self.scanned.saturating_sub(self.start);
            self.start = 0;
        }
        let had = self.buf.len();
        self.buf.resize(had + BLOCK, 0);
        let n = loop {
            match self.file.read(&mut self.buf[had..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("cannot read it any more: {e}")),
            }
        };
        self.buf.truncate(had + n);
        self.digest.update(&self.buf[had..]);
        if self.read == 0 && self.buf.starts_with("\u{feff}".as_bytes()) {
            // As a file read whole, less its byte order mark.
            self.buf.drain(..3);
        }
        self.read += n as u64;
        if self.read > self.len {
            return Err("it grew while mclint read it".into());
        }
        if n == 0 {
            if self.read < self.len {
                return Err("it shrank while mclint read it".into());
            }
            // Of the same length and still text, but not the bytes the
            // first reading read.
            if self.digest.digest() != self.expected {
                return Err("it changed while mclint read it".into());
            }
            self.eof = true;
        }
        Ok(())
    }

    /// Ends the reading where the file stopped being what the first reading
    /// checked: the document read so far is given up, and one that holds
    /// nothing but the error, at `line`, takes its place.
    fn fail_at(&mut self, why: &str, line: u32) -> Document {
        self.done = true;
        self.buf = Vec::new();
        let (_, index) = self.split.last();
        Document::failed(&self.name, index, line, format!("{why}; run mclint again"))
    }

    fn stop(&mut self, why: &str) -> Chunk {
        let line = self.split.next_line();
        Chunk::Failed(self.fail_at(why, line))
    }
}

impl Iterator for StreamedDocuments {
    type Item = Document;

    fn next(&mut self) -> Option<Document> {
        loop {
            let (end, line, index) = match self.next_chunk()? {
                Chunk::Failed(doc) => return Some(doc),
                Chunk::Text(end, line, index) => (end, line, index),
            };
            let bytes = &self.buf[self.start..end];
            // Checked whole by the first reading; the file may have changed
            // since.
            let Some(text) = std::str::from_utf8(bytes)
                .ok()
                .filter(|_| !bytes.contains(&0))
            else {
                let why = "it changed while mclint read it (this document now holds bytes that are not UTF-8 text)";
                return Some(self.fail_at(why, line));
            };
            let doc = parse_doc(&self.name, text, line, index, false, &mut self.last_source);
            self.start = end;
            if doc.is_some() {
                return doc;
            }
        }
    }
}
