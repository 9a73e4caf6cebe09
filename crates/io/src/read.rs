//! Event readers: CSV and JSON Lines to typed [`Event`]s.
//!
//! Columns map to the fields of the row's event type *by name*; a file may
//! hold the union of every type's columns. Per type, the column of each slot
//! is resolved once (from the header), so a row costs one type lookup and one
//! conversion per declared field, with no name lookups.

use crate::convert::{Interner, Schema, convert, convert_fast};
use crate::error::{ReadError, RowError};
use crate::time::{TimeCache, TsFormat, shorten};
use dalal::dalal_lang::typed::{TypeId, ValueType};
use dalal::{Event, Value, short_key};
use std::io::{BufRead, Read};
use std::sync::Arc;

/// Input file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row (or `--no-header --columns`).
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The format a file name implies: `.jsonl`, `.ndjson` and `.json` are
    /// JSON Lines, anything else CSV.
    pub fn from_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e)
                if e.eq_ignore_ascii_case("jsonl")
                    || e.eq_ignore_ascii_case("ndjson")
                    || e.eq_ignore_ascii_case("json") =>
            {
                Format::Jsonl
            }
            _ => Format::Csv,
        }
    }
}

/// Where each row's event type comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeSource {
    /// A column holding the type name (`--type-column`, default `type`).
    Column(String),
    /// Every row has this type (`--type`).
    Fixed(String),
}

/// How to read an input.
#[derive(Clone, Debug)]
pub struct ReaderOptions {
    /// The input's name in messages.
    pub name: String,
    /// The event type of each row.
    pub type_source: TypeSource,
    /// The event-time column (`--ts-column`, default `ts`).
    pub ts_column: String,
    /// How event times are written.
    pub ts_format: TsFormat,
    /// Column names for a CSV without a header row (`--no-header --columns`);
    /// `None`: the first row is the header.
    pub columns: Option<Vec<String>>,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            name: "-".to_string(),
            type_source: TypeSource::Column("type".to_string()),
            ts_column: "ts".to_string(),
            ts_format: TsFormat::Rfc3339,
            columns: None,
        }
    }
}

/// A source of typed events.
pub trait EventReader: Send {
    /// The next event and the 1-based line it starts on; `None` at the end.
    ///
    /// A [`ReadError::Row`] concerns one row only: calling again goes on
    /// with the next row. Rows whose type the program does not declare are
    /// not events: they are skipped and counted in [`EventReader::unknown_types`].
    fn next_event(&mut self) -> Result<Option<(u64, Event)>, ReadError>;

    /// Rows skipped because the program declares no such event type, by
    /// name (at most 100 names are kept; the rest count under `...`).
    fn unknown_types(&self) -> &[(String, u64)];
}

/// Opens a reader over any byte stream.
pub fn reader(
    input: Box<dyn Read + Send>,
    format: Format,
    schema: &Schema,
    options: &ReaderOptions,
) -> Result<Box<dyn EventReader>, ReadError> {
    let fixed = match &options.type_source {
        TypeSource::Fixed(name) => {
            Some(schema.type_by_bytes(name.as_bytes()).ok_or_else(|| {
                ReadError::Options(format!(
                    "--type {name}: the patterns declare no event type `{name}` (declared: {})",
                    schema
                        .types
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?)
        }
        TypeSource::Column(_) => None,
    };
    let common = Common {
        name: options.name.clone(),
        schema: schema.clone(),
        fixed,
        ts_format: options.ts_format.clone(),
        ts_cache: TimeCache::default(),
        interners: schema
            .types
            .iter()
            .map(|t| t.fields.iter().map(|_| Interner::default()).collect())
            .collect(),
        unknown: Vec::new(),
        names: schema
            .types
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                Some((
                    short_key(t.name.as_bytes())?,
                    TypeName::Known(TypeId::from_index(i)),
                ))
            })
            .collect(),
    };
    Ok(match format {
        Format::Csv => Box::new(CsvReader::new(input, common, options)?),
        Format::Jsonl => Box::new(JsonlReader::new(input, common, options)),
    })
}

/// State shared by both readers.
struct Common {
    name: String,
    schema: Schema,
    fixed: Option<TypeId>,
    ts_format: TsFormat,
    ts_cache: TimeCache,
    /// Per type, per slot.
    interners: Vec<Vec<Interner>>,
    unknown: Vec<(String, u64)>,
    /// The type names of at most [`dalal::SHORT_KEY_LEN`] bytes, known
    /// ones with their type and undeclared ones seen so far with their
    /// entry in `unknown`, each as its [`short_key`]: a row's type is found
    /// by comparing word pairs. Comparing the name with each declared one
    /// (a `bcmp` call each), then with each undeclared one seen, cost ~50
    /// instructions a row.
    names: Vec<((u64, u64), TypeName)>,
}

/// What a type name in [`Common::names`] stands for.
#[derive(Clone, Copy)]
enum TypeName {
    Known(TypeId),
    /// An undeclared type: its index in [`Common::unknown`].
    Unknown(usize),
}

/// How many undeclared type names [`Common::unknown`] keeps by name
/// before counting the rest together as `...`.
const UNKNOWN_NAMES: usize = 100;

impl Common {
    /// The declared type named `name`; `None` (counted in `unknown`) for
    /// an undeclared one.
    #[inline]
    fn type_of(&mut self, name: &[u8]) -> Option<TypeId> {
        // A name seen before, inlined into the reader; a new or a long
        // name is a call (which kept the whole lookup out of line).
        let key = short_key(name);
        if let Some(key) = key {
            match self.names.iter().find(|(k, _)| *k == key).map(|e| e.1) {
                Some(TypeName::Known(t)) => return Some(t),
                Some(TypeName::Unknown(i)) => {
                    if let Some(e) = self.unknown.get_mut(i) {
                        e.1 += 1;
                    }
                    return None;
                }
                None => {}
            }
        }
        self.type_of_new(name, key)
    }

    /// [`Common::type_of`] for a name not in `names`: a declared name
    /// longer than a short key, or an undeclared one seen for the first
    /// time (or one that has no entry of its own in `unknown`).
    #[inline(never)]
    fn type_of_new(&mut self, name: &[u8], key: Option<(u64, u64)>) -> Option<TypeId> {
        if let Some(t) = self.schema.type_by_bytes(name) {
            return Some(t);
        }
        // Looked up by its words from now on if it has an entry of its own
        // (not `...`).
        if let (Some(i), Some(key)) = (self.count_unknown(name), key) {
            self.names.push((key, TypeName::Unknown(i)));
        }
        None
    }

    /// Counts a row of the undeclared type `name`; the index of the
    /// name's own entry in `unknown`, `None` when counted under `...`.
    /// Called for a name not in [`Common::names`] only.
    fn count_unknown(&mut self, name: &[u8]) -> Option<usize> {
        // Borrowed, not copied, when the name is valid UTF-8.
        let name = String::from_utf8_lossy(name);
        let own = match self.unknown.iter().position(|(n, _)| *n == name) {
            Some(i) => Some(i),
            None if self.unknown.len() < UNKNOWN_NAMES => {
                self.unknown.push((name.into_owned(), 0));
                Some(self.unknown.len() - 1)
            }
            None => None,
        };
        let i = own
            .or_else(|| self.unknown.iter().position(|(n, _)| n == "..."))
            .unwrap_or_else(|| {
                self.unknown.push(("...".to_string(), 0));
                self.unknown.len() - 1
            });
        if let Some(e) = self.unknown.get_mut(i) {
            e.1 += 1;
        }
        own
    }
}

/// Bit `i` of each mask stands for byte `i` of a 16-byte block: the
/// commas, and the bytes that end a line the fast path takes (`"`, `\n`,
/// `\r` and the other bytes below `\x0e`). Only the lowest bit of the
/// second mask is read, and it is exact. SSE2, which every x86-64 has: one
/// 16-byte compare per byte class instead of a byte loop.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
#[allow(unsafe_code)]
fn marks(block: &[u8; 16]) -> (u32, u32) {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x,
        _mm_set1_epi8,
    };
    let (lo, hi) = words(block);
    // The same bits as `i64`, which the intrinsic takes.
    let (lo, hi) = (lo as i64, hi as i64);
    // SAFETY: these intrinsics read and write no memory (the block is
    // loaded from two `i64`s); calling them is unsafe only because they are
    // `#[target_feature(enable = "sse2")]`, and this function is compiled
    // only where SSE2 is enabled (the `cfg` above: every x86-64 target).
    // Auto-vectorization of the byte loop did not happen (518M instructions
    // against 427M for decoding 200,000 rows), and the safe SWAR form cost
    // 471M. `marks_agree_with_a_byte_loop` runs under Miri.
    unsafe {
        let v = _mm_set_epi64x(hi, lo);
        let commas = _mm_cmpeq_epi8(v, _mm_set1_epi8(b',' as i8));
        let quotes = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        // `min(v, 0x0d) == v`: the bytes up to `\r`, unsigned.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x0d)), v);
        let bits = |m| u32::from(_mm_movemask_epi8(m) as u16);
        (bits(commas), bits(_mm_or_si128(quotes, control)))
    }
}

/// A 16-byte block as its two little-endian words (byte `i` of the block
/// is byte `i % 8` of word `i / 8`).
#[inline(always)]
fn words(block: &[u8; 16]) -> (u64, u64) {
    let (lo, hi) = block.split_at(8);
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
    (word(lo), word(hi))
}

/// [`marks`] elsewhere: two eight-byte SWAR words.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn marks(block: &[u8; 16]) -> (u32, u32) {
    marks_swar(block)
}

