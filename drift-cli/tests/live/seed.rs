//! eksctl-shaped state in moto: a cluster stack whose template creates the VPC, subnets and
//! security groups (so `Ref`/`Fn::Join` outputs resolve to real IDs), with eksctl's output
//! keys, exports and tags; and an EKS cluster (raw POST, since moto's CreateCluster cannot
//! take `vpcId`) on those subnets.

use aws_sdk_cloudformation::types::Tag;
use serde_json::{Value, json};

use super::harness::{ACCOUNT, Moto};

pub struct Seeded {
    pub name: String,
    pub region: String,
    pub vpc: String,
    /// (subnet id, az)
    pub public: Vec<(String, String)>,
    pub private: Vec<(String, String)>,
    pub control_plane_sg: String,
    pub cluster_sg: String,
}

fn template(region: &str, name: &str) -> Value {
    let mut resources = serde_json::Map::new();
    resources.insert(
        "VPC".into(),
        json!({"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "192.168.0.0/16"}}),
    );
    let layout = [
        ("SubnetPublicA", "a", "192.168.0.0/19", true),
        ("SubnetPublicB", "b", "192.168.32.0/19", true),
        ("SubnetPrivateA", "a", "192.168.96.0/19", false),
        ("SubnetPrivateB", "b", "192.168.128.0/19", false),
    ];
    for (logical, az, cidr, public) in layout {
        resources.insert(
            logical.into(),
            json!({"Type": "AWS::EC2::Subnet", "Properties": {
                "AvailabilityZone": format!("{region}{az}"), "CidrBlock": cidr,
                "MapPublicIpOnLaunch": public, "VpcId": {"Ref": "VPC"}}}),
        );
    }
    for sg in [
        "ControlPlaneSecurityGroup",
        "ClusterSharedNodeSecurityGroup",
        "ClusterSecurityGroup",
    ] {
        resources.insert(
            sg.into(),
            json!({"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": sg, "VpcId": {"Ref": "VPC"}}}),
        );
    }
    let join = |names: &[&str]| json!({"Fn::Join": [",", names.iter().map(|n| json!({"Ref": n})).collect::<Vec<_>>()]});
    let export = |key: &str| json!({"Name": {"Fn::Sub": format!("${{AWS::StackName}}::{key}")}});
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "EKS cluster (dedicated VPC: true, dedicated IAM: true) [created and managed by eksctl]",
        "Resources": resources,
        "Outputs": {
            "ARN": {"Value": format!("arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}"), "Export": export("ARN")},
            "ClusterSecurityGroupId": {"Value": {"Fn::GetAtt": ["ClusterSecurityGroup", "GroupId"]}, "Export": export("ClusterSecurityGroupId")},
            "ClusterStackName": {"Value": {"Ref": "AWS::StackName"}},
            "FeatureNATMode": {"Value": "Single"},
            "SecurityGroup": {"Value": {"Fn::GetAtt": ["ControlPlaneSecurityGroup", "GroupId"]}, "Export": export("SecurityGroup")},
            "SharedNodeSecurityGroup": {"Value": {"Fn::GetAtt": ["ClusterSharedNodeSecurityGroup", "GroupId"]}, "Export": export("SharedNodeSecurityGroup")},
            "SubnetsPrivate": {"Value": join(&["SubnetPrivateA", "SubnetPrivateB"]), "Export": export("SubnetsPrivate")},
            "SubnetsPublic": {"Value": join(&["SubnetPublicA", "SubnetPublicB"]), "Export": export("SubnetsPublic")},
            "VPC": {"Value": {"Ref": "VPC"}, "Export": export("VPC")},
        }
    })
}

