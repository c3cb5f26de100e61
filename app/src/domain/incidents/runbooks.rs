//! Runbooks: step templates, the national default library, and editing a runbook's steps.

use serde::{Deserialize, Serialize};

use super::*;

/// A step of a runbook template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StepTemplate {
    pub phase: Phase,
    pub title: String,
    pub owner_role: String,
    pub due_minutes: i32,
    pub instructions: String,
    pub required: bool,
    /// Positions (1-based) of steps that must finish first.
    pub depends_on: Vec<i32>,
}

type Step = (Phase, &'static str, &'static str, i32, &'static str, bool);

fn common_notify(personal: bool) -> Vec<Step> {
    let mut v: Vec<Step> = vec![
        (
            Phase::Notify,
            "Report to the NHS England CSOC",
            "head_of_cyber",
            60,
            "Raise it through NHS England's cyber incident reporting route, and phone the Cyber Security Operations Centre on 0300 303 5222 (24 hours) if it is urgent. Say whether the report is for information or a request for support, and record which, with the reference given.",
            true,
        ),
        (
            Phase::Notify,
            "Decide whether NIS reporting applies",
            "siro",
            24 * 60,
            "If the incident significantly affects an essential service, report to DHSC through the DSPT incident reporting tool within 72 hours of becoming aware.",
            true,
        ),
    ];
    if personal {
        v.push((Phase::Notify, "Assess and report the personal-data breach", "dpo", 24 * 60, "Grade likelihood and severity in the DSPT incident reporting tool; it notifies the ICO when required. The ICO deadline is 72 hours from becoming aware.", true));
    }
    v
}

/// The national default library, grounded in the standard NHS incident response plan:
/// detect and report, triage and declare, contain, notify, keep services running, recover,
/// review. (kind, steps)
pub fn default_library() -> Vec<(IncidentKind, Vec<StepTemplate>)> {
    use IncidentKind::*;
    let mut out = Vec::new();
    for kind in IncidentKind::ALL.iter().copied() {
        let mut steps: Vec<Step> = vec![(
            Phase::Triage,
            "Triage and declare the incident level",
            "head_of_cyber",
            15,
            "Confirm what is happening, how many systems and sites are affected, and declare the level (business continuity, critical or major).",
            true,
        )];
        match kind {
            Ransomware => steps.extend([
                (Phase::Contain, "Isolate affected systems", "head_of_cyber", 30, "Disconnect affected machines and segments from the network. Do not switch machines off. Preserve logs.", true),
                (Phase::Contain, "Stand up strategic command", "gold_on_call", 30, "Gold takes strategic command; Silver runs the tactical response.", true),
            ]),
            Phishing => steps.extend([
                (Phase::Contain, "Reset credentials and revoke sessions", "head_of_cyber", 30, "Reset the passwords entered, revoke sessions and check mailbox rules and sign-in logs.", true),
            ]),
            DataBreach => steps.extend([
                (Phase::Contain, "Contain the disclosure", "ig_lead", 60, "Recover or secure the data; ask recipients to delete it and confirm in writing.", true),
                (Phase::Triage, "Inform the Caldicott Guardian", "caldicott_guardian", 120, "The Caldicott Guardian advises on patient confidentiality and informing patients.", true),
            ]),
            SystemDown => steps.extend([
                (Phase::Contain, "Find out whether the cause is a cyber attack", "head_of_cyber", 60, "Check monitoring and alerts; treat as ransomware if in doubt.", true),
            ]),
            SupplierCompromise => steps.extend([
                (Phase::Contain, "Cut or restrict the supplier's connections", "head_of_cyber", 60, "Disable supplier VPNs and accounts until the supplier confirms it is safe.", true),
                (Phase::Notify, "Tell the ICB and other affected organisations", "siro", 240, "A supplier incident fans out: the supplier is the processor, each organisation a controller.", true),
            ]),
            DenialOfService => steps.extend([
                (Phase::Contain, "Engage network and hosting providers", "head_of_cyber", 60, "Ask providers to filter the traffic.", true),
            ]),
            LostDevice => steps.extend([
                (Phase::Contain, "Wipe or lock the device remotely", "head_of_cyber", 60, "Check encryption status; wipe if it cannot be recovered.", true),
            ]),
            MedicalDevice => steps.extend([
                (Phase::Contain, "Make patients safe and isolate the device", "head_of_cyber", 30, "Work with clinical engineering; report to the MHRA if patient safety is affected.", true),
            ]),
        }
        steps.extend(common_notify(kind.usually_personal_data()));
        steps.extend([
            (Phase::Continuity, "Run downtime procedures", "silver_on_call", 60, "Switch to paper processes, arrange mutual aid and diverts if services cannot run.", false),
            (Phase::Recover, "Recover systems from clean backups", "head_of_cyber", 3 * 24 * 60, "Rebuild from known-good, immutable backups; confirm integrity before reconnecting.", true),
            (Phase::Review, "Hold a post-incident review", "siro", 14 * 24 * 60, "Record what happened, what went well, lessons, and actions with owners.", true),
        ]);
        let templates = steps
            .into_iter()
            .enumerate()
            .map(
                |(i, (phase, title, owner, due, text, required))| StepTemplate {
                    phase,
                    title: title.into(),
                    owner_role: owner.into(),
                    due_minutes: due,
                    instructions: text.into(),
                    required,
                    // Everything after triage waits for triage.
                    depends_on: if i == 0 { vec![] } else { vec![1] },
                },
            )
            .collect();
        out.push((kind, templates));
    }
    out
}

/// One runbook version as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunbookView {
    pub id: i64,
    pub kind: IncidentKind,
    pub version: i32,
    pub title: String,
    /// Whose it is: "National default" or the organisation's name.
    pub owner: String,
    pub owner_code: Option<String>,
    pub created_at: String,
    pub steps: Vec<StepTemplate>,
    /// The viewer may save a new version for `for_code`.
    pub editable: bool,
    /// The organisation a saved edit will belong to.
    pub for_code: Option<String>,
    /// Earlier versions of the same owner: (version, created).
    pub history: Vec<(i32, String)>,
}

