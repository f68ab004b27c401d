//! `cargo bench -p eksdrift-core`: the engine on a synthetic cluster with 1,000 subnets.

use criterion::{Criterion, criterion_group, criterion_main};
use drift_core::snapshot::{
    Cluster, Output, SecurityGroup, Snapshot, Stack, StackResource, Subnet, Tag, VpcConfig,
};
use serde_json::json;
use std::hint::black_box;

const VPC: &str = "vpc-0a1b2c3d4e5f60718";

fn id(n: usize) -> String {
    format!("subnet-{n:017x}")
}

/// 1,000 subnets across three AZs: half private, half public, all in the control plane;
/// every tenth deleted and a hundred replaced, so most rules have work to do.
fn synthetic() -> Snapshot {
    let n = 1000;
    let azs = ["us-west-2a", "us-west-2b", "us-west-2c"];
    let ids: Vec<String> = (0..n).map(id).collect();
    let (private, public) = ids.split_at(n / 2);
    let subnets: Vec<Subnet> = (0..n)
        .filter(|i| i % 10 != 0)
        .map(|i| Subnet {
            subnet_id: id(i),
            vpc_id: VPC.into(),
            availability_zone: azs[i % 3].into(),
            cidr_block: Some(format!("10.{}.{}.0/24", i / 256, i % 256)),
            available_ip_address_count: Some(200),
            map_public_ip_on_launch: Some(i >= n / 2),
            state: "available".into(),
            ..Subnet::default()
        })
        .chain((n..n + 100).map(|i| Subnet {
            subnet_id: id(i),
            vpc_id: VPC.into(),
            availability_zone: azs[i % 3].into(),
            state: "available".into(),
            available_ip_address_count: Some(200),
            ..Subnet::default()
        }))
        .collect();
    let mut cp: Vec<String> = ids[100..].to_vec();
    cp.extend((n..n + 100).map(id));
    let output = |k: &str, v: String| Output {
        output_key: k.into(),
        output_value: v,
        ..Output::default()
    };
    let stack = Stack {
        stack_name: "eksctl-big-cluster".into(),
        stack_status: "UPDATE_COMPLETE".into(),
        outputs: vec![
            output("VPC", VPC.into()),
            output("SecurityGroup", "sg-0c1c1c1c1c1c1c1c1".into()),
            output("SharedNodeSecurityGroup", "sg-0c2c2c2c2c2c2c2c2".into()),
            output("ClusterSecurityGroupId", "sg-0c3c3c3c3c3c3c3c3".into()),
            output("SubnetsPrivate", private.join(",")),
            output("SubnetsPublic", public.join(",")),
        ],
        tags: vec![Tag {
            key: "alpha.eksctl.io/cluster-name".into(),
            value: "big".into(),
        }],
        ..Stack::default()
    };
    let resources: Vec<StackResource> = (0..n)
        .map(|i| StackResource {
            logical_resource_id: format!("Subnet{i}"),
            physical_resource_id: Some(id(i)),
            resource_type: "AWS::EC2::Subnet".into(),
            ..StackResource::default()
        })
        .collect();
    let mut res = serde_json::Map::new();
    for i in 0..n {
        res.insert(
            format!("Subnet{i}"),
            json!({"Type": "AWS::EC2::Subnet", "Properties": {"AvailabilityZone": azs[i % 3], "CidrBlock": format!("10.{}.{}.0/24", i / 256, i % 256)}}),
        );
    }
    res.insert(
        "ControlPlane".into(),
        json!({"Type": "AWS::EKS::Cluster", "Properties": {"ResourcesVpcConfig": {"SubnetIds": (0..n).map(|i| json!({"Ref": format!("Subnet{i}")})).collect::<Vec<_>>()}}}),
    );
    Snapshot {
        source: "bench".into(),
        region: Some("us-west-2".into()),
        stacks: vec![stack],
        cluster: Cluster {
            name: "big".into(),
            status: Some("ACTIVE".into()),
            resources_vpc_config: VpcConfig {
                subnet_ids: cp,
                security_group_ids: vec!["sg-0c1c1c1c1c1c1c1c1".into()],
                cluster_security_group_id: Some("sg-0c3c3c3c3c3c3c3c3".into()),
                vpc_id: Some(VPC.into()),
                endpoint_public_access: Some(true),
                endpoint_private_access: Some(false),
                public_access_cidrs: Vec::new(),
            },
            ..Cluster::default()
        },
        subnets,
        security_groups: Some(
            [
                "sg-0c1c1c1c1c1c1c1c1",
                "sg-0c2c2c2c2c2c2c2c2",
                "sg-0c3c3c3c3c3c3c3c3",
            ]
            .iter()
            .map(|g| SecurityGroup {
                group_id: (*g).into(),
                ..SecurityGroup::default()
            })
            .collect(),
        ),
        template: Some(json!({"Resources": res})),
        stack_resources: Some(resources),
        ..Snapshot::default()
    }
}

fn engine(c: &mut Criterion) {
    let snapshot = synthetic();
    let report = drift_core::audit(&snapshot);
    assert!(
        report.findings.len() > 100,
        "the synthetic cluster must give the rules work"
    );
    c.bench_function("audit/1000-subnets", |b| {
        b.iter(|| drift_core::audit(black_box(&snapshot)));
    });
}

criterion_group!(benches, engine);
criterion_main!(benches);
