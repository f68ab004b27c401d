//! What the plan rules (`EKD9xx`) share: the plan, eksctl's version, and the subnets eksctl
//! loads from the cluster stack.

use crate::config::NodeGroup;
use crate::rules::{Context, Skip};
use crate::snapshot::{Plan, Stack, Subnet, is_resource_id, outputs};

/// The eksctl release that skips deleted output subnets when it loads the VPC (#7714).
pub(crate) const SKIPS_DELETED_SUBNETS: (u32, u32, u32) = (0, 177, 0);

/// Stack states of a creation that failed and left its stack: eksctl still lists such a
/// stack, and skips creating what it names.
pub(crate) const FAILED_STACK_STATES: [&str; 5] = [
    "ROLLBACK_COMPLETE",
    "CREATE_FAILED",
    "ROLLBACK_FAILED",
    "DELETE_FAILED",
    "UPDATE_ROLLBACK_FAILED",
];

/// `0.177.0`.
pub(crate) fn version(v: (u32, u32, u32)) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

/// The plan, when it plans `op`.
pub(crate) fn plan_for<'a>(
    ctx: &Context<'a>,
    ops: &[crate::report::Operation],
) -> Option<&'a Plan> {
    ctx.snapshot
        .plan
        .as_ref()
        .filter(|p| ops.contains(&p.operation))
}

/// The cluster stack's output subnets of one kind (`SubnetsPrivate`, or `SubnetsPublic` and
/// the oldest stacks' `Subnets`), with the output they come from.
pub(crate) fn output_subnets(stack: &Stack, private: bool) -> (&'static str, Vec<&str>) {
    let key = if private {
        outputs::SUBNETS_PRIVATE
    } else if stack.output(outputs::SUBNETS_PUBLIC).is_some() {
        outputs::SUBNETS_PUBLIC
    } else {
        outputs::SUBNETS_LEGACY
    };
    let ids = stack
        .output_list(key)
        .unwrap_or_default()
        .into_iter()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .collect();
    (key, ids)
}

/// Whether an ID names a subnet that was looked up and not found.
pub(crate) fn deleted(ctx: &Context<'_>, id: &str) -> bool {
    is_resource_id(id, "subnet") && !ctx.subnets.contains_key(id)
}

/// The cluster stack, or why a plan cannot be judged against it.
pub(crate) fn stack<'a>(ctx: &Context<'a>) -> Result<&'a Stack, Skip> {
    ctx.stack().map_err(|Skip(why)| {
        Skip(format!(
            "{why}: eksctl then loads the VPC from the ClusterConfig, which eksdrift does not plan"
        ))
    })
}

/// `private` or `public`.
pub(crate) fn kind(private: bool) -> &'static str {
    if private { "private" } else { "public" }
}

/// The live subnets eksctl will place a nodegroup in: its `subnets:` (IDs, or names of the
/// file's `vpc.subnets`), else the cluster stack's output subnets of its kind, in the AZs it
/// asks for. Deleted or unknown subnets are left out (EKD901 reports them).
pub(crate) fn placement<'a>(
    ctx: &Context<'a>,
    plan: &Plan,
    stack: &Stack,
    ng: &NodeGroup,
) -> Vec<&'a Subnet> {
    let named = plan.config.vpc.as_ref().and_then(|v| v.subnets.as_ref());
    if !ng.subnets.is_empty() {
        return ng
            .subnets
            .iter()
            .filter_map(|entry| {
                let id = named
                    .and_then(|n| n.private.get(entry).or_else(|| n.public.get(entry)))
                    .and_then(|s| s.id.as_deref())
                    .unwrap_or(entry);
                ctx.subnets.get(id.trim()).copied()
            })
            .collect();
    }
    let (_, ids) = output_subnets(stack, ng.private_networking);
    ids.into_iter()
        .filter_map(|id| ctx.subnets.get(id).copied())
        .filter(|s| {
            ng.availability_zones.is_empty() || ng.availability_zones.contains(&s.availability_zone)
        })
        .collect()
}