/// [`marks`] from eight-byte words: masks with the high bit of each
/// matching byte, gathered into one bit per byte.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn marks_swar(block: &[u8; 16]) -> (u32, u32) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LO: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // The high bit of each byte of `w` equal to `b` (exact: no carries
    // between bytes).
    let eq = |w: u64, b: u8| {
        let x = w ^ (u64::from(b) * ONES);
        !(((x & LO) + LO) | x | LO)
    };
    // The high bit of bytes below `\x0e`. A borrow can mark bytes above a
    // marked one, never below, so the lowest mark is exact.
    let control = |w: u64| w.wrapping_sub(0x0e * ONES) & !w & !LO;
    // Byte `i`'s high bit to bit `i`.
    let gather = |m: u64| ((m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32;
    let (lo, hi) = words(block);
    let commas = gather(eq(lo, b',')) | gather(eq(hi, b',')) << 8;
    let (s0, s1) = (control(lo) | eq(lo, b'"'), control(hi) | eq(hi, b'"'));
    // The high word's marks count only when the low word has none (its
    // false marks lie above a true one).
    let stop = if s0 != 0 { gather(s0) } else { gather(s1) << 8 };
    (commas, stop)
}

/// CSV records, split by `csv-core` with the csv crate's defaults (`,`,
/// `"` doubled to escape, `\r`, `\n` or `\r\n` ends, blank lines skipped,
/// a leading byte order mark dropped), each into one reused buffer.
///
/// `csv-core` is driven directly rather than through `csv::Reader` for the
/// line numbers: the reader's record position is taken before the blank
/// lines and the `\n` of a `\r\n` that precede the record, so it names the
/// line before. Skipping those bytes here first makes the line the one the
/// record's first byte is on.
///
/// A line that arrived whole and has no `"` and no `\r` before its end is
/// split at its commas without `csv-core` ([`Records::split_plain`]): what
/// `csv-core` would make of it, at a fraction of its per-byte state machine
/// (~1,200 instructions per generated row). Anything else (quotes, a bare
/// `\r`, a line across a refill, the first record with its possible byte
/// order mark, the last line without `\n`) goes to `csv-core`, which is at
/// the start of a record after either path.
struct Records {
    input: std::io::BufReader<Box<dyn Read + Send>>,
    core: csv_core::Reader,
    /// The current record's cells, unescaped, after `csv-core`.
    bytes: Vec<u8>,
    /// After the fast path: the length of the current record's line, left
    /// unconsumed at the front of `input`'s buffer, where its cells are
    /// read (copying each line out cost ~30 instructions a row); consumed
    /// when the next record is read. 0 after `csv-core`.
    held: usize,
    /// Bytes between a cell's end and the next cell's start: 1 (the
    /// comma) on the fast path, 0 after `csv-core` (cells back to back).
    /// Cell `i` starts at `ends[i-1] + sep`: one bound stored per cell
    /// instead of two (~5 instructions per comma).
    sep: usize,
    /// Where each cell of `bytes` ends.
    ends: Vec<usize>,
    /// Cells in the current record.
    len: usize,
    /// The line the current record starts on.
    line: u64,
    /// Whether plain lines take the split fast path (off for the first
    /// record, whose byte order mark `csv-core` drops; off in the tests
    /// that hold the fast path to `csv-core`).
    plain: bool,
    /// Whether the fast path is used at all (the tests turn it off).
    split: bool,
}

/// The cells of the current record ([`Records::record`]).
struct Record<'a> {
    bytes: &'a [u8],
    /// Where each cell ends.
    ends: &'a [usize],
    sep: usize,
}

