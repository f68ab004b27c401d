//! Growth figures, not a pass/fail test (speed is measured, never asserted): run with
//! `cargo test -p drift-core --no-default-features --release --test growth -- --ignored --nocapture`.
//! The clean fixture with N managed nodegroups (listed and described), N IRSA stacks with their
//! roles and N access entries, audited at N and 2N: per-name lookups that scanned lists made
//! this quadratic; with indexes, doubling N should about double the time.

use std::path::Path;
use std::time::Instant;

use drift_core::bundle::read_bundle;
use drift_core::snapshot::{AccessEntry, Role, Snapshot};

fn grown(n: usize) -> Snapshot {
    let mut s =
        read_bundle(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/clean")).unwrap();
    let ng = s.nodegroups[0].clone();
    let irsa = s
        .stacks
        .iter()
        .find(|st| st.stack_name.contains("-addon-iamserviceaccount-"))
        .unwrap()
        .clone();
    let role_arn = irsa.output("Role1").unwrap().to_owned();
    let role = s.role(&role_arn).unwrap().clone();
    for i in 0..n {
        let mut g = ng.clone();
        g.nodegroup_name = format!("bulk-{i}");
        s.nodegroup_names
            .as_mut()
            .unwrap()
            .push(g.nodegroup_name.clone());
        s.nodegroups.push(g);
        let mut st = irsa.clone();
        st.stack_name = format!("{}-{i}", irsa.stack_name);
        let arn = format!("{role_arn}-{i}");
        for o in &mut st.outputs {
            if o.output_key == "Role1" {
                o.output_value.clone_from(&arn);
            }
        }
        s.stacks.push(st);
        s.roles.as_mut().unwrap().push(Role {
            arn: arn.clone(),
            role_name: format!("{}-{i}", role.role_name),
            ..role.clone()
        });
        s.access_entries.as_mut().unwrap().push(arn.clone());
        s.access_entry_details.push(AccessEntry {
            principal_arn: arn,
            kind: Some("STANDARD".into()),
            ..AccessEntry::default()
        });
    }
    s
}

#[test]
#[ignore = "figures: prints the time ratio of 2N to N"]
fn audit_time_grows_linearly_with_nodegroups_roles_and_entries() {
    let time = |n: usize| {
        let s = grown(n);
        let mut best = f64::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            let report = drift_core::audit(&s);
            std::hint::black_box(report);
            best = best.min(started.elapsed().as_secs_f64());
        }
        best
    };
    let (a, b) = (time(2000), time(4000));
    println!(
        "audit with N=2000: {:.1} ms, N=4000: {:.1} ms, ratio {:.2}x (best of 5)",
        a * 1e3,
        b * 1e3,
        b / a
    );
}
