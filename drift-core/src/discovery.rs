//! Finding a cluster's eksctl stack among every stack of a region, the way eksctl does it —
//! name **and** cluster-name tag — without falling for a nodegroup whose name ends in
//! `-cluster` (eksctl #7406: `eksctl-<c>-nodegroup-foo-cluster` also ends in `-cluster`).

use crate::snapshot::{Stack, tags};

/// The outcome of looking for the cluster stack.
#[derive(Debug, Clone, Default)]
pub struct Discovery<'a> {
    /// The cluster stack, when exactly one stack qualifies.
    pub stack: Option<&'a Stack>,
    /// Several stacks qualify equally; `stack` is then `None`.
    pub candidates: Vec<&'a Stack>,
    /// Stacks of this cluster that suffix matching on `-cluster` would take for the cluster
    /// stack although they are not (a nodegroup named `*-cluster`, a legacy stack beside a
    /// current one).
    pub lookalikes: Vec<&'a Stack>,
}

impl Discovery<'_> {
    /// True when several stacks qualify equally and none was taken.
    #[must_use]
    pub fn is_ambiguous(&self) -> bool {
        self.stack.is_none() && self.candidates.len() > 1
    }
}

/// The name eksctl gives the cluster stack.
#[must_use]
pub fn cluster_stack_name(cluster: &str) -> String {
    format!("eksctl-{cluster}-cluster")
}

fn is_nodegroup(stack: &Stack) -> bool {
    stack.tag(tags::NODEGROUP_NAME).is_some() || stack.tag(tags::NODEGROUP_TYPE).is_some()
}

fn is_live(stack: &Stack) -> bool {
    stack.stack_status != "DELETE_COMPLETE"
}

