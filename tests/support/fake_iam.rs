//! IAM's access-key calls on the fake STS server: `CreateAccessKey`, `DeleteAccessKey` and
//! `ListAccessKeys`, in IAM's awsQuery shapes (AWS-RULES §6 and §10), for `mfaexec rotate`.
//!
//! A child module of `fake_sts` (it shares its world, log and faults). The model:
//! - an IAM user is the set of `User` entries with the same account and name, one per access
//!   key; at most 2 keys (`LimitExceeded` on a third);
//! - without `UserName`, a call acts on the user whose key signs it (for GetSessionToken
//!   credentials, the user who obtained them); role and federated sessions must name a user;
//! - GetSessionToken credentials obtained without MFA are refused by IAM (AWS-RULES §10), and
//!   with `require_mfa` set (a policy denying key management without
//!   `aws:MultiFactorAuthPresent`) so are long-term keys;
//! - a new key is eventually consistent: it answers `InvalidClientTokenId`, to STS and IAM, for
//!   its first `propagation_calls` uses and for `propagation` of real time after its creation;
//! - a deleted key is gone: so are the sessions obtained with it.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::{
    Caller, FakeSts, Fault, MIXED_ALNUM, Params, SessionKind, StsError, UPPER_ALNUM, User,
    UserEntry, World, escape, random_string, rfc3339,
};

/// The awsQuery namespace of IAM.
pub const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

const ACTIONS: [&str; 3] = ["CreateAccessKey", "DeleteAccessKey", "ListAccessKeys"];

/// What a test sets about IAM.
#[derive(Clone, Debug, Default)]
pub struct IamSettings {
    /// A new key answers `InvalidClientTokenId` for this many uses...
    pub propagation_calls: u32,
    /// ...and for this long after its creation (real time: mfaexec waits in real time).
    pub propagation: Duration,
    /// Key management needs MFA: long-term keys and MFA-less sessions get `AccessDenied`.
    pub require_mfa: bool,
}

/// An access key of a user as IAM lists it, with its secret for the test to check the files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub status: String,
}

#[derive(Default)]
pub(super) struct Iam {
    settings: IamSettings,
    /// Keys made by CreateAccessKey, still propagating.
    fresh: HashMap<String, Fresh>,
    /// Creation times (fake clock) of the keys made by CreateAccessKey.
    created: HashMap<String, u64>,
    /// One-shot faults for a named action, used before the general queue.
    faults: HashMap<String, VecDeque<Fault>>,
    /// One-shot faults answered after the request was carried out (an answer lost on the way).
    after_faults: HashMap<String, VecDeque<Fault>>,
}

struct Fresh {
    refusals_left: Cell<u32>,
    until: Instant,
}

impl FakeSts {
    pub fn set_iam(&self, settings: IamSettings) {
        self.lock().iam.settings = settings;
    }

    /// Queues a fault for the next request of `action` only (FIFO per action); other requests
    /// go on normally.
    pub fn inject_on(&self, action: &str, fault: Fault) {
        self.lock()
            .iam
            .faults
            .entry(action.to_string())
            .or_default()
            .push_back(fault);
    }

    /// Carries out the next request of `action`, then answers it with `fault`'s error instead
    /// of the result, as when IAM did the work but the answer was lost.
    pub fn inject_after(&self, action: &str, fault: Fault) {
        self.lock()
            .iam
            .after_faults
            .entry(action.to_string())
            .or_default()
            .push_back(fault);
    }

    /// The access keys of the IAM user `user` belongs to, oldest first.
    pub fn access_keys(&self, user: &User) -> Vec<AccessKey> {
        let world = self.lock();
        keys_of(&world, user)
            .into_iter()
            .map(|e| AccessKey {
                access_key_id: e.user.access_key_id.clone(),
                secret_access_key: e.user.secret_access_key.clone(),
                status: if e.user.active { "Active" } else { "Inactive" }.to_string(),
            })
            .collect()
    }
}

/// Whether `action` is one of IAM's.
pub(super) fn handles(action: &str) -> bool {
    ACTIONS.contains(&action)
}

/// The fault queued for `action`, if any.
pub(super) fn take_fault(world: &mut World, action: &str) -> Option<Fault> {
    world.iam.faults.get_mut(action)?.pop_front()
}

/// The error that replaces the answer to a request of `action` already carried out, if any.
pub(super) fn take_after_fault(world: &mut World, action: &str) -> Option<StsError> {
    let fault = world.iam.after_faults.get_mut(action)?.pop_front()?;
    super::fault_error(&fault)
}

/// A new key still propagating: refused, and one use fewer to go.
pub(super) fn propagating(world: &World, access_key_id: &str) -> bool {
    let Some(fresh) = world.iam.fresh.get(access_key_id) else {
        return false;
    };
    let left = fresh.refusals_left.get();
    if left > 0 {
        fresh.refusals_left.set(left - 1);
        return true;
    }
    Instant::now() < fresh.until
}

pub(super) fn dispatch(
    world: &mut World,
    caller: &Caller,
    action: &str,
    params: &Params,
) -> Result<String, StsError> {
    let user = target_user(world, caller, action, params)?;
    match action {
        "CreateAccessKey" => create_access_key(world, &user),
        "DeleteAccessKey" => delete_access_key(world, &user, params),
        "ListAccessKeys" => Ok(list_access_keys(world, &user)),
        _ => unreachable!("dispatch is only called for handled actions"),
    }
}

