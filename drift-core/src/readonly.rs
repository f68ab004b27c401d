//! The read-only guarantee: the only AWS operations eksdrift may call. The collector's guard
//! refuses anything else before it is sent, and `docs/iam-policy.json` grants exactly these.

/// `service:Operation`, with the IAM service prefix.
pub const ALLOWED_OPERATIONS: &[&str] = &[
    "cloudformation:DescribeStacks",
    "cloudformation:ListStacks",
    "cloudformation:GetTemplate",
    "cloudformation:DescribeStackResources",
    "cloudformation:ListImports",
    "eks:ListClusters",
    "eks:DescribeCluster",
    "eks:ListNodegroups",
    "eks:DescribeNodegroup",
    "eks:ListAccessEntries",
    "eks:DescribeAccessEntry",
    "eks:ListPodIdentityAssociations",
    "eks:DescribePodIdentityAssociation",
    "eks:ListAddons",
    "eks:DescribeAddon",
    "eks:DescribeAddonVersions",
    "eks:ListInsights",
    "eks:DescribeInsight",
    "eks:DescribeClusterVersions",
    "eks:ListFargateProfiles",
    "eks:DescribeFargateProfile",
    "iam:ListOpenIDConnectProviders",
    "iam:ListRoles",
    "iam:GetPolicy",
    "iam:GetInstanceProfile",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "ec2:DescribeSubnets",
    "ec2:DescribeKeyPairs",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypeOfferings",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "ec2:DescribeRegions",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeInstances",
    "ec2:DescribeLaunchTemplates",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTags",
    "autoscaling:DescribeAutoScalingGroups",
    "sts:GetCallerIdentity",
    "sts:AssumeRole",
    // `--org`, with the management account's (or a delegated administrator's) credentials:
    // docs/iam-policy-organizations.json.
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListChildren",
];

/// True when `action` (`service:Operation`) is on the allowlist.
#[must_use]
pub fn is_allowed(action: &str) -> bool {
    ALLOWED_OPERATIONS.contains(&action)
}

#[cfg(test)]
mod tests {
    use super::ALLOWED_OPERATIONS;

    /// The actions one policy document grants (one Allow statement).
    fn granted(file: &str) -> Vec<String> {
        let text =
            std::fs::read_to_string(format!("{}/../docs/{file}", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        let policy: serde_json::Value = serde_json::from_str(&text).unwrap();
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Effect"], "Allow");
        statements[0]["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn iam_policy_grants_exactly_the_allowlist() {
        // The audited accounts' policy, and the management account's for --org.
        let org = granted("iam-policy-organizations.json");
        assert!(
            org.iter().all(|a| a.starts_with("organizations:")),
            "{org:?}"
        );
        let mut granted: Vec<String> = granted("iam-policy.json");
        assert!(granted.iter().all(|a| !a.starts_with("organizations:")));
        granted.extend(org);
        granted.sort_unstable();
        let mut allowed: Vec<String> = ALLOWED_OPERATIONS.iter().map(|a| (*a).to_owned()).collect();
        allowed.sort_unstable();
        assert_eq!(granted, allowed);
        for a in ALLOWED_OPERATIONS {
            let op = a.split(':').nth(1).unwrap();
            // AssumeRole issues credentials for another account's reads; it changes nothing.
            if *a == "sts:AssumeRole" {
                continue;
            }
            assert!(
                ["Describe", "List", "Get"]
                    .iter()
                    .any(|p| op.starts_with(p)),
                "{a} is not a read"
            );
        }
        assert!(!ALLOWED_OPERATIONS.contains(&"cloudformation:DetectStackDrift"));
    }
}
