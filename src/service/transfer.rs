//! Ownership transfer (R7): the owner offers, the receiver (a current `admin`) accepts or
//! declines, the owner may cancel; the offer lapses after 7 days with no job needed. Acceptance
//! moves ownership in one transaction (R3: exactly one owner before and after). Both sides are
//! mailed after each commit.

use super::{Guildhall, OrgAccess, OrgRef, Principal, Result, org_access};
use crate::domain::DomainError;
use crate::domain::audit::{Action, AuditEvent};
use crate::domain::ids::{TransferId, UserId};
use crate::domain::model::{Transfer, TransferState, User};
use crate::domain::rules::{
    MemberFacts, TRANSFER_VALIDITY, r7_answer, r7_offer, r7_roles_after_transfer,
};
use crate::ids::NewId as _;
use crate::mail::{Mail, html_escape};
use crate::store::Tx;
use serde_json::json;

/// An offer with both people in it, as the API shows it.
pub struct TransferView {
    /// The offer.
    pub transfer: Transfer,
    /// The owner who made it.
    pub from: User,
    /// The administrator it is made to.
    pub to: User,
    /// Its state now.
    pub state: TransferState,
}

/// Whom ownership is offered to: a user id, or the email of their account.
#[derive(Clone, Debug)]
pub enum Receiver {
    /// By id.
    Id(UserId),
    /// By the account's email.
    Email(crate::domain::names::Email),
}

/// R7: the owner offers ownership to `to`, a current `admin`.
pub async fn offer_transfer(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    to: &Receiver,
) -> Result<TransferView> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let org_id = access.org.org.id;
    // An unknown email is answered as a non-admin is (R7), so the answer tells no more.
    let to = match to {
        Receiver::Id(id) => Some(*id),
        Receiver::Email(email) => tx.user_by_email(&email.key()).await?.map(|(u, _)| u.id),
    };
    let receiver = match to {
        Some(to) => tx
            .member_roles(org_id, to)
            .await?
            .map(|roles| MemberFacts { user: to, roles }),
        None => None,
    };
    let stored = tx.pending_transfer(org_id).await?;
    let pending = stored
        .as_ref()
        .is_some_and(|t| t.state_at(now) == TransferState::Pending);
    r7_offer(
        &access.actor,
        access.org.org.personal,
        receiver.as_ref(),
        pending,
    )?;
    // R7 admitted the receiver, so there is one.
    let to = receiver
        .map(|r| r.user)
        .ok_or(DomainError::TransferTargetNotAdmin)?;
    if let Some(lapsed) = stored {
        // Expired: record it so, making room for the new offer.
        tx.set_transfer_state(lapsed.id, TransferState::Expired, now)
            .await?;
    }
    let transfer = Transfer {
        id: TransferId::new(),
        org: org_id,
        from: who.user.id,
        to,
        state: TransferState::Pending,
        created_at: now,
        expires_at: now + TRANSFER_VALIDITY,
    };
    tx.insert_transfer(&transfer).await?;
    let view = view(&mut *tx, transfer, now).await?;
    let event = AuditEvent::new(
        &who.actor(now),
        Action::TransferOffered,
        "transfer",
        view.transfer.id,
    )
    .in_org(org_id)
    .named(&access.org.org.name)
    .with_data(
        json!({ "from": view.transfer.from, "to": to, "expires_at": view.transfer.expires_at }),
    );
    let link = format!("{}/orgs/{}/transfer", gh.public_url, access.org.org.slug);
    let mail = Mail {
        to: view.to.email.clone(),
        subject: format!(
            "{} offers you ownership of {}",
            view.from.name, access.org.org.name
        ),
        text: format!(
            "{} offers you ownership of the organization {}.\n\nAccept or decline before {}: {link}\n",
            view.from.name,
            access.org.org.name,
            crate::mail::when(view.transfer.expires_at)
        ),
        html: format!(
            "<p>{} offers you ownership of the organization <b>{}</b>.</p><p><a href=\"{}\">Accept or decline</a> before {}.</p>",
            html_escape(&view.from.name),
            html_escape(&access.org.org.name),
            html_escape(&link),
            crate::mail::when(view.transfer.expires_at)
        ),
    };
    let mail = super::outbox::queue(&mut *tx, &mail, None).await?;
    gh.commit(tx, vec![event]).await?;
    super::outbox::deliver(gh, mail).await;
    Ok(view)
}

