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
            "ARN": {"Value": format!("arn:aws:eks:{region}:{}:cluster/{name}", super::harness::seed_account()), "Export": export("ARN")},
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
    eksctl_cluster_from(moto, region, name, template(region, name)).await
}

/// [`eksctl_cluster`] made with Fargate profiles in its ClusterConfig: the cluster stack also
/// outputs `FargatePodExecutionRoleARN` (`role`).
pub async fn eksctl_cluster_with_fargate(
    moto: &Moto,
    region: &str,
    name: &str,
    role: &str,
) -> Seeded {
    let mut body = template(region, name);
    body["Outputs"]["FargatePodExecutionRoleARN"] = json!({"Value": role});
    eksctl_cluster_from(moto, region, name, body).await
}

async fn eksctl_cluster_from(moto: &Moto, region: &str, name: &str, body: Value) -> Seeded {
    let config = moto.sdk_config(region).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let stack = format!("eksctl-{name}-cluster");
    cfn.create_stack()
        .stack_name(&stack)
        .template_body(body.to_string())
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

/// A managed nodegroup as eksctl makes it: its stack and its EKS nodegroup.
pub async fn nodegroup_stack(moto: &Moto, c: &Seeded, ng: &str) {
    nodegroup_stack_only(moto, &c.region, &c.name, ng, "managed").await;
    let subnets: Vec<&str> = c.private.iter().map(|(id, _)| id.as_str()).collect();
    managed_nodegroup(moto, &c.region, &c.name, ng, &subnets, None);
}

/// An eksctl nodegroup stack of `cluster` named `ng`, of `kind` (`managed`/`unmanaged`), with
/// its own security group; returns that group's ID.
pub async fn nodegroup_stack_only(
    moto: &Moto,
    region: &str,
    cluster: &str,
    ng: &str,
    kind: &str,
) -> String {
    let config = moto.sdk_config(region).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let stack = format!("eksctl-{cluster}-nodegroup-{ng}");
    let body = json!({
        "Resources": {"SG": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": format!("nodegroup {ng}")}}},
        "Outputs": {"SG": {"Value": {"Fn::GetAtt": ["SG", "GroupId"]}}},
    });
    cfn.create_stack()
        .stack_name(&stack)
        .template_body(body.to_string())
        .set_tags(Some(eksctl_tags(
            cluster,
            &[
                ("alpha.eksctl.io/nodegroup-name", ng),
                ("alpha.eksctl.io/nodegroup-type", kind),
            ],
        )))
        .send()
        .await
        .unwrap();
    let described = cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    described.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("SG"))
        .and_then(|o| o.output_value())
        .expect("moto resolved the nodegroup's security group")
        .to_owned()
}

/// An EKS managed nodegroup (raw POST: moto's EKS API) in `subnets`, on a launch template
/// `(id, version)` when given.
pub fn managed_nodegroup(
    moto: &Moto,
    region: &str,
    cluster: &str,
    ng: &str,
    subnets: &[&str],
    launch_template: Option<(&str, &str)>,
) {
    // EKS gives a nodegroup the cluster's version unless told otherwise (moto: 1.19).
    let mut body = json!({
        "nodegroupName": ng,
        "version": "1.30",
        "subnets": subnets,
        "nodeRole": format!("arn:aws:iam::{ACCOUNT}:role/eksctl-{cluster}-nodegroup-{ng}-NodeInstanceRole"),
        "tags": {"alpha.eksctl.io/cluster-name": cluster, "alpha.eksctl.io/nodegroup-name": ng},
    });
    if let Some((id, version)) = launch_template {
        body["launchTemplate"] = json!({"id": id, "version": version});
    }
    moto.eks(region, &format!("/clusters/{cluster}/node-groups"), &body);
}

/// A launch template with `versions` versions, each attaching `groups`; returns its ID.
pub async fn launch_template(
    moto: &Moto,
    region: &str,
    name: &str,
    groups: &[&str],
    versions: usize,
) -> String {
    let config = moto.sdk_config(region).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let data = aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
        .instance_type(aws_sdk_ec2::types::InstanceType::M5Large)
        .image_id("ami-0123456789abcdef0")
        .set_security_group_ids(Some(groups.iter().map(|g| (*g).to_owned()).collect()))
        .build();
    let created = ec2
        .create_launch_template()
        .launch_template_name(name)
        .launch_template_data(data.clone())
        .send()
        .await
        .unwrap();
    let id = created
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap()
        .to_owned();
    for _ in 1..versions {
        ec2.create_launch_template_version()
            .launch_template_id(&id)
            .launch_template_data(data.clone())
            .send()
            .await
            .unwrap();
    }
    id
}

/// An unmanaged eksctl nodegroup: its stack (with its own security group), a launch template
/// attaching that group and the shared node group, and the auto scaling group eksctl's stack
/// would make (tagged as CloudFormation and eksctl tag it), in `subnets`. Returns (own group,
/// launch template ID).
pub async fn unmanaged_nodegroup(
    moto: &Moto,
    c: &Seeded,
    ng: &str,
    shared_sg: &str,
    subnets: &[&str],
    lt_versions: usize,
    lt_version: &str,
) -> (String, String) {
    let own = nodegroup_stack_only(moto, &c.region, &c.name, ng, "unmanaged").await;
    let stack = format!("eksctl-{}-nodegroup-{ng}", c.name);
    let lt = launch_template(moto, &c.region, &stack, &[&own, shared_sg], lt_versions).await;
    let config = moto.sdk_config(&c.region).await;
    let autoscaling = aws_sdk_autoscaling::Client::new(&config);
    let tag = |k: &str, v: &str| {
        aws_sdk_autoscaling::types::Tag::builder()
            .key(k)
            .value(v)
            .propagate_at_launch(true)
            .build()
    };
    autoscaling
        .create_auto_scaling_group()
        .auto_scaling_group_name(format!("{stack}-NodeGroup-ABCDEF"))
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                .launch_template_id(&lt)
                .version(lt_version)
                .build(),
        )
        .min_size(1)
        .max_size(2)
        .vpc_zone_identifier(subnets.join(","))
        .tags(tag(&format!("kubernetes.io/cluster/{}", c.name), "owned"))
        .tags(tag("Name", &format!("{}-{ng}-Node", c.name)))
        .tags(tag("alpha.eksctl.io/cluster-name", &c.name))
        .tags(tag("alpha.eksctl.io/nodegroup-name", ng))
        .tags(tag("alpha.eksctl.io/nodegroup-type", "unmanaged"))
        .tags(tag("aws:cloudformation:stack-name", &stack))
        .send()
        .await
        .unwrap();
    (own, lt)
}

