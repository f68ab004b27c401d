use std::collections::BTreeSet;

use crate::rules::{Checked, Context};
use crate::snapshot::is_resource_id;
use crate::report::src;
use crate::report::{Evidence, Resource};
use crate::snapshot::{Stack, outputs};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// An output value does not parse the way eksctl expects: an ID output that is not one ID of
    /// the right kind (`vpc-…`, `sg-…`), a subnet list with empty items, spaces, duplicates or non-subnet
    /// IDs, an empty `SubnetsPrivate`/`SubnetsPublic`, a `ClusterFullyPrivate` that is neither true nor
    /// false, a `FeatureNATMode` eksctl does not know, an `ARN` that is not an ARN, an `Endpoint` that is
    /// not an `https://` URL.
    ///
    /// ## Why it matters
    ///
    /// eksctl splits list outputs on commas without trimming and passes the items to EC2 as they
    /// are: a hand-edited output with a space breaks nodegroup creation in a way that is hard to read
    /// from the error.
    ///
    /// ## How to fix
    ///
    /// Correct the output with a reviewed change set that touches only it: comma-joined IDs, no
    /// spaces, no duplicates.
    code: "EKD105",
    slug: "output-malformed",
    severity: Warning,
    since: "0.1.0",
    summary: "an output value does not parse: wrong ID prefix, empty items, spaces, duplicates",
    breaks: [CreateNodegroup],
    inputs: [DescribeStacks, DescribeCluster],
}

/// Problems with one output value, as short phrases; empty when it is well formed.
fn problems(key: &str, value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let single = |prefix: &str, out: &mut Vec<String>| {
        if !is_resource_id(value, prefix) {
            out.push(format!("is not one {prefix}- ID"));
        }
    };
    match key {
        outputs::VPC => single("vpc", &mut out),
        outputs::SECURITY_GROUP
        | outputs::SHARED_NODE_SECURITY_GROUP
        | outputs::CLUSTER_SECURITY_GROUP_ID => single("sg", &mut out),
        k if outputs::SUBNET_LISTS.contains(&k) => {
            if value.is_empty() {
                // eksctl writes an empty list output only for the optional local-zone and
                // extended lists; an empty primary list means no subnets at all.
                if k == outputs::SUBNETS_PRIVATE || k == outputs::SUBNETS_PUBLIC {
                    out.push("is empty".to_owned());
                }
                return out;
            }
            let mut seen = BTreeSet::new();
            for item in value.split(',') {
                if item.is_empty() {
                    out.push("has an empty item".to_owned());
                } else if item.trim() != item {
                    out.push(format!("has spaces around {:?}", item.trim()));
                } else if !is_resource_id(item, "subnet") {
                    out.push(format!("has {item:?}, which is not a subnet- ID"));
                } else if !seen.insert(item) {
                    out.push(format!("names {item} twice"));
                }
            }
        }
        outputs::CLUSTER_FULLY_PRIVATE
            if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") =>
        {
            out.push("is neither true nor false".to_owned());
        }
        outputs::FEATURE_NAT_MODE if !["Single", "HighlyAvailable", "Disable"].contains(&value) => {
            out.push("is not Single, HighlyAvailable or Disable".to_owned());
        }
        outputs::ARN | outputs::SERVICE_ROLE_ARN | outputs::FARGATE_POD_EXECUTION_ROLE_ARN
            if !value.starts_with("arn:") =>
        {
            out.push("is not an ARN".to_owned());
        }
        outputs::ENDPOINT if !value.starts_with("https://") => {
            out.push("is not an https:// URL".to_owned());
        }
        _ => {}
    }
    out
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack: &Stack = ctx.stack()?;
    let mut findings = Vec::new();
    for output in &stack.outputs {
        let found = problems(&output.output_key, &output.output_value);
        if found.is_empty() {
            continue;
        }
        let is_list = outputs::SUBNET_LISTS.contains(&output.output_key.as_str());
        findings.push(
            RULE.finding(
                Resource::stack(stack),
                format!(
                    "stack output {} {}",
                    output.output_key,
                    found.join("; ")
                ),
            )
            .with_expected(Evidence::output(stack, &output.output_key))
            .with_actual(Evidence::live(src::STACKS, output.output_value.clone()))
            .with_impact(if is_list {
                "eksctl splits the list on commas without trimming; a malformed item is sent to EC2 as a subnet ID and nodegroup creation fails"
            } else {
                "eksctl reads the value as is; commands that use it fail or act on the wrong resource"
            })
            .with_remediation(
                format!(
                    "correct {} with a reviewed change set that touches only that output (comma-joined IDs, no spaces, no duplicates)",
                    output.output_key
                ),
                Vec::new(),
            ),
        );
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::problems;

    #[test]
    fn well_formed_values_pass() {
        assert!(problems("VPC", "vpc-0a1b2c3d4e5f60718").is_empty());
        assert!(problems("SubnetsPrivate", "subnet-0a1b2c3d,subnet-1a1b2c3d").is_empty());
        assert!(problems("SubnetsLocalZonePrivate", "").is_empty());
        assert!(problems("ClusterFullyPrivate", "true").is_empty());
        assert!(problems("Unknown", "anything").is_empty());
    }

    #[test]
    fn each_defect_is_named() {
        assert_eq!(problems("VPC", "subnet-0a1b2c3d").len(), 1);
        let p = problems(
            "SubnetsPrivate",
            "subnet-0a1b2c3d,,subnet-0a1b2c3d, subnet-1a1b2c3d,sg-0a1b2c3d",
        );
        assert_eq!(p.len(), 4, "{p:?}");
        assert_eq!(problems("SubnetsPublic", ""), vec!["is empty"]);
        assert_eq!(problems("FeatureNATMode", "Double").len(), 1);
    }
}
