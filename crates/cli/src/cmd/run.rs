//! `dalal run`: read an event stream, match it, write the matches.

use super::{pattern_paths, stderr_color};
use crate::exit;
use anyhow::{Context, Result, anyhow};
use dalal::Program;
use dalal_io::{
    EventReader, EventWriter, Format, OutputFormat, Pipeline, PipelineConfig, PipelineError,
    PipelineStats, Pushed, ReadError, ReaderOptions, RowError, Schema,
};
use dalal_lang::Sources;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The sample replayed when no `--input` is given.
pub const DEFAULT_INPUT: &str = "data/sample.csv";

/// Input formats.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum InFormat {
    /// Comma-separated values.
    Csv,
    /// JSON Lines.
    Jsonl,
}

/// Match output formats.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum OutFormat {
    /// One JSON object per match.
    Jsonl,
    /// pattern,key,start,end,fields (key and fields as JSON).
    Csv,
    /// Aligned columns.
    Table,
}

/// What to do with late events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Late {
    /// Count them (and write them to --late-output if given).
    Drop,
    /// Stop with an error naming the event's line.
    Fail,
}

/// What to do with a bad input row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OnError {
    /// Stop with an error naming file, line and column.
    Fail,
    /// Count the row, write it to --rejects if given, go on.
    Skip,
}

/// Arguments of `dalal run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pattern files or directories (every `*.pattern` below them, loaded as one program).
    #[arg(value_name = "PATTERNS")]
    pub patterns: Vec<PathBuf>,
    /// The event stream (`-` for standard input). Default: the shipped sample data/sample.csv.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Input format. Default: from the file extension (.jsonl, .ndjson, .json: jsonl; else csv).
    #[arg(long, value_enum)]
    pub format: Option<InFormat>,
    /// Where matches go (`-` for standard output, the default).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Match output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub output_format: OutFormat,
    /// Worker threads; partitions are sharded over them by key hash.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: u16,
    /// How far out of order events may arrive (500ms, 2s, 5m; a plain number is milliseconds).
    #[arg(long, value_name = "DUR", value_parser = dalal_io::parse_duration, default_value = "0")]
    pub max_delay: Duration,
    /// What to do with an event older than the watermark.
    #[arg(long, value_enum, default_value = "drop")]
    pub late: Late,
    /// Write late events here (JSON Lines in the input shape).
    #[arg(long, value_name = "FILE")]
    pub late_output: Option<PathBuf>,
    /// What to do with a row that cannot be decoded.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_error: OnError,
    /// With --on-error skip: write bad rows here (JSON Lines: file, line, column, reason, raw).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// How each record names its event type and time.
    #[command(flatten)]
    pub event: super::EventArgs,
    /// The CSV has no header row: name its columns with --columns.
    #[arg(long, requires = "columns")]
    pub no_header: bool,
    /// Column names of a CSV without a header, comma-separated.
    #[arg(
        long,
        value_name = "A,B,C",
        value_delimiter = ',',
        requires = "no_header"
    )]
    pub columns: Option<Vec<String>>,
    /// Print a summary to standard error at the end.
    #[arg(long)]
    pub stats: bool,
    /// No progress bar and no pattern warnings.
    #[arg(long, short)]
    pub quiet: bool,
    /// Leave the bound events out of JSON Lines matches.
    #[arg(long)]
    pub no_events: bool,
}