impl<'a> Record<'a> {
    /// One cell; empty past the end.
    #[inline]
    fn get(&self, i: usize) -> &'a [u8] {
        let Some(&end) = self.ends.get(i) else {
            return &[];
        };
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |e| e + self.sep),
            None => 0,
        };
        self.bytes.get(start..end).unwrap_or_default()
    }
}

impl Records {
    fn new(input: Box<dyn Read + Send>) -> Records {
        Records {
            input: std::io::BufReader::with_capacity(1 << 18, input),
            core: csv_core::Reader::new(),
            bytes: vec![0; 1 << 10],
            held: 0,
            sep: 0,
            ends: vec![0; 64],
            len: 0,
            line: 1,
            plain: false,
            split: true,
        }
    }

    /// The fast path: when `buf` starts with a whole line with no `"` and
    /// no bare `\r`, puts its cells' bounds in `ends` (the commas stay
    /// between the cells) and returns the number of cells and the bytes
    /// the line takes with its `\n` or `\r\n`. `None` leaves the line to
    /// `csv-core`.
    ///
    /// Sixteen bytes at a time: [`marks`] gives one bit per byte for the
    /// commas and for the bytes that end the fast path's line, then one step
    /// per comma. A byte loop cost ~6 instructions per byte, `memchr_iter`
    /// ~60 per comma, and eight-byte SWAR words ~425 per generated row.
    fn split_plain(buf: &[u8], ends: &mut Vec<usize>) -> Option<(usize, usize)> {
        let mut n = 0;
        let mut base = 0;
        for chunk in buf.chunks_exact(16) {
            // Room for the block's cells (at most sixteen, and the last one).
            if n + 17 > ends.len() {
                ends.resize(n + 64, 0);
            }
            let mut cell = |end: usize| {
                if let Some(e) = ends.get_mut(n) {
                    *e = end;
                }
                n += 1;
            };
            let (mut commas, stop) = marks(chunk.try_into().unwrap_or(&[0; 16]));
            if stop != 0 {
                // Commas before the first byte that ends the line.
                commas &= stop ^ (stop - 1);
            }
            while commas != 0 {
                cell(base + commas.trailing_zeros() as usize);
                commas &= commas - 1;
            }
            if stop != 0 {
                let at = base + stop.trailing_zeros() as usize;
                let (end, used) = match (buf.get(at), buf.get(at + 1)) {
                    (Some(b'\n'), _) => (at, at + 1),
                    (Some(b'\r'), Some(b'\n')) => (at, at + 2),
                    // A quote, a bare `\r`, another control byte (`csv-core`
                    // keeps it in the cell), or a `\r` whose `\n` is not read yet.
                    _ => return None,
                };
                cell(end);
                return Some((n, used));
            }
            base += 16;
        }
        // The line runs past the bytes read: `csv-core` takes it across
        // the refill.
        None
    }

    /// Reads the next record; `false` at the end of the input.
    fn next_record(&mut self) -> std::io::Result<bool> {
        use csv_core::ReadRecordResult as R;
        self.len = 0;
        self.input.consume(std::mem::take(&mut self.held));
        // Blank lines and the `\n` of a `\r\n` belong before the record.
        loop {
            let buf = self.input.fill_buf()?;
            // Most records start where the last one ended.
            if buf.first().is_some_and(|&b| b != b'\n' && b != b'\r') {
                break;
            }
            let skip = buf
                .iter()
                .position(|&b| b != b'\n' && b != b'\r')
                .unwrap_or(buf.len());
            let newlines = buf[..skip].iter().filter(|&&b| b == b'\n').count() as u64;
            let at_end = buf.is_empty();
            let found = skip < buf.len();
            self.input.consume(skip);
            self.core.set_line(self.core.line() + newlines);
            if found || at_end {
                break;
            }
        }
        self.line = self.core.line();
        if self.plain {
            let buf = self.input.fill_buf()?;
            if let Some((cells, used)) = Self::split_plain(buf, &mut self.ends) {
                self.len = cells;
                self.sep = 1;
                self.held = used;
                self.core.set_line(self.core.line() + 1);
                return Ok(true);
            }
        }
        let mut out = 0;
        loop {
            let buf = self.input.fill_buf()?;
            let (res, nin, nout, nend) =
                self.core
                    .read_record(buf, &mut self.bytes[out..], &mut self.ends[self.len..]);
            self.input.consume(nin);
            out += nout;
            self.len += nend;
            match res {
                R::InputEmpty => {}
                R::OutputFull => {
                    let n = self.bytes.len() * 2;
                    self.bytes.resize(n, 0);
                }
                R::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                R::Record => {
                    // `csv-core` writes cells back to back.
                    self.sep = 0;
                    self.plain = self.split;
                    return Ok(true);
                }
                R::End => {
                    self.len = 0;
                    return Ok(false);
                }
            }
        }
    }

    /// The line the current record starts on (1-based).
    fn line(&self) -> u64 {
        self.line
    }

    /// Cells in the current record.
    fn len(&self) -> usize {
        self.len
    }

    /// One cell of the current record; empty past the end.
    fn get(&self, i: usize) -> &[u8] {
        self.record().get(i)
    }

    /// The current record, its bytes found once for the reads of its cells.
    fn record(&self) -> Record<'_> {
        Record {
            bytes: if self.held > 0 {
                self.input.buffer()
            } else {
                &self.bytes
            },
            ends: self.ends.get(..self.len).unwrap_or_default(),
            sep: self.sep,
        }
    }

    /// The current record's cells.
    fn cells(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len).map(|i| self.get(i))
    }
}

