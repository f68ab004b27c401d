//! Property tests: the engine cannot panic on any snapshot, every report it produces validates
//! against the committed JSON Schema, and the bundle reader turns any bytes into Ok or a
//! clear error.

use std::sync::OnceLock;

use drift_core::bundle::read_bundle;
use drift_core::report::{Report, Stats};
use drift_core::rules::ALL;
use drift_core::snapshot::{
    AccessConfig, AccessEntry, AutoScalingGroup, Cluster, ClusterHealth, ClusterIdentity,
    HealthIssue, LaunchTemplateData, LaunchTemplateSpecification, LaunchTemplateVersion, Nodegroup,
    NodegroupLaunchTemplate, Oidc, Output, PodIdentityAssociation, RemoteAccess, Role,
    SecurityGroup, Snapshot, Stack, StackResource, Subnet, Tag, VpcConfig,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/report.schema.json"
        ))
        .unwrap();
        jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
    })
}

/// Mostly plausible values, some hostile ones.
fn text(plausible: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(plausible).prop_map(str::to_owned),
        1 => "\\PC{0,12}",
        1 => any::<String>(),
        1 => Just(String::new()),
        1 => Just("\u{1b}[31m\u{202e}x\u{9b}".to_owned()),
    ]
}

const SUBNETS: &[&str] = &[
    "subnet-0aa1000000000000a",
    "subnet-0bb1000000000000b",
    "subnet-0cc1000000000000c",
    "subnet-12345678",
    " subnet-0aa1000000000000a",
];
const SGS: &[&str] = &[
    "sg-0c1c1c1c1c1c1c1c1",
    "sg-0c2c2c2c2c2c2c2c2",
    "sg-0c3c3c3c3c3c3c3c3",
];
const VPCS: &[&str] = &["vpc-0a1b2c3d4e5f60718", "vpc-0ffeeddccbbaa9988"];
const AZS: &[&str] = &["us-west-2a", "us-west-2b", "us-west-2c"];
const KEYS: &[&str] = &[
    "Role1",
    "InstanceRoleARN",
    "VPC",
    "SecurityGroup",
    "SharedNodeSecurityGroup",
    "ClusterSecurityGroupId",
    "SubnetsPrivate",
    "SubnetsPublic",
    "Subnets",
    "SubnetsLocalZonePrivate",
    "SubnetsPrivateExtended",
    "ClusterFullyPrivate",
    "FeatureNATMode",
    "Endpoint",
    "ARN",
];
const STACK_NAMES: &[&str] = &[
    "eksctl-prod-cluster",
    "eksctl-prod-addon-iamserviceaccount-kube-system-x",
    "eksctl-prod-podidentityrole-default-y",
    "eksctl-prod-nodegroup-ng-cluster",
    "EKS-prod-ControlPlane",
    "eksctl-other-cluster",
];
const STATUSES: &[&str] = &[
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "ROLLBACK_COMPLETE",
    "UPDATE_IN_PROGRESS",
    "DELETE_COMPLETE",
    "ACTIVE",
    "FAILED",
    "UPDATING",
];
const TAG_KEYS: &[&str] = &[
    "alpha.eksctl.io/cluster-name",
    "eksctl.cluster.k8s.io/v1alpha1/cluster-name",
    "alpha.eksctl.io/nodegroup-name",
    "alpha.eksctl.io/nodegroup-type",
    "alpha.eksctl.io/eksctl-version",
    "aws:cloudformation:stack-name",
];
const NODEGROUPS: &[&str] = &["ng-1", "ng-2", "ng-cluster"];
const TEMPLATES: &[&str] = &["lt-0a1a1a1a1a1a1a1a1", "lt-0a2a2a2a2a2a2a2a2"];
const VERSIONS: &[&str] = &["1", "2", "$Latest", "$Default"];

