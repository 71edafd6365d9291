//! Pattern matching cost on a ~1 KB EventBridge event: one typical pattern, one using the
//! slower operators, and ten patterns evaluated in turn (what routing does per record).
//!
//! Run: `cargo bench --bench pattern` (or `scripts/bench.sh`, which runs every bench).
//!
//! Whether matching allocates is not asserted here: that took a counting global allocator, i.e.
//! `unsafe`, in a bench. It is measured from outside with valgrind's DHAT instead (BENCHMARKS.md,
//! "Allocations while matching").

use appsync_bridge::rules::pattern::Pattern;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;

fn event() -> Value {
    json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "OrderStatusChanged",
        "source": "shop.orders",
        "account": "111122223333",
        "time": "2026-11-22T18:43:48Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders"],
        "detail": {
            "orderId": "o-7d9f2c1e-55aa-4b1e-9c0d-2f6b8e1a3c44",
            "customerId": "c-0b8e44f1-7a2d-4c3e-8f19-6d5a2b7c9e10",
            "status": "shipped",
            "previousStatus": "packed",
            "amount": 129.95,
            "currency": "EUR",
            "channel": "web",
            "sourceIp": "10.20.30.40",
            "items": [
                {"sku": "SKU-1001", "qty": 1, "price": 49.95, "name": "Blue mug"},
                {"sku": "SKU-2002", "qty": 2, "price": 40.00, "name": "Tea sampler"}
            ],
            "shipping": {
                "carrier": "DHL", "service": "express",
                "address": {"city": "Lyon", "country": "FR", "postcode": "69001"}
            },
            "tags": ["gift", "priority", "eu"],
            "notes": "Leave at the front desk if nobody answers the door, thank you very much."
        }
    })
}

fn compile(pattern: Value) -> Pattern {
    match Pattern::compile(&pattern) {
        Ok(p) => p,
        Err(e) => panic!("bench pattern does not compile: {e:?}"),
    }
}

fn typical() -> Pattern {
    compile(json!({
        "source": ["shop.orders"],
        "detail-type": ["OrderStatusChanged"],
        "detail": {
            "status": [{"anything-but": "draft"}],
            "amount": [{"numeric": [">", 0, "<=", 1000]}]
        }
    }))
}

fn heavy() -> Pattern {
    compile(json!({
        "source": [{"prefix": {"equals-ignore-case": "SHOP."}}],
        "detail": {
            "notes": [{"wildcard": "*front*door*"}],
            "sourceIp": [{"cidr": "10.0.0.0/8"}],
            "items": {"sku": [{"suffix": "2002"}], "qty": [{"numeric": [">=", 2]}]},
            "$or": [
                {"tags": [{"equals-ignore-case": "PRIORITY"}]},
                {"shipping": {"service": ["express"]}}
            ]
        }
    }))
}

fn ten() -> Vec<Pattern> {
    let mut patterns = vec![typical(), heavy()];
    for (i, source) in [
        "shop.payments",
        "shop.users",
        "shop.inventory",
        "shop.orders",
    ]
    .iter()
    .enumerate()
    {
        patterns.push(compile(
            json!({"source": [source], "detail-type": [format!("T{i}")]}),
        ));
        patterns.push(compile(json!({
            "source": [source],
            "detail": {"status": ["shipped", "delivered"], "currency": ["EUR"]}
        })));
    }
    patterns
}

fn bench(c: &mut Criterion) {
    let event = event();
    let typical = typical();
    let heavy = heavy();
    let ten = ten();
    // A bench that measures a pattern that never matches would measure the wrong path.
    let all_match = typical.matches(&event) && heavy.matches(&event);
    let matched = ten.iter().filter(|p| p.matches(&event)).count();
    assert!(
        all_match && matched >= 3,
        "bench patterns must match the event"
    );
    c.bench_function("pattern/typical", |b| {
        b.iter(|| black_box(&typical).matches(black_box(&event)))
    });
    c.bench_function("pattern/heavy", |b| {
        b.iter(|| black_box(&heavy).matches(black_box(&event)))
    });
    c.bench_function("pattern/ten_rules", |b| {
        b.iter(|| ten.iter().filter(|p| p.matches(black_box(&event))).count())
    });
    c.bench_function("pattern/compile_typical", |b| b.iter(typical_compile));
}

fn typical_compile() -> Pattern {
    typical()
}

criterion_group!(benches, bench);
criterion_main!(benches);