struct CsvReader {
    scan: Records,
    common: Common,
    /// Cells per row (the header's length).
    width: usize,
    names: Vec<String>,
    type_col: Option<usize>,
    ts_col: usize,
    /// Per type, per slot: the column holding it and the slot's type, side
    /// by side (one zip less per cell than reading the schema beside it).
    slots: Vec<Vec<(Option<usize>, ValueType)>>,
    done: bool,
}

impl CsvReader {
    fn new(
        input: Box<dyn Read + Send>,
        common: Common,
        options: &ReaderOptions,
    ) -> Result<CsvReader, ReadError> {
        let mut scan = Records::new(input);
        let (names, header_line, done) = match &options.columns {
            Some(cols) => (cols.clone(), None, false),
            None => {
                let more = scan.next_record().map_err(|e| io_error(&common.name, e))?;
                let names = scan
                    .cells()
                    .map(|c| {
                        // A byte order mark some editors put first is not part of the name.
                        let c = c.strip_prefix(b"\xef\xbb\xbf").unwrap_or(c);
                        String::from_utf8_lossy(c).trim().to_string()
                    })
                    .collect();
                (names, Some(scan.line().max(1)), !more)
            }
        };
        let find = |name: &str| names.iter().position(|n| n == name);
        let missing = |what: &str, col: &str, flag: &str| match header_line {
            Some(line) => ReadError::Header {
                file: common.name.clone(),
                line,
                reason: format!(
                    "the header has no column '{col}' ({what}; set it with {flag}); columns: {}",
                    names.join(",")
                ),
            },
            None => ReadError::Options(format!(
                "--columns has no column '{col}' ({what}; set it with {flag})"
            )),
        };
        let mut type_col = None;
        let mut ts_col = 0;
        if !done {
            if let TypeSource::Column(c) = &options.type_source {
                type_col = Some(
                    find(c)
                        .ok_or_else(|| missing("the event type", c, "--type-column or --type"))?,
                );
            }
            ts_col = find(&options.ts_column)
                .ok_or_else(|| missing("the event time", &options.ts_column, "--ts-column"))?;
        }
        let slots = common
            .schema
            .types
            .iter()
            .map(|t| t.fields.iter().map(|(f, vt)| (find(f), *vt)).collect())
            .collect();
        Ok(CsvReader {
            scan,
            common,
            width: names.len(),
            names,
            type_col,
            ts_col,
            slots,
            done,
        })
    }

