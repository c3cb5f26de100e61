//! Who someone is and what they may do: access roles, the signed-in person as the browser
//! sees them, and the rules for emails and new passwords that both sides apply.

use serde::{Deserialize, Serialize};

/// The roles that grant access, each scoped to an organisation and everything under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessRole {
    /// Declares incidents and sees their organisation's incidents.
    Staff,
    /// Works the tasks given to them.
    Lead,
    /// Keeps people, roles, runbooks and assets of their subtree true.
    OrgAdmin,
    /// Reads across the organisations they are granted; never changes anything.
    Regulator,
    /// Runs Wardline for England.
    NationalAdmin,
}

impl AccessRole {
    pub const ALL: [AccessRole; 5] = [
        AccessRole::Staff,
        AccessRole::Lead,
        AccessRole::OrgAdmin,
        AccessRole::Regulator,
        AccessRole::NationalAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessRole::Staff => "staff",
            AccessRole::Lead => "lead",
            AccessRole::OrgAdmin => "org_admin",
            AccessRole::Regulator => "regulator",
            AccessRole::NationalAdmin => "national_admin",
        }
    }

    pub fn parse(raw: &str) -> Option<AccessRole> {
        AccessRole::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            AccessRole::Staff => "Staff",
            AccessRole::Lead => "Lead",
            AccessRole::OrgAdmin => "Organisation admin",
            AccessRole::Regulator => "Regulator",
            AccessRole::NationalAdmin => "National admin",
        }
    }

    /// Roles that can change who holds access must prove a second factor.
    pub fn requires_mfa(self) -> bool {
        matches!(
            self,
            AccessRole::OrgAdmin | AccessRole::Regulator | AccessRole::NationalAdmin
        )
    }
}

/// One grant, as the person sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GrantView {
    pub org_code: String,
    pub org_name: String,
    pub role: AccessRole,
}

/// The signed-in person, as pages see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    pub name: String,
    pub email: String,
    pub grants: Vec<GrantView>,
    pub mfa_enabled: bool,
    /// Holds a role that requires MFA but has not enrolled yet: only enrolment is open.
    pub must_enrol_mfa: bool,
    /// Roles this person holds whose details are due for confirmation.
    pub roles_to_confirm: usize,
}

impl Me {
    /// Only regulator access: they read, never write, so pages offer them no forms that
    /// change anything (the server refuses them anyway).
    pub fn read_only(&self) -> bool {
        !self.grants.is_empty() && self.grants.iter().all(|g| g.role == AccessRole::Regulator)
    }

    /// Administers at least one organisation (or all of them), so admin tools are offered.
    pub fn administers(&self) -> bool {
        self.grants
            .iter()
            .any(|g| matches!(g.role, AccessRole::OrgAdmin | AccessRole::NationalAdmin))
    }

    /// A national administrator, who alone imports ODS files.
    pub fn national_admin(&self) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == AccessRole::NationalAdmin)
    }
}

/// A role the signed-in person holds, for them to confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MyHolding {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub role_name: String,
    pub confirmed: Option<String>,
    pub stale: bool,
}

/// Where the caller stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum AuthStatus {
    Anonymous,
    /// The password was right; the second factor is still to come.
    SecondFactor,
    SignedIn(Me),
}

/// What the browser is told after a sign-in attempt that got past the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SignInOutcome {
    SignedIn,
    /// The password was right; a one-time code (or recovery code) is needed next.
    NeedsSecondFactor,
}

/// A person, as others see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PersonView {
    pub name: String,
    pub email: String,
    pub job_title: Option<String>,
    pub org_code: Option<String>,
    pub org_name: Option<String>,
    pub disabled: bool,
}

/// A session, as listed on the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionView {
    pub id_hint: String,
    pub started: String,
    pub expires: String,
    pub current: bool,
}

/// An invitation to an existing account: a role the person may accept or refuse while
/// signed in as themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GrantRequestView {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub role: AccessRole,
    pub invited_by: Option<String>,
    pub expires: String,
}

/// What a person needs to add Wardline to an authenticator app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MfaEnrolment {
    /// The shared secret in base32, for typing in by hand.
    pub secret: String,
    pub otpauth_url: String,
    /// The same URL as a QR code, an SVG document.
    pub qr_svg: String,
}

/// An email address, lower-cased and trimmed; deliberately permissive beyond its shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, String> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(char::is_whitespace)
                    && email.matches('@').count() == 1
            });
        if valid {
            Ok(Email(email))
        } else {
            Err("Enter an email address like name@nhs.net.".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

/// The length rule for a new password (NIST SP 800-63B / ASVS: length, no composition rules).
/// The server also refuses common passwords.
pub fn check_password_shape(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        Err(format!("Use at least {PASSWORD_MIN} characters."))
    } else if n > PASSWORD_MAX {
        Err(format!("Use no more than {PASSWORD_MAX} characters."))
    } else {
        Ok(())
    }
}

/// The sentence the sign-in page shows when single sign-on did not let someone in, by the
/// code in its address (`/sign-in?sso=…`); unknown codes show nothing.
pub fn sso_refusal(code: &str) -> Option<&'static str> {
    Some(match code {
        "failed" => "Single sign-on did not complete. Please try again.",
        "no-account" => {
            "There is no Wardline account for the email address your identity provider gave. Ask your organisation's Wardline admin for an invitation."
        }
        "unverified" => {
            "Your identity provider has not verified your email address, so Wardline cannot use it."
        }
        "domain" => "That identity provider may not sign in accounts with your email address.",
        "linked-elsewhere" => {
            "Your Wardline account is linked to a different identity at that provider."
        }
        "organisation" => {
            "Your identity provider says you belong to an organisation your Wardline account is not in."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_nonsense_refused() {
        assert_eq!(
            Email::parse("  Priya.Raman@NHS.net ").unwrap().as_str(),
            "priya.raman@nhs.net"
        );
        for bad in [
            "",
            "no-at-sign",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "@nhs.net",
            "a@.nhs",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_8_to_128_characters_and_nothing_else() {
        assert!(check_password_shape("short").is_err());
        assert!(check_password_shape("eight ch").is_ok());
        assert!(
            check_password_shape("ééééééé").is_err(),
            "counted in characters, not bytes"
        );
        assert!(check_password_shape(&"x".repeat(128)).is_ok());
        assert!(check_password_shape(&"x".repeat(129)).is_err());
        assert!(check_password_shape("alllowercaseisfine").is_ok());
    }

    #[test]
    fn only_admin_and_oversight_roles_require_mfa() {
        assert!(!AccessRole::Staff.requires_mfa());
        assert!(!AccessRole::Lead.requires_mfa());
        assert!(AccessRole::OrgAdmin.requires_mfa());
        assert!(AccessRole::Regulator.requires_mfa());
        assert!(AccessRole::NationalAdmin.requires_mfa());
        for r in AccessRole::ALL {
            assert_eq!(AccessRole::parse(r.as_str()), Some(r));
        }
    }
}
