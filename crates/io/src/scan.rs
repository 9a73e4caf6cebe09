//! A CSV record splitter over a large reused buffer.
//!
//! It splits exactly as `csv-core` does with the `csv` crate's defaults
//! (delimiter `,`, quote `"` doubled to escape, records ended by `\r`, `\n`
//! or `\r\n`, blank lines skipped, a leading UTF-8 byte order mark dropped,
//! a quote inside an unquoted cell taken literally, text after a closing
//! quote appended to the cell), but an unquoted cell is not copied: it is a
//! span of the input buffer, found by a tight scan for the three bytes that
//! can end it. Only the cells of a record that open with a quote are
//! unescaped into a side buffer.
//!
//! Unlike `csv::Reader::position`, the line of a record is the line of its
//! first byte even after blank lines or `\r\n` terminators.

use std::io::Read;

/// Input read at a time; records longer than this grow the buffer.
const BUF_SIZE: usize = 1 << 18;

/// Where a cell's bytes are.
#[derive(Clone, Copy, Debug)]
struct Span {
    /// In the side buffer (a quoted cell) rather than the input buffer.
    unescaped: bool,
    start: usize,
    end: usize,
}

/// Bytes that end an unquoted cell.
const fn enders() -> [bool; 256] {
    let mut t = [false; 256];
    t[b',' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\n' as usize] = true;
    t
}
static ENDS_CELL: [bool; 256] = enders();

/// A mask with the high bit set in each byte of `w` below `0x2d`: the three
/// bytes that end a cell (`,` `\r` `\n`), the quote, and a few rare others
/// (space, `!`, `#` to `+`), which the caller tells apart. Exact per byte
/// (no carries cross bytes), so every set bit is a real candidate.
fn below_0x2d(w: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ADD: u64 = 0x5353_5353_5353_5353; // 0x80 - 0x2d
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bit 7 of `(b & 0x7f) + 0x53` is set when `b & 0x7f >= 0x2d`; bytes
    // with the high bit set are never candidates.
    !(((w & LOW7) + ADD) | w) & HIGH
}

pub(crate) struct Scanner {
    input: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// First byte not yet consumed.
    pos: usize,
    /// End of the bytes read into `buf`.
    filled: usize,
    eof: bool,
    started: bool,
    /// The line `pos` is on.
    next_line: u64,
    /// The current record's cells.
    spans: Vec<Span>,
    /// Unescaped quoted cells of the current record.
    side: Vec<u8>,
    /// The line the current record starts on.
    record_line: u64,
}

/// What splitting the buffered bytes found.
enum Split {
    /// A whole record ending before `next`, with `newlines` line feeds.
    Record { next: usize, newlines: u64 },
    /// The buffer ends inside the record.
    NeedMore,
}

impl Scanner {
    pub(crate) fn new(input: Box<dyn Read + Send>) -> Scanner {
        Scanner {
            input,
            buf: vec![0; BUF_SIZE],
            pos: 0,
            filled: 0,
            eof: false,
            started: false,
            next_line: 1,
            spans: Vec::new(),
            side: Vec::new(),
            record_line: 0,
        }
    }

    /// Reads the next record; `false` at the end of the input.
    pub(crate) fn next_record(&mut self) -> std::io::Result<bool> {
        if !self.started {
            self.started = true;
            // The mark may arrive split over reads: have 3 bytes or the end first.
            while self.filled < 3 && !self.eof {
                self.refill()?;
            }
            if self.buf.get(..3) == Some(b"\xef\xbb\xbf".as_slice()) && self.filled >= 3 {
                self.pos = 3;
            }
        }
        loop {
            // Blank lines and the `\n` of a `\r\n` are skipped.
            while self.pos < self.filled {
                match self.buf[self.pos] {
                    b'\n' => self.next_line += 1,
                    b'\r' => {}
                    _ => break,
                }
                self.pos += 1;
            }
            if self.pos == self.filled {
                if self.eof {
                    self.spans.clear();
                    return Ok(false);
                }
                self.refill()?;
                continue;
            }
            let split = match self.split_plain() {
                Some(s) => s,
                None => self.split(),
            };
            match split {
                Split::Record { next, newlines } => {
                    self.record_line = self.next_line;
                    self.next_line += newlines;
                    self.pos = next;
                    return Ok(true);
                }
                Split::NeedMore => self.refill()?,
            }
        }
    }

    /// The line the current record starts on (1-based).
    pub(crate) fn line(&self) -> u64 {
        self.record_line
    }

    /// Cells in the current record.
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// One cell of the current record; empty past the end.
    pub(crate) fn get(&self, i: usize) -> &[u8] {
        match self.spans.get(i) {
            Some(s) if s.unescaped => self.side.get(s.start..s.end).unwrap_or_default(),
            Some(s) => self.buf.get(s.start..s.end).unwrap_or_default(),
            None => &[],
        }
    }

    /// The current record's cells.
    pub(crate) fn cells(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Moves unread bytes to the front and reads more (growing the buffer
    /// when one record fills it).
    fn refill(&mut self) -> std::io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
        }
        if self.filled == self.buf.len() {
            let n = self.buf.len() * 2;
            self.buf.resize(n, 0);
        }
        loop {
            match self.input.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.filled += n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The common case, eight bytes at a time: a record wholly in the
    /// buffer with no cell opening with a quote. `None`: use [`Self::split`].
    fn split_plain(&mut self) -> Option<Split> {
        self.spans.clear();
        let buf = &self.buf[..self.filled];
        let mut cell = self.pos;
        if buf.get(cell) == Some(&b'"') {
            return None;
        }
        let mut i = cell;
        while let Some(word) = buf.get(i..i + 8) {
            let mut m = below_0x2d(u64::from_le_bytes(word.try_into().ok()?));
            while m != 0 {
                let k = i + (m.trailing_zeros() / 8) as usize;
                m &= m - 1;
                match buf[k] {
                    b',' => {
                        self.spans.push(Span {
                            unescaped: false,
                            start: cell,
                            end: k,
                        });
                        cell = k + 1;
                        if buf.get(cell) == Some(&b'"') {
                            return None;
                        }
                    }
                    b @ (b'\n' | b'\r') => {
                        self.spans.push(Span {
                            unescaped: false,
                            start: cell,
                            end: k,
                        });
                        return Some(Split::Record {
                            next: k + 1,
                            newlines: u64::from(b == b'\n'),
                        });
                    }
                    // A quote inside an unquoted cell is text, as are the
                    // other bytes below `-` (space, `!`, `#`, ...).
                    _ => {}
                }
            }
            i += 8;
        }
        None
    }

    /// Splits the record starting at `pos` (not a terminator byte). At the
    /// end of the input the last record needs no terminator.
    fn split(&mut self) -> Split {
        self.spans.clear();
        self.side.clear();
        let buf = &self.buf[..self.filled];
        let mut i = self.pos;
        let mut newlines = 0u64;
        loop {
            // At the start of a cell.
            if buf.get(i) == Some(&b'"') {
                i += 1;
                let start = self.side.len();
                // Inside quotes: everything up to the closing quote; `""` is one quote.
                loop {
                    let Some(&b) = buf.get(i) else {
                        if !self.eof {
                            return Split::NeedMore;
                        }
                        self.spans.push(Span {
                            unescaped: true,
                            start,
                            end: self.side.len(),
                        });
                        return Split::Record { next: i, newlines };
                    };
                    i += 1;
                    if b == b'"' {
                        match buf.get(i) {
                            Some(b'"') => {
                                self.side.push(b'"');
                                i += 1;
                            }
                            None if !self.eof => return Split::NeedMore,
                            // Closed; text up to the next delimiter is appended as is.
                            _ => break,
                        }
                    } else {
                        newlines += u64::from(b == b'\n');
                        self.side.push(b);
                    }
                }
                let rest = i;
                while i < buf.len() && !ENDS_CELL[usize::from(buf[i])] {
                    i += 1;
                }
                self.side.extend_from_slice(&buf[rest..i]);
                self.spans.push(Span {
                    unescaped: true,
                    start,
                    end: self.side.len(),
                });
            } else {
                let start = i;
                while i < buf.len() && !ENDS_CELL[usize::from(buf[i])] {
                    i += 1;
                }
                self.spans.push(Span {
                    unescaped: false,
                    start,
                    end: i,
                });
            }
            // At the end of a cell.
            match buf.get(i) {
                Some(b',') => i += 1,
                Some(&b) => {
                    newlines += u64::from(b == b'\n');
                    return Split::Record {
                        next: i + 1,
                        newlines,
                    };
                }
                None if self.eof => {
                    return Split::Record { next: i, newlines };
                }
                None => return Split::NeedMore,
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Reads every record with the scanner and with the csv crate, the
    /// latter configured as the reader used it.
    type Records = Vec<Vec<Vec<u8>>>;

    fn both(text: &[u8]) -> (Records, Records) {
        let mut s = Scanner::new(Box::new(std::io::Cursor::new(text.to_vec())));
        let mut mine = Vec::new();
        while s.next_record().unwrap() {
            mine.push(s.cells().map(<[u8]>::to_vec).collect());
        }
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        let theirs = r
            .byte_records()
            .map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect())
            .collect();
        (mine, theirs)
    }

    #[test]
    fn candidate_mask_is_exact() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut w = [b'a'; 8];
                w[at] = b;
                let m = below_0x2d(u64::from_le_bytes(w));
                let want = if b < 0x2d { 0x80u64 << (8 * at) } else { 0 };
                assert_eq!(m, want, "byte {b:#x} at {at}");
            }
        }
    }

    #[test]
    fn splits_like_the_csv_crate() {
        for text in [
            "a,b,c\n1,2,3\n".as_bytes(),
            b"\xef\xbb\xbfa,b\r\n1,2\r\n\r\n\n3,4",
            b"a,\"x,\"\"y\"\"\nz\",c\n",
            b"\"ab\"cd,e\"f,\"\"\n,,\n",
            b"\"open",
            b"x\ry\n\n\"\"\n",
            b"",
            b"\n\n",
            b"a\"b,\"c\"\"\",\"\"\"\"\r",
            b"Trade,2024-01-02T03:30:00.000Z,SYM0060,2442.10,513,,,,,,,,,,,\nNews,1,A B!,\"x,y\",z\"q\r\n",
            b"long cell of many bytes,and another long one,\"quoted, with comma\",end\n",
        ] {
            let (mine, theirs) = both(text);
            assert_eq!(mine, theirs, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn arbitrary_bytes_split_like_the_csv_crate() {
        let alphabet: &[u8] = b"ab ,\"\r\n#,ab\xef\xbb\xbf";
        let mut x: u64 = 7;
        for round in 0..3000 {
            let len = round % 80;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(x >> 33) as usize % alphabet.len()]
                })
                .collect();
            let (mine, theirs) = both(&text);
            assert_eq!(mine, theirs, "{:?}", String::from_utf8_lossy(&text));
        }
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
        let mut s = Scanner::new(Box::new(Trickle {
            data: text.as_bytes().to_vec(),
            at: 0,
            chunk,
        }));
        let mut got = Vec::new();
        while s.next_record().unwrap() {
            let cells = s
                .cells()
                .map(|c| String::from_utf8(c.to_vec()).unwrap())
                .collect();
            got.push((s.line(), cells));
        }
        got
    }

    #[test]
    fn records_across_reads_and_lines_as_an_editor_counts() {
        let text = "\u{feff}a,\"b\nc\"\r\n\nx,\"q\"\"\"\r\nlast";
        let want = vec![
            (1, vec!["a".to_string(), "b\nc".to_string()]),
            (4, vec!["x".to_string(), "q\"".to_string()]),
            (5, vec!["last".to_string()]),
        ];
        for chunk in [1, 2, 3, 5, 100] {
            assert_eq!(read_lines(text, chunk), want, "chunk {chunk}");
        }
    }

    #[test]
    fn a_record_longer_than_the_buffer() {
        let long = "y".repeat(BUF_SIZE * 2 + 5);
        let text = format!("h\n{long},\"z\"\n");
        let got = read_lines(&text, 1 << 14);
        assert_eq!(got[1], (2, vec![long, "z".to_string()]));
    }
}
