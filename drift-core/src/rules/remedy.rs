//! Remediation text shared by several rules.
//!
//! Every value in a remediation comes from AWS (or from a bundle anyone could have edited) and
//! the user may paste the whole block into a shell, so a remediation is only ever built from
//! these pieces:
//! - [`Cmd`]: a shell command whose literal words are `&'static str` and whose every other
//!   word is a value, always passed through [`sh_quote`];
//! - comments ([`Script::comment`]), in which every value is shown on one line with control
//!   characters escaped ([`inline`]), so a line break in a value cannot end the comment;
//! - configuration snippets written by `printf` ([`Script::write_file`]), one quoted argument
//!   per line.
//!
//! A remediation block is therefore always valid POSIX shell that runs nothing but the
//! `aws`/`eksctl` commands it shows (a test runs every fixture's blocks, hostile variants
//! included, through `sh` with a fake `PATH`).

use std::collections::BTreeSet;

use super::Context;
use crate::snapshot::{Stack, outputs};
use crate::text::{inline, is_unsafe_char};

/// Quotes `s` for a POSIX shell when it holds anything but plain ID characters.
///
/// A value with a control, bidi or invisible character is never a real AWS identifier: it is
/// quoted in its escaped, visible form ([`inline`]), so the word stays on one line and the
/// command fails visibly instead of doing something the user cannot see.
#[must_use]
pub fn sh_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=,@%+".contains(&b));
    if plain {
        return s.to_owned();
    }
    let visible = if s.chars().any(is_unsafe_char) {
        inline(s)
    } else {
        std::borrow::Cow::Borrowed(s)
    };
    format!("'{}'", visible.replace('\'', r"'\''"))
}

/// Most subnets a remediation names; a real eksctl output holds a few dozen at most.
const MAX_LISTED: usize = 64;

/// One shell command: literal words from the source code, values quoted.
#[derive(Debug, Clone)]
pub(crate) struct Cmd(String);

impl Cmd {
    /// Starts a command with literal words, e.g. `aws ec2 describe-subnets`.
    pub(crate) fn new(words: &'static str) -> Self {
        Cmd(words.to_owned())
    }

    /// A literal word or flag.
    pub(crate) fn word(mut self, word: &'static str) -> Self {
        self.0.push(' ');
        self.0.push_str(word);
        self
    }

    /// A value, shell-quoted.
    pub(crate) fn arg(mut self, value: impl AsRef<str>) -> Self {
        self.0.push(' ');
        self.0.push_str(&sh_quote(value.as_ref()));
        self
    }

    /// `flag value`, the value shell-quoted.
    pub(crate) fn opt(self, flag: &'static str, value: impl AsRef<str>) -> Self {
        self.word(flag).arg(value)
    }

    /// `--region R` when the audit knows the region.
    pub(crate) fn region(self, ctx: &Context<'_>) -> Self {
        match ctx.region() {
            Some(r) => self.opt("--region", r),
            None => self,
        }
    }

    /// The command alone, as one remediation step.
    pub(crate) fn done(self) -> String {
        self.0
    }
}

/// A remediation step of several lines: comments, commands and here-documents.
#[derive(Debug, Default)]
pub(crate) struct Script(Vec<String>);

impl Script {
    pub(crate) fn new() -> Self {
        Script::default()
    }

    /// `# text`, with every value in `text` kept on the one line.
    pub(crate) fn comment(mut self, text: impl AsRef<str>) -> Self {
        self.0.push(format!("# {}", inline(text.as_ref())));
        self
    }

    pub(crate) fn cmd(mut self, cmd: Cmd) -> Self {
        self.0.push(cmd.0);
        self
    }

    /// `printf '%s\n' LINE… > FILE`: writes a configuration snippet, one quoted argument per
    /// line, so it pastes the same at any indentation and nothing in it is expanded.
    pub(crate) fn write_file(mut self, file: &'static str, lines: &[String]) -> Self {
        self.0.push("printf '%s\\n' \\".to_owned());
        for line in lines {
            self.0.push(format!("  {} \\", sh_quote(line)));
        }
        self.0.push(format!("  > {file}"));
        self
    }

