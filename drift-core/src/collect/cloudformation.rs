//! CloudFormation reads: every stack of the region, a cluster stack's template and resources,
//! and the importers of an export.

use std::collections::BTreeSet;

use aws_smithy_types::error::metadata::ProvideErrorMetadata as _;

use super::error::{CallError, classify};
use super::map;
use super::paginate::paginate;
use crate::snapshot::{Snapshot, Stack, StackResource};

pub(super) async fn describe_all_stacks(
    cfn: &aws_sdk_cloudformation::Client,
) -> Result<Vec<Stack>, CallError> {
    paginate("cloudformation:DescribeStacks", |token| async move {
        let page = cfn
            .describe_stacks()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("cloudformation:DescribeStacks", &e))?;
        Ok((
            page.stacks().iter().map(map::stack).collect(),
            page.next_token().map(str::to_owned),
        ))
    })
    .await
}

/// The stacks importing `export`. `ValidationError` is how CloudFormation says that nothing
/// imports it: an empty list, not a failure.
pub(super) async fn list_imports(
    cfn: &aws_sdk_cloudformation::Client,
    export: &str,
) -> Result<Vec<String>, CallError> {
    paginate("cloudformation:ListImports", |token| async move {
        match cfn
            .list_imports()
            .export_name(export)
            .set_next_token(token)
            .send()
            .await
        {
            Ok(page) => Ok((
                page.imports().to_vec(),
                page.next_token().map(str::to_owned),
            )),
            Err(e) if e.code() == Some("ValidationError") => Ok((Vec::new(), None)),
            Err(e) => Err(classify("cloudformation:ListImports", &e)),
        }
    })
    .await
}

/// One stack's template (`GetTemplate`).
pub(super) async fn template(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<Option<serde_json::Value>, CallError> {
    let out = cfn
        .get_template()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| classify("cloudformation:GetTemplate", &e))?;
    Ok(out.template_body().map(map::template_body))
}

pub(super) async fn stack_details(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<(Option<serde_json::Value>, Vec<StackResource>), CallError> {
    let (template, resources) = tokio::join!(
        cfn.get_template().stack_name(stack).send(),
        cfn.describe_stack_resources().stack_name(stack).send()
    );
    let template = template.map_err(|e| classify("cloudformation:GetTemplate", &e))?;
    let resources = resources.map_err(|e| classify("cloudformation:DescribeStackResources", &e))?;
    Ok((
        template.template_body().map(map::template_body),
        resources
            .stack_resources()
            .iter()
            .map(map::stack_resource)
            .collect(),
    ))
}

/// The stacks that can matter for `cluster`: tagged with its name, or named after it.
pub(super) fn stacks_of(stacks: &[Stack], cluster: &str) -> Vec<Stack> {
    let current = format!("eksctl-{cluster}-");
    let legacy = format!("EKS-{cluster}-");
    stacks
        .iter()
        .filter(|s| {
            s.cluster_name_tag() == Some(cluster)
                || s.stack_name.starts_with(&current)
                || s.stack_name.starts_with(&legacy)
        })
        .cloned()
        .collect()
}

/// The cheap comparison: does the template add anything to this audit? Yes when a live
/// control-plane subnet is unknown to the outputs (EKD205 precision), or when an output subnet
/// is gone (the template tells its AZ and CIDR).
pub(super) fn needs_template(stack: &Stack, snapshot: &Snapshot) -> bool {
    let recorded: BTreeSet<&str> = stack
        .subnet_lists()
        .iter()
        .flat_map(|o| o.ids.iter().copied())
        .collect();
    let existing: BTreeSet<&str> = snapshot
        .subnets
        .iter()
        .map(|s| s.subnet_id.as_str())
        .collect();
    snapshot
        .cluster
        .resources_vpc_config
        .subnet_ids
        .iter()
        .any(|id| !recorded.contains(id.as_str()))
        || recorded.iter().any(|id| !existing.contains(id))
}