fn eksctl_tags(cluster: &str, extra: &[(&str, &str)]) -> Vec<Tag> {
    [
        ("alpha.eksctl.io/cluster-name", cluster),
        ("eksctl.cluster.k8s.io/v1alpha1/cluster-name", cluster),
        ("alpha.eksctl.io/eksctl-version", "0.160.0"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
    .collect()
}

/// The live VPC config of a cluster, as EKS's `resourcesVpcConfig` request field.
pub fn vpc_config(vpc: &str, subnets: &[&str], sg: &str, cluster_sg: &str) -> Value {
    json!({
        "subnetIds": subnets, "securityGroupIds": [sg], "vpcId": vpc,
        "clusterSecurityGroupId": cluster_sg,
        "endpointPublicAccess": true, "endpointPrivateAccess": false,
    })
}

/// An EKS cluster as EKS would report it (moto stores `resourcesVpcConfig` as sent).
pub fn create_cluster(moto: &Moto, region: &str, name: &str, vpc_config: &Value) {
    moto.eks(
        region,
        "/clusters",
        &json!({"name": name, "version": "1.30", "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/{name}-ServiceRole"),
                "resourcesVpcConfig": vpc_config}),
    );
}

/// What `aws eks update-cluster-config --resources-vpc-config …` does (moto replaces the whole
/// config, so the full config is sent).
pub fn update_cluster_config(moto: &Moto, region: &str, name: &str, vpc_config: &Value) {
    moto.eks(
        region,
        &format!("/clusters/{name}/update-config"),
        &json!({"resourcesVpcConfig": vpc_config}),
    );
}

/// A healthy eksctl cluster: stack, subnets, security groups, and the EKS cluster using all
/// four subnets and the stack's control-plane group.
pub async fn eksctl_cluster(moto: &Moto, region: &str, name: &str) -> Seeded {
    let config = moto.sdk_config(region).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let stack = format!("eksctl-{name}-cluster");
    cfn.create_stack()
        .stack_name(&stack)
        .template_body(template(region, name).to_string())
        .set_tags(Some(eksctl_tags(name, &[])))
        .send()
        .await
        .unwrap();
    let described = cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    let s = &described.stacks()[0];
    let out = |k: &str| {
        s.outputs()
            .iter()
            .find(|o| o.output_key() == Some(k))
            .and_then(|o| o.output_value())
            .unwrap_or_else(|| panic!("moto resolved no {k} output"))
            .to_owned()
    };
    let with_az = |list: String, azs: [&str; 2]| -> Vec<(String, String)> {
        list.split(',')
            .zip(azs)
            .map(|(id, az)| (id.to_owned(), format!("{region}{az}")))
            .collect()
    };
    let seeded = Seeded {
        name: name.to_owned(),
        region: region.to_owned(),
        vpc: out("VPC"),
        public: with_az(out("SubnetsPublic"), ["a", "b"]),
        private: with_az(out("SubnetsPrivate"), ["a", "b"]),
        control_plane_sg: out("SecurityGroup"),
        cluster_sg: out("ClusterSecurityGroupId"),
    };
    // moto's CloudFormation ignores MapPublicIpOnLaunch on AWS::EC2::Subnet; set it as EC2 would.
    let ec2 = aws_sdk_ec2::Client::new(&config);
    for (id, _) in &seeded.public {
        ec2.modify_subnet_attribute()
            .subnet_id(id)
            .map_public_ip_on_launch(
                aws_sdk_ec2::types::AttributeBooleanValue::builder()
                    .value(true)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let all: Vec<&str> = seeded
        .public
        .iter()
        .chain(&seeded.private)
        .map(|(id, _)| id.as_str())
        .collect();
    create_cluster(
        moto,
        region,
        name,
        &vpc_config(
            &seeded.vpc,
            &all,
            &seeded.control_plane_sg,
            &seeded.cluster_sg,
        ),
    );
    seeded
}

/// The seed case: the two private control-plane subnets are replaced by new ones outside
/// eksctl, and the old ones deleted. Returns the new subnet IDs.
pub async fn replace_private_subnets(moto: &Moto, c: &Seeded) -> Vec<String> {
    let config = moto.sdk_config(&c.region).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let mut new = Vec::new();
    for ((_, az), cidr) in c
        .private
        .iter()
        .zip(["192.168.192.0/20", "192.168.208.0/20"])
    {
        let created = ec2
            .create_subnet()
            .vpc_id(&c.vpc)
            .cidr_block(cidr)
            .availability_zone(az)
            .send()
            .await
            .unwrap();
        new.push(created.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    let subnets: Vec<&str> = c
        .public
        .iter()
        .map(|(id, _)| id.as_str())
        .chain(new.iter().map(String::as_str))
        .collect();
    update_cluster_config(
        moto,
        &c.region,
        &c.name,
        &vpc_config(&c.vpc, &subnets, &c.control_plane_sg, &c.cluster_sg),
    );
    for (old, _) in &c.private {
        ec2.delete_subnet().subnet_id(old).send().await.unwrap();
    }
    new
}

/// A nodegroup stack of `cluster` named `ng` (eksctl's tags; no outputs needed).
pub async fn nodegroup_stack(moto: &Moto, region: &str, cluster: &str, ng: &str) {
    let config = moto.sdk_config(region).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let body = json!({"Resources": {"NodeGroupSG": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "ng"}}}});
    cfn.create_stack()
        .stack_name(format!("eksctl-{cluster}-nodegroup-{ng}"))
        .template_body(body.to_string())
        .set_tags(Some(eksctl_tags(
            cluster,
            &[
                ("alpha.eksctl.io/nodegroup-name", ng),
                ("alpha.eksctl.io/nodegroup-type", "managed"),
            ],
        )))
        .send()
        .await
        .unwrap();
}