    pub(crate) fn done(self) -> String {
        self.0.join("\n")
    }
}

/// `value` as a YAML scalar on one line: plain when it is ID-like, else double-quoted.
pub(crate) fn yaml_scalar(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
        && !value.starts_with(['-', '.']);
    if plain {
        value.to_owned()
    } else {
        format!(
            "\"{}\"",
            inline(value).replace('\\', "\\\\").replace('"', "\\\"")
        )
    }
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
    let mut live = live_replacements(ctx, key);
    // Every finding of the output carries this remediation: it must not grow with the output.
    live.truncate(MAX_LISTED);
    let gone = &gone[..gone.len().min(MAX_LISTED)];
    let name = stack.stack_name.as_str();
    let vpc = ctx.expected_vpc(stack).unwrap_or("<vpc-id>");
    let mut commands = Vec::new();

    if outputs::looked_up_by_id(key) {
        commands.push(
            Script::new()
                .comment(format!(
                    "explicit nodegroup subnets do not help: eksctl looks {key} up by ID whenever it loads the VPC from the stack, so the output itself must be corrected"
                ))
                .done(),
        );
    } else if live.is_empty() {
        commands.push(
            Script::new()
                .comment("no live subnet of the cluster in the same AZs was found; list the VPC's subnets:")
                .cmd(
                    Cmd::new("aws ec2 describe-subnets")
                        .opt("--filters", format!("Name=vpc-id,Values={vpc}"))
                        .region(ctx),
                )
                .done(),
        );
    } else {
        let mut yaml = vec![
            "nodeGroups:".to_owned(),
            "  - name: my-nodegroup".to_owned(),
        ];
        if key == outputs::SUBNETS_PRIVATE || key == outputs::SUBNETS_PRIVATE_EXTENDED {
            yaml.push("    privateNetworking: true".to_owned());
        }
        yaml.push("    subnets:".to_owned());
        for (id, az) in &live {
            yaml.push(format!("      - {}  # {}", yaml_scalar(id), inline(az)));
        }
        commands.push(
            Script::new()
                .comment("eksctl ClusterConfig: give new nodegroups explicit live subnets (managedNodeGroups take the same `subnets` list); merge this into your config file")
                .write_file("eksdrift-nodegroup-subnets.yaml", &yaml)
                .done(),
        );
        commands.push(
            Cmd::new("eksctl create nodegroup")
                .opt("--cluster", &ctx.cluster.name)
                .opt(
                    "--subnet-ids",
                    live.iter().map(|(id, _)| *id).collect::<Vec<_>>().join(","),
                )
                .region(ctx)
                .done(),
        );
    }

    let new_value = if live.is_empty() {
        "<live subnet IDs, comma-joined>".to_owned()
    } else {
        live.iter().map(|(id, _)| *id).collect::<Vec<_>>().join(",")
    };
    commands.extend(output_patch(ctx, stack, key, &new_value));

    for id in gone {
        if let Some(origin) = ctx.template.subnet_origins.get(*id)
            && let (Some(az), Some(cidr)) = (&origin.availability_zone, &origin.cidr_block)
        {
            commands.push(
                Script::new()
                    .comment(format!(
                        "or (eksctl #7538 workaround) recreate {id} ({}) with its old CIDR and AZ until the nodegroup exists:",
                        origin.logical_id
                    ))
                    .cmd(
                        Cmd::new("aws ec2 create-subnet")
                            .opt("--vpc-id", vpc)
                            .opt("--cidr-block", cidr)
                            .opt("--availability-zone", az)
                            .region(ctx),
                    )
                    .done(),
            );
        }
    }

    let summary = if outputs::looked_up_by_id(key) {
        format!(
            "correct {key} on {name} with a reviewed change set that touches only the output (or recreate the deleted subnets); until then every eksctl command that loads the cluster's VPC fails"
        )
    } else {
        format!(
            "place new nodegroups on live subnets explicitly, then correct {key} on {name} with a reviewed change set that touches only the output"
        )
    };
    (summary, commands)
}

