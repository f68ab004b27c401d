//! The context every rule reads: the snapshot plus the indexes and derived facts built once
//! per audit.

use std::collections::{BTreeMap, HashMap};

use super::Skip;
use super::template::TemplateFacts;
use crate::discovery::{Discovery, discover};
use crate::report::Operation;
use crate::snapshot::outputs;
use crate::snapshot::{
    AutoScalingGroup, Cluster, Nodegroup, OutputSubnets, Role, SecurityGroup, Snapshot, Stack,
    Subnet, role_key, tags,
};

/// An unmanaged eksctl nodegroup whose auto scaling group exists.
pub(crate) struct Unmanaged<'a> {
    pub(crate) nodegroup: &'a str,
    pub(crate) group: &'a AutoScalingGroup,
}

/// The output of an eksctl role stack that holds the role's ARN.
pub(crate) const ROLE_OUTPUT: &str = "Role1";

/// How [`Context::referenced`] names the cluster's own subnet list.
pub(crate) const CONTROL_PLANE: &str = "control plane";

/// What a deleted subnet of output `key` breaks: every command that loads the VPC from the
/// cluster stack when eksctl looks the list up by ID, else the rule's own list.
pub(crate) fn subnet_output_breaks(
    key: &str,
    rule_default: &'static [Operation],
) -> &'static [Operation] {
    if outputs::looked_up_by_id(key) {
        &[
            Operation::CreateNodegroup,
            Operation::CreateFargateprofile,
            Operation::UpgradeCluster,
            Operation::DeleteCluster,
        ]
    } else {
        rule_default
    }
}

/// Indexes and derived facts shared by every rule, built once per snapshot.
pub(crate) struct Context<'a> {
    pub(crate) snapshot: &'a Snapshot,
    pub(crate) cluster: &'a Cluster,
    pub(crate) discovery: Discovery<'a>,
    pub(crate) subnets: HashMap<&'a str, &'a Subnet>,
    pub(crate) security_groups: Option<HashMap<&'a str, &'a SecurityGroup>>,
    pub(crate) template: TemplateFacts,
    /// The cluster stack's subnet-list outputs, parsed once (empty without a stack).
    pub(crate) output_lists: Vec<OutputSubnets<'a>>,
    /// Every subnet the stack's outputs or the cluster name, with who names it (output keys,
    /// and `control plane` for the cluster's own list).
    pub(crate) referenced: BTreeMap<&'a str, Vec<&'static str>>,
    /// The described managed nodegroups by name (looked up per listed name and per stack).
    nodegroups: HashMap<&'a str, &'a Nodegroup>,
    /// The roles by (account, name), as [`crate::snapshot::role_key`] gives them.
    roles: HashMap<(&'a str, &'a str), &'a Role>,
}

/// The cluster's OIDC issuer and the account's IAM OIDC providers ([`Context::oidc_provider`]).
pub(crate) struct OidcProvider<'a> {
    /// `identity.oidc.issuer`.
    pub(crate) issuer: &'a str,
    /// Every provider ARN of the account.
    pub(crate) providers: &'a [String],
    /// `:oidc-provider/<issuer without https://>`: how the issuer's provider ARN ends.
    pub(crate) suffix: String,
    /// True when a provider ARN ends so.
    pub(crate) exists: bool,
}

impl<'a> Context<'a> {
    pub(crate) fn new(snapshot: &'a Snapshot) -> Self {
        let cluster = &snapshot.cluster;
        let discovery = discover(&snapshot.stacks, &cluster.name);
        let output_lists = discovery.stack.map(Stack::subnet_lists).unwrap_or_default();
        let mut referenced: BTreeMap<&'a str, Vec<&'static str>> = BTreeMap::new();
        for o in &output_lists {
            for id in &o.ids {
                referenced.entry(id).or_default().push(o.key);
            }
        }
        for id in &cluster.resources_vpc_config.subnet_ids {
            referenced
                .entry(id.as_str())
                .or_default()
                .push(CONTROL_PLANE);
        }
        Context {
            snapshot,
            cluster,
            discovery,
            subnets: snapshot
                .subnets
                .iter()
                .map(|s| (s.subnet_id.as_str(), s))
                .collect(),
            security_groups: snapshot
                .security_groups
                .as_ref()
                .map(|g| g.iter().map(|g| (g.group_id.as_str(), g)).collect()),
            template: TemplateFacts::from_snapshot(snapshot),
            output_lists,
            referenced,
            nodegroups: snapshot
                .nodegroups
                .iter()
                .map(|n| (n.nodegroup_name.as_str(), n))
                .collect(),
            roles: snapshot
                .roles
                .iter()
                .flatten()
                .filter_map(|r| role_key(&r.arn).map(|k| (k, r)))
                .collect(),
        }
    }

