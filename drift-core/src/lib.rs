//! # drift-core
//!
//! The engine behind `eksdrift`: it compares what an eksctl cluster stack's outputs say about
//! the cluster's network layout (VPC, subnets, security groups) with the live EKS cluster and
//! EC2, and reports every inconsistency as a typed [`Finding`].
//!
//! The engine is a pure function, [`audit`], from a [`Snapshot`] to a [`TargetReport`]. Bring
//! your own snapshot, read one from a capture bundle with [`bundle::read_bundle`], or collect
//! one live with the `aws` feature's collector. The library never prints.
//!
//! ```
//! use drift_core::{audit, snapshot::{Cluster, Snapshot}};
//!
//! let snapshot = Snapshot {
//!     source: "example".into(),
//!     region: Some("us-west-2".into()),
//!     stacks: vec![],
//!     cluster: Cluster { name: "prod".into(), status: Some("ACTIVE".into()), ..Cluster::default() },
//!     ..Snapshot::default()
//! };
//! let report = audit(&snapshot);
//! // No eksctl stack: EKD101, and the stack rules say why they did not run.
//! assert_eq!(report.findings[0].code, "EKD101");
//! assert!(report.coverage.not_checked.iter().any(|n| n.rule == "output-subnet-deleted"));
//! ```

#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]
#![warn(missing_docs)]

pub mod baseline;
pub mod bundle;
#[cfg(feature = "aws")]
pub mod collect;
pub mod config;
pub mod discovery;
pub mod engine;
pub mod input;
pub mod plan;
pub mod readonly;
pub mod report;
pub mod rules;
pub mod selection;
pub mod snapshot;
pub mod suppress;
pub mod text;

pub use engine::{audit, audit_with};
pub use report::{Finding, Report, Severity, TargetReport};
pub use snapshot::Snapshot;