/// The reviewed change set that rewrites one output of the cluster stack to `new_value`,
/// touching nothing else: what the import check found (or how to check it), then
/// get-template, the edit, create, review and execute.
pub(crate) fn output_patch(
    ctx: &Context<'_>,
    stack: &Stack,
    key: &str,
    new_value: &str,
) -> Vec<String> {
    let name = stack.stack_name.as_str();
    let change_set = format!("eksdrift-{}", key.to_ascii_lowercase());
    let mut steps = Vec::new();
    if let Some(export) = stack.export_name(key) {
        steps.push(import_check(ctx, export));
    }
    steps.push(
        Cmd::new("aws cloudformation get-template")
            .opt("--stack-name", name)
            .word("--query TemplateBody --output json")
            .region(ctx)
            .word("> template.json")
            .done(),
    );
    steps.push(
        Script::new()
            .comment(format!(
                "edit template.json: change only Outputs.{key}.Value, to the literal string \"{new_value}\"; keep its Export"
            ))
            .done(),
    );
    steps.push(
        Script::new()
            .comment("templates over 51,200 bytes: upload to S3 and pass --template-url instead")
            .comment("never add --deployment-mode REVERT_DRIFT: a drift-reverting change set re-creates resources deleted outside CloudFormation, such as the subnets or groups deleted on purpose")
            .cmd(
                Cmd::new("aws cloudformation create-change-set")
                    .opt("--stack-name", name)
                    .opt("--change-set-name", &change_set)
                    .word("--template-body file://template.json --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM")
                    .region(ctx),
            )
            .done(),
    );
    steps.push(
        Script::new()
            .comment("review: the change set must modify or replace no resource")
            .cmd(
                Cmd::new("aws cloudformation describe-change-set")
                    .opt("--stack-name", name)
                    .opt("--change-set-name", &change_set)
                    .region(ctx),
            )
            .done(),
    );
    steps.push(
        Cmd::new("aws cloudformation execute-change-set")
            .opt("--stack-name", name)
            .opt("--change-set-name", &change_set)
            .region(ctx)
            .done(),
    );
    steps
}

/// What `ListImports` said about `export`, or how to ask it. An export that another stack
/// imports cannot change; nodegroup stacks import `VPC`, `SecurityGroup` and
/// `SharedNodeSecurityGroup`.
fn import_check(ctx: &Context<'_>, export: &str) -> String {
    let known = ctx.snapshot.imports.as_ref().and_then(|m| m.get(export));
    match known {
        Some(importers) if importers.is_empty() => Script::new()
            .comment(format!(
                "no stack imports the export {export} (cloudformation:ListImports), so the output can change"
            ))
            .done(),
        Some(importers) => {
            let mut script = Script::new()
                .comment(format!(
                    "the export {export} is imported by {}; CloudFormation rejects any change to it while a stack imports it",
                    importers.join(", ")
                ))
                .comment("safe order: 1) create replacement nodegroups with explicit settings; 2) move workloads and delete each importing stack; 3) only then run the change set below");
            for importer in importers {
                let nodegroup = ctx
                    .snapshot
                    .stacks
                    .iter()
                    .find(|s| &s.stack_name == importer)
                    .and_then(|s| s.tag(crate::snapshot::tags::NODEGROUP_NAME));
                if let Some(ng) = nodegroup {
                    script = script.comment(format!(
                        "  {importer} is nodegroup {ng}: eksctl delete nodegroup --cluster {} --name {}",
                        sh_quote(&ctx.cluster.name),
                        sh_quote(ng)
                    ));
                }
            }
            script.done()
        }
        None => Script::new()
            .comment("an export that another stack imports cannot change; check first (no answer means no importer):")
            .cmd(
                Cmd::new("aws cloudformation list-imports")
                    .opt("--export-name", export)
                    .region(ctx),
            )
            .done(),
    }
}

/// Replacing a nodegroup whose launch inputs are gone: a new one first (its configuration is
/// the user's; `first` says what it needs), then the old one deleted.
pub(crate) fn replace_nodegroup(ctx: &Context<'_>, nodegroup: &str, first: &'static str) -> String {
    Script::new()
        .comment(first)
        .comment("2. after the workloads moved:")
        .cmd(
            Cmd::new("eksctl delete nodegroup")
                .opt("--cluster", &ctx.cluster.name)
                .opt("--name", nodegroup)
                .region(ctx),
        )
        .done()
}