/// The nodegroup, lifecycle and fleet inputs, each present or not.
fn nodegroup_inputs() -> impl Strategy<Value = Snapshot> {
    let nodegroup = (
        text(NODEGROUPS),
        proptest::collection::vec(text(SUBNETS), 0..3),
        proptest::option::of((text(TEMPLATES), proptest::option::of(text(VERSIONS)))),
        proptest::collection::vec(text(SGS), 0..2),
        proptest::collection::vec(text(&["Ec2SubnetNotFound"]), 0..2),
    )
        .prop_map(|(name, subnets, lt, remote, issues)| Nodegroup {
            nodegroup_name: name,
            subnets,
            launch_template: lt.map(|(id, version)| NodegroupLaunchTemplate {
                id: Some(id),
                version,
                ..NodegroupLaunchTemplate::default()
            }),
            remote_access: Some(RemoteAccess {
                source_security_groups: remote,
                ..RemoteAccess::default()
            }),
            health: Some(ClusterHealth {
                issues: issues
                    .into_iter()
                    .map(|code| HealthIssue {
                        code,
                        ..HealthIssue::default()
                    })
                    .collect(),
            }),
            ..Nodegroup::default()
        });
    let group = (
        proptest::collection::vec(
            (
                text(TAG_KEYS),
                text(&["prod", "ng-1", "eksctl-prod-nodegroup-ng-1"]),
            ),
            0..4,
        ),
        proptest::option::of(
            proptest::collection::vec(text(SUBNETS), 0..3).prop_map(|v| v.join(",")),
        ),
        proptest::option::of((text(TEMPLATES), proptest::option::of(text(VERSIONS)))),
    )
        .prop_map(|(tags, zones, lt)| AutoScalingGroup {
            auto_scaling_group_name: "asg".into(),
            vpc_zone_identifier: zones,
            launch_template: lt.map(|(id, version)| LaunchTemplateSpecification {
                launch_template_id: Some(id),
                version,
                ..LaunchTemplateSpecification::default()
            }),
            tags: tags
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect(),
            ..AutoScalingGroup::default()
        });
    let version = (
        text(TEMPLATES),
        0i64..4,
        proptest::option::of(any::<bool>()),
        proptest::collection::vec(text(SGS), 0..2),
    )
        .prop_map(|(id, n, default, groups)| LaunchTemplateVersion {
            launch_template_id: id,
            version_number: n,
            default_version: default,
            launch_template_data: Some(LaunchTemplateData {
                security_group_ids: groups,
                ..LaunchTemplateData::default()
            }),
            ..LaunchTemplateVersion::default()
        });
    (
        proptest::option::of(proptest::collection::vec(text(NODEGROUPS), 0..3)),
        proptest::collection::vec(nodegroup, 0..3),
        proptest::option::of(proptest::collection::vec(group, 0..3)),
        proptest::option::of(proptest::collection::vec(version, 0..4)),
        proptest::option::of(proptest::collection::vec(text(&["prod", "other"]), 0..3)),
        proptest::option::of(proptest::collection::btree_map(
            text(&[
                "eksctl-prod-cluster::VPC",
                "eksctl-prod-cluster::SecurityGroup",
            ]),
            proptest::collection::vec(text(&["eksctl-prod-nodegroup-ng-1", "team-a"]), 0..2),
            0..3,
        )),
    )
        .prop_map(
            |(names, nodegroups, groups, versions, clusters, imports)| Snapshot {
                nodegroup_names: names,
                nodegroups,
                auto_scaling_groups: groups,
                launch_template_versions: versions,
                clusters,
                imports,
                ..Snapshot::default()
            },
        )
}

fn output_value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(text(SUBNETS), 0..4).prop_map(|v| v.join(",")),
        text(SGS),
        text(VPCS),
        text(&[
            "true",
            "Single",
            "https://x.eks.amazonaws.com",
            "arn:aws:eks:us-west-2:1:cluster/prod"
        ]),
    ]
}

fn stack() -> impl Strategy<Value = Stack> {
    (
        text(STACK_NAMES),
        text(STATUSES),
        proptest::collection::vec((text(KEYS), output_value()), 0..10),
        proptest::collection::vec(
            (text(TAG_KEYS), text(&["prod", "other", "ng-cluster"])),
            0..4,
        ),
    )
        .prop_map(|(stack_name, stack_status, outputs, tags)| Stack {
            stack_name,
            stack_status,
            outputs: outputs
                .into_iter()
                .map(|(output_key, output_value)| Output {
                    output_key,
                    output_value,
                    ..Output::default()
                })
                .collect(),
            tags: tags
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect(),
            ..Stack::default()
        })
}