/// The runbooks in force for an organisation: (kind, title, version, owner).
pub type RunbookIndex = Vec<(IncidentKind, String, i32, String)>;

/// One step as an editor sends it: text fields, checked by `validate_steps`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StepInput {
    pub phase: String,
    pub title: String,
    pub owner_role: String,
    pub due_minutes: String,
    pub instructions: String,
    #[serde(default)]
    pub required: Option<String>,
    #[serde(default)]
    pub depends_on: String,
    /// Ticked to leave the step out of the new version.
    #[serde(default)]
    pub remove: Option<String>,
}

/// Turns edited steps into templates. Rows with no title and no instructions are blank
/// rows and are skipped; every other problem is reported with its step number.
pub fn validate_steps(
    input: &[StepInput],
    role_keys: &[String],
) -> Result<Vec<StepTemplate>, String> {
    // Steps are numbered as the editor shows them (n); dependencies name those numbers and
    // are renumbered to the saved positions once removed and blank rows are gone.
    let blank = |s: &StepInput| s.title.trim().is_empty() && s.instructions.trim().is_empty();
    let mut position = std::collections::HashMap::new();
    for (i, s) in input.iter().enumerate() {
        if s.remove.is_none() && !blank(s) {
            let next = position.len() as i32 + 1;
            position.insert(i as i32 + 1, next);
        }
    }
    if position.is_empty() {
        return Err("A runbook needs at least one step.".into());
    }
    if position.len() > 60 {
        return Err("Keep a runbook to 60 steps.".into());
    }
    let mut out = Vec::new();
    for (i, s) in input.iter().enumerate() {
        let n = i as i32 + 1;
        let Some(&here) = position.get(&n) else {
            continue;
        };
        let phase =
            Phase::parse(s.phase.trim()).ok_or_else(|| format!("Step {n}: choose a phase."))?;
        let title = s.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(format!("Step {n}: give a title of up to 200 characters."));
        }
        let owner = s.owner_role.trim();
        if !role_keys.iter().any(|k| k == owner) {
            return Err(format!("Step {n}: choose the role that owns it."));
        }
        let due: i32 = s.due_minutes.trim().parse().map_err(|_| {
            format!("Step {n}: give the minutes after declaration it is due, as a whole number.")
        })?;
        if !(0..=60 * 24 * 30).contains(&due) {
            return Err(format!(
                "Step {n}: a step is due within 30 days (43200 minutes)."
            ));
        }
        if s.instructions.chars().count() > 4000 {
            return Err(format!(
                "Step {n}: keep the instructions to 4000 characters."
            ));
        }
        let depends_on = dependencies(&s.depends_on, n, &position)?;
        debug_assert_eq!(here as usize, out.len() + 1);
        out.push(StepTemplate {
            phase,
            title: title.to_owned(),
            owner_role: owner.to_owned(),
            due_minutes: due,
            instructions: s.instructions.trim().to_owned(),
            required: s.required.is_some(),
            depends_on,
        });
    }
    Ok(out)
}

/// The steps step `n` waits for, as the editor numbers them, renumbered to their saved
/// positions; each must come before it and be kept.
fn dependencies(
    listed: &str,
    n: i32,
    position: &std::collections::HashMap<i32, i32>,
) -> Result<Vec<i32>, String> {
    let mut depends_on = Vec::new();
    for part in listed.split([',', ' ']).filter(|p| !p.trim().is_empty()) {
        let d: i32 = part
            .trim()
            .parse()
            .map_err(|_| format!("Step {n}: list the steps it waits for by number, like 1, 2."))?;
        if d < 1 || d >= n {
            return Err(format!(
                "Step {n}: it can only wait for steps before it (1 to {}).",
                n - 1
            ));
        }
        let Some(&saved) = position.get(&d) else {
            return Err(format!(
                "Step {n} waits for step {d}, which is being removed or is empty."
            ));
        };
        if !depends_on.contains(&saved) {
            depends_on.push(saved);
        }
    }
    Ok(depends_on)
}
