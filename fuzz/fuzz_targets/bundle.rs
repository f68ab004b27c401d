//! Fuzzes the bundle reader and, when it accepts the input, the engine and the JSON writer.
//! The input is the bundle's files separated by 0xFF bytes, in the order of `BundleFiles`.
#![no_main]

use std::path::Path;

use drift_core::bundle::{BundleFiles, parse_bundle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0xff).map(<[u8]>::to_vec);
    let files = BundleFiles {
        describe_stacks: parts.next().unwrap_or_default(),
        describe_cluster: parts.next().unwrap_or_default(),
        describe_subnets: parts.next().unwrap_or_default(),
        describe_security_groups: parts.next(),
        get_template: parts.next(),
        describe_stack_resources: parts.next(),
        capture: parts.next(),
    };
    if let Ok(snapshot) = parse_bundle(Path::new("fuzz"), &files) {
        let report = drift_core::audit(&snapshot);
        let mut out = Vec::new();
        drift_core::text::write_json_safe(&mut out, &report).unwrap();
    }
});
