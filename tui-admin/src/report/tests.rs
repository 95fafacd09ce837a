//! The report's table and CSV forms.

use super::*;
use kfood_protocol::report::{Cancellation, HourSales, ItemSales};
use kfood_protocol::{Role, UserRef};

fn sample() -> DayReport {
    let mut hours: Vec<HourSales> = (0..24)
        .map(|hour| HourSales {
            hour,
            orders: 0,
            revenue_cents: 0,
        })
        .collect();
    hours[12] = HourSales {
        hour: 12,
        orders: 4,
        revenue_cents: 5400,
    };
    hours[18] = HourSales {
        hour: 18,
        orders: 1,
        revenue_cents: 1350,
    };
    DayReport {
        date: "2027-01-15".into(),
        tz: "Asia/Seoul".into(),
        orders_by_status: [
            ("pending", 1),
            ("preparing", 0),
            ("ready", 0),
            ("delivered", 3),
            ("cancelled", 1),
            ("scheduled", 0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        gross_cents: 6750,
        discount_cents: 135,
        refunded_cents: 1350,
        net_cents: 5265,
        cash_cents: 1350,
        card_cents: 3915,
        items: vec![ItemSales {
            item_id: "bibimbap".into(),
            name: "Bibimbap, \"hot\" and a very long name that will not fit the column".into(),
            qty: 5,
            revenue_cents: 6750,
        }],
        hours,
        prep_min_avg: Some(11.25),
        prep_min_p90: None,
        late: 1,
        cancellations: vec![Cancellation {
            code: "K-0003".into(),
            reason: "changed my mind, sorry — and a reason long enough to be cut at the edge"
                .into(),
            by: UserRef {
                id: "amy".into(),
                name: "Amy".into(),
                role: Role::Customer,
            },
            at: "2027-01-15T09:03:00.000Z".into(),
            refunded_cents: 1350,
        }],
        payment_failures: 2,
        partial: true,
    }
}

/// Every line of the table fits the width, and it reads the figures in words.
#[test]
fn the_table_fits_80_columns() {
    let lines = table(&sample());
    for l in &lines {
        assert!(l.chars().count() <= TABLE_WIDTH, "{l:?}");
    }
    let text = lines.join("\n");
    for want in [
        "Day's report 2027-01-15 (Asia/Seoul)",
        "PARTIAL",
        "Orders            5",
        "Net               $52.65   (cash $13.50 · card $39.15)",
        "avg 11.2 min · p90 -",
        "12:00          4        $54.00",
        "K-0003  18:03      $13.50  Amy (customer): changed my mind",
        "scheduled 0  pending 1  preparing 0  ready 0  delivered 3\n                  cancelled 1",
        "Payment failures  2",
    ] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }
    assert!(!text.contains("13:00"), "quiet hours are left out:\n{text}");
}

/// CSV: five sections, every hour, quoted fields.
#[test]
fn csv_sections() {
    let s = csv(&sample());
    let sections: Vec<&str> = s.split("\n\n").map(|p| p.lines().next().unwrap()).collect();
    assert_eq!(
        sections,
        [
            "summary",
            "orders_by_status",
            "items",
            "hours",
            "cancellations"
        ]
    );
    assert!(s.contains("net_cents,5265\n"));
    assert!(s.contains("prep_min_avg,11.2\nprep_min_p90,\n"));
    assert!(s.contains(
        "bibimbap,\"Bibimbap, \"\"hot\"\" and a very long name that will not fit the column\",5,6750\n"
    ));
    let hours = s.split("\n\n").nth(3).unwrap();
    assert_eq!(hours.lines().count(), 2 + 24);
    assert!(s.ends_with(",amy,2027-01-15T09:03:00.000Z,1350\n"));
}