/// The user a call acts on, after IAM's authentication and authorization rules.
fn target_user(
    world: &World,
    caller: &Caller,
    action: &str,
    params: &Params,
) -> Result<User, StsError> {
    let mfa = match caller.session.as_ref() {
        None => false,
        Some(s) => match s.kind {
            // AWS-RULES §10: GetSessionToken credentials reach IAM only with MFA.
            SessionKind::User if !s.mfa => return Err(StsError::invalid_token()),
            SessionKind::User => true,
            SessionKind::Role { .. } | SessionKind::Federated { .. } => {
                if params.get("UserName").is_none() {
                    return Err(StsError::validation(
                        "Must specify userName when calling with non-User credentials",
                    ));
                }
                // Roles in the fake have no IAM permissions.
                return Err(not_authorized(
                    caller,
                    action,
                    params.get("UserName").unwrap(),
                ));
            }
        },
    };
    let own = &caller.user;
    if own.root {
        return Err(StsError::validation(
            "The root user's access keys are not managed by this fake",
        ));
    }
    if let Some(name) = params.get("UserName")
        && name != own.name
    {
        let exists = world
            .users
            .values()
            .any(|e| e.user.name == name && e.user.account == own.account);
        if !exists {
            return Err(StsError::new(
                404,
                "NoSuchEntity",
                format!("The user with name {name} cannot be found."),
            ));
        }
        return Err(not_authorized(caller, action, name));
    }
    if world.iam.settings.require_mfa && !mfa {
        let mut e = not_authorized(caller, action, &own.name);
        e.message
            .push_str(" with an explicit deny in an identity-based policy");
        return Err(e);
    }
    Ok(own.clone())
}

fn not_authorized(caller: &Caller, action: &str, user_name: &str) -> StsError {
    StsError::access_denied(format!(
        "User: {} is not authorized to perform: iam:{action} on resource: user {user_name}",
        caller.arn()
    ))
}

/// The entries (one per key) of the IAM user `user` belongs to, oldest key first.
fn keys_of<'w>(world: &'w World, user: &User) -> Vec<&'w UserEntry> {
    let mut keys: Vec<&UserEntry> = world
        .users
        .values()
        .filter(|e| e.user.account == user.account && e.user.name == user.name && !e.user.root)
        .collect();
    keys.sort_by_key(|e| {
        (
            created_at(world, &e.user.access_key_id),
            e.user.access_key_id.clone(),
        )
    });
    keys
}

/// When a key was made: keys the test added date from a year before the fake's clock.
fn created_at(world: &World, access_key_id: &str) -> u64 {
    world
        .iam
        .created
        .get(access_key_id)
        .copied()
        .unwrap_or_else(|| world.now() - 365 * 86_400)
}

fn create_access_key(world: &mut World, user: &User) -> Result<String, StsError> {
    let existing = keys_of(world, user);
    if existing.len() >= 2 {
        return Err(StsError::new(
            409,
            "LimitExceeded",
            "Cannot exceed quota for AccessKeysPerUser: 2",
        ));
    }
    let user_id = existing
        .first()
        .map(|e| e.user_id.clone())
        .unwrap_or_else(|| format!("AIDA{}", random_string(17, UPPER_ALNUM)));
    let key = User {
        access_key_id: format!("AKIA{}", random_string(16, UPPER_ALNUM)),
        secret_access_key: format!("SECRETLONGTERM{}", random_string(26, MIXED_ALNUM)),
        active: true,
        ..user.clone()
    };
    let now = world.now();
    let settings = world.iam.settings.clone();
    world.iam.created.insert(key.access_key_id.clone(), now);
    if settings.propagation_calls > 0 || !settings.propagation.is_zero() {
        world.iam.fresh.insert(
            key.access_key_id.clone(),
            Fresh {
                refusals_left: Cell::new(settings.propagation_calls),
                until: Instant::now() + settings.propagation,
            },
        );
    }
    world.users.insert(
        key.access_key_id.clone(),
        UserEntry {
            user: key.clone(),
            user_id,
        },
    );
    Ok(format!(
        "<AccessKey><UserName>{}</UserName><AccessKeyId>{}</AccessKeyId><Status>Active</Status>\
         <SecretAccessKey>{}</SecretAccessKey><CreateDate>{}</CreateDate></AccessKey>",
        escape(&key.name),
        escape(&key.access_key_id),
        escape(&key.secret_access_key),
        rfc3339(now),
    ))
}

fn delete_access_key(world: &mut World, user: &User, params: &Params) -> Result<String, StsError> {
    let Some(id) = params.get("AccessKeyId") else {
        return Err(StsError::validation(
            "1 validation error detected: Value null at 'accessKeyId' failed to satisfy constraint: Member must not be null",
        ));
    };
    let owned = keys_of(world, user)
        .iter()
        .any(|e| e.user.access_key_id == id);
    if !owned {
        return Err(StsError::new(
            404,
            "NoSuchEntity",
            format!("The Access Key with id {id} cannot be found."),
        ));
    }
    world.users.remove(id);
    world.iam.fresh.remove(id);
    // Sessions obtained with the key go with it.
    world.sessions.retain(|_, s| s.origin_key != id);
    Ok(String::new())
}

fn list_access_keys(world: &World, user: &User) -> String {
    let members: String = keys_of(world, user)
        .iter()
        .map(|e| {
            format!(
                "<member><UserName>{}</UserName><AccessKeyId>{}</AccessKeyId><Status>{}</Status>\
                 <CreateDate>{}</CreateDate></member>",
                escape(&e.user.name),
                escape(&e.user.access_key_id),
                if e.user.active { "Active" } else { "Inactive" },
                rfc3339(created_at(world, &e.user.access_key_id)),
            )
        })
        .collect();
    format!(
        "<UserName>{}</UserName><AccessKeyMetadata>{members}</AccessKeyMetadata><IsTruncated>false</IsTruncated>",
        escape(&user.name)
    )
}
