//! Any bytes, as text, through the whole front end: parse, check, and render
//! the diagnostics. None of it may panic, overflow the stack or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut sources = dalal_lang::Sources::new();
    sources.add("fuzz.pattern", text.into_owned());
    if let Err(diags) = dalal_lang::compile(&sources, &[]) {
        // Rendering slices the source by the spans: a span off a char
        // boundary or past the end would panic here.
        let _ = diags.render(false);
        let _ = diags.render(true);
    }
});
