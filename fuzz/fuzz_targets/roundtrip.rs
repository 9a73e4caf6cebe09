//! The verified round trip on arbitrary text: whatever parses without a
//! diagnostic prints to text that parses, without a diagnostic, to an equal
//! tree, and printing that tree gives the same text again.
#![no_main]

use dalal_lang::FileId;
use dalal_lang::printer::to_source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file = FileId::from_index(0);
    let (ast, diags) = dalal_lang::parse(&text, file);
    if !diags.is_empty() {
        return;
    }
    let printed = to_source(&ast);
    let (again, diags) = dalal_lang::parse(&printed, file);
    assert!(
        diags.is_empty(),
        "printed text does not parse:\n--- input\n{text}\n--- printed\n{printed}\n--- errors\n{diags:#?}"
    );
    assert!(
        again == ast,
        "printed text parses to another tree:\n--- input\n{text}\n--- printed\n{printed}\n--- first\n{ast:#?}\n--- second\n{again:#?}"
    );
    assert_eq!(to_source(&again), printed, "printing is not stable");
});
