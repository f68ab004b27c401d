//! What the cluster stack's own template says: the control-plane subnet list eksctl asked for
//! and, with the stack's resources, where each subnet eksctl made came from.

use std::collections::HashMap;

use serde_json::Value;

use crate::snapshot::Snapshot;

/// Where a subnet that eksctl created came from, per its template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SubnetOrigin {
    pub(crate) logical_id: String,
    pub(crate) availability_zone: Option<String>,
    pub(crate) cidr_block: Option<String>,
}

/// What the stack's template says, resolved through its resources where needed.
#[derive(Debug, Clone, Default)]
pub(crate) struct TemplateFacts {
    /// The control-plane subnet list eksctl asked for: `None` without a template,
    /// `Some(Err(reason))` when the template's list cannot be resolved to IDs.
    pub(crate) control_plane_subnets: Option<Result<Vec<String>, String>>,
    /// Subnets the template creates, by physical ID (needs the stack resources).
    pub(crate) subnet_origins: HashMap<String, SubnetOrigin>,
}

impl TemplateFacts {
    pub(crate) fn from_snapshot(snapshot: &Snapshot) -> Self {
        let Some(template) = snapshot.template.as_ref() else {
            return TemplateFacts::default();
        };
        let parsed;
        let template = match template {
            // A TemplateBody the CLI printed as a string; eksctl writes JSON.
            Value::String(text) => match serde_json::from_str::<Value>(text) {
                Ok(v) => {
                    parsed = v;
                    &parsed
                }
                Err(_) => {
                    return TemplateFacts {
                        control_plane_subnets: Some(Err(
                            "the template is not JSON (eksctl writes JSON templates)".into(),
                        )),
                        subnet_origins: HashMap::new(),
                    };
                }
            },
            v => v,
        };
        let physical: HashMap<&str, &str> = snapshot
            .stack_resources
            .iter()
            .flatten()
            .filter_map(|r| {
                r.physical_resource_id
                    .as_deref()
                    .map(|p| (r.logical_resource_id.as_str(), p))
            })
            .collect();
        let resources = template.get("Resources").and_then(Value::as_object);

        let control_plane_subnets = Some(resources.map_or_else(
            || Err("the template has no Resources".to_owned()),
            |res| {
                let cluster = res
                    .get("ControlPlane")
                    .filter(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::EKS::Cluster"))
                    .or_else(|| {
                        res.values().find(|r| {
                            r.get("Type").and_then(Value::as_str) == Some("AWS::EKS::Cluster")
                        })
                    });
                let Some(cluster) = cluster else {
                    return Err("the template has no AWS::EKS::Cluster resource".to_owned());
                };
                let ids = cluster
                    .pointer("/Properties/ResourcesVpcConfig/SubnetIds")
                    .and_then(Value::as_array)
                    .ok_or_else(|| {
                        "the template's ResourcesVpcConfig.SubnetIds is not a list".to_owned()
                    })?;
                ids.iter()
                    .map(|item| resolve_id(item, &physical, snapshot.stack_resources.is_some()))
                    .collect()
            },
        ));

        let mut subnet_origins = HashMap::new();
        for (logical, res) in resources.into_iter().flatten() {
            if res.get("Type").and_then(Value::as_str) != Some("AWS::EC2::Subnet") {
                continue;
            }
            let Some(phys) = physical.get(logical.as_str()) else {
                continue;
            };
            let prop = |k: &str| {
                res.pointer(&format!("/Properties/{k}"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            subnet_origins.insert(
                (*phys).to_owned(),
                SubnetOrigin {
                    logical_id: logical.clone(),
                    availability_zone: prop("AvailabilityZone"),
                    cidr_block: prop("CidrBlock"),
                },
            );
        }
        TemplateFacts {
            control_plane_subnets,
            subnet_origins,
        }
    }
}

/// A template value that names a subnet: a literal ID, or a `Ref` to a resource of the stack.
fn resolve_id(
    item: &Value,
    physical: &HashMap<&str, &str>,
    have_resources: bool,
) -> Result<String, String> {
    match item {
        Value::String(s) => Ok(s.clone()),
        Value::Object(o) => match o.get("Ref").and_then(Value::as_str) {
            Some(logical) => physical
                .get(logical)
                .map(|p| (*p).to_owned())
                .ok_or_else(|| {
                    if have_resources {
                        format!("the template refers to {logical}, which the stack's resources do not list")
                    } else {
                        "the template refers to stack resources, and describe-stack-resources.json is absent".to_owned()
                    }
                }),
            None => Err(format!(
                "the template's subnet list uses {}, which eksdrift does not resolve",
                o.keys().next().map_or("an empty object", String::as_str)
            )),
        },
        other => Err(format!("the template's subnet list holds {other}")),
    }
}
