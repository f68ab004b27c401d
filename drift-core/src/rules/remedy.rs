//! Remediation text shared by several rules. Every value from AWS that lands in a command is
//! shell-quoted: a stack name or output is untrusted and the user may paste the command.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::Context;
use crate::snapshot::{Stack, outputs};

/// Quotes `s` for a POSIX shell when it holds anything but plain ID characters.
#[must_use]
pub fn sh_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=,@%+".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// ` --region R` when the region is known.
pub(crate) fn region_flag(ctx: &Context<'_>) -> String {
    ctx.region()
        .map(|r| format!(" --region {}", sh_quote(r)))
        .unwrap_or_default()
}

/// The live subnets a new nodegroup could use in place of `key`'s subnets: those of the
/// output that still exist, plus live control-plane subnets in the same AZs that the other
/// (public/private) output does not claim. Sorted by AZ, then ID.
pub(crate) fn live_replacements<'a>(ctx: &'a Context<'a>, key: &str) -> Vec<(&'a str, String)> {
    let all = &ctx.output_lists;
    let Some(this) = all.iter().find(|o| o.key == key) else {
        return Vec::new();
    };
    let other: BTreeSet<&str> = all
        .iter()
        .filter(|o| o.key != key)
        .flat_map(|o| o.ids.iter().copied())
        .collect();
    let azs: BTreeSet<&str> = this.ids.iter().filter_map(|id| ctx.subnet_az(id)).collect();
    let any_az_unknown = this.ids.iter().any(|id| ctx.subnet_az(id).is_none());

    let mut picked: BTreeSet<(String, &str)> = BTreeSet::new();
    for id in &this.ids {
        if let Some(s) = ctx.subnets.get(id) {
            picked.insert((s.availability_zone.clone(), s.subnet_id.as_str()));
        }
    }
    for id in &ctx.cluster.resources_vpc_config.subnet_ids {
        let Some(s) = ctx.subnets.get(id.as_str()) else {
            continue;
        };
        if other.contains(id.as_str()) || s.state != "available" {
            continue;
        }
        if any_az_unknown || azs.contains(s.availability_zone.as_str()) {
            picked.insert((s.availability_zone.clone(), s.subnet_id.as_str()));
        }
    }
    picked.into_iter().map(|(az, id)| (id, az)).collect()
}

/// Remediation for a subnet output that names subnets which are gone or not the cluster's:
/// explicit nodegroup subnets now, then a reviewed edit of the output.
pub(crate) fn stale_subnet_output(
    ctx: &Context<'_>,
    stack: &Stack,
    key: &str,
    gone: &[&str],
) -> (String, Vec<String>) {
    let live = live_replacements(ctx, key);
    let region = region_flag(ctx);
    let name = sh_quote(&stack.stack_name);
    let mut commands = Vec::new();

    if live.is_empty() {
        commands.push(format!(
            "# no live subnet of the cluster in the same AZs was found; list the VPC's subnets:\naws ec2 describe-subnets --filters Name=vpc-id,Values={}{region}",
            sh_quote(ctx.expected_vpc(stack).unwrap_or("<vpc-id>"))
        ));
    } else {
        let mut yaml = String::from(
            "# eksctl ClusterConfig: give new nodegroups explicit live subnets (managedNodeGroups take the same `subnets` list)\nnodeGroups:\n  - name: <nodegroup>\n",
        );
        if key == outputs::SUBNETS_PRIVATE || key == outputs::SUBNETS_PRIVATE_EXTENDED {
            yaml.push_str("    privateNetworking: true\n");
        }
        yaml.push_str("    subnets:\n");
        for (id, az) in &live {
            let _ = writeln!(yaml, "      - {id}  # {az}");
        }
        commands.push(yaml.trim_end().to_owned());
        commands.push(format!(
            "eksctl create nodegroup --cluster {} --subnet-ids {}{region}",
            sh_quote(&ctx.cluster.name),
            sh_quote(&live.iter().map(|(id, _)| *id).collect::<Vec<_>>().join(","))
        ));
    }

    let new_value = if live.is_empty() {
        "<live subnet IDs, comma-joined>".to_owned()
    } else {
        live.iter().map(|(id, _)| *id).collect::<Vec<_>>().join(",")
    };
    commands.push(format!(
        "# an export that another stack imports cannot change; check first:\naws cloudformation list-imports --export-name {}{region}",
        sh_quote(&format!("{}::{key}", stack.stack_name))
    ));
    commands.push(format!(
        "aws cloudformation get-template --stack-name {name} --query TemplateBody --output json{region} > template.json"
    ));
    commands.push(format!(
        "# edit template.json: change only Outputs.{key}.Value, to the literal string \"{new_value}\"; keep its Export"
    ));
    commands.push(format!(
        "# templates over 51,200 bytes: upload to S3 and pass --template-url instead\naws cloudformation create-change-set --stack-name {name} --change-set-name eksdrift-{} --template-body file://template.json --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM{region}",
        key.to_ascii_lowercase()
    ));
    commands.push(format!(
        "# review: the change set must modify or replace no resource\naws cloudformation describe-change-set --stack-name {name} --change-set-name eksdrift-{}{region}",
        key.to_ascii_lowercase()
    ));
    commands.push(format!(
        "aws cloudformation execute-change-set --stack-name {name} --change-set-name eksdrift-{}{region}",
        key.to_ascii_lowercase()
    ));

    for id in gone {
        if let Some(origin) = ctx.template.subnet_origins.get(*id)
            && let (Some(az), Some(cidr)) = (&origin.availability_zone, &origin.cidr_block)
        {
            commands.push(format!(
                "# or (eksctl #7538 workaround) recreate {id} ({}) with its old CIDR and AZ until the nodegroup exists:\naws ec2 create-subnet --vpc-id {} --cidr-block {} --availability-zone {}{region}",
                origin.logical_id,
                sh_quote(ctx.expected_vpc(stack).unwrap_or("<vpc-id>")),
                sh_quote(cidr),
                sh_quote(az)
            ));
        }
    }

    (
        format!(
            "place new nodegroups on live subnets explicitly, then correct {key} on {} with a reviewed change set that touches only the output",
            stack.stack_name
        ),
        commands,
    )
}

#[cfg(test)]
mod tests {
    use super::sh_quote;

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("subnet-0aa,subnet-0bb"), "subnet-0aa,subnet-0bb");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("x'; rm -rf /"), r"'x'\''; rm -rf /'");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("$(id)"), "'$(id)'");
    }
}
