//! Fuzzes the bundle reader and, when it accepts the input, the engine and the JSON writer.
//! The input is the bundle's files separated by 0xFF bytes, in the order of `NAMES`.
#![no_main]

use std::path::Path;

use drift_core::bundle::{BundleFiles, parse_bundle};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 8] = [
    "describe-stacks.json",
    "describe-cluster.json",
    "describe-subnets.json",
    "describe-security-groups.json",
    "get-template.json",
    "describe-stack-resources.json",
    "capture.json",
    "list-imports/eksctl-prod-cluster::VPC.json",
];

fuzz_target!(|data: &[u8]| {
    let mut files = BundleFiles::new();
    for (name, part) in NAMES.iter().zip(data.split(|b| *b == 0xff)) {
        files.insert(*name, part.to_vec());
    }
    if let Ok(snapshot) = parse_bundle(Path::new("fuzz"), &files) {
        let report = drift_core::audit(&snapshot);
        let mut out = Vec::new();
        drift_core::text::write_json_safe(&mut out, &report).unwrap();
    }
});