    /// The described managed nodegroup called `name`.
    pub(crate) fn nodegroup(&self, name: &str) -> Option<&'a Nodegroup> {
        self.nodegroups.get(name).copied()
    }

    /// The IAM role an ARN names (by account and name, whatever its path), when the roles
    /// were collected and it exists.
    /// The cluster's OIDC issuer, and whether IAM has an OIDC provider for it (an ARN ending
    /// in `oidc-provider/<issuer without https://>`); [`Skip`] when the cluster names no issuer
    /// or the provider list was not read.
    pub(crate) fn oidc_provider(&self) -> Result<OidcProvider<'a>, Skip> {
        let Some(issuer) = self.cluster.oidc_issuer() else {
            return Err(Skip(
                "describe-cluster.json has no identity.oidc.issuer".to_owned(),
            ));
        };
        let Some(providers) = &self.snapshot.oidc_providers else {
            return Err(Skip(
                "no OIDC provider list (list-open-id-connect-providers.json absent)".to_owned(),
            ));
        };
        let suffix = format!(":oidc-provider/{}", issuer.trim_start_matches("https://"));
        Ok(OidcProvider {
            issuer,
            providers,
            exists: providers.iter().any(|p| p.ends_with(&suffix)),
            suffix,
        })
    }

    pub(crate) fn role(&self, arn: &str) -> Option<&'a Role> {
        self.roles.get(&role_key(arn)?).copied()
    }

    /// The cluster stack, or the reason a stack rule cannot run.
    pub(crate) fn stack(&self) -> Result<&'a Stack, Skip> {
        match self.discovery.stack {
            Some(s) => Ok(s),
            None if self.discovery.is_ambiguous() => Err(Skip(
                "several stacks could be the cluster stack (see EKD102)".to_owned(),
            )),
            None => Err(Skip(
                "no eksctl cluster stack for this cluster (see EKD101)".to_owned(),
            )),
        }
    }

    /// The AZ of a subnet: live when it exists, else from the template when eksctl made it.
    pub(crate) fn subnet_az(&self, id: &str) -> Option<&str> {
        self.subnets
            .get(id)
            .map(|s| s.availability_zone.as_str())
            .filter(|az| !az.is_empty())
            .or_else(|| {
                self.template
                    .subnet_origins
                    .get(id)
                    .and_then(|o| o.availability_zone.as_deref())
            })
    }

    /// The VPC the stack's subnets should be in: the cluster's live VPC, else the `VPC`
    /// output (a stale `VPC` output is EKD201's finding, not every subnet's).
    pub(crate) fn expected_vpc(&self, stack: &'a Stack) -> Option<&'a str> {
        self.cluster
            .resources_vpc_config
            .vpc_id
            .as_deref()
            .or_else(|| stack.vpc().map(str::trim).filter(|v| !v.is_empty()))
    }

    /// The eksctl nodegroup stacks of the cluster that are not deleted, with the nodegroup
    /// each is for.
    pub(crate) fn nodegroup_stacks(&self) -> Vec<(&'a Stack, &'a str)> {
        let cluster = self.cluster.name.as_str();
        self.snapshot
            .stacks
            .iter()
            .filter(|s| s.stack_status != "DELETE_COMPLETE")
            .filter_map(|s| s.nodegroup_of(cluster).map(|ng| (s, ng)))
            .collect()
    }

    /// The auto scaling group an unmanaged nodegroup stack made: the one CloudFormation tagged
    /// with the stack's name, else (no such tag) the one tagged with the nodegroup's and the
    /// cluster's names, else the one whose `Name` tag is eksctl's default instance name
    /// (`<cluster>-<ng>-Node`). `None` when the groups were not collected or none matches.
    pub(crate) fn auto_scaling_group_of(
        &self,
        stack: &Stack,
        nodegroup: &str,
    ) -> Option<&'a AutoScalingGroup> {
        let groups = self.snapshot.auto_scaling_groups.as_ref()?;
        groups
            .iter()
            .find(|g| g.tag(tags::CFN_STACK_NAME) == Some(stack.stack_name.as_str()))
            .or_else(|| {
                groups.iter().find(|g| {
                    g.tag(tags::CFN_STACK_NAME).is_none()
                        && g.tag(tags::NODEGROUP_NAME) == Some(nodegroup)
                        && g.tag(tags::CLUSTER_NAME) == Some(self.cluster.name.as_str())
                })
            })
            .or_else(|| {
                let name = format!("{}-{nodegroup}-Node", self.cluster.name);
                groups.iter().find(|g| {
                    g.tag(tags::CFN_STACK_NAME).is_none() && g.tag("Name") == Some(name.as_str())
                })
            })
    }

    /// Every managed nodegroup EKS lists, described; the reason when the list or a description
    /// is missing.
    pub(crate) fn managed_nodegroups(&self) -> Result<Vec<&'a Nodegroup>, Skip> {
        let snapshot = self.snapshot;
        let Some(names) = &snapshot.nodegroup_names else {
            return Err(Skip(
                "no managed nodegroup list (list-nodegroups.json absent)".to_owned(),
            ));
        };
        let undescribed: Vec<&str> = names
            .iter()
            .filter(|n| self.nodegroup(n).is_none())
            .map(String::as_str)
            .collect();
        if !undescribed.is_empty() {
            return Err(Skip(format!(
                "no describe-nodegroup/<nodegroup>.json for {}",
                crate::text::inline(&undescribed.join(", "))
            )));
        }
        Ok(names.iter().filter_map(|n| self.nodegroup(n)).collect())
    }

    /// The unmanaged eksctl nodegroups whose auto scaling group exists; the reason when there
    /// are unmanaged nodegroup stacks but no auto scaling group data.
    pub(crate) fn unmanaged_nodegroups(&self) -> Result<Vec<Unmanaged<'a>>, Skip> {
        let stacks: Vec<_> = self
            .nodegroup_stacks()
            .into_iter()
            .filter(|(s, _)| !s.nodegroup_managed())
            .collect();
        if stacks.is_empty() {
            return Ok(Vec::new());
        }
        if self.snapshot.auto_scaling_groups.is_none() {
            return Err(Skip(
                "no auto scaling group data for the unmanaged nodegroups (describe-auto-scaling-groups.json absent)".to_owned(),
            ));
        }
        Ok(stacks
            .into_iter()
            .filter_map(|(stack, nodegroup)| {
                self.auto_scaling_group_of(stack, nodegroup)
                    .map(|group| Unmanaged { nodegroup, group })
            })
            .collect())
    }

    /// The cluster's eksctl stacks that hold an IAM role for pods or addons, not deleted:
    /// `eksctl-<c>-addon-iamserviceaccount-<ns>-<sa>` (IRSA), `eksctl-<c>-addon-<addon>` and
    /// `eksctl-<c>-podidentityrole-<ns>-<sa>`.
    pub(crate) fn identity_stacks(&self) -> Vec<&'a Stack> {
        let cluster = self.cluster.name.as_str();
        let addon = format!("eksctl-{cluster}-addon-");
        let pod_identity = format!("eksctl-{cluster}-podidentityrole-");
        self.snapshot
            .stacks
            .iter()
            .filter(|s| s.stack_status != "DELETE_COMPLETE")
            .filter(|s| s.cluster_name_tag().is_none_or(|c| c == cluster))
            .filter(|s| s.stack_name.starts_with(&addon) || s.stack_name.starts_with(&pod_identity))
            .collect()
    }

    /// The IRSA stacks among [`Self::identity_stacks`]: those whose role (output `Role1`)
    /// pods assume through the cluster's OIDC provider — `iamserviceaccount` stacks and addon
    /// stacks with a role; pod identity roles (also an addon's) trust EKS instead.
    pub(crate) fn irsa_stacks(&self) -> Vec<&'a Stack> {
        // Pod identity roles trust EKS, not the OIDC provider: `eksctl-<c>-podidentityrole-…`
        // and an addon's `eksctl-<c>-addon-<addon>-podidentityrole-<sa>`
        // (pkg/actions/podidentityassociation/iam_role_creator.go).
        self.identity_stacks()
            .into_iter()
            .filter(|s| !s.stack_name.contains("-podidentityrole-"))
            .filter(|s| s.output(ROLE_OUTPUT).is_some())
            .collect()
    }

    /// Region for commands, when known.
    pub(crate) fn region(&self) -> Option<&str> {
        self.snapshot.effective_region()
    }
}