/// Loads and compiles pattern files; on failure prints the diagnostics and
/// returns the exit code.
pub(crate) fn load_program(paths: &[PathBuf], quiet: bool) -> Result<(Program, Sources), ExitCode> {
    let mut sources = Sources::new();
    for p in paths {
        if let Err(e) = sources.load_path(p) {
            eprintln!("error: {e}");
            return Err(ExitCode::from(exit::USAGE));
        }
    }
    let color = stderr_color();
    let checked = match dalal_lang::compile_with_warnings(&sources, &[]) {
        Ok((checked, warnings)) => {
            if !warnings.is_empty() && !quiet {
                eprint!("{}", dalal_lang::render::render(&warnings, &sources, color));
            }
            checked
        }
        Err(diags) => {
            eprint!("{}", diags.render(color));
            let n = diags.error_count();
            eprintln!(
                "error: could not compile the patterns: {n} error{}",
                if n == 1 { "" } else { "s" }
            );
            return Err(ExitCode::from(exit::USAGE));
        }
    };
    match Program::from_checked(checked) {
        Ok(p) => Ok((p, sources)),
        Err(e) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(exit::USAGE))
        }
    }
}

fn create(path: &Path, what: &str) -> Result<Box<dyn Write + Send>> {
    let f = File::create(path)
        .with_context(|| format!("cannot create the {what} file {}", path.display()))?;
    Ok(Box::new(f))
}

/// Counters the reader keeps (the pipeline keeps the rest).
#[derive(Default)]
struct ReadStats {
    rejected: u64,
}