/// The cluster's OIDC issuer without `https://`, as moto made it.
pub fn issuer_path(moto: &Moto, region: &str, cluster: &str) -> String {
    let described = moto.eks_get(region, &format!("/clusters/{cluster}"));
    described["cluster"]["identity"]["oidc"]["issuer"]
        .as_str()
        .expect("moto gives clusters an OIDC issuer")
        .trim_start_matches("https://")
        .to_owned()
}

/// The IAM OIDC provider for an issuer (`eksctl utils associate-iam-oidc-provider`); its ARN.
pub async fn oidc_provider(moto: &Moto, issuer_path: &str) -> String {
    let config = moto.sdk_config("us-east-1").await;
    let iam = aws_sdk_iam::Client::new(&config);
    // moto may give several clusters the same issuer: one provider serves them all.
    match iam
        .create_open_id_connect_provider()
        .url(format!("https://{issuer_path}"))
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
        .send()
        .await
    {
        Ok(out) => out.open_id_connect_provider_arn().unwrap().to_owned(),
        Err(e)
            if e.as_service_error()
                .is_some_and(aws_sdk_iam::operation::create_open_id_connect_provider::CreateOpenIDConnectProviderError::is_entity_already_exists_exception) =>
        {
            format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer_path}")
        }
        Err(e) => panic!("{e:?}"),
    }
}

/// An eksctl iamserviceaccount stack for `namespace/name` whose role (output `Role1`) trusts
/// the OIDC provider of `issuer_path`; returns the role's ARN.
pub async fn iamserviceaccount(
    moto: &Moto,
    region: &str,
    cluster: &str,
    namespace: &str,
    name: &str,
    issuer_path: &str,
) -> String {
    let config = moto.sdk_config(region).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let stack = format!("eksctl-{cluster}-addon-iamserviceaccount-{namespace}-{name}");
    let trust = json!({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["sts:AssumeRoleWithWebIdentity"],
    "Principal": {"Federated": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer_path}")},
    "Condition": {"StringEquals": {
        format!("{issuer_path}:aud"): "sts.amazonaws.com",
        format!("{issuer_path}:sub"): format!("system:serviceaccount:{namespace}:{name}"),
    }}}]});
    let body = json!({
        "Resources": {"Role1": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": format!("{cluster}-{namespace}-{name}"),
            "AssumeRolePolicyDocument": trust}}},
        "Outputs": {"Role1": {"Value": {"Fn::GetAtt": ["Role1", "Arn"]}}},
    });
    let sa = format!("{namespace}/{name}");
    cfn.create_stack()
        .stack_name(&stack)
        .template_body(body.to_string())
        .set_tags(Some(eksctl_tags(
            cluster,
            &[("alpha.eksctl.io/iamserviceaccount-name", &sa)],
        )))
        .send()
        .await
        .unwrap();
    let described = cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    described.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("Role1"))
        .and_then(|o| o.output_value())
        .expect("moto resolved the role's ARN")
        .to_owned()
}
