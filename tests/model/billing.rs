//! Invoices against a plain model, many cases, no IO: random sequences of plan changes (and
//! deletions) over a month, priced by the library's `compute_invoice` and by a day-by-day model;
//! and vouchers never take a total below zero.

use chrono::{DateTime, Duration, Utc};
use guildhall::domain::billing::{Month, PlanPeriod, PlanSpec, VoucherValue, compute_invoice};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::collections::BTreeMap;

/// One project's history: when it was created (minutes from the month's start, possibly
/// before it), its later plan changes (minutes after the previous one) with their prices, and
/// maybe a deletion (minutes after the last change).
#[derive(Clone, Debug)]
struct History {
    created: i64,
    first_price: i64,
    changes: Vec<(i64, i64)>,
    deleted_after: Option<i64>,
}

fn history() -> impl Strategy<Value = History> {
    (
        -20_000i64..50_000,
        0i64..100_000,
        prop::collection::vec((0i64..12_000, 0i64..100_000), 0..8),
        prop::option::of(0i64..20_000),
    )
        .prop_map(|(created, first_price, changes, deleted_after)| History {
            created,
            first_price,
            changes,
            deleted_after,
        })
}

fn voucher() -> impl Strategy<Value = VoucherValue> {
    prop_oneof![
        (1i64..200_000).prop_map(VoucherValue::Amount),
        (1i64..=100).prop_map(VoucherValue::Percent),
    ]
}

/// Each plan a project took, with when, and when the project went (if it did).
struct Timeline {
    plans: Vec<(DateTime<Utc>, i64)>,
    deleted: Option<DateTime<Utc>>,
}

fn timeline(month: Month, h: &History) -> Timeline {
    let mut t = month.start() + Duration::minutes(h.created);
    let mut plans = vec![(t, h.first_price)];
    for (after, price) in &h.changes {
        t += Duration::minutes(*after);
        plans.push((t, *price));
    }
    Timeline {
        plans,
        deleted: h.deleted_after.map(|d| t + Duration::minutes(d)),
    }
}

/// What the service stores: one period per plan, closed by the next change or the deletion.
fn periods(project: usize, tl: &Timeline) -> Vec<PlanPeriod> {
    tl.plans
        .iter()
        .enumerate()
        .map(|(i, (from, price))| {
            let next = tl.plans.get(i + 1).map(|(t, _)| *t);
            PlanPeriod {
                project: uuid::Uuid::from_u128(project as u128 + 1),
                project_name: format!("p{project}"),
                plan: PlanSpec {
                    tier: "t".to_owned(),
                    storage_gb: 0,
                    environments: 0,
                    licenses: 0,
                },
                monthly_price: *price,
                from: *from,
                to: next.or(tl.deleted),
                ended_by_delete: next.is_none() && tl.deleted.is_some(),
            }
        })
        .collect()
}

/// The model: every day of the month goes to the plan in force at the end of the day, or, for a
/// project deleted that day, to the plan it had then; each plan's days are priced
/// `price × days / days_in_month`, rounded half up.
fn model_subtotal(month: Month, timelines: &[Timeline]) -> i64 {
    let dim = month.days();
    let mut days: BTreeMap<(usize, usize), i64> = BTreeMap::new();
    for d in 0..dim {
        let start = month.start() + Duration::days(d);
        let end = start + Duration::days(1);
        for (p, tl) in timelines.iter().enumerate() {
            let plan = match tl.deleted {
                Some(t) if t < start => None,
                Some(t) if t < end => tl.plans.iter().rposition(|(s, _)| *s <= t),
                _ => tl.plans.iter().rposition(|(s, _)| *s < end),
            };
            if let Some(i) = plan {
                *days.entry((p, i)).or_default() += 1;
            }
        }
    }
    days.iter()
        .map(|((p, i), n)| {
            let price = timelines[*p].plans[*i].1;
            (price * n * 2 + dim) / (2 * dim)
        })
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/model/billing.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn invoice_totals_equal_the_day_by_day_model_and_never_go_below_zero(
        month in (2020i32..2030, 1u32..=12),
        histories in prop::collection::vec(history(), 0..4),
        vouchers in prop::collection::vec(voucher(), 0..4),
    ) {
        let month = Month { year: month.0, month: month.1 };
        let timelines: Vec<Timeline> = histories.iter().map(|h| timeline(month, h)).collect();
        let all: Vec<PlanPeriod> = timelines.iter().enumerate().flat_map(|(p, tl)| periods(p, tl)).collect();
        let codes: Vec<(String, VoucherValue)> = vouchers.iter().enumerate().map(|(i, v)| (format!("V{i}"), *v)).collect();
        let draft = compute_invoice(month, &all, &codes);

        let subtotal = model_subtotal(month, &timelines);
        prop_assert_eq!(draft.subtotal, subtotal);

        // Vouchers: percentages of the subtotal first, then amounts, none below zero.
        let mut remaining = subtotal;
        let percents = vouchers.iter().filter_map(|v| match v { VoucherValue::Percent(p) => Some((subtotal * p * 2 + 100) / 200), _ => None });
        let amounts = vouchers.iter().filter_map(|v| match v { VoucherValue::Amount(a) => Some(*a), _ => None });
        for off in percents.chain(amounts) {
            remaining -= off.min(remaining);
        }
        prop_assert_eq!(draft.total, remaining);
        prop_assert!(draft.total >= 0);
        let sum: i64 = draft.lines.iter().map(|l| l.amount).sum();
        prop_assert_eq!(sum, draft.total, "the lines add up to the total");
        prop_assert!(draft.lines.iter().all(|l| (l.kind == "plan") == (l.amount >= 0) || l.amount == 0));
    }
}
