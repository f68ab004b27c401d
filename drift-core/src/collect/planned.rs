//! What a ClusterConfig plan (`-f FILE`) reads beyond an audit: the key pairs and AMIs its
//! nodegroups name, and where its instance types are offered. One call each, batched by
//! filter; nothing when the file names none.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{Filter, LocationType};

use super::error::{CallError, classify};
use super::paginate::{describe_filtered, paginate};
use super::target::fail;
use super::{Clients, Options};
use crate::input::Input;
use crate::snapshot::{
    Image, InstanceTypeOffering, KeyPair, PlannedInstanceProfile, ProfileRole, Snapshot, Vpc,
    VpcCidr,
};

/// Reads what the snapshot's plan names, into the snapshot; a failed read fails its input.
pub(super) async fn read(
    clients: &Clients,
    opts: &Options,
    snapshot: &mut Snapshot,
    own_queries: &mut Vec<String>,
) {
    let Some(plan) = &snapshot.plan else {
        return;
    };
    let wants = |i: Input| opts.inputs.contains(&i);
    let pools: Vec<_> = plan.config.node_pools().map(|(_, n)| n).collect();
    let keys: BTreeSet<String> = pools
        .iter()
        .filter_map(|n| n.key_name())
        .map(str::to_owned)
        .collect();
    let amis: BTreeSet<String> = pools
        .iter()
        .filter_map(|n| n.ami_id())
        .map(str::to_owned)
        .collect();
    let types: BTreeSet<String> = pools
        .iter()
        .flat_map(|n| n.types())
        .map(str::to_owned)
        .collect();
    let ec2 = &clients.ec2;
    let key_pairs = async {
        if !wants(Input::DescribeKeyPairs) {
            return None;
        }
        if keys.is_empty() {
            return Some(Ok(Vec::new()));
        }
        Some(key_pairs(ec2, &keys).await)
    };
    let images = async {
        if !wants(Input::DescribeImages) {
            return None;
        }
        if amis.is_empty() {
            return Some(Ok(Vec::new()));
        }
        Some(images(ec2, &amis).await)
    };
    let offerings = async {
        if !wants(Input::DescribeInstanceTypeOfferings) {
            return None;
        }
        if types.is_empty() {
            return Some(Ok(Vec::new()));
        }
        Some(offerings(ec2, &types).await)
    };
    // An addon plan: the versions EKS offers of the file's addons for the cluster's version.
    let addon_plan = matches!(
        plan.operation,
        crate::report::Operation::CreateAddon | crate::report::Operation::UpdateAddon
    ) && wants(Input::DescribeAddonVersions);
    let cluster_version = snapshot.cluster.version.clone();
    let addon_names: BTreeSet<String> = plan.config.addons.iter().map(|a| a.name.clone()).collect();
    let addon_versions = async {
        let version = cluster_version.as_deref()?;
        if !addon_plan {
            return None;
        }
        let mut found = Vec::new();
        for name in &addon_names {
            match super::eks::addon_versions(&clients.eks, version, name).await {
                Ok(infos) => found.extend(infos),
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok((version.to_owned(), found)))
    };
    let policy_arns = plan.config.customer_policy_arns();
    let policies = async {
        if !wants(Input::GetPolicies) {
            return None;
        }
        let mut found = Vec::new();
        for arn in &policy_arns {
            match clients.iam.get_policy().policy_arn(arn).send().await {
                Ok(_) => found.push(arn.clone()),
                Err(e) => {
                    let e = classify("iam:GetPolicy", &e);
                    // A policy that does not exist is the answer, not a failure.
                    if e.code.as_deref() != Some("NoSuchEntity") {
                        return Some(Err(e));
                    }
                }
            }
        }
        Some(Ok(found))
    };
    let profile_names = plan.config.instance_profile_names();
    let profiles = async {
        if !wants(Input::GetInstanceProfiles) {
            return None;
        }
        let mut found = Vec::new();
        for name in &profile_names {
            match clients
                .iam
                .get_instance_profile()
                .instance_profile_name(name)
                .send()
                .await
            {
                Ok(out) => {
                    if let Some(p) = out.instance_profile() {
                        found.push(PlannedInstanceProfile {
                            instance_profile_name: p.instance_profile_name().to_owned(),
                            arn: Some(p.arn().to_owned()),
                            roles: p
                                .roles()
                                .iter()
                                .map(|r| ProfileRole {
                                    role_name: r.role_name().to_owned(),
                                    arn: r.arn().to_owned(),
                                })
                                .collect(),
                        });
                    }
                }
                Err(e) => {
                    let e = classify("iam:GetInstanceProfile", &e);
                    // A profile that does not exist is the answer, not a failure.
                    if e.code.as_deref() != Some("NoSuchEntity") {
                        return Some(Err(e));
                    }
                }
            }
        }
        Some(Ok(found))
    };
    // A create-cluster plan into an existing VPC: that VPC.
    let vpc_id = (plan.operation == crate::report::Operation::CreateCluster)
        .then(|| plan.config.vpc_id().map(str::to_owned))
        .flatten();
    let vpcs = async {
        if !wants(Input::DescribeVpcs) || plan.operation != crate::report::Operation::CreateCluster
        {
            return None;
        }
        let Some(id) = vpc_id.as_deref() else {
            return Some(Ok(Vec::new()));
        };
        Some(vpcs(ec2, id).await)
    };
    let (key_pairs, images, offerings, addon_versions, policies, profiles, vpcs) = tokio::join!(
        key_pairs,
        images,
        offerings,
        addon_versions,
        policies,
        profiles,
        vpcs
    );
    match profiles {
        Some(Ok(found)) => {
            if !profile_names.is_empty() {
                own_queries.push(format!(
                    "iam:GetInstanceProfile ({} profiles)",
                    profile_names.len()
                ));
            }
            snapshot.planned_instance_profiles = Some(found);
        }
        Some(Err(e)) => fail(snapshot, Input::GetInstanceProfiles, &e),
        None => {}
    }
    match vpcs {
        Some(Ok(found)) => {
            if let Some(id) = &vpc_id {
                own_queries.push(format!("ec2:DescribeVpcs vpc-id {id}"));
            }
            snapshot.vpcs = Some(found);
        }
        Some(Err(e)) => fail(snapshot, Input::DescribeVpcs, &e),
        None => {}
    }
    match policies {
        Some(Ok(found)) => {
            if !policy_arns.is_empty() {
                own_queries.push(format!("iam:GetPolicy ({} policies)", policy_arns.len()));
            }
            snapshot.policies = Some(found);
        }
        Some(Err(e)) => fail(snapshot, Input::GetPolicies, &e),
        None => {}
    }
    match addon_versions {
        Some(Ok((version, found))) => {
            own_queries.push(format!(
                "eks:DescribeAddonVersions kubernetes-version={version} ({} addons)",
                addon_names.len()
            ));
            snapshot
                .addon_versions
                .get_or_insert_with(Default::default)
                .entry(version)
                .or_default()
                .extend(found);
        }
        Some(Err(e)) => fail(snapshot, Input::DescribeAddonVersions, &e),
        None => {}
    }
    match key_pairs {
        Some(Ok(found)) => {
            if !keys.is_empty() {
                own_queries.push(format!(
                    "ec2:DescribeKeyPairs key-name ({} names)",
                    keys.len()
                ));
            }
            snapshot.key_pairs = Some(found);
        }
        Some(Err(e)) => fail(snapshot, Input::DescribeKeyPairs, &e),
        None => {}
    }
    match images {
        Some(Ok(found)) => {
            if !amis.is_empty() {
                own_queries.push(format!("ec2:DescribeImages image-id ({} AMIs)", amis.len()));
            }
            snapshot.images = Some(found);
        }
        Some(Err(e)) => fail(snapshot, Input::DescribeImages, &e),
        None => {}
    }
    match offerings {
        Some(Ok(found)) => {
            if !types.is_empty() {
                own_queries.push(format!(
                    "ec2:DescribeInstanceTypeOfferings availability-zone ({} types)",
                    types.len()
                ));
            }
            snapshot.instance_type_offerings = Some(found);
        }
        Some(Err(e)) => fail(snapshot, Input::DescribeInstanceTypeOfferings, &e),
        None => {}
    }
}

/// The key pairs among `names` that exist (by `key-name` filter: a missing name fails
/// nothing). `DescribeKeyPairs` has no pages.
async fn key_pairs(
    ec2: &aws_sdk_ec2::Client,
    names: &BTreeSet<String>,
) -> Result<Vec<KeyPair>, CallError> {
    let out = ec2
        .describe_key_pairs()
        .filters(
            Filter::builder()
                .name("key-name")
                .set_values(Some(names.iter().cloned().collect()))
                .build(),
        )
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeKeyPairs", &e))?;
    Ok(out
        .key_pairs()
        .iter()
        .map(|k| KeyPair {
            key_name: k.key_name().unwrap_or_default().to_owned(),
            key_pair_id: k.key_pair_id().map(str::to_owned),
        })
        .collect())
}

/// The VPC `id`, when it exists (by `vpc-id` filter: a missing VPC fails nothing).
async fn vpcs(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Vec<Vpc>, CallError> {
    let filter = Filter::builder().name("vpc-id").values(id).build();
    let filter = &filter;
    paginate("ec2:DescribeVpcs", |token| async move {
        let page = ec2
            .describe_vpcs()
            .filters(filter.clone())
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("ec2:DescribeVpcs", &e))?;
        Ok((
            page.vpcs()
                .iter()
                .map(|v| Vpc {
                    vpc_id: v.vpc_id().unwrap_or_default().to_owned(),
                    cidr_block: v.cidr_block().map(str::to_owned),
                    cidr_block_association_set: v
                        .cidr_block_association_set()
                        .iter()
                        .filter_map(|a| {
                            Some(VpcCidr {
                                cidr_block: a.cidr_block()?.to_owned(),
                            })
                        })
                        .collect(),
                })
                .collect::<Vec<_>>(),
            page.next_token().map(str::to_owned),
        ))
    })
    .await
}

/// The AMIs among `ids` that exist, deprecated ones included (they still launch).
async fn images(
    ec2: &aws_sdk_ec2::Client,
    ids: &BTreeSet<String>,
) -> Result<Vec<Image>, CallError> {
    describe_filtered(
        "ec2:DescribeImages",
        "image-id",
        ids,
        |filter, token| async move {
            let page = ec2
                .describe_images()
                .include_deprecated(true)
                .filters(filter)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify("ec2:DescribeImages", &e))?;
            Ok((
                page.images()
                    .iter()
                    .map(|i| Image {
                        image_id: i.image_id().unwrap_or_default().to_owned(),
                        state: i.state().map(|s| s.as_str().to_owned()),
                        name: i.name().map(str::to_owned),
                        deprecation_time: i.deprecation_time().map(str::to_owned),
                    })
                    .collect(),
                page.next_token().map(str::to_owned),
            ))
        },
    )
    .await
}

/// Every AZ of the region that offers each of `types`.
async fn offerings(
    ec2: &aws_sdk_ec2::Client,
    types: &BTreeSet<String>,
) -> Result<Vec<InstanceTypeOffering>, CallError> {
    let filter = Filter::builder()
        .name("instance-type")
        .set_values(Some(types.iter().cloned().collect()))
        .build();
    let filter = &filter;
    paginate("ec2:DescribeInstanceTypeOfferings", |token| async move {
        let page = ec2
            .describe_instance_type_offerings()
            .location_type(LocationType::AvailabilityZone)
            .filters(filter.clone())
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("ec2:DescribeInstanceTypeOfferings", &e))?;
        Ok((
            page.instance_type_offerings()
                .iter()
                .map(|o| InstanceTypeOffering {
                    instance_type: o
                        .instance_type()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    location_type: o
                        .location_type()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    location: o.location().unwrap_or_default().to_owned(),
                })
                .collect::<Vec<_>>(),
            page.next_token().map(str::to_owned),
        ))
    })
    .await
}