/// Runs `dalal run`.
pub fn run(args: &Args) -> Result<ExitCode> {
    let started = Instant::now();
    let (program, _sources) = match load_program(&pattern_paths(&args.patterns), args.quiet) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    if args.rejects.is_some() && args.on_error == OnError::Fail {
        eprintln!(
            "error: --rejects needs --on-error skip (with --on-error fail the first bad row stops the run)"
        );
        return Ok(ExitCode::from(exit::USAGE));
    }
    if args.late_output.is_some() && args.late == Late::Fail {
        eprintln!("error: --late-output needs --late drop");
        return Ok(ExitCode::from(exit::USAGE));
    }

    // Input.
    let (input_name, input): (String, Box<dyn std::io::Read + Send>) = match &args.input {
        Some(p) if p.as_os_str() == "-" => ("<stdin>".to_string(), Box::new(std::io::stdin())),
        Some(p) => (
            p.display().to_string(),
            Box::new(File::open(p).with_context(|| format!("cannot open {}", p.display()))?),
        ),
        None => {
            let p = Path::new(DEFAULT_INPUT);
            let f = File::open(p).with_context(|| {
                format!(
                    "no --input given and the shipped sample {DEFAULT_INPUT} cannot be opened \
                     (run from the repository root, or pass --input FILE)"
                )
            })?;
            (DEFAULT_INPUT.to_string(), Box::new(f))
        }
    };
    let format = match (args.format, &args.input) {
        (Some(InFormat::Csv), _) => Format::Csv,
        (Some(InFormat::Jsonl), _) => Format::Jsonl,
        (None, Some(p)) => Format::from_path(p),
        (None, None) => Format::Csv,
    };
    let options = ReaderOptions {
        name: input_name.clone(),
        type_source: args.event.type_source(),
        ts_column: args.event.ts_column.clone(),
        ts_format: args.event.ts_format.clone(),
        columns: if args.no_header {
            args.columns.clone()
        } else {
            None
        },
    };
    let schema = Schema::of(&program);
    let mut reader = match dalal_io::reader(input, format, &schema, &options) {
        Ok(r) => r,
        Err(ReadError::Options(msg)) => {
            eprintln!("error: {msg}");
            return Ok(ExitCode::from(exit::USAGE));
        }
        Err(e) => return Err(e.into()),
    };

    // Outputs.
    let to_stdout = args.output.as_ref().is_none_or(|p| p.as_os_str() == "-");
    let out: Box<dyn Write + Send> = match &args.output {
        Some(p) if !to_stdout => create(p, "output")?,
        _ => Box::new(std::io::stdout()),
    };
    let output_format = match args.output_format {
        OutFormat::Jsonl => OutputFormat::Jsonl,
        OutFormat::Csv => OutputFormat::Csv,
        OutFormat::Table => OutputFormat::Table,
    };
    let writer = match dalal_io::writer(output_format, out, &program, !args.no_events) {
        Ok(w) => w,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(anyhow!("cannot write matches: {e}")),
    };
    let mut late_out = match &args.late_output {
        Some(p) => Some(EventWriter::new(create(p, "late-event")?, &program)),
        None => None,
    };
    let mut rejects = match &args.rejects {
        Some(p) => Some(std::io::BufWriter::new(create(p, "rejects")?)),
        None => None,
    };

    let config = PipelineConfig {
        threads: usize::from(args.threads),
        max_delay: args.max_delay,
        ..PipelineConfig::default()
    };
    let mut pipeline = Pipeline::new(&program, config, writer)?;
    let mut progress = ProgressBar::new(
        args.quiet || !to_stdout_is_free(to_stdout),
        pipeline.progress(),
    );
    let mut rs = ReadStats::default();

    let outcome = (|| -> Result<Option<ExitCode>> {
        loop {
            let next = match reader.next_event() {
                Ok(Some(e)) => e,
                Ok(None) => return Ok(None),
                Err(ReadError::Row(row)) if args.on_error == OnError::Skip => {
                    rs.rejected += 1;
                    if let Some(w) = rejects.as_mut() {
                        write_reject(w, &row).context("cannot write the rejects file")?;
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let (line, event) = next;
            match pipeline.push(event) {
                Ok(Pushed::Accepted) => {}
                Ok(Pushed::Late { event, watermark }) => match args.late {
                    Late::Fail => {
                        return Err(anyhow!(
                            "{input_name}:{line}: late event at {}: the watermark is already at \
                             {watermark} (allow more disorder with --max-delay, or count late \
                             events with --late drop)",
                            event.ts
                        ));
                    }
                    Late::Drop => {
                        if let Some(w) = late_out.as_mut() {
                            w.write(&event)
                                .context("cannot write the late-event file")?;
                        }
                    }
                },
                Err(PipelineError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    return Ok(Some(ExitCode::SUCCESS));
                }
                Err(e) => return Err(e.into()),
            }
            progress.tick();
        }
    })();
    progress.finish();
    match outcome {
        Ok(None) => {}
        Ok(Some(code)) => return Ok(code),
        Err(e) => return Err(e),
    }
    let stats = match pipeline.finish() {
        Ok(s) => s,
        Err(PipelineError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(w) = late_out.as_mut() {
        w.flush().context("cannot write the late-event file")?;
    }
    if let Some(w) = rejects.as_mut() {
        w.flush().context("cannot write the rejects file")?;
    }
    if args.stats {
        print_stats(&program, &stats, &rs, reader.as_ref(), started.elapsed());
    } else if !args.quiet {
        warn_dropped(&stats, &rs, reader.as_ref(), &args.late);
    }
    Ok(ExitCode::SUCCESS)
}

/// The bar may draw on stderr only when matches are not going to the same
/// terminal through stdout.
fn to_stdout_is_free(to_stdout: bool) -> bool {
    std::io::stderr().is_terminal() && !(to_stdout && std::io::stdout().is_terminal())
}

/// One JSON line per rejected row: where, why, and the row itself.
fn write_reject(w: &mut impl Write, row: &RowError) -> std::io::Result<()> {
    let mut obj = Vec::new();
    obj.extend_from_slice(b"{\"file\":");
    json_str(&mut obj, &row.file);
    obj.extend_from_slice(format!(",\"line\":{},\"column\":", row.line).as_bytes());
    match &row.column {
        Some(c) => json_str(&mut obj, c),
        None => obj.extend_from_slice(b"null"),
    }
    obj.extend_from_slice(b",\"reason\":");
    json_str(&mut obj, &row.reason);
    obj.extend_from_slice(b",\"raw\":");
    json_str(&mut obj, &row.raw);
    obj.extend_from_slice(b"}\n");
    w.write_all(&obj)
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    dalal_io::write_value(out, &dalal::Value::str(s));
}

/// Without `--stats`, still say when input was set aside, so nothing is
/// dropped silently.
fn warn_dropped(stats: &PipelineStats, rs: &ReadStats, reader: &dyn EventReader, late: &Late) {
    let unknown: u64 = reader.unknown_types().iter().map(|(_, n)| n).sum();
    if rs.rejected > 0 {
        eprintln!(
            "warning: {} bad row(s) skipped (see --rejects, --stats)",
            rs.rejected
        );
    }
    if stats.late > 0 && *late == Late::Drop {
        eprintln!(
            "warning: {} late event(s) dropped (see --max-delay, --late-output, --stats)",
            stats.late
        );
    }
    if unknown > 0 {
        eprintln!(
            "note: {unknown} row(s) of event types the patterns do not declare were skipped: {}",
            unknown_list(reader)
        );
    }
}

fn unknown_list(reader: &dyn EventReader) -> String {
    reader
        .unknown_types()
        .iter()
        .take(10)
        .map(|(n, c)| format!("{n} ({c})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_stats(
    program: &Program,
    stats: &PipelineStats,
    rs: &ReadStats,
    reader: &dyn EventReader,
    wall: Duration,
) {
    let unknown: u64 = reader.unknown_types().iter().map(|(_, n)| n).sum();
    let rows = stats.events + rs.rejected + unknown;
    let total: u64 = stats.matches.iter().sum();
    let secs = wall.as_secs_f64();
    let width = program
        .pattern_names()
        .iter()
        .map(|n| n.len() + 4)
        .max()
        .unwrap_or(0)
        .max(16);
    let mut s = String::new();
    let mut line = |k: &str, v: String| s.push_str(&format!("{k:<width$}{v}\n"));
    line("rows read", rows.to_string());
    line("events", stats.events.to_string());
    line("  routed", stats.routed.to_string());
    line("  late", stats.late.to_string());
    line("rejected rows", rs.rejected.to_string());
    line(
        "unknown type",
        if unknown == 0 {
            "0".to_string()
        } else {
            format!("{unknown} ({})", unknown_list(reader))
        },
    );
    line("matches", total.to_string());
    for (name, n) in program.pattern_names().iter().zip(&stats.matches) {
        line(&format!("  {name}"), n.to_string());
    }
    line("peak runs", stats.peak_runs.to_string());
    if stats.dropped_runs > 0 {
        line("dropped runs", stats.dropped_runs.to_string());
    }
    line("wall time", format!("{secs:.3}s"));
    line(
        "events/s",
        if secs > 0.0 {
            format!("{:.0}", stats.events as f64 / secs)
        } else {
            "-".to_string()
        },
    );
    eprint!("{s}");
}

/// A progress line on a terminal: events/s, matches, live runs.
struct ProgressBar {
    bar: Option<indicatif::ProgressBar>,
    progress: std::sync::Arc<dalal_io::Progress>,
    events: u64,
    started: Instant,
}

impl ProgressBar {
    fn new(hidden: bool, progress: std::sync::Arc<dalal_io::Progress>) -> Self {
        let bar = (!hidden).then(|| {
            let b = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr_with_hz(4),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            {
                b.set_style(style);
            }
            b
        });
        ProgressBar {
            bar,
            progress,
            events: 0,
            started: Instant::now(),
        }
    }

    fn tick(&mut self) {
        self.events += 1;
        if self.events % 8192 != 0 {
            return;
        }
        if let Some(b) = &self.bar {
            use std::sync::atomic::Ordering;
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            b.set_message(format!(
                "{} events ({:.0}/s), {} matches, {} live runs",
                self.events,
                self.events as f64 / secs,
                self.progress.matches.load(Ordering::Relaxed),
                self.progress.live_runs.load(Ordering::Relaxed),
            ));
            b.tick();
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
