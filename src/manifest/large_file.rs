//! Large YAML files that `mclint check` reads as it goes (see
//! [`crate::streamed`] for the second reading): the first reading, which
//! checks such a file as reading it whole would, and the reading again of
//! a checked file for the writers that show template lines.
//!
//! The file is read through the handle opened first (a name swapped for
//! another file in between changes nothing). The first reading checks what
//! reading it whole checks, with the same errors and the same precedence:
//! the size against the budget of `--max-input-size`, then NUL bytes, then
//! UTF-8. Only a file that passes is checked, so a file that fails has no
//! findings, as before.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Input, InputError};

/// Files at least this large are read as they are checked; smaller ones
/// whole (a directory of small files then holds no file open).
pub const STREAM_FROM_BYTES: u64 = 1 << 20;

/// Blocks of the readings.
pub(crate) const BLOCK: usize = 64 << 10;

/// What `mclint check` reads: an input read whole (shared, so that a
/// caller may keep it past the check), or a large YAML file read as it
/// goes.
pub enum Source {
    Text(Arc<Input>),
    File(StreamedFile),
}

/// A YAML file that passed the first reading (see the module's docs).
pub struct StreamedFile {
    pub name: Arc<str>,
    pub(crate) file: File,
    /// Its length at the first reading.
    pub(crate) len: u64,
    /// The XXH3-64 of its bytes at the first reading (the second checks
    /// it was read the same).
    pub(crate) digest: u64,
    /// Where a later reading finds it again (see [`Reread`]).
    path: PathBuf,
}

/// How to read a streamed file whole once it is checked, for the writers
/// that show the template lines findings come from: by its name again, and
/// only if it still holds what was checked (its length and the XXH3-64 of
/// its bytes, which the second reading also checks against the first's), so
/// a file changed or swapped since is not matched against lines it did not
/// have: its findings are placed on line 1 of their template, marked
/// unmatched, as when the rendered text is not at hand.
#[derive(Debug, Clone)]
pub struct Reread {
    pub name: Arc<str>,
    path: PathBuf,
    len: u64,
    digest: u64,
}

impl Reread {
    /// The file's text as it was checked, or `None` if it is not that any
    /// more (or cannot be read).
    pub fn read(&self) -> Option<Input> {
        let file = File::open(&self.path).ok()?;
        let mut bytes = Vec::with_capacity(usize::try_from(self.len).ok()?.saturating_add(1));
        file.take(self.len.saturating_add(1))
            .read_to_end(&mut bytes)
            .ok()?;
        if bytes.len() as u64 != self.len || xxhash_rust::xxh3::xxh3_64(&bytes) != self.digest {
            return None;
        }
        // As a file read whole (the same bytes passed the first reading).
        let text = super::decode(&self.name, bytes).ok()?;
        Some(Input {
            name: self.name.clone(),
            kind: super::InputKind::Yaml,
            text,
        })
    }
}

impl std::fmt::Debug for StreamedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamedFile")
            .field("name", &self.name)
            .field("len", &self.len)
            .finish()
    }
}

/// The first reading of `file` (opened as `name`): `Ok(None)` when it holds
/// more than `budget` bytes (which is then left as it was), else the file,
/// ready to be read as it goes, with `budget` reduced by its length.
pub fn open(
    name: &str,
    path: &Path,
    mut file: File,
    budget: &mut u64,
) -> Result<Option<StreamedFile>, InputError> {
    let unreadable = |e: std::io::Error| InputError::Unreadable {
        path: name.to_string(),
        reason: e.to_string(),
    };
    // Each block is read after the start of a UTF-8 sequence the last one
    // ended in (at most 3 bytes), and checked in place.
    let mut buf = vec![0u8; BLOCK + 3];
    let mut carry = 0;
    let mut offset: u64 = 0;
    let mut nul = None;
    let mut not_utf8 = None;
    let mut digest = xxhash_rust::xxh3::Xxh3Default::new();
    let mut reader = (&file).take(budget.saturating_add(1));
    loop {
        let n = match reader.read(&mut buf[carry..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(unreadable(e)),
        };
        let block = &buf[carry..carry + n];
        digest.update(block);
        if nul.is_none() && block.contains(&0) {
            nul = block
                .iter()
                .position(|&b| b == 0)
                .map(|i| offset + i as u64);
        }
        let start = offset - carry as u64;
        offset += n as u64;
        if not_utf8.is_some() {
            carry = 0;
            continue;
        }
        let held = &buf[..carry + n];
        carry = match std::str::from_utf8(held) {
            Ok(_) => 0,
            // A sequence the next block may finish.
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..carry + n, 0);
                carry + n - valid
            }
            Err(e) => {
                let valid = e.valid_up_to();
                not_utf8 = Some((start + valid as u64, held[valid]));
                0
            }
        };
    }
    if offset > *budget {
        return Ok(None);
    }
    // Spent whether or not the file is refused below, as when it is read
    // whole.
    *budget -= offset;
    if let Some(offset) = nul {
        return Err(InputError::Binary {
            path: name.to_string(),
            offset: offset as usize,
        });
    }
    // A sequence cut by the end of the file.
    let not_utf8 = not_utf8.or((carry > 0).then(|| (offset - carry as u64, buf[0])));
    if let Some((at, byte)) = not_utf8 {
        file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
        let line = count_lines((&file).take(at)).map_err(unreadable)? + 1;
        return Err(InputError::NotUtf8 {
            path: name.to_string(),
            offset: at as usize,
            line: line as usize,
            byte,
        });
    }
    file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    Ok(Some(StreamedFile {
        name: Arc::from(name),
        file,
        len: offset,
        path: path.to_path_buf(),
        digest: digest.digest(),
    }))
}

/// Line breaks in what `reader` gives (the line of an error is counted only
/// when there is one).
fn count_lines(mut reader: impl Read) -> std::io::Result<u64> {
    let mut buf = vec![0u8; BLOCK];
    let mut lines = 0;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(lines),
            Ok(n) => lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

impl StreamedFile {
    /// How to read it whole again once it is checked.
    pub fn reread(&self) -> Reread {
        Reread {
            name: self.name.clone(),
            path: self.path.clone(),
            len: self.len,
            digest: self.digest,
        }
    }
}
