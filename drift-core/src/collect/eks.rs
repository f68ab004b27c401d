//! EKS reads: the region's clusters, one cluster described, its managed nodegroups, access
//! entries and pod identity associations.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt as _};

use super::error::{CallError, classify};
use super::map;
use super::paginate::paginate;
use super::{Options, Targets};
use crate::report::ErrorKind;
use crate::snapshot::{AccessEntry, Cluster, Nodegroup, PodIdentityAssociation, role_key};

/// A cluster's managed nodegroups: the names listed, and each described.
pub(super) type Managed = (Vec<String>, Vec<Nodegroup>);

/// A cluster's access entries and the role entries described; `None` when the cluster does
/// not authenticate by API (EKS refuses the listing then).
pub(super) type Entries = Option<(Vec<String>, Vec<AccessEntry>)>;

/// A cluster's pod identity associations, listed and described (the listing holds no role).
pub(super) type Associations = (Vec<PodIdentityAssociation>, Vec<PodIdentityAssociation>);

/// The Fargate profile names listed, and each described.
pub(super) type Profiles = (Vec<String>, Vec<crate::snapshot::FargateProfile>);

/// The addon names listed, and each described.
pub(super) type Addons = (Vec<String>, Vec<crate::snapshot::Addon>);

/// The insights listed, and each one not `PASSING` described.
pub(super) type Insights = (Vec<crate::snapshot::Insight>, Vec<crate::snapshot::Insight>);

pub(super) async fn list_clusters(eks: &aws_sdk_eks::Client) -> Result<Vec<String>, CallError> {
    paginate("eks:ListClusters", |token| async move {
        let page = eks
            .list_clusters()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("eks:ListClusters", &e))?;
        Ok((
            page.clusters().to_vec(),
            page.next_token().map(str::to_owned),
        ))
    })
    .await
}

/// The cluster names: as given, or `ListClusters`; deduplicated (a name listed twice is
/// audited once). With `ListClusters`, its answer too.
pub(super) async fn cluster_names(
    eks: &aws_sdk_eks::Client,
    opts: &Options,
) -> Result<(Vec<String>, Option<Vec<String>>), CallError> {
    let (names, listed) = match &opts.targets {
        Targets::Named(names) => (names.clone(), None),
        Targets::All => {
            let listed = list_clusters(eks).await?;
            (listed.clone(), Some(listed))
        }
    };
    let mut seen = BTreeSet::new();
    Ok((
        names
            .into_iter()
            .filter(|n| seen.insert(n.clone()))
            .collect(),
        listed,
    ))
}

pub(super) async fn describe_cluster(
    eks: &aws_sdk_eks::Client,
    region: &str,
    name: &str,
) -> Result<Cluster, CallError> {
    let raw = RawBody::default();
    let out = eks
        .describe_cluster()
        .name(name)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await
        .map_err(|e| {
            let mut err = classify("eks:DescribeCluster", &e);
            if err.kind == ErrorKind::NotFound {
                err.message = format!("no EKS cluster named {name} in {region}");
            }
            err
        })?;
    let mut cluster = out.cluster().map(map::cluster).ok_or_else(|| CallError {
        action: "eks:DescribeCluster".to_owned(),
        kind: ErrorKind::InvalidResponse,
        code: None,
        message: format!("the response for {name} holds no cluster"),
    })?;
    // Every field of the answer the snapshot does not model is kept as EKS sent it, so a
    // capture writes the whole answer.
    if let Some(serde_json::Value::Object(fields)) = raw
        .take()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|mut v| v.get_mut("cluster").map(serde_json::Value::take))
    {
        for (key, value) in fields {
            if !MODELED_CLUSTER_FIELDS.contains(&key.as_str()) && !value.is_null() {
                cluster.other.insert(key, value);
            }
        }
    }
    Ok(cluster)
}

/// The `DescribeCluster` fields [`Cluster`] models (the rest go to `Cluster::other`).
const MODELED_CLUSTER_FIELDS: [&str; 15] = [
    "name",
    "arn",
    "createdAt",
    "version",
    "endpoint",
    "roleArn",
    "resourcesVpcConfig",
    "status",
    "platformVersion",
    "health",
    "outpostConfig",
    "identity",
    "accessConfig",
    "deletionProtection",
    "tags",
];

/// Keeps the body of the answer an operation deserialized (it is in memory by then).
#[derive(Debug, Clone, Default)]
struct RawBody(std::sync::Arc<std::sync::Mutex<Option<Vec<u8>>>>);