    fn row_error(&self, line: u64, column: Option<usize>, reason: String) -> ReadError {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let record: csv::ByteRecord = self.scan.cells().collect();
        let written = w.write_byte_record(&record).is_ok();
        let raw = match w.into_inner() {
            Ok(mut bytes) if written => {
                if bytes.last() == Some(&b'\n') {
                    bytes.pop();
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => String::new(),
        };
        ReadError::Row(RowError {
            file: self.common.name.clone(),
            line,
            column: column.and_then(|c| self.names.get(c).cloned()),
            reason,
            raw,
        })
    }

    fn cell_str(&self, line: u64, col: usize) -> Result<&str, ReadError> {
        std::str::from_utf8(self.scan.get(col))
            .map_err(|_| self.row_error(line, Some(col), "not valid UTF-8".to_string()))
    }
}

impl EventReader for CsvReader {
    fn next_event(&mut self) -> Result<Option<(u64, Event)>, ReadError> {
        loop {
            if self.done {
                return Ok(None);
            }
            let more = self
                .scan
                .next_record()
                .map_err(|e| io_error(&self.common.name, e))?;
            if !more {
                self.done = true;
                return Ok(None);
            }
            let line = self.scan.line();
            if self.scan.len() != self.width {
                return Err(self.row_error(
                    line,
                    None,
                    format!("expected {} cells, found {}", self.width, self.scan.len()),
                ));
            }
            let ty = match (self.common.fixed, self.type_col) {
                (Some(t), _) => t,
                (None, Some(c)) => {
                    let name = self.scan.get(c);
                    if name.is_empty() {
                        return Err(self.row_error(line, Some(c), "no event type".to_string()));
                    }
                    match self.common.type_of(name) {
                        Some(t) => t,
                        None => continue,
                    }
                }
                // The constructor sets one of the two.
                (None, None) => return Ok(None),
            };
            let ts = match self
                .common
                .ts_format
                .parse_time_fast(self.scan.get(self.ts_col), &mut self.common.ts_cache)
            {
                Some(t) => t,
                None => {
                    let ts_text = self.cell_str(line, self.ts_col)?;
                    if ts_text.is_empty() {
                        return Err(self.row_error(
                            line,
                            Some(self.ts_col),
                            "no event time".to_string(),
                        ));
                    }
                    match self.common.ts_format.parse_time(ts_text) {
                        Ok(t) => t,
                        Err(reason) => {
                            return Err(self.row_error(line, Some(self.ts_col), reason));
                        }
                    }
                }
            };
            let ti = ty.index();
            let (Some(slots), Some(interners)) =
                (self.slots.get(ti), self.common.interners.get_mut(ti))
            else {
                return Ok(None);
            };
            // The shared slice is built straight from the cells: an exact-size
            // iterator is collected with one allocation and no intermediate
            // vector. A cell that does not convert stops the row (the cells
            // after it are not converted) and is reported below.
            let mut failed: Option<(usize, String)> = None;
            let scan = self.scan.record();
            let ts_format = &self.common.ts_format;
            let fields: Arc<[Value]> = slots
                .iter()
                .zip(interners)
                .map(|(&(col, vt), interner)| {
                    let Some(col) = col else {
                        return Value::Null;
                    };
                    let bytes = scan.get(col);
                    if bytes.is_empty() || failed.is_some() {
                        return Value::Null;
                    }
                    if let Some(v) = convert_fast(bytes, vt, ts_format, interner) {
                        return v;
                    }
                    let converted = match std::str::from_utf8(bytes) {
                        Ok(text) => convert(text, vt, ts_format, interner),
                        Err(_) => Err("not valid UTF-8".to_string()),
                    };
                    converted.unwrap_or_else(|reason| {
                        failed = Some((col, reason));
                        Value::Null
                    })
                })
                .collect();
            if let Some((col, reason)) = failed {
                return Err(self.row_error(line, Some(col), reason));
            }
            return Ok(Some((line, Event { ty, ts, fields })));
        }
    }

    fn unknown_types(&self) -> &[(String, u64)] {
        &self.common.unknown
    }
}

fn io_error(file: &str, source: std::io::Error) -> ReadError {
    ReadError::Io {
        file: file.to_string(),
        source,
    }
}

struct JsonlReader {
    input: std::io::BufReader<Box<dyn Read + Send>>,
    buf: Vec<u8>,
    line: u64,
    common: Common,
    type_key: Option<String>,
    ts_key: String,
}

impl JsonlReader {
    fn new(input: Box<dyn Read + Send>, common: Common, options: &ReaderOptions) -> JsonlReader {
        JsonlReader {
            input: std::io::BufReader::with_capacity(1 << 16, input),
            buf: Vec::new(),
            line: 0,
            common,
            type_key: match &options.type_source {
                TypeSource::Column(c) => Some(c.clone()),
                TypeSource::Fixed(_) => None,
            },
            ts_key: options.ts_column.clone(),
        }
    }

    fn error(&self, column: Option<&str>, reason: String) -> ReadError {
        let mut raw = String::from_utf8_lossy(&self.buf).into_owned();
        while raw.ends_with('\n') || raw.ends_with('\r') {
            raw.pop();
        }
        ReadError::Row(RowError {
            file: self.common.name.clone(),
            line: self.line,
            column: column.map(str::to_string),
            reason,
            raw,
        })
    }
}

impl EventReader for JsonlReader {
    fn next_event(&mut self) -> Result<Option<(u64, Event)>, ReadError> {
        loop {
            self.buf.clear();
            let n = self
                .input
                .read_until(b'\n', &mut self.buf)
                .map_err(|source| ReadError::Io {
                    file: self.common.name.clone(),
                    source,
                })?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let obj: serde_json::Map<String, serde_json::Value> =
                match serde_json::from_slice(&self.buf) {
                    Ok(serde_json::Value::Object(m)) => m,
                    Ok(_) => return Err(self.error(None, "expected a JSON object".to_string())),
                    Err(e) => return Err(self.error(None, format!("invalid JSON: {e}"))),
                };
            let ty = match (self.common.fixed, &self.type_key) {
                (Some(t), _) => t,
                (None, Some(key)) => match obj.get(key) {
                    Some(serde_json::Value::String(name)) if !name.is_empty() => {
                        match self.common.type_of(name.as_bytes()) {
                            Some(t) => t,
                            None => continue,
                        }
                    }
                    Some(serde_json::Value::String(_)) | Some(serde_json::Value::Null) | None => {
                        return Err(self.error(Some(key), "no event type".to_string()));
                    }
                    Some(other) => {
                        return Err(self.error(
                            Some(key),
                            format!("expected an event type name, found {}", json_text(other)),
                        ));
                    }
                },
                (None, None) => return Ok(None),
            };
            let ts_key = self.ts_key.as_str();
            let ts = match obj.get(ts_key) {
                None | Some(serde_json::Value::Null) => {
                    return Err(self.error(Some(ts_key), "no event time".to_string()));
                }
                Some(serde_json::Value::String(s)) => self.common.ts_format.parse_time(s),
                Some(serde_json::Value::Number(n)) => {
                    self.common.ts_format.parse_time(&n.to_string())
                }
                Some(other) => Err(format!("expected a timestamp, found {}", json_text(other))),
            };
            let ts = match ts {
                Ok(t) => t,
                Err(reason) => return Err(self.error(Some(ts_key), reason)),
            };
            let ti = ty.index();
            let nfields = self.common.schema.types[ti].fields.len();
            let mut fields = Vec::with_capacity(nfields);
            for slot in 0..nfields {
                let (name, vt) = &self.common.schema.types[ti].fields[slot];
                let value = match obj.get(name) {
                    None | Some(serde_json::Value::Null) => Ok(Value::Null),
                    Some(v) => json_value(
                        v,
                        *vt,
                        &self.common.ts_format,
                        &mut self.common.interners[ti][slot],
                    ),
                };
                match value {
                    Ok(v) => fields.push(v),
                    Err(reason) => {
                        let name = name.clone();
                        return Err(self.error(Some(&name), reason));
                    }
                }
            }
            return Ok(Some((self.line, Event::from_parts(ty, ts, fields))));
        }
    }

    fn unknown_types(&self) -> &[(String, u64)] {
        &self.common.unknown
    }
}

fn json_text(v: &serde_json::Value) -> String {
    let kind = match v {
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Null => "null",
    };
    format!("{kind} ({})", shorten(&v.to_string()))
}

/// A JSON value to the declared type: JSON numbers and booleans directly,
/// strings through the same text conversion as CSV cells.
fn json_value(
    v: &serde_json::Value,
    ty: ValueType,
    ts_format: &TsFormat,
    interner: &mut Interner,
) -> Result<Value, String> {
    use serde_json::Value as J;
    let bad = || format!("expected {ty}, found {}", json_text(v));
    match (v, ty) {
        (J::String(s), ValueType::String) => convert(s, ty, ts_format, interner),
        // An empty string is NULL for non-string fields, like an empty CSV cell.
        (J::String(s), _) if s.is_empty() => Ok(Value::Null),
        (J::String(s), _) => convert(s, ty, ts_format, interner),
        (J::Number(n), ValueType::Int) => n.as_i64().map(Value::Int).ok_or_else(bad),
        (J::Number(n), ValueType::Float) => n.as_f64().map(Value::Float).ok_or_else(bad),
        (J::Number(n), ValueType::Duration) => match n.as_i64() {
            Some(ms) => ms
                .checked_mul(1_000_000)
                .map(Value::Duration)
                .ok_or_else(bad),
            None => {
                let ns = n.as_f64().map(|x| (x * 1e6).round()).ok_or_else(bad)?;
                if ns.is_finite() && ns.abs() < 9.2e18 {
                    Ok(Value::Duration(ns as i64))
                } else {
                    Err(bad())
                }
            }
        },
        (J::Number(n), ValueType::Timestamp) => {
            ts_format.parse_time(&n.to_string()).map(Value::Timestamp)
        }
        // Ids written as numbers still make string fields.
        (J::Number(n), ValueType::String) => Ok(Value::Str(n.to_string().into())),
        (J::Bool(b), ValueType::Bool) => Ok(Value::Bool(*b)),
        (J::Bool(b), ValueType::String) => Ok(Value::Str(b.to_string().into())),
        _ => Err(bad()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dalal::{EventTime, Program};

    fn program() -> Program {
        Program::compile(
            "EVENT Trade (symbol STRING, price FLOAT, volume INT);
             EVENT News (symbol STRING, headline STRING, urgent BOOL, age DURATION, at TIMESTAMP);",
        )
        .unwrap()
    }

    type ReadAll = (Vec<(u64, Event)>, Vec<String>, Vec<(String, u64)>);

    fn read_all(text: &str, format: Format, opts: &ReaderOptions) -> ReadAll {
        let schema = Schema::of(&program());
        let mut r = reader(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            format,
            &schema,
            opts,
        )
        .unwrap();
        let mut events = Vec::new();
        let mut errors = Vec::new();
        loop {
            match r.next_event() {
                Ok(Some(e)) => events.push(e),
                Ok(None) => break,
                Err(ReadError::Row(e)) => errors.push(format!("{e} | {}", e.raw)),
                Err(e) => panic!("fatal: {e}"),
            }
        }
        (events, errors, r.unknown_types().to_vec())
    }

    fn opts() -> ReaderOptions {
        ReaderOptions {
            name: "data.csv".to_string(),
            ts_format: TsFormat::EpochMs,
            ..ReaderOptions::default()
        }
    }

    /// Rows of undeclared types are counted per name, whichever way the
    /// name is found (by its words once seen, or by bytes: longer than a
    /// short key, not UTF-8), the first `UNKNOWN_NAMES` names each on
    /// their own and the rest together as `...`; declared names still read.
    #[test]
    fn undeclared_types_are_counted_by_name() {
        let mut text = b"type,ts,symbol,price,volume,headline\n".to_vec();
        let mut names: Vec<Vec<u8>> = vec![
            b"Quote".to_vec(),
            b"AVeryLongUndeclaredTypeName".to_vec(),
            b"Bad\xff".to_vec(),
            b"Tradee".to_vec(),
        ];
        names.extend((0..UNKNOWN_NAMES + 5).map(|i| format!("T{i}").into_bytes()));
        let mut trades = 0;
        for round in 0..3 {
            for (i, n) in names.iter().enumerate() {
                text.extend_from_slice(n);
                text.extend_from_slice(format!(",{},A,1.5,2,\n", round * 1000 + i).as_bytes());
                if i % 7 == 0 {
                    text.extend_from_slice(b"Trade,1,A,1.5,2,\n");
                    trades += 1;
                }
            }
        }
        let schema = Schema::of(&program());
        let mut r = reader(
            Box::new(std::io::Cursor::new(text)),
            Format::Csv,
            &schema,
            &opts(),
        )
        .unwrap();
        let mut events = 0;
        while let Some((_, e)) = r.next_event().unwrap() {
            assert_eq!(e.ty, TypeId::from_index(0));
            events += 1;
        }
        assert_eq!(events, trades);
        let mut expected: Vec<(String, u64)> = names
            .iter()
            .take(UNKNOWN_NAMES)
            .map(|n| (String::from_utf8_lossy(n).into_owned(), 3))
            .collect();
        expected.push(("...".to_string(), 3 * (names.len() - UNKNOWN_NAMES) as u64));
        assert_eq!(r.unknown_types(), expected.as_slice());
    }

    #[test]
    fn csv_union_of_columns_by_name() {
        let text = "type,ts,symbol,price,volume,headline,extra\n\
                    Trade,1000,TCS,10.5,100,,x\n\
                    News,2000,INFY,,,profit up,y\n\
                    Quote,3000,TCS,,,,\n\
                    Trade,4000,TCS,,7,,\n";
        let (events, errors, unknown) = read_all(text, Format::Csv, &opts());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(unknown, vec![("Quote".to_string(), 1)]);
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].0, 2);
        assert_eq!(events[0].1.ts, EventTime::from_millis(1000));
        assert_eq!(
            &*events[0].1.fields,
            &[Value::str("TCS"), Value::Float(10.5), Value::Int(100)]
        );
        // News: urgent, age and at have no column: NULL.
        assert_eq!(
            &*events[1].1.fields,
            &[
                Value::str("INFY"),
                Value::str("profit up"),
                Value::Null,
                Value::Null,
                Value::Null
            ]
        );
        assert_eq!(events[2].0, 5);
        assert_eq!(events[2].1.fields[1], Value::Null);
    }

    #[test]
    fn csv_errors_name_file_line_and_column() {
        let text = "type,ts,symbol,price,volume\n\
                    Trade,1000,TCS,abc,1\n\
                    Trade,1000,TCS,1\n\
                    Trade,soon,TCS,1,1\n\
                    ,1000,TCS,1,1\n\
                    Trade,\"1000\",\"A,B\",1.5,2\n\
                    Trade,1000,TCS,abc,x\n";
        let (events, errors, _) = read_all(text, Format::Csv, &opts());
        let (bom, _, _) = read_all("\u{feff}type,ts\nNews,5\n", Format::Csv, &opts());
        assert_eq!(bom.len(), 1);
        assert_eq!(
            errors,
            vec![
                "data.csv:2: column 'price': expected FLOAT, found 'abc' | Trade,1000,TCS,abc,1",
                "data.csv:3: expected 5 cells, found 4 | Trade,1000,TCS,1",
                "data.csv:4: column 'ts': expected a timestamp (epoch_ms), found 'soon' | Trade,soon,TCS,1,1",
                "data.csv:5: column 'type': no event type | ,1000,TCS,1,1",
                // Two bad cells: the first is reported.
                "data.csv:7: column 'price': expected FLOAT, found 'abc' | Trade,1000,TCS,abc,x",
            ]
        );
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].0, 6);
        assert_eq!(events[0].1.fields[0], Value::str("A,B"));
    }