/// The pending offer, to the owner (`org.transfer`), its receiver, or anyone with `members.read`.
pub async fn get_transfer(gh: &Guildhall, who: &Principal, org: &OrgRef) -> Result<TransferView> {
    let now = gh.clock.now();
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    let offer = tx
        .pending_transfer(access.org.org.id)
        .await?
        .ok_or(DomainError::NoPendingTransfer)?;
    if offer.to != who.user.id {
        access
            .actor
            .require(crate::domain::permission::Permission::MembersRead)?;
    }
    view(&mut *tx, offer, now).await
}

/// R7: the owner takes the offer back.
pub async fn cancel_transfer(gh: &Guildhall, who: &Principal, org: &OrgRef) -> Result<()> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    access
        .actor
        .require(crate::domain::permission::Permission::OrgTransfer)?;
    let offer = tx
        .pending_transfer(access.org.org.id)
        .await?
        .filter(|t| t.state_at(now) == TransferState::Pending)
        .ok_or(DomainError::NoPendingTransfer)?;
    tx.set_transfer_state(offer.id, TransferState::Cancelled, now)
        .await?;
    let v = view(&mut *tx, offer, now).await?;
    let event = AuditEvent::new(
        &who.actor(now),
        Action::TransferCancelled,
        "transfer",
        v.transfer.id,
    )
    .in_org(v.transfer.org)
    .named(&access.org.org.name)
    .with_data(json!({ "from": v.transfer.from, "to": v.transfer.to }));
    let mails = queue_both(&mut *tx, &access, &v, "cancelled").await?;
    gh.commit(tx, vec![event]).await?;
    super::outbox::deliver_all(gh, mails).await;
    Ok(())
}

/// R7: the receiver declines.
pub async fn decline_transfer(gh: &Guildhall, who: &Principal, org: &OrgRef) -> Result<()> {
    answer(gh, who, org, false).await
}

/// R3, R7: the receiver accepts: they become owner and the former owner `admin`, in one
/// transaction.
pub async fn accept_transfer(gh: &Guildhall, who: &Principal, org: &OrgRef) -> Result<()> {
    answer(gh, who, org, true).await
}

async fn answer(gh: &Guildhall, who: &Principal, org: &OrgRef, accepting: bool) -> Result<()> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let org_id = access.org.org.id;
    let offer = tx
        .pending_transfer(org_id)
        .await?
        .ok_or(DomainError::NoPendingTransfer)?;
    r7_answer(&access.actor.member, &offer, accepting, now)?;
    let (state, action) = if accepting {
        let (receiver, former) = r7_roles_after_transfer();
        // The former owner first, so the one-owner index never sees two.
        tx.set_member_roles(org_id, offer.from, &former).await?;
        tx.set_member_roles(org_id, offer.to, &receiver).await?;
        (TransferState::Accepted, Action::TransferAccepted)
    } else {
        (TransferState::Declined, Action::TransferDeclined)
    };
    tx.set_transfer_state(offer.id, state, now).await?;
    let v = view(&mut *tx, offer, now).await?;
    let event = AuditEvent::new(&who.actor(now), action, "transfer", v.transfer.id)
        .in_org(org_id)
        .named(&access.org.org.name)
        .with_data(json!({ "from": v.transfer.from, "to": v.transfer.to }));
    let what = if accepting { "accepted" } else { "declined" };
    let mails = queue_both(&mut *tx, &access, &v, what).await?;
    gh.commit(tx, vec![event]).await?;
    super::outbox::deliver_all(gh, mails).await;
    Ok(())
}

async fn view(
    tx: &mut dyn Tx,
    transfer: Transfer,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<TransferView> {
    let missing = || DomainError::NoPendingTransfer;
    let from = tx.user_by_id(transfer.from).await?.ok_or_else(missing)?;
    let to = tx.user_by_id(transfer.to).await?.ok_or_else(missing)?;
    Ok(TransferView {
        state: transfer.state_at(now),
        transfer,
        from,
        to,
    })
}

/// Queues, in `tx`, the mail telling both sides how the offer ended.
async fn queue_both(
    tx: &mut dyn Tx,
    access: &OrgAccess,
    v: &TransferView,
    what: &str,
) -> Result<Vec<super::outbox::Queued>> {
    let org = &access.org.org.name;
    let mut queued = Vec::new();
    for person in [&v.from, &v.to] {
        let mail = Mail {
            to: person.email.clone(),
            subject: format!("Ownership transfer of {org} {what}"),
            text: format!(
                "The offer of ownership of {org} from {} to {} was {what}.\n",
                v.from.name, v.to.name
            ),
            html: format!(
                "<p>The offer of ownership of <b>{}</b> from {} to {} was {what}.</p>",
                html_escape(org),
                html_escape(&v.from.name),
                html_escape(&v.to.name)
            ),
        };
        queued.push(super::outbox::queue(tx, &mail, None).await?);
    }
    Ok(queued)
}