fn subnet() -> impl Strategy<Value = Subnet> {
    (
        text(SUBNETS),
        text(VPCS),
        text(AZS),
        text(&["available", "pending"]),
        proptest::option::of(any::<i64>()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |(
                subnet_id,
                vpc_id,
                availability_zone,
                state,
                available_ip_address_count,
                map_public_ip_on_launch,
            )| Subnet {
                subnet_id,
                vpc_id,
                availability_zone,
                state,
                available_ip_address_count,
                map_public_ip_on_launch,
                ..Subnet::default()
            },
        )
}

fn cluster() -> impl Strategy<Value = Cluster> {
    (
        text(&["prod"]),
        proptest::collection::vec(text(SUBNETS), 0..5),
        proptest::collection::vec(text(SGS), 0..3),
        proptest::option::of(text(SGS)),
        proptest::option::of(text(VPCS)),
        (
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
        ),
        proptest::option::of(text(STATUSES)),
        proptest::collection::vec(
            (
                text(&["Ec2SubnetNotFound"]),
                proptest::collection::vec(text(SUBNETS), 0..2),
            ),
            0..2,
        ),
        proptest::option::of(text(&["https://x.eks.amazonaws.com"])),
    )
        .prop_map(
            |(
                name,
                subnet_ids,
                security_group_ids,
                cluster_security_group_id,
                vpc_id,
                (public, private),
                status,
                issues,
                endpoint,
            )| Cluster {
                name,
                endpoint,
                status,
                resources_vpc_config: VpcConfig {
                    subnet_ids,
                    security_group_ids,
                    cluster_security_group_id,
                    vpc_id,
                    endpoint_public_access: public,
                    endpoint_private_access: private,
                    public_access_cidrs: Vec::new(),
                },
                health: Some(ClusterHealth {
                    issues: issues
                        .into_iter()
                        .map(|(code, resource_ids)| HealthIssue {
                            code,
                            message: "m".into(),
                            resource_ids,
                        })
                        .collect(),
                }),
                ..Cluster::default()
            },
        )
}

fn template() -> impl Strategy<Value = Option<Value>> {
    let item = prop_oneof![
        text(SUBNETS).prop_map(Value::from),
        text(&["SubnetPrivateA", "SubnetPublicB"]).prop_map(|r| json!({"Ref": r})),
        Just(json!({"Fn::ImportValue": "x"})),
        Just(json!(42)),
    ];
    proptest::option::of(prop_oneof![
        proptest::collection::vec(item, 0..4).prop_map(|ids| json!({"Resources": {
            "ControlPlane": {"Type": "AWS::EKS::Cluster", "Properties": {"ResourcesVpcConfig": {"SubnetIds": ids}}},
            "SubnetPrivateA": {"Type": "AWS::EC2::Subnet", "Properties": {"AvailabilityZone": "us-west-2a", "CidrBlock": "10.0.0.0/24"}},
        }})),
        any::<String>().prop_map(Value::from),
        Just(json!({"Resources": []})),
        Just(json!(null)),
    ])
}

const ROLES: &[&str] = &[
    "arn:aws:iam::1:role/eksctl-prod-addon-vpc-cni-Role1-X",
    "arn:aws:iam::1:role/ci/deployer",
    "arn:aws:iam::1:user/alice",
    "not-an-arn",
];

/// The identity inputs, each present or not; trust policies decoded, URL-encoded or garbage.
fn identity_inputs() -> impl Strategy<Value = Snapshot> {
    let trust = prop_oneof![
        Just(None),
        text(&["oidc.eks.us-west-2.amazonaws.com/id/A", "oidc.eks.us-west-2.amazonaws.com/id/B"])
            .prop_map(|issuer| Some(json!({"Statement": [{"Effect": "Allow",
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": format!("arn:aws:iam::1:oidc-provider/{issuer}")},
                "Condition": {"StringLike": {format!("{issuer}:sub"): "system:serviceaccount:*"}}}]}))),
        Just(Some(Value::from("%7B%22Statement%22%3A%5B%5D%7D"))),
        any::<String>().prop_map(|s| Some(Value::from(s))),
        Just(Some(json!({"Statement": 7}))),
    ];
    let role = (
        text(ROLES),
        trust,
        proptest::option::of(text(&["2024-01-01T00:00:00Z", "x"])),
    )
        .prop_map(|(arn, doc, created)| Role {
            arn,
            create_date: created,
            assume_role_policy_document: doc,
            ..Role::default()
        });
    (
        proptest::option::of(proptest::collection::vec(text(ROLES), 0..3)),
        proptest::option::of(proptest::collection::vec(role, 0..4)),
        proptest::option::of(proptest::collection::vec(text(ROLES), 0..3)),
        proptest::collection::vec(
            (
                text(ROLES),
                proptest::option::of(text(&["2025-01-01T00:00:00Z"])),
            )
                .prop_map(|(principal_arn, created_at)| AccessEntry {
                    principal_arn,
                    created_at,
                    ..AccessEntry::default()
                }),
            0..3,
        ),
        proptest::option::of(proptest::collection::vec(
            text(&["a-1", "a-2"]).prop_map(|association_id| PodIdentityAssociation {
                association_id,
                ..PodIdentityAssociation::default()
            }),
            0..2,
        )),
        proptest::collection::vec(
            (text(&["a-1", "a-2"]), proptest::option::of(text(ROLES))).prop_map(|(id, role)| {
                PodIdentityAssociation {
                    association_id: id,
                    role_arn: role,
                    ..PodIdentityAssociation::default()
                }
            }),
            0..2,
        ),
        proptest::option::of(text(&["API", "API_AND_CONFIG_MAP", "CONFIG_MAP"])),
    )
        .prop_map(
            |(providers, roles, entries, details, associations, association_details, mode)| {
                Snapshot {
                    oidc_providers: providers,
                    roles,
                    access_entries: entries,
                    access_entry_details: details,
                    pod_identity_associations: associations,
                    pod_identity_details: association_details,
                    cluster: Cluster {
                        access_config: mode.map(|m| AccessConfig {
                            authentication_mode: Some(m),
                        }),
                        ..Cluster::default()
                    },
                    ..Snapshot::default()
                }
            },
        )
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    (
        proptest::collection::vec(stack(), 0..4),
        cluster(),
        proptest::collection::vec(subnet(), 0..6),
        proptest::option::of(proptest::collection::vec(
            text(SGS).prop_map(|group_id| SecurityGroup {
                group_id,
                ..SecurityGroup::default()
            }),
            0..3,
        )),
        template(),
        proptest::option::of(proptest::collection::vec(
            (
                text(&["SubnetPrivateA", "SubnetPublicB"]),
                proptest::option::of(text(SUBNETS)),
            )
                .prop_map(|(l, p)| StackResource {
                    logical_resource_id: l,
                    physical_resource_id: p,
                    ..StackResource::default()
                }),
            0..3,
        )),
        proptest::option::of(text(&["us-west-2"])),
        nodegroup_inputs(),
        identity_inputs(),
    )
        .prop_map(
            |(
                stacks,
                cluster,
                subnets,
                security_groups,
                template,
                stack_resources,
                region,
                more,
                identity,
            )| {
                Snapshot {
                    source: "proptest".into(),
                    region,
                    stacks,
                    cluster: Cluster {
                        identity: Some(ClusterIdentity {
                            oidc: Some(Oidc {
                                issuer: Some(
                                    "https://oidc.eks.us-west-2.amazonaws.com/id/A".into(),
                                ),
                            }),
                        }),
                        access_config: identity.cluster.access_config.clone(),
                        ..cluster
                    },
                    subnets,
                    security_groups,
                    template,
                    stack_resources,
                    oidc_providers: identity.oidc_providers,
                    roles: identity.roles,
                    access_entries: identity.access_entries,
                    access_entry_details: identity.access_entry_details,
                    pod_identity_associations: identity.pod_identity_associations,
                    pod_identity_details: identity.pod_identity_details,
                    ..more
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn engine_never_panics_and_reports_validate(s in snapshot()) {
        let target = drift_core::audit(&s);
        // Every rule is accounted for exactly once (the plan's run only with a plan).
        prop_assert_eq!(
            target.coverage.checked.len() + target.coverage.not_checked.len(),
            ALL.iter().filter(|r| !r.is_tool() && !r.is_plan()).count()
        );
        for f in &target.findings {
            prop_assert!(ALL.iter().any(|r| r.code == f.code && r.slug == f.rule));
        }
        let mut sorted = target.findings.clone();
        drift_core::report::sort_findings(&mut sorted);
        prop_assert_eq!(&sorted, &target.findings);
        let report = Report::new(vec![target], "2026-11-28T07:00:00Z".into(), Stats::default());
        let value = serde_json::to_value(&report).unwrap();
        let errors: Vec<String> = validator().iter_errors(&value).map(|e| e.to_string()).collect();
        prop_assert!(errors.is_empty(), "{:?}", errors);
        // The renderer-facing JSON writer round-trips whatever the strings hold.
        let mut out = Vec::new();
        drift_core::text::write_json_safe(&mut out, &report).unwrap();
        let back: Value = serde_json::from_slice(&out).unwrap();
        prop_assert_eq!(back, value);
    }

    #[test]
    fn bundle_reader_never_panics(stacks in prop_oneof![any::<Vec<u8>>().prop_map(|b| b), "\\PC{0,64}".prop_map(String::into_bytes)],
                                  cluster in prop_oneof![Just(br#"{"cluster":{"name":"prod"}}"#.to_vec()), any::<Vec<u8>>()],
                                  template in prop_oneof![Just(br#"{"TemplateBody":"{\"Resources\":{}}"}"#.to_vec()), any::<Vec<u8>>()]) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("describe-stacks.json"), &stacks).unwrap();
        std::fs::write(dir.path().join("describe-cluster.json"), &cluster).unwrap();
        std::fs::write(dir.path().join("describe-subnets.json"), br#"{"Subnets":[]}"#).unwrap();
        std::fs::write(dir.path().join("get-template.json"), &template).unwrap();
        match read_bundle(dir.path()) {
            Ok(s) => { let _ = drift_core::audit(&s); }
            Err(e) => prop_assert!(e.to_string().contains(".json")),
        }
    }

    #[test]
    fn bundle_files_of_any_shape_give_an_answer(shapes in proptest::collection::vec(0u8..8, 16)) {
        // Every bundle file is, at random: absent, the clean fixture's, garbage, a link to
        // /dev/zero, a FIFO, a folder, over the size limit (sparse), or a link to a file outside.
        let names = [
            "describe-stacks.json", "describe-cluster.json", "describe-subnets.json",
            "describe-security-groups.json", "get-template.json",
            "describe-stack-resources.json", "capture.json", "list-nodegroups.json",
            "describe-auto-scaling-groups.json", "describe-launch-template-versions.json",
            "list-clusters.json", "describe-nodegroup/ng-1.json",
            "list-open-id-connect-providers.json", "list-roles.json",
            "list-access-entries.json", "list-pod-identity-associations.json",
        ];
        let clean = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/clean");
        let dir = tempfile::tempdir().unwrap();
        let limits = drift_core::bundle::ReadLimits::with_max_file_bytes(1 << 20);
        std::fs::create_dir(dir.path().join("describe-nodegroup")).unwrap();
        for (name, shape) in names.iter().zip(&shapes) {
            let path = dir.path().join(name);
            match shape {
                0 => {}
                1 => { let _ = std::fs::copy(clean.join(name), &path); }
                2 => std::fs::write(&path, b"{\"Stacks\": [\x00garbage").unwrap(),
                3 => std::os::unix::fs::symlink("/dev/zero", &path).unwrap(),
                4 => { let _ = std::process::Command::new("mkfifo").arg(&path).status(); }
                5 => std::fs::create_dir(&path).unwrap(),
                6 => std::fs::File::create(&path).unwrap().set_len((1 << 20) + 1).unwrap(),
                _ => std::os::unix::fs::symlink(clean.join(name), &path).unwrap(),
            }
        }
        // It returns (a FIFO or /dev/zero read would hang or exhaust memory), and an error
        // names the file.
        match drift_core::bundle::read_bundle_with(dir.path(), &limits) {
            Ok(s) => { let _ = drift_core::audit(&s); }
            Err(e) => prop_assert!(e.to_string().contains(".json"), "{}", e),
        }
    }
}
