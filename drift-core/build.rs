//! Writes the rule registry: every `src/rules/<family>/<slug>.rs` becomes a module, and `ALL`
//! lists their `RULE`s in code order. Adding a rule is adding its file.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn main() {
    // Read at run time, not baked in when the script is compiled: one target folder may serve
    // several checkouts. The rerun path is relative to the package for the same reason.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("src/rules");
    println!("cargo:rerun-if-changed=src/rules");
    let mut families: Vec<_> = fs::read_dir(&root)
        .expect("src/rules")
        .map(|e| e.expect("src/rules entry").path())
        .filter(|p| p.is_dir())
        .collect();
    families.sort();

    let mut modules = String::new();
    let mut rules: Vec<(String, String)> = Vec::new();
    for family in &families {
        let family_name = family.file_name().unwrap().to_str().unwrap().to_owned();
        let mut files: Vec<_> = fs::read_dir(family)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        files.sort();
        let _ = writeln!(modules, "pub(crate) mod {family_name} {{");
        for file in files {
            let stem = file.file_stem().unwrap().to_str().unwrap().to_owned();
            let text = fs::read_to_string(&file).unwrap();
            let code = text
                .split("code: \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| {
                    panic!(
                        "{}: no `code: \"EKDnnn\"` in the declaration",
                        file.display()
                    )
                });
            let _ = writeln!(
                modules,
                "    #[path = {:?}]\n    pub(crate) mod {stem};",
                file.display().to_string()
            );
            rules.push((code.to_owned(), format!("{family_name}::{stem}::RULE")));
        }
        modules.push_str("}\n");
    }
    rules.sort();
    let mut out = modules;
    out.push_str("\n/// Every rule, in code order.\npub static ALL: &[&Rule] = &[\n");
    for (_, path) in &rules {
        let _ = writeln!(out, "    &{path},");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("rules_registry.rs");
    fs::write(dest, out).unwrap();
}
