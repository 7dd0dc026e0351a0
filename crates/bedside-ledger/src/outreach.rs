//! The collections outreach plan: when and how to remind a patient about a balance.
//!
//! Text or e-mail first (the channels patients already use), then portal, then a letter, and a
//! phone call last. Messages on interruptive channels are moved out of the patient's quiet
//! hours. The plan pauses while a good-faith-estimate dispute is open, while the patient keeps
//! up a payment plan, and when nothing is owed.

use crate::money::Money;
use bedside_core::{Channel, ContactRoute, QuietHours, Timestamp};
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

/// What a step sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Message {
    /// The statement itself.
    Statement,
    /// A friendly reminder with the payment link and plan options.
    Reminder,
    /// A second reminder offering a payment plan or financial assistance.
    PlanOffer,
    /// The final notice before any further action.
    FinalNotice,
}

/// One planned contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutreachStep {
    /// When to send (already outside quiet hours).
    pub at: Timestamp,
    /// Channel.
    pub channel: Channel,
    /// Index into the patient's routes.
    pub route: usize,
    /// What to send.
    pub message: Message,
}

/// Why outreach is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// A No Surprises Act good-faith-estimate dispute is open.
    EstimateDispute,
    /// The patient is current on a payment plan.
    OnPaymentPlan,
    /// Nothing is owed.
    NothingOwed,
    /// The patient has no contact route.
    NoContactRoute,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum OutreachPlan {
    /// No contact for now.
    Paused {
        /// Why.
        reason: PauseReason,
    },
    /// Contacts in time order.
    Scheduled {
        /// Steps.
        steps: Vec<OutreachStep>,
    },
}

/// What the plan is built from.
#[derive(Debug, Clone, Copy)]
pub struct OutreachInput<'a> {
    /// Patient balance due.
    pub balance: Money,
    /// When the statement is issued.
    pub statement_at: Timestamp,
    /// The patient's contact routes, in the patient's order of preference.
    pub routes: &'a [ContactRoute],
    /// The patient's quiet hours.
    pub quiet: &'a QuietHours,
    /// Whether a good-faith-estimate dispute is open.
    pub estimate_dispute_open: bool,
    /// Whether the patient is current on a payment plan.
    pub on_current_plan: bool,
}

impl<'a> OutreachInput<'a> {
    /// Outreach for `balance` from a statement issued at `statement_at`, with no estimate
    /// dispute open and no payment plan.
    pub fn new(
        balance: Money,
        statement_at: Timestamp,
        routes: &'a [ContactRoute],
        quiet: &'a QuietHours,
    ) -> Self {
        Self {
            balance,
            statement_at,
            routes,
            quiet,
            estimate_dispute_open: false,
            on_current_plan: false,
        }
    }

    /// A good-faith-estimate dispute is open (outreach pauses).
    #[must_use]
    pub fn with_estimate_dispute_open(mut self) -> Self {
        self.estimate_dispute_open = true;
        self
    }

    /// The patient is current on a payment plan.
    #[must_use]
    pub fn with_current_plan(mut self) -> Self {
        self.on_current_plan = true;
        self
    }
}

fn rank(c: Channel) -> u8 {
    match c {
        Channel::Sms => 0,
        Channel::Email => 1,
        Channel::Portal => 2,
        Channel::Postal => 3,
        Channel::Voice => 4,
    }
}

/// Builds the outreach plan: statement on day 0, reminder on day 14, plan offer on day 30,
/// final notice on day 60. The first two use the most preferred text/e-mail route; the plan
/// offer uses the next route if there is one; the final notice goes by post when possible.
pub fn plan(input: &OutreachInput<'_>) -> OutreachPlan {
    if input.estimate_dispute_open {
        return OutreachPlan::Paused {
            reason: PauseReason::EstimateDispute,
        };
    }
    if !input.balance.is_positive() {
        return OutreachPlan::Paused {
            reason: PauseReason::NothingOwed,
        };
    }
    if input.on_current_plan {
        return OutreachPlan::Paused {
            reason: PauseReason::OnPaymentPlan,
        };
    }
    let mut order: Vec<usize> = (0..input.routes.len()).collect();
    // Stable: the patient's own order breaks ties within a channel kind.
    order.sort_by_key(|&i| rank(input.routes[i].channel));
    let Some(&first) = order.first() else {
        return OutreachPlan::Paused {
            reason: PauseReason::NoContactRoute,
        };
    };
    let second = order.get(1).copied().unwrap_or(first);
    let postal = order
        .iter()
        .copied()
        .find(|&i| input.routes[i].channel == Channel::Postal)
        .unwrap_or(first);
    let schedule = [
        (0, first, Message::Statement),
        (14, first, Message::Reminder),
        (30, second, Message::PlanOffer),
        (60, postal, Message::FinalNotice),
    ];
    let steps = schedule
        .iter()
        .map(|&(days, route, message)| {
            let channel = input.routes[route].channel;
            let at = input.statement_at + TimeDelta::days(days);
            let at = if channel.is_interruptive() {
                input.quiet.next_allowed(at)
            } else {
                at
            };
            OutreachStep {
                at,
                channel,
                route,
                message,
            }
        })
        .collect();
    OutreachPlan::Scheduled { steps }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use chrono::NaiveTime;

    #[test]
    fn text_first_quiet_hours_and_pauses() {
        let quiet = QuietHours::new(
            chrono_tz::America::New_York,
            NaiveTime::from_hms_opt(21, 0, 0).unwrap_or_default(),
            NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
        );
        let routes = [
            ContactRoute::new(Channel::Postal, "1 Main St"),
            ContactRoute::new(Channel::Voice, "+12125550100"),
            ContactRoute::new(Channel::Sms, "+12125550101"),
            ContactRoute::new(Channel::Email, "p@example.org"),
        ];
        // 02:00 UTC is 21:00/22:00 in New York: inside quiet hours.
        let at: Timestamp = "2026-06-10T02:00:00Z".parse().unwrap_or_default();
        let input = OutreachInput {
            balance: Money::new(12_000, Currency::USD),
            statement_at: at,
            routes: &routes,
            quiet: &quiet,
            estimate_dispute_open: false,
            on_current_plan: false,
        };
        let OutreachPlan::Scheduled { steps } = plan(&input) else {
            panic!("expected a schedule");
        };
        let kinds: Vec<_> = steps.iter().map(|s| (s.channel, s.message)).collect();
        assert_eq!(
            kinds,
            vec![
                (Channel::Sms, Message::Statement),
                (Channel::Sms, Message::Reminder),
                (Channel::Email, Message::PlanOffer),
                (Channel::Postal, Message::FinalNotice),
            ]
        );
        assert_eq!(steps[0].at.to_rfc3339(), "2026-06-10T12:00:00+00:00");
        assert!(
            steps
                .iter()
                .all(|s| !s.channel.is_interruptive() || !quiet.is_quiet(s.at))
        );
        let paused = plan(&OutreachInput {
            estimate_dispute_open: true,
            ..input
        });
        assert_eq!(
            paused,
            OutreachPlan::Paused {
                reason: PauseReason::EstimateDispute
            }
        );
        let none = plan(&OutreachInput {
            routes: &[],
            ..input
        });
        assert_eq!(
            none,
            OutreachPlan::Paused {
                reason: PauseReason::NoContactRoute
            }
        );
        let plan_ok = plan(&OutreachInput {
            on_current_plan: true,
            ..input
        });
        assert_eq!(
            plan_ok,
            OutreachPlan::Paused {
                reason: PauseReason::OnPaymentPlan
            }
        );
    }
}