/// What to run for a stack in a failed or busy state: its events, then continuing a failed
/// rollback, watching an operation in progress, or deleting it (after review).
pub(crate) fn failed_stack(ctx: &Context<'_>, stack: &Stack) -> Vec<String> {
    let status = stack.stack_status.as_str();
    let events = Cmd::new("aws cloudformation describe-stack-events")
        .opt("--stack-name", &stack.stack_name)
        .word("--max-items 20")
        .region(ctx)
        .done();
    let next = match status {
        "UPDATE_ROLLBACK_FAILED" => Cmd::new("aws cloudformation continue-update-rollback")
            .opt("--stack-name", &stack.stack_name)
            .region(ctx)
            .done(),
        _ if status.ends_with("_IN_PROGRESS") => Cmd::new("aws cloudformation describe-stacks")
            .opt("--stack-name", &stack.stack_name)
            .opt("--query", "Stacks[0].StackStatus")
            .region(ctx)
            .done(),
        // eksctl's own listings skip such a stack (#8712): delete it directly, after review.
        _ => Script::new()
            .comment("after reading the events (and, for DELETE_FAILED, removing what blocked the deletion):")
            .cmd(
                Cmd::new("aws cloudformation delete-stack")
                    .opt("--stack-name", &stack.stack_name)
                    .region(ctx),
            )
            .done(),
    };
    vec![events, next]
}

/// Deleting an iamserviceaccount so that eksctl can create it again (its role and trust
/// policy anew); for an addon's role, what to look at instead.
pub(crate) fn recreate_iamserviceaccount(ctx: &Context<'_>, stack: &Stack) -> String {
    let account = stack
        .tag(crate::snapshot::tags::IAMSERVICEACCOUNT_NAME)
        .and_then(|a| a.split_once('/'));
    match account {
        Some((namespace, name)) => Script::new()
            .cmd(
                Cmd::new("eksctl delete iamserviceaccount")
                    .opt("--cluster", &ctx.cluster.name)
                    .opt("--namespace", namespace)
                    .opt("--name", name)
                    .region(ctx),
            )
            .comment("then create it again with the same policies (eksctl create iamserviceaccount … --approve): eksctl makes the role for the current issuer")
            .done(),
        None => Script::new()
            .comment("an addon's role: update the addon with eksctl so that it makes the role again")
            .cmd(
                Cmd::new("aws cloudformation describe-stacks")
                    .opt("--stack-name", &stack.stack_name)
                    .region(ctx),
            )
            .done(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Cmd, Script, sh_quote, yaml_scalar};

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("subnet-0aa,subnet-0bb"), "subnet-0aa,subnet-0bb");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("x'; rm -rf /"), r"'x'\''; rm -rf /'");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("$(id)"), "'$(id)'");
        // A line break in a value never reaches the command line raw.
        assert_eq!(sh_quote("x\ntouch PWN"), r"'x\u{a}touch PWN'");
    }

    #[test]
    fn values_stay_on_their_line() {
        let script = Script::new()
            .comment("recreate X)\ntouch PWN\n# (")
            .cmd(Cmd::new("aws ec2 describe-subnets").opt("--subnet-ids", "a\rb"))
            .write_file(
                "f.yaml",
                &["  - x\n'touch PWN".to_owned(), "k: v".to_owned()],
            )
            .done();
        assert_eq!(
            script,
            r"# recreate X)\u{a}touch PWN\u{a}# (
aws ec2 describe-subnets --subnet-ids 'a\u{d}b'
printf '%s\n' \
  '  - x\u{a}'\''touch PWN' \
  'k: v' \
  > f.yaml"
        );
        assert_eq!(yaml_scalar("subnet-0aa"), "subnet-0aa");
        assert_eq!(yaml_scalar("a: b\n- c"), r#""a: b\\u{a}- c""#);
    }
}
