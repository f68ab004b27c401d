use serde_json::json;

use crate::report::{Evidence, Operation, Resource, src};
use crate::rules::planning;
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::is_resource_id;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// For `audit -f cluster.yaml --for create-nodegroup`, what the nodegroups refer to:
    ///
    /// - for **every** nodegroup of the file, before `--include`/`--exclude` apply (eksctl
    ///   resolves them while normalising the whole file): an explicit `ami` (an `ami-…` ID, not
    ///   eksctl's `auto`/`auto-ssm`/`static`) exists and is available (`ec2:DescribeImages`,
    ///   deprecated images included: they still launch), and `ssh.publicKeyName` exists
    ///   (`ec2:DescribeKeyPairs`) — even with `ssh.allow: false`, since eksctl still writes
    ///   the key name into the launch template;
    /// - for the nodegroups the filter keeps: each `securityGroups.attachIDs` group exists and
    ///   is in the cluster's VPC, `iam.instanceRoleARN` names a role that exists, each
    ///   customer-managed policy of `iam.attachPolicyARNs` exists (`iam:GetPolicy`), and a
    ///   managed nodegroup's `launchTemplate.id` and `version` (default: the template's
    ///   default version) exist (`ec2:DescribeLaunchTemplateVersions`, with the others);
    /// - a self-managed nodegroup's `iam.instanceProfileARN` names a profile that exists
    ///   (`iam:GetInstanceProfile`). Without `iam.instanceRoleARN`, eksctl reads the node role
    ///   from the profile (`pkg/iam/iam.go`, `ImportInstanceRoleFromProfileARN`): it fails on
    ///   a profile with no role, and on an ARN with a path (it splits the ARN on `/` and wants
    ///   two parts). A managed nodegroup with `instanceProfileARN` fails eksctl's validation.
    ///
    /// ## Why it matters
    ///
    /// Each missing reference fails the nodegroup's CloudFormation stack (`InvalidAMIID`,
    /// `InvalidKeyPair.NotFound`, `InvalidGroup.NotFound`) or eksctl's own validation, after
    /// eksctl has started creating stacks.
    ///
    /// ## How to fix
    ///
    /// Point the file at resources that exist (the finding names each one), or create them.
    code: "EKD905",
    slug: "plan-nodegroup-reference-missing",
    severity: Error,
    since: "0.1.0",
    summary: "a nodegroup of the ClusterConfig names an AMI, key pair, security group, role or instance profile that does not exist",
    breaks: [CreateNodegroup],
    inputs: [DescribeStacks, DescribeCluster, DescribeKeyPairs, DescribeImages, DescribeSecurityGroups, ListRoles, GetPolicies, GetInstanceProfiles, DescribeLaunchTemplateVersions],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(plan) = planning::plan_for(ctx, &[Operation::CreateNodegroup]) else {
        return Ok(Vec::new());
    };
    let file = crate::text::inline(&plan.source).into_owned();
    let mut findings = Vec::new();
    let mut missing = |ng: &str, kind: &str, what: &str, why: String, source: &str, fix: Vec<String>| {
        let name = crate::text::inline(ng);
        findings.push(
            RULE.finding(
                Resource::new(kind, what),
                format!("nodegroup {name} of {file} names {why}"),
            )
            .with_expected(Evidence::live("ClusterConfig", json!(what)))
            .with_actual(Evidence::live(source, serde_json::Value::Null))
            .with_impact("eksctl create nodegroup fails: the nodegroup's stack cannot create what refers to it")
            .with_remediation("point the file at a resource that exists, or create it", fix),
        );
    };
    let mut unread = Vec::new();
    for (_, ng) in plan.config.node_pools() {
        if let Some(ami) = ng.ami_id() {
            match &ctx.snapshot.images {
                None => unread.push("describe-images.json"),
                Some(images) => {
                    let image = images.iter().find(|i| i.image_id == ami);
                    let state = image.and_then(|i| i.state.as_deref()).unwrap_or("available");
                    if image.is_none() || state != "available" {
                        let why = if image.is_none() {
                            format!("AMI {ami}, which does not exist in the region (or is not shared with the account)")
                        } else {
                            format!("AMI {ami}, which is {}", crate::text::inline(state))
                        };
                        missing(
                            &ng.name,
                            "AWS::EC2::Image",
                            ami,
                            why,
                            "ec2:DescribeImages",
                            vec![Cmd::new("aws ec2 describe-images")
                                .word("--include-deprecated")
                                .opt("--image-ids", ami)
                                .region(ctx)
                                .done()],
                        );
                    }
                }
            }
        }
        if let Some(key) = ng.key_name() {
            match &ctx.snapshot.key_pairs {
                None => unread.push("describe-key-pairs.json"),
                Some(keys) if keys.iter().any(|k| k.key_name == key) => {}
                Some(_) => missing(
                    &ng.name,
                    "AWS::EC2::KeyPair",
                    key,
                    format!(
                        "key pair {} (ssh.publicKeyName), which does not exist in the region",
                        crate::text::inline(key)
                    ),
                    "ec2:DescribeKeyPairs",
                    vec![Cmd::new("aws ec2 describe-key-pairs").region(ctx).done()],
                ),
            }
        }
    }
    let vpc = ctx.cluster.resources_vpc_config.vpc_id.as_deref();
    for (kind, ng) in plan.config.node_pools().filter(|(_, n)| plan.keeps(&n.name)) {
        for group in ng
            .security_groups
            .iter()
            .flat_map(|g| &g.attach_ids)
            .map(|g| g.trim())
            .filter(|g| is_resource_id(g, "sg"))
        {
            let Some(groups) = &ctx.security_groups else {
                unread.push("describe-security-groups.json");
                continue;
            };
            match groups.get(group) {
                Some(g) if vpc.is_none() || g.vpc_id.as_deref() == vpc => {}
                Some(g) => missing(
                    &ng.name,
                    "AWS::EC2::SecurityGroup",
                    group,
                    format!(
                        "security group {group} (securityGroups.attachIDs), which is in {}, not in the cluster's VPC",
                        crate::text::inline(g.vpc_id.as_deref().unwrap_or("another VPC"))
                    ),
                    src::SECURITY_GROUPS,
                    Vec::new(),
                ),
                None if ctx.snapshot.source != "live" => unread.push("describe-security-groups.json"),
                None => missing(
                    &ng.name,
                    "AWS::EC2::SecurityGroup",
                    group,
                    format!("security group {group} (securityGroups.attachIDs), which does not exist"),
                    src::SECURITY_GROUPS,
                    Vec::new(),
                ),
            }
        }
        for policy in ng
            .iam
            .iter()
            .flat_map(|i| &i.attach_policy_arns)
            .map(|p| p.trim())
            .filter(|p| crate::config::is_customer_policy(p))
        {
            match &ctx.snapshot.policies {
                None => unread.push("get-policy.json"),
                Some(found) if found.iter().any(|f| f == policy) => {}
                Some(_) => missing(
                    &ng.name,
                    "AWS::IAM::ManagedPolicy",
                    policy,
                    format!(
                        "policy {} (iam.attachPolicyARNs), which does not exist",
                        crate::text::inline(policy)
                    ),
                    "iam:GetPolicy",
                    Vec::new(),
                ),
            }
        }
        if let Some(lt) = &ng.launch_template
            && let Some(id) = lt.id.as_deref().map(str::trim).filter(|i| i.starts_with("lt-"))
        {
            let version = lt.version.as_deref().map(str::trim);
            match ctx.snapshot.launch_template_version(Some(id), None, version) {
                None => unread.push("describe-launch-template-versions.json"),
                Some(crate::snapshot::TemplateLookup::TemplateMissing) => missing(
                    &ng.name,
                    "AWS::EC2::LaunchTemplate",
                    id,
                    format!("launch template {id} (launchTemplate.id), which does not exist"),
                    src::LAUNCH_TEMPLATE_VERSIONS,
                    Vec::new(),
                ),
                Some(crate::snapshot::TemplateLookup::VersionMissing) => missing(
                    &ng.name,
                    "AWS::EC2::LaunchTemplate",
                    id,
                    format!(
                        "version {} of launch template {id}, which does not exist",
                        crate::text::inline(version.unwrap_or("$Default"))
                    ),
                    src::LAUNCH_TEMPLATE_VERSIONS,
                    vec![Cmd::new("aws ec2 describe-launch-template-versions")
                        .opt("--launch-template-id", id)
                        .region(ctx)
                        .done()],
                ),
                Some(_) => {}
            }
        }
        if let Some(profile) = ng
            .iam
            .as_ref()
            .and_then(|i| i.instance_profile_arn.as_deref())
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let shown = crate::text::inline(profile);
            let with_role = ng
                .iam
                .as_ref()
                .and_then(|i| i.instance_role_arn.as_deref())
                .is_some_and(|r| !r.trim().is_empty());
            if kind == crate::config::NodeGroupKind::Managed {
                missing(
                    &ng.name,
                    "AWS::IAM::InstanceProfile",
                    profile,
                    format!("instance profile {shown} (iam.instanceProfileARN), which managed nodegroups do not support: eksctl's validation refuses the file"),
                    "ClusterConfig",
                    Vec::new(),
                );
            } else if let Some(name) = crate::config::profile_name(profile) {
                match &ctx.snapshot.planned_instance_profiles {
                    None => unread.push("get-instance-profile.json"),
                    Some(found) => match found.iter().find(|p| p.instance_profile_name == name) {
                        None => missing(
                            &ng.name,
                            "AWS::IAM::InstanceProfile",
                            profile,
                            format!("instance profile {shown} (iam.instanceProfileARN), which does not exist"),
                            "iam:GetInstanceProfile",
                            Vec::new(),
                        ),
                        Some(p) if !with_role && p.roles.is_empty() => missing(
                            &ng.name,
                            "AWS::IAM::InstanceProfile",
                            profile,
                            format!("instance profile {shown} (iam.instanceProfileARN) without iam.instanceRoleARN, and the profile holds no role: eksctl fails reading the node role from it (\"instance profile has no roles\")"),
                            "iam:GetInstanceProfile",
                            vec![Cmd::new("aws iam add-role-to-instance-profile")
                                .opt("--instance-profile-name", &name)
                                .opt("--role-name", "<node role>")
                                .done()],
                        ),
                        Some(_) if !with_role && profile.split('/').count() != 2 => missing(
                            &ng.name,
                            "AWS::IAM::InstanceProfile",
                            profile,
                            format!("instance profile {shown} (iam.instanceProfileARN) with a path and no iam.instanceRoleARN: eksctl fails on it (\"unexpected format of instance profile ARN\"); add iam.instanceRoleARN"),
                            "ClusterConfig",
                            Vec::new(),
                        ),
                        Some(_) => {}
                    },
                }
            } else {
                missing(
                    &ng.name,
                    "AWS::IAM::InstanceProfile",
                    profile,
                    format!("{shown} as iam.instanceProfileARN, which is not an instance profile ARN"),
                    "ClusterConfig",
                    Vec::new(),
                );
            }
        }
        if let Some(role) = ng.iam.as_ref().and_then(|i| i.instance_role_arn.as_deref()) {
            if ctx.snapshot.roles.is_none() {
                unread.push("list-roles.json");
            } else if ctx.role(role.trim()).is_none() {
                missing(
                    &ng.name,
                    "AWS::IAM::Role",
                    role.trim(),
                    format!(
                        "role {} (iam.instanceRoleARN), which does not exist",
                        crate::text::inline(role.trim())
                    ),
                    src::ROLES,
                    Vec::new(),
                );
            }
        }
    }
    if !unread.is_empty() {
        unread.sort_unstable();
        unread.dedup();
        return Err(Skip(format!(
            "what the file's nodegroups refer to is unknown ({} absent or incomplete): capture with -f FILE, or audit live",
            unread.join(", ")
        )));
    }
    Ok(findings)
}
