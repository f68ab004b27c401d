use serde_json::json;

use crate::report::{Evidence, Resource, Severity};
use crate::rules::deletion::{eksctl_vpc, kubernetes_made, maker};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};

/// Where the load balancers come from.
const SOURCE: &str = "elasticloadbalancing:DescribeLoadBalancers";

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every load balancer (Application, Network and Gateway through Elastic Load Balancing v2,
    /// and Classic) in the VPC eksctl created for the cluster, against what `eksctl delete
    /// cluster` removes on its own. eksctl lists the Services of type LoadBalancer, the Ingresses
    /// and the Gateways through the Kubernetes API, deletes them and waits for their load
    /// balancers (`pkg/elb/cleanup.go`): a load balancer tagged for the cluster
    /// (`kubernetes.io/cluster/<name>`, `elbv2.k8s.aws/cluster`) goes, as long as eksctl can reach
    /// the API server. So this fires for a load balancer that nothing tags for the cluster (made
    /// by hand, by Terraform, by another stack or for another cluster), and for one tagged for it
    /// when the endpoint is private only (a warning: run from inside the VPC, eksctl reaches the
    /// endpoint and deletes it). A VPC eksctl did not create is never deleted by
    /// eksctl: its load balancers block nothing (a rule naming an eksctl group is EKD707's).
    /// Needs `describe-load-balancers.json` and `describe-load-balancers-classic.json` with
    /// their tags.
    ///
    /// ## Why it matters
    ///
    /// The load balancer's network interfaces sit in eksctl's subnets and its security groups in
    /// eksctl's VPC: CloudFormation cannot delete them, the cluster stack ends in
    /// `DELETE_FAILED` with the VPC, NAT gateway and Elastic IP still billed, and a cluster of
    /// the same name cannot be created until the stack is gone (eksctl #103, #253, #487, #5468,
    /// #7548, #2278). With a private endpoint, `eksctl delete cluster` run from outside the VPC
    /// cannot list the Services: it stops, or with `--force` carries on and leaves them.
    ///
    /// ## How to fix
    ///
    /// Delete the load balancer (through whatever made it: its Terraform, its stack, its
    /// Kubernetes object), wait for its interfaces to go, then run `eksctl delete cluster`
    /// again. For a private endpoint, run eksctl from inside the VPC or delete the Services of
    /// type LoadBalancer, the Ingresses and the Gateways first.
    code: "EKD705",
    slug: "load-balancer-left-in-vpc",
    severity: Error,
    since: "0.1.0",
    summary: "a load balancer in eksctl's VPC that `eksctl delete cluster` will not remove blocks deleting the VPC",
    breaks: [DeleteCluster],
    inputs: [DescribeStacks, DescribeCluster, DescribeSubnets, DescribeLoadBalancers],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(vpc) = eksctl_vpc(ctx) else {
        // eksctl never deletes a VPC it did not create.
        return Ok(Vec::new());
    };
    let snapshot = ctx.snapshot;
    if snapshot.load_balancers.is_none() || snapshot.classic_load_balancers.is_none() {
        return Err(Skip(
            "no load balancer data (describe-load-balancers.json and describe-load-balancers-classic.json absent)".to_owned(),
        ));
    }
    let cluster = ctx.cluster.name.as_str();
    let private_only = ctx.cluster.resources_vpc_config.endpoint_public_access == Some(false);
    let mut findings = Vec::new();
    for lb in snapshot.all_load_balancers() {
        if lb.vpc_id != Some(vpc) {
            continue;
        }
        let ours = kubernetes_made(cluster, |k| lb.tag(k).map(str::to_owned));
        if ours && !private_only {
            // eksctl deletes it through its Kubernetes object.
            continue;
        }
        let made_by = maker(cluster, lb.tags);
        let (why, summary) = if ours {
            (
                "Kubernetes made it for this cluster, but the API server is reachable only privately: eksctl delete cluster run outside the VPC cannot list its Service, Ingress or Gateway (it stops, or with --force leaves the load balancer)".to_owned(),
                "run eksctl delete cluster from inside the VPC, or delete the Kubernetes object that owns it (or the load balancer) first",
            )
        } else {
            (
                format!("nothing tags it for cluster {cluster} (made by: {made_by}); eksctl deletes only the load balancers of the cluster's Kubernetes objects"),
                "delete the load balancer through whatever made it, wait for its network interfaces to go, then run eksctl delete cluster again",
            )
        };
        let kind = if lb.is_classic() { "AWS::ElasticLoadBalancing::LoadBalancer" } else { "AWS::ElasticLoadBalancingV2::LoadBalancer" };
        let delete = if lb.is_classic() {
            Cmd::new("aws elb delete-load-balancer").opt("--load-balancer-name", lb.name)
        } else {
            Cmd::new("aws elbv2 delete-load-balancer").opt("--load-balancer-arn", lb.id)
        };
        let finding = RULE
            .finding(
                Resource::new(kind, lb.name),
                format!("{} load balancer {} in eksctl's VPC {vpc} will be left by eksctl delete cluster: {why}", lb.kind, lb.name),
            )
            .with_expected(Evidence::live(SOURCE, json!(format!("no load balancer in {vpc} that eksctl does not delete"))))
            .with_actual(Evidence::live(
                SOURCE,
                json!({"name": lb.name, "type": lb.kind, "vpc": vpc, "madeBy": made_by}),
            ))
            .with_impact(
                "its network interfaces and security groups stay in eksctl's VPC: the cluster stack ends in DELETE_FAILED with the VPC, NAT gateway and Elastic IP still billed, and a cluster of the same name cannot be created",
            )
            .with_remediation(
                summary,
                vec![
                    delete.region(ctx).done(),
                    Cmd::new("eksctl delete cluster").opt("--name", cluster).region(ctx).done(),
                ],
            );
        // Run from inside the VPC, eksctl reaches the private endpoint and deletes it.
        findings.push(if ours {
            finding.with_severity(Severity::Warning)
        } else {
            finding
        });
    }
    Ok(findings)
}
