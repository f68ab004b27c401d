use crate::report::{Evidence, Resource, src};
use crate::rules::remedy::Cmd;
use crate::rules::versions::minor;
use crate::rules::{Checked, Context, Skip};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every managed nodegroup (`describe-nodegroup/`) runs the control plane's Kubernetes
    /// minor version (`version` of the nodegroup against `version` of the cluster).
    ///
    /// Not checked: self-managed (unmanaged) nodegroups and Fargate pods, whose kubelet version
    /// only Kubernetes knows (eksctl itself reads it from the nodes, `pkg/actions/nodegroup/
    /// get.go`); eksdrift does not read Kubernetes, and does not guess. EKS's upgrade insights
    /// report them where EKS sees them.
    ///
    /// ## Why it matters
    ///
    /// Kubernetes lets nodes run up to three minor versions behind the control plane (n-3 since
    /// 1.28), but EKS upgrades the control plane one minor at a time and refuses
    /// `UpdateClusterVersion` while a managed nodegroup is still on an older minor than the
    /// control plane: `eksctl upgrade cluster` stops there. The nodegroups have to catch up
    /// first.
    ///
    /// ## How to fix
    ///
    /// Upgrade each nodegroup to the control plane's version (`eksctl upgrade nodegroup
    /// --kubernetes-version`), then upgrade the cluster.
    code: "EKD801",
    slug: "nodegroup-version-skew",
    severity: Error,
    since: "0.1.0",
    summary: "a managed nodegroup runs an older Kubernetes minor than the control plane: EKS refuses the next cluster upgrade",
    breaks: [UpgradeCluster],
    inputs: [DescribeCluster, ListNodegroups],
}


fn check(ctx: &Context<'_>) -> Checked {
    let Some(cluster_version) = ctx.cluster.version.as_deref() else {
        return Err(Skip("DescribeCluster returned no version".to_owned()));
    };
    let Some(control_plane) = minor(cluster_version) else {
        return Err(Skip(format!(
            "the cluster's version {} is not MAJOR.MINOR",
            crate::text::inline(cluster_version)
        )));
    };
    let mut findings = Vec::new();
    for ng in ctx.managed_nodegroups()? {
        let Some(version) = ng.version.as_deref() else {
            continue;
        };
        let Some(nodes) = minor(version) else {
            continue;
        };
        if nodes >= control_plane {
            continue;
        }
        let name = &ng.nodegroup_name;
        findings.push(
            RULE.finding(
                Resource::new("AWS::EKS::Nodegroup", name),
                format!(
                    "managed nodegroup {name} runs Kubernetes {version}, the control plane {cluster_version}: EKS refuses to upgrade the cluster until it catches up"
                ),
            )
            .with_expected(Evidence::live(src::CLUSTER, cluster_version.to_owned()))
            .with_actual(Evidence::live(src::NODEGROUP, version.to_owned()))
            .with_impact(
                "eksctl upgrade cluster fails: EKS refuses UpdateClusterVersion while a managed nodegroup is on an older minor than the control plane",
            )
            .with_remediation(
                "upgrade the nodegroup to the control plane's version, then the cluster",
                vec![
                    Cmd::new("eksctl upgrade nodegroup")
                        .opt("--cluster", &ctx.cluster.name)
                        .opt("--name", name)
                        .opt("--kubernetes-version", cluster_version)
                        .region(ctx)
                        .done(),
                ],
            ),
        );
    }
    Ok(findings)
}
