//! Auto Scaling reads: the groups tagged for the region's clusters.

use super::error::{CallError, classify};
use super::map;
use super::paginate::paginate;
use crate::snapshot::{AutoScalingGroup, tags};

/// Values per auto scaling tag filter.
const TAG_FILTER_CHUNK: usize = 100;

/// The auto scaling groups of `clusters`: those tagged `kubernetes.io/cluster/<cluster>`, the
/// tag eksctl's nodegroup template (and EKS, for managed nodegroups) puts on every group in
/// every version. One paginated `tag-key` call per 100 clusters, never one per group.
pub(super) async fn auto_scaling_groups(
    autoscaling: &aws_sdk_autoscaling::Client,
    clusters: &[String],
) -> Result<Vec<AutoScalingGroup>, CallError> {
    let chunks = clusters.chunks(TAG_FILTER_CHUNK).map(|chunk| {
        let filter = aws_sdk_autoscaling::types::Filter::builder()
            .name("tag-key")
            .set_values(Some(
                chunk
                    .iter()
                    .map(|c| format!("{}{c}", tags::KUBERNETES_CLUSTER_PREFIX))
                    .collect(),
            ))
            .build();
        async move {
            paginate("autoscaling:DescribeAutoScalingGroups", |token| {
                let filter = filter.clone();
                async move {
                    let page = autoscaling
                        .describe_auto_scaling_groups()
                        .filters(filter)
                        .include_instances(false)
                        .max_records(100)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(|e| classify("autoscaling:DescribeAutoScalingGroups", &e))?;
                    Ok((
                        page.auto_scaling_groups()
                            .iter()
                            .map(map::auto_scaling_group)
                            .collect(),
                        page.next_token().map(str::to_owned),
                    ))
                }
            })
            .await
        }
    });
    let found = futures::future::try_join_all(chunks).await?;
    Ok(found.into_iter().flatten().collect())
}
