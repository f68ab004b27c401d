//! Rule selection, as ruff does it: `--select` / `--ignore` take codes (`EKD202`), code prefixes
//! (`EKD6`, `EKD20`), slugs (`output-subnet-deleted`) and family names (`identity`,
//! `security-groups`). A rule runs when a `select` entry matches it (or none is given) and no
//! `ignore` entry does. The selected rules' inputs are all the collector reads.

use std::collections::BTreeSet;
use std::fmt;

use crate::input::{self, Input};
use crate::rules::{ALL, Rule};

/// One entry of `--select` / `--ignore`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    /// A code or a code prefix, upper-cased (`EKD6`, `EKD202`).
    Prefix(String),
    /// A slug.
    Slug(&'static str),
    /// A family: the digit of its codes.
    Family(char),
}

/// The rule families, by the digit of their codes (`EKDnxx`), and their names.
pub const FAMILIES: [(char, &str); 10] = [
    ('0', "tool"),
    ('1', "stack"),
    ('2', "subnets"),
    ('3', "security-groups"),
    ('4', "cluster"),
    ('5', "nodegroups"),
    ('6', "identity"),
    ('7', "lifecycle"),
    ('8', "upgrade"),
    ('9', "plan"),
];

/// A `--select` / `--ignore` entry that names no rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} names no rule: give a code (EKD202), a code prefix (EKD6), a slug (output-subnet-deleted) or a family ({families}); `eksdrift rules` lists them",
    families = FAMILIES.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
)]
pub struct UnknownSelector(pub String);

impl Selector {
    fn parse(text: &str) -> Result<Selector, UnknownSelector> {
        let t = text.trim();
        let upper = t.to_ascii_uppercase();
        if upper.starts_with("EKD")
            && upper[3..].bytes().all(|b| b.is_ascii_digit())
            && upper.len() <= 6
            && ALL.iter().any(|r| r.code.starts_with(&upper))
        {
            return Ok(Selector::Prefix(upper));
        }
        if let Some(rule) = ALL.iter().find(|r| r.slug == t) {
            return Ok(Selector::Slug(rule.slug));
        }
        let family = t.to_ascii_lowercase().replace('_', "-");
        if let Some((digit, _)) = FAMILIES.iter().find(|(_, n)| *n == family) {
            return Ok(Selector::Family(*digit));
        }
        Err(UnknownSelector(t.to_owned()))
    }

    fn matches(&self, rule: &Rule) -> bool {
        match self {
            Selector::Prefix(p) => rule.code.starts_with(p.as_str()),
            Selector::Slug(s) => rule.slug == *s,
            Selector::Family(d) => rule.code[3..].starts_with(*d),
        }
    }
}

/// Which rules run. The default selects every rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    select: Vec<Selector>,
    ignore: Vec<Selector>,
    text: Vec<String>,
}

impl Selection {
    /// Every rule.
    #[must_use]
    pub fn all() -> Self {
        Selection::default()
    }

    /// A selection from `--select` and `--ignore` entries (each may hold several, comma-joined).
    pub fn new<S: AsRef<str>>(select: &[S], ignore: &[S]) -> Result<Self, UnknownSelector> {
        let split = |items: &[S]| -> Result<Vec<Selector>, UnknownSelector> {
            items
                .iter()
                .flat_map(|s| s.as_ref().split(','))
                .filter(|s| !s.trim().is_empty())
                .map(Selector::parse)
                .collect()
        };
        let mut text = Vec::new();
        let join = |items: &[S]| {
            items
                .iter()
                .map(|s| s.as_ref().trim().to_owned())
                .collect::<Vec<_>>()
                .join(",")
        };
        if !select.is_empty() {
            text.push(format!("select={}", join(select)));
        }
        if !ignore.is_empty() {
            text.push(format!("ignore={}", join(ignore)));
        }
        Ok(Selection {
            select: split(select)?,
            ignore: split(ignore)?,
            text,
        })
    }

    /// True when `rule` runs.
    #[must_use]
    pub fn includes(&self, rule: &Rule) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| s.matches(rule)))
            && !self.ignore.iter().any(|s| s.matches(rule))
    }

    /// True for the default (every rule).
    #[must_use]
    pub fn is_all(&self) -> bool {
        self.select.is_empty() && self.ignore.is_empty()
    }

    /// The selected rules that run on snapshots (not the tool's own).
    pub fn rules(&self) -> impl Iterator<Item = &'static Rule> + '_ {
        ALL.iter()
            .copied()
            .filter(|r| !r.is_tool() && self.includes(r))
    }

    /// Every input the selected rules need, with what reading them needs first.
    #[must_use]
    pub fn inputs(&self) -> BTreeSet<Input> {
        input::closure(self.rules().flat_map(|r| r.inputs.iter().copied()))
    }
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.text.is_empty() {
            f.write_str("all rules")
        } else {
            f.write_str(&self.text.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(s: &Selection) -> Vec<&'static str> {
        s.rules().map(|r| r.code).collect()
    }

    #[test]
    fn codes_prefixes_slugs_and_families() {
        let s = Selection::new(&["EKD2", "security-groups"], &["subnet-ip-exhausted"]).unwrap();
        let c = codes(&s);
        assert!(c.contains(&"EKD202") && c.contains(&"EKD302"));
        assert!(!c.contains(&"EKD209") && !c.contains(&"EKD601"));
        let s = Selection::new(&["ekd202,EKD203"], &[] as &[&str]).unwrap();
        assert_eq!(codes(&s), ["EKD202", "EKD203"]);
        let s = Selection::new(&[] as &[&str], &["identity"]).unwrap();
        assert!(codes(&s).iter().all(|c| !c.starts_with("EKD6")));
        assert!(Selection::new(&["EKD99"], &[] as &[&str]).is_err());
        assert!(Selection::new(&["nope"], &[] as &[&str]).is_err());
        assert!(Selection::all().is_all());
    }

    #[test]
    fn the_subnet_family_reads_no_iam_no_autoscaling_no_identity() {
        let inputs = Selection::new(&["EKD2"], &[] as &[&str]).unwrap().inputs();
        for i in [
            Input::ListRoles,
            Input::ListOpenIdConnectProviders,
            Input::DescribeAutoScalingGroups,
            Input::ListAccessEntries,
            Input::ListPodIdentityAssociations,
            Input::ListNodegroups,
        ] {
            assert!(!inputs.contains(&i), "{i}");
        }
        assert!(inputs.contains(&Input::DescribeSubnets));
    }
}
