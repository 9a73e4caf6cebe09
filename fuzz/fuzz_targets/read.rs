//! Any bytes as a tick file, CSV and JSON Lines, through the readers the
//! command line uses: every row is an event or an error naming its line,
//! and nothing panics or hangs. The first byte picks the options (a header
//! or fixed columns, the type from a column or fixed, the time format), so
//! the fast CSV path, `csv-core`'s path and the JSON path all see the input.
#![no_main]

use dalal_io::{Format, ReaderOptions, Schema, TsFormat, TypeSource};
use libfuzzer_sys::fuzz_target;

const TYPES: &str = "EVENT Trade (symbol STRING, price FLOAT, volume INT);
EVENT News (symbol STRING, headline STRING, at TIMESTAMP, lag DURATION, ok BOOL);
PATTERN p SEQ(Trade a, News n) WITHIN 1m PARTITION BY symbol;";

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let Ok(program) = dalal::Program::compile(TYPES) else {
        return;
    };
    let schema = Schema::of(&program);
    let options = ReaderOptions {
        name: "fuzz".to_string(),
        type_source: if pick & 1 == 0 {
            TypeSource::Column("type".to_string())
        } else {
            TypeSource::Fixed("Trade".to_string())
        },
        ts_column: "ts".to_string(),
        ts_format: match (pick >> 1) & 3 {
            0 => TsFormat::Rfc3339,
            1 => TsFormat::EpochMs,
            2 => TsFormat::EpochS,
            _ => TsFormat::Chrono("%Y%m%d%H%M".to_string()),
        },
        columns: (pick & 8 != 0).then(|| {
            [
                "type", "ts", "symbol", "price", "volume", "headline", "at", "lag", "ok",
            ]
            .map(str::to_string)
            .to_vec()
        }),
    };
    let format = if pick & 16 == 0 {
        Format::Csv
    } else {
        Format::Jsonl
    };
    let Ok(mut reader) = dalal_io::reader(
        Box::new(std::io::Cursor::new(body.to_vec())),
        format,
        &schema,
        &options,
    ) else {
        return;
    };
    // Each call consumes at least one row or ends the input: a reader still
    // yielding after more calls than the input has bytes has stopped making
    // progress, which is a failure (as the reader's termination property
    // test in crates/io/src/read.rs asserts), not a reason to stop quietly.
    let mut ended = false;
    for _ in 0..body.len() + 2 {
        match reader.next_event() {
            Ok(None) => {
                ended = true;
                break;
            }
            Ok(Some(_)) | Err(_) => {}
        }
    }
    assert!(ended, "the reader does not reach the end of the input");
    let _ = reader.unknown_types();
});