/// Finds the eksctl cluster stack of `cluster` among `stacks` (which may hold stacks of other
/// clusters and nodegroups).
#[must_use]
pub fn discover<'a>(stacks: &'a [Stack], cluster: &str) -> Discovery<'a> {
    let canonical = cluster_stack_name(cluster);
    let legacy_prefix = format!("EKS-{cluster}-");
    let own_prefix = format!("eksctl-{cluster}-");

    let mut tagged = Vec::new(); // exact name and our cluster-name tag
    let mut untagged = Vec::new(); // exact name, no cluster-name tag at all
    let mut legacy = Vec::new();
    let mut lookalikes = Vec::new();

    for stack in stacks.iter().filter(|s| is_live(s)) {
        let tag = stack.cluster_name_tag();
        let ours = tag == Some(cluster);
        let name = stack.stack_name.as_str();
        if name == canonical && !is_nodegroup(stack) {
            match tag {
                Some(_) if ours => tagged.push(stack),
                None => untagged.push(stack),
                // The name fits but the stack belongs to another cluster: a nodegroup stack of
                // cluster `a` named `b-cluster` is `eksctl-a-nodegroup-b-cluster`, which is also
                // the canonical name of a cluster called `a-nodegroup-b`.
                Some(_) => {}
            }
        } else if ours
            && name.starts_with(&legacy_prefix)
            && !is_nodegroup(stack)
            && !name.to_ascii_lowercase().contains("nodegroup")
            && stack.vpc().is_some()
        {
            legacy.push(stack);
        } else if ours && name.starts_with(&own_prefix) && name.ends_with("-cluster") {
            lookalikes.push(stack);
        }
    }

    let (chosen, mut rest): (Vec<&Stack>, Vec<&Stack>) = if !tagged.is_empty() {
        let rest = untagged.into_iter().chain(legacy).collect();
        (tagged, rest)
    } else if !untagged.is_empty() {
        (untagged, legacy)
    } else {
        (legacy, Vec::new())
    };
    lookalikes.append(&mut rest);

    match chosen.as_slice() {
        [one] => Discovery {
            stack: Some(one),
            candidates: chosen.clone(),
            lookalikes,
        },
        _ => Discovery {
            stack: None,
            candidates: chosen,
            lookalikes,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Output, Tag};

    fn stack(name: &str, tags: &[(&str, &str)]) -> Stack {
        Stack {
            stack_name: name.into(),
            stack_status: "CREATE_COMPLETE".into(),
            tags: tags
                .iter()
                .map(|(k, v)| Tag {
                    key: (*k).into(),
                    value: (*v).into(),
                })
                .collect(),
            outputs: vec![Output {
                output_key: "VPC".into(),
                output_value: "vpc-0123456789abcdef0".into(),
                ..Output::default()
            }],
            ..Stack::default()
        }
    }

    #[test]
    fn nodegroup_named_like_a_cluster_stack_is_never_the_cluster_stack() {
        let stacks = vec![
            stack(
                "eksctl-prod-nodegroup-ng-cluster",
                &[
                    (tags::CLUSTER_NAME, "prod"),
                    (tags::NODEGROUP_NAME, "ng-cluster"),
                ],
            ),
            stack("eksctl-prod-cluster", &[(tags::CLUSTER_NAME, "prod")]),
        ];
        let d = discover(&stacks, "prod");
        assert_eq!(d.stack.unwrap().stack_name, "eksctl-prod-cluster");
        assert_eq!(d.lookalikes.len(), 1);
    }

    #[test]
    fn cluster_whose_name_collides_with_a_nodegroup_stack() {
        // Cluster `a` has nodegroup `b-cluster`; a different cluster is called `a-nodegroup-b`.
        let stacks = vec![stack(
            "eksctl-a-nodegroup-b-cluster",
            &[
                (tags::CLUSTER_NAME, "a"),
                (tags::NODEGROUP_NAME, "b-cluster"),
            ],
        )];
        assert!(discover(&stacks, "a-nodegroup-b").stack.is_none());
        assert!(discover(&stacks, "a").stack.is_none());
    }

    #[test]
    fn stacks_of_other_clusters_are_ignored() {
        let stacks = vec![
            stack("eksctl-dev-cluster", &[(tags::CLUSTER_NAME, "dev")]),
            stack(
                "eksctl-prod-cluster",
                &[(tags::CLUSTER_NAME_LEGACY, "prod")],
            ),
        ];
        assert_eq!(
            discover(&stacks, "prod").stack.unwrap().stack_name,
            "eksctl-prod-cluster"
        );
        assert!(discover(&stacks, "test").stack.is_none());
    }

    #[test]
    fn deleted_stacks_do_not_count() {
        let mut s = stack("eksctl-prod-cluster", &[(tags::CLUSTER_NAME, "prod")]);
        s.stack_status = "DELETE_COMPLETE".into();
        assert!(discover(&[s], "prod").stack.is_none());
    }

    #[test]
    fn legacy_stack_found_when_alone_and_a_lookalike_beside_a_current_one() {
        let legacy = stack(
            "EKS-prod-ControlPlane",
            &[(tags::CLUSTER_NAME_LEGACY, "prod")],
        );
        let d = discover(std::slice::from_ref(&legacy), "prod");
        assert_eq!(d.stack.unwrap().stack_name, "EKS-prod-ControlPlane");
        let both = vec![
            legacy,
            stack("eksctl-prod-cluster", &[(tags::CLUSTER_NAME, "prod")]),
        ];
        let d = discover(&both, "prod");
        assert_eq!(d.stack.unwrap().stack_name, "eksctl-prod-cluster");
        assert_eq!(d.lookalikes[0].stack_name, "EKS-prod-ControlPlane");
    }

    #[test]
    fn two_equal_candidates_are_ambiguous() {
        let stacks = vec![
            stack("EKS-prod-ControlPlane", &[(tags::CLUSTER_NAME, "prod")]),
            stack("EKS-prod-Cluster", &[(tags::CLUSTER_NAME, "prod")]),
        ];
        let d = discover(&stacks, "prod");
        assert!(d.is_ambiguous());
    }
}