impl RawBody {
    fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().ok().and_then(|mut b| b.take())
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for RawBody {
    fn name(&self) -> &'static str {
        "eksdrift::RawBody"
    }

    fn read_after_deserialization(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if let (Some(bytes), Ok(mut slot)) = (context.response().body().bytes(), self.0.lock()) {
            *slot = Some(bytes.to_vec());
        }
        Ok(())
    }
}

/// A cluster's managed nodegroups, listed and described. A cluster EKS does not know has
/// none: `DescribeCluster` reports it.
pub(super) async fn managed_nodegroups(
    eks: &aws_sdk_eks::Client,
    concurrency: usize,
    cluster: &str,
) -> Result<Managed, CallError> {
    let names = paginate("eks:ListNodegroups", |token| async move {
        match eks
            .list_nodegroups()
            .cluster_name(cluster)
            .set_next_token(token)
            .send()
            .await
        {
            Ok(page) => Ok((
                page.nodegroups().to_vec(),
                page.next_token().map(str::to_owned),
            )),
            Err(e) => {
                let err = classify("eks:ListNodegroups", &e);
                if err.kind == ErrorKind::NotFound {
                    Ok((Vec::new(), None))
                } else {
                    Err(err)
                }
            }
        }
    })
    .await?;
    let described = stream::iter(names.iter())
        .map(|ng| async move {
            let out = eks
                .describe_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(ng)
                .send()
                .await;
            match out {
                Ok(out) => Ok(out.nodegroup().map(map::nodegroup)),
                Err(e) => {
                    let err = classify("eks:DescribeNodegroup", &e);
                    // Deleted between the listing and the description.
                    if err.kind == ErrorKind::NotFound {
                        Ok(None)
                    } else {
                        Err(err)
                    }
                }
            }
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let described: Vec<Nodegroup> = described.into_iter().flatten().collect();
    // A nodegroup deleted in between is not listed either.
    let names = names
        .into_iter()
        .filter(|n| described.iter().any(|d| d.nodegroup_name == *n))
        .collect();
    Ok((names, described))
}

/// A cluster's access entries, only when it authenticates by API (`ListAccessEntries` is
/// refused otherwise), each role entry described.
pub(super) async fn access_entries(
    eks: &aws_sdk_eks::Client,
    concurrency: usize,
    cluster: &Cluster,
) -> Result<Entries, CallError> {
    let name = cluster.name.as_str();
    let by_api = matches!(
        cluster.authentication_mode(),
        Some("API" | "API_AND_CONFIG_MAP")
    );
    if !by_api {
        return Ok(None);
    }
    let entries = paginate("eks:ListAccessEntries", |token| async move {
        let page = eks
            .list_access_entries()
            .cluster_name(name)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("eks:ListAccessEntries", &e))?;
        Ok((
            page.access_entries().to_vec(),
            page.next_token().map(str::to_owned),
        ))
    })
    .await?;
    let details = stream::iter(entries.iter().filter(|e| role_key(e).is_some()))
        .map(|arn| async move {
            eks.describe_access_entry()
                .cluster_name(name)
                .principal_arn(arn)
                .send()
                .await
                .map(|out| out.access_entry().map(map::access_entry))
                .map_err(|e| classify("eks:DescribeAccessEntry", &e))
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some((entries, details.into_iter().flatten().collect())))
}

/// A cluster's Fargate profiles, each described.
pub(super) async fn fargate_profiles(
    eks: &aws_sdk_eks::Client,
    concurrency: usize,
    name: &str,
) -> Result<Profiles, CallError> {
    let listed = paginate("eks:ListFargateProfiles", |token| async move {
        let page = eks
            .list_fargate_profiles()
            .cluster_name(name)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("eks:ListFargateProfiles", &e))?;
        Ok((
            page.fargate_profile_names().to_vec(),
            page.next_token().map(str::to_owned),
        ))
    })
    .await?;
    let details = stream::iter(listed.iter())
        .map(|profile| async move {
            eks.describe_fargate_profile()
                .cluster_name(name)
                .fargate_profile_name(profile)
                .send()
                .await
                .map(|out| {
                    out.fargate_profile()
                        .map(|p| crate::snapshot::FargateProfile {
                            fargate_profile_name: p
                                .fargate_profile_name()
                                .unwrap_or_default()
                                .to_owned(),
                            status: p.status().map(|s| s.as_str().to_owned()),
                            pod_execution_role_arn: p.pod_execution_role_arn().map(str::to_owned),
                            subnets: p.subnets().to_vec(),
                        })
                })
                .map_err(|e| classify("eks:DescribeFargateProfile", &e))
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok((listed, details.into_iter().flatten().collect()))
}

/// A cluster's upgrade and rollback insights, listed and each one not `PASSING` described.
pub(super) async fn insights(
    eks: &aws_sdk_eks::Client,
    concurrency: usize,
    name: &str,
) -> Result<Insights, CallError> {
    use aws_sdk_eks::types::{Category, InsightsFilter};
    let filter = InsightsFilter::builder()
        .categories(Category::UpgradeReadiness)
        .categories(Category::RollbackReadiness)
        .build();
    let filter = &filter;
    let listed = paginate("eks:ListInsights", |token| async move {
        let page = eks
            .list_insights()
            .cluster_name(name)
            .filter(filter.clone())
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("eks:ListInsights", &e))?;
        Ok((
            page.insights()
                .iter()
                .map(map::insight_summary)
                .collect::<Vec<_>>(),
            page.next_token().map(str::to_owned),
        ))
    })
    .await?;
    let details = stream::iter(listed.iter().filter(|i| i.status() != "PASSING"))
        .map(|insight| async move {
            eks.describe_insight()
                .cluster_name(name)
                .id(&insight.id)
                .send()
                .await
                .map(|out| out.insight().map(map::insight))
                .map_err(|e| classify("eks:DescribeInsight", &e))
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok((listed, details.into_iter().flatten().collect()))
}

/// Every Kubernetes version EKS offers in the region, with its support dates.
pub(super) async fn cluster_versions(
    eks: &aws_sdk_eks::Client,
) -> Result<Vec<crate::snapshot::ClusterVersion>, CallError> {
    paginate("eks:DescribeClusterVersions", |token| async move {
        let page = eks
            .describe_cluster_versions()
            .include_all(true)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("eks:DescribeClusterVersions", &e))?;
        Ok((
            page.cluster_versions()
                .iter()
                .map(map::cluster_version)
                .collect::<Vec<_>>(),
            page.next_token().map(str::to_owned),
        ))
    })
    .await
}

/// The versions EKS offers of one addon for one Kubernetes version.
pub(super) async fn addon_versions(
    eks: &aws_sdk_eks::Client,
    kubernetes_version: &str,
    addon: &str,
) -> Result<Vec<crate::snapshot::AddonInfo>, CallError> {
    paginate("eks:DescribeAddonVersions", |token| async move {
        let page = eks
            .describe_addon_versions()
            .kubernetes_version(kubernetes_version)
            .addon_name(addon)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("eks:DescribeAddonVersions", &e))?;
        Ok((
            page.addons()
                .iter()
                .map(map::addon_info)
                .collect::<Vec<_>>(),
            page.next_token().map(str::to_owned),
        ))
    })
    .await
}

/// A cluster's EKS addons, each described.
pub(super) async fn addons(
    eks: &aws_sdk_eks::Client,
    concurrency: usize,
    name: &str,
) -> Result<Addons, CallError> {
    let listed = paginate("eks:ListAddons", |token| async move {
        let page = eks
            .list_addons()
            .cluster_name(name)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("eks:ListAddons", &e))?;
        Ok((page.addons().to_vec(), page.next_token().map(str::to_owned)))
    })
    .await?;
    let details = stream::iter(listed.iter())
        .map(|addon| async move {
            eks.describe_addon()
                .cluster_name(name)
                .addon_name(addon)
                .send()
                .await
                .map(|out| out.addon().map(map::addon))
                .map_err(|e| classify("eks:DescribeAddon", &e))
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok((listed, details.into_iter().flatten().collect()))
}

/// A cluster's pod identity associations, each described (the listing holds no role).
pub(super) async fn pod_identity_associations(
    eks: &aws_sdk_eks::Client,
    concurrency: usize,
    name: &str,
) -> Result<Associations, CallError> {
    let listed = paginate("eks:ListPodIdentityAssociations", |token| async move {
        let page = eks
            .list_pod_identity_associations()
            .cluster_name(name)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("eks:ListPodIdentityAssociations", &e))?;
        Ok((
            page.associations()
                .iter()
                .map(map::pod_identity_summary)
                .collect::<Vec<_>>(),
            page.next_token().map(str::to_owned),
        ))
    })
    .await?;
    let details = stream::iter(listed.iter())
        .map(|a| async move {
            eks.describe_pod_identity_association()
                .cluster_name(name)
                .association_id(&a.association_id)
                .send()
                .await
                .map(|out| out.association().map(map::pod_identity_association))
                .map_err(|e| classify("eks:DescribePodIdentityAssociation", &e))
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok((listed, details.into_iter().flatten().collect()))
}