    #[test]
    fn csv_lines_count_as_an_editor_does() {
        // \r\n endings, a blank line, a quoted cell over two lines: each bad
        // row still names the line it starts on, its column and its text.
        let text: &[u8] = b"type,ts,symbol,price,volume\r\n\
                    Trade,1000,TCS,1.5,2\r\n\
                    \r\n\
                    News,2000,\"two\r\nlines\",,\r\n\
                    Trade,3000,TCS,x1,2\r\n\
                    Trade,4000,TCS,1,\xff\r\n\
                    Trade,2024-01-02T03:30:00Z,TCS,1,2\r\n\
                    Trade,5000,TCS,-0.25,+7";
        let schema = Schema::of(&program());
        let mut r = reader(
            Box::new(std::io::Cursor::new(text.to_vec())),
            Format::Csv,
            &schema,
            &opts(),
        )
        .unwrap();
        let mut got = Vec::new();
        loop {
            match r.next_event() {
                Ok(Some((line, e))) => got.push(format!("{line}: {:?}", e.fields)),
                Ok(None) => break,
                Err(ReadError::Row(e)) => {
                    got.push(format!("{}:{} {:?} {}", e.line, e.reason, e.column, e.raw))
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(
            got,
            vec![
                r#"2: [Str("TCS"), Float(1.5), Int(2)]"#.to_string(),
                r#"4: [Str("two\r\nlines"), Null, Null, Null, Null]"#.to_string(),
                r#"6:expected FLOAT, found 'x1' Some("price") Trade,3000,TCS,x1,2"#.to_string(),
                "7:not valid UTF-8 Some(\"volume\") Trade,4000,TCS,1,\u{fffd}".to_string(),
                "8:expected a timestamp (epoch_ms), found '2024-01-02T03:30:00Z' Some(\"ts\") \
                 Trade,2024-01-02T03:30:00Z,TCS,1,2"
                    .to_string(),
                r#"9: [Str("TCS"), Float(-0.25), Int(7)]"#.to_string(),
            ]
        );
    }

    /// Hands out at most `chunk` bytes per read, so records cross refills.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        chunk: usize,
    }
    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.chunk.min(out.len()).min(self.data.len() - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn read_lines(text: &str, chunk: usize) -> Vec<(u64, Vec<String>)> {
        read_records(text.as_bytes(), chunk, true)
            .into_iter()
            .map(|(line, cells)| {
                let cells = cells
                    .into_iter()
                    .map(|c| String::from_utf8(c).unwrap())
                    .collect();
                (line, cells)
            })
            .collect()
    }

    /// Every record's line and cells; `split`: with the fast path.
    fn read_records(data: &[u8], chunk: usize, split: bool) -> Vec<(u64, Vec<Vec<u8>>)> {
        let mut s = Records::new(Box::new(Trickle {
            data: data.to_vec(),
            at: 0,
            chunk,
        }));
        s.split = split;
        let mut got = Vec::new();
        while s.next_record().unwrap() {
            got.push((s.line(), s.cells().map(<[u8]>::to_vec).collect()));
        }
        got
    }

    proptest::proptest! {
        /// The split fast path reads every input as `csv-core` alone does:
        /// the same cells and lines, whether a line arrives whole or in
        /// pieces, with quotes, `\r`, `\r\n`, controls and byte order marks.
        #[test]
        fn the_fast_path_reads_as_csv_core_does(
            data in proptest::collection::vec(proptest::sample::select(
                b"ab,,,\"\r\n\n\t \xef\xbb\xbf".to_vec()), 0..300),
            chunk in proptest::prop_oneof![1usize..40, proptest::strategy::Just(1 << 20)],
        ) {
            let fast = read_records(&data, chunk, true);
            let slow = read_records(&data, chunk, false);
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    /// The masks of a 16-byte block, byte by byte: the commas, and the
    /// lowest byte that ends a fast-path line (0 when none).
    fn marks_by_bytes(block: &[u8; 16]) -> (u32, u32) {
        let mut commas = 0;
        let mut stop = 0;
        for (i, &b) in block.iter().enumerate() {
            if b == b',' {
                commas |= 1 << i;
            }
            if (b == b'"' || b < 0x0e) && stop == 0 {
                stop = 1 << i;
            }
        }
        (commas, stop)
    }

    /// [`marks`] (SSE2 on x86-64) and [`marks_swar`] agree with a byte
    /// loop: every byte value at every position of a block, then blocks
    /// mixing the bytes that matter. Also run under Miri
    /// (`cargo +nightly miri test -p dalal-io marks_agree`), fewer blocks.
    #[test]
    fn marks_agree_with_a_byte_loop() {
        let lowest = |m: u32| m & m.wrapping_neg();
        let check = |block: &[u8; 16]| {
            let want = marks_by_bytes(block);
            for (name, (commas, stop)) in [("marks", marks(block)), ("swar", marks_swar(block))] {
                assert_eq!((commas, lowest(stop)), want, "{name} {block:?}");
            }
        };
        let values: Vec<u8> = if cfg!(miri) {
            vec![0, b'\n', 0x0d, 0x0e, b'"', b',', b'a', 0x7f, 0x80, 0xff]
        } else {
            (0..=255).collect()
        };
        for at in 0..16 {
            for &v in &values {
                let mut block = [b'a'; 16];
                block[at] = v;
                check(&block);
            }
        }
        let bytes = [
            b',', b'"', b'\r', b'\n', b'a', b' ', 0x80, 0xff, 0x0d, 0x0e, 0, b'\t',
        ];
        let mut r: u64 = 7;
        for _ in 0..if cfg!(miri) { 200 } else { 50_000 } {
            let mut block = [0u8; 16];
            for b in &mut block {
                r = r
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                *b = bytes[(r >> 33) as usize % bytes.len()];
            }
            check(&block);
        }
    }

    #[test]
    fn the_fast_path_takes_whole_plain_lines() {
        // Lines long enough for several 16-byte blocks, commas at every
        // offset of a block, `\r\n` and `\n` endings, an empty last cell.
        let mut text = String::from("h\n");
        for i in 0..40 {
            let cells: Vec<String> = (0..i % 11).map(|k| "x".repeat((i + k) % 9)).collect();
            text.push_str(&cells.join(","));
            text.push_str(if i % 2 == 0 { ",\r\n" } else { "\n" });
        }
        let fast = read_records(text.as_bytes(), 1 << 20, true);
        let slow = read_records(text.as_bytes(), 1 << 20, false);
        // The header and 40 lines, less the two blank ones (i = 11, 33).
        assert_eq!(fast.len(), 39);
        assert_eq!(fast, slow);
    }

    #[test]
    fn records_across_reads_and_lines_as_an_editor_counts() {
        let text = "a,\"b\nc\"\r\n\n\r\nx,\"q\"\"\"\r\n\nlast";
        let want = vec![
            (1, vec!["a".to_string(), "b\nc".to_string()]),
            (5, vec!["x".to_string(), "q\"".to_string()]),
            (7, vec!["last".to_string()]),
        ];
        for chunk in [1, 2, 3, 5, 100] {
            assert_eq!(read_lines(text, chunk), want, "chunk {chunk}");
        }
        // The byte order mark is dropped when it arrives in one read.
        let got = read_lines("\u{feff}a,b\n\n1,2", 100);
        assert_eq!(got[0], (1, vec!["a".to_string(), "b".to_string()]));
        assert_eq!(got[1], (3, vec!["1".to_string(), "2".to_string()]));
    }

    #[test]
    fn a_record_longer_than_the_buffers() {
        let long = "y".repeat((1 << 19) + 5);
        let cells = ",\"z\"".repeat(100);
        let text = format!("h\r\n{long}{cells}\n");
        let got = read_lines(&text, 1 << 14);
        assert_eq!(got[1].0, 2);
        assert_eq!(got[1].1.len(), 101);
        assert_eq!(got[1].1[0], long);
        assert_eq!(got[1].1[100], "z");
    }

    #[test]
    fn csv_missing_columns_are_errors_up_front() {
        let schema = Schema::of(&program());
        let open = |text: &str, o: &ReaderOptions| {
            reader(
                Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
                Format::Csv,
                &schema,
                o,
            )
            .err()
            .map(|e| e.to_string())
        };
        let e = open("kind,ts\n", &opts()).unwrap();
        assert!(
            e.starts_with("data.csv:1: the header has no column 'type'"),
            "{e}"
        );
        let o = ReaderOptions {
            ts_column: "time".to_string(),
            ..opts()
        };
        assert!(open("type,ts\n", &o).unwrap().contains("no column 'time'"));
        let o = ReaderOptions {
            type_source: TypeSource::Fixed("Nope".to_string()),
            ..opts()
        };
        assert!(open("ts\n", &o).unwrap().contains("no event type `Nope`"));
        // An empty file is an empty stream.
        assert!(open("", &opts()).is_none());
    }

    #[test]
    fn csv_without_header_and_fixed_type() {
        let o = ReaderOptions {
            type_source: TypeSource::Fixed("Trade".to_string()),
            columns: Some(vec!["d".into(), "symbol".into(), "price".into()]),
            ts_column: "d".to_string(),
            ts_format: TsFormat::parse("%Y%m%d%H%M").unwrap(),
            ..opts()
        };
        let (events, errors, _) = read_all(
            "200802010900,GOOG,1\n200802010901,GOOG,2\n",
            Format::Csv,
            &o,
        );
        assert!(errors.is_empty());
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].0, 2);
        assert_eq!(events[1].1.ts.to_string(), "2008-02-01T09:01:00.000Z");
        assert_eq!(events[1].1.fields[1], Value::Float(2.0));
    }

    #[test]
    fn jsonl_reads_typed_values() {
        let text = r#"{"type":"News","ts":"1970-01-01T00:00:01Z","symbol":"TCS","headline":"x","urgent":true,"age":1500,"at":"1970-01-01T00:00:02Z"}

{"type":"Trade","ts":"1970-01-01T00:00:03Z","symbol":"TCS","price":3,"volume":null}
{"type":"Other","ts":"x"}
{"type":"Trade","ts":"1970-01-01T00:00:03Z","price":"abc"}
[1,2]
{"type":"Trade","ts":5}
"#;
        let o = ReaderOptions {
            name: "in.jsonl".to_string(),
            ..ReaderOptions::default()
        };
        let (events, errors, unknown) = read_all(text, Format::Jsonl, &o);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].0, 1);
        assert_eq!(
            &*events[0].1.fields,
            &[
                Value::str("TCS"),
                Value::str("x"),
                Value::Bool(true),
                Value::Duration(1_500_000_000),
                Value::Timestamp(EventTime::from_millis(2000))
            ]
        );
        assert_eq!(events[1].0, 3);
        assert_eq!(
            &*events[1].1.fields,
            &[Value::str("TCS"), Value::Float(3.0), Value::Null]
        );
        assert_eq!(unknown, vec![("Other".to_string(), 1)]);
        assert_eq!(errors.len(), 3);
        assert!(errors[0].starts_with("in.jsonl:5: column 'price': expected FLOAT, found 'abc'"));
        assert!(errors[1].starts_with("in.jsonl:6: expected a JSON object"));
        assert!(errors[2].starts_with("in.jsonl:7: column 'ts': expected a timestamp (rfc3339)"));
        assert!(errors[2].ends_with(r#"| {"type":"Trade","ts":5}"#));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let schema = Schema::of(&program());
        let alphabet: &[u8] = b"TradeNws,\"\n\r0123456789.-:TZe{}[]\\ \xff\xc3";
        let mut x: u64 = 99;
        for round in 0..400 {
            let len = (round * 7) % 300;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(x >> 33) as usize % alphabet.len()]
                })
                .collect();
            let mut text = b"type,ts,symbol,price,volume,headline,urgent,age,at\n".to_vec();
            text.extend_from_slice(&bytes);
            for format in [Format::Csv, Format::Jsonl] {
                for ts_format in [
                    TsFormat::Rfc3339,
                    TsFormat::EpochNs,
                    TsFormat::parse("%Y%m%d").unwrap(),
                ] {
                    let o = ReaderOptions {
                        ts_format,
                        ..ReaderOptions::default()
                    };
                    let Ok(mut r) = reader(
                        Box::new(std::io::Cursor::new(text.clone())),
                        format,
                        &schema,
                        &o,
                    ) else {
                        continue;
                    };
                    let mut steps = 0;
                    loop {
                        steps += 1;
                        assert!(steps < 10_000, "reader does not terminate");
                        match r.next_event() {
                            Ok(Some(_)) | Err(ReadError::Row(_)) => {}
                            Ok(None) | Err(_) => break,
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(Format::from_path("a.jsonl".as_ref()), Format::Jsonl);
        assert_eq!(Format::from_path("a.JSON".as_ref()), Format::Jsonl);
        assert_eq!(Format::from_path("a.csv".as_ref()), Format::Csv);
        assert_eq!(Format::from_path("a.txt".as_ref()), Format::Csv);
    }
}
