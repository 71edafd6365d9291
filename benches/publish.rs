//! CPU per event on the publish path: build the body, SigV4-sign it, classify the response —
//! for a request of five events (AppSync's maximum). Target: ≤ 5 µs per event amortised.
//!
//! `cargo bench --bench publish -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::SystemTime;

use appsync_bridge::publish::classify::{EventOutcome, classify};
use appsync_bridge::publish::sign::sigv4_headers;
use appsync_bridge::publish::{RawResponse, build};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::identity::Identity;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn publish_path(c: &mut Criterion) {
    let events: Vec<String> = (0..5)
        .map(|i| {
            format!(
                r#"{{"orderId":"o-{i}","customerId":"c-42","status":"SHIPPED","items":[{{"sku":"A-1","qty":2}}],"note":"order o-{i} is shipped"}}"#
            )
        })
        .collect();
    let texts: Vec<&str> = events.iter().map(String::as_str).collect();
    let identity: Identity = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN".into()),
        None,
        "bench",
    )
    .into();
    let response = RawResponse {
        status: 200,
        body: br#"{"failed":[],"successful":[{"identifier":"a","index":0},{"identifier":"b","index":1},{"identifier":"c","index":2},{"identifier":"d","index":3},{"identifier":"e","index":4}]}"#.to_vec(),
    };
    let url = "https://abcdefghijklmnopqrstuvwxyz.appsync-api.eu-west-1.amazonaws.com/event";
    let authority = "abcdefghijklmnopqrstuvwxyz.appsync-api.eu-west-1.amazonaws.com";

    // Time the path the figure claims: signing succeeds and all five events are delivered.
    let body = build::body("/orders/c-42/o-1", &texts);
    assert!(
        sigv4_headers(
            url,
            authority,
            &body,
            &identity,
            "eu-west-1",
            SystemTime::now()
        )
        .is_ok()
    );
    assert!(
        classify(5, &Ok(response.clone()))
            .iter()
            .all(|o| matches!(o, EventOutcome::Delivered))
    );
    let mut group = c.benchmark_group("publish_path");
    group.throughput(Throughput::Elements(5));
    group.bench_function("build_sign_classify_5_events", |b| {
        b.iter(|| {
            let body = build::body(black_box("/orders/c-42/o-1"), black_box(&texts));
            let headers = sigv4_headers(
                url,
                authority,
                &body,
                &identity,
                "eu-west-1",
                SystemTime::now(),
            );
            let outcomes = classify(5, &Ok(black_box(response.clone())));
            black_box((body, headers, outcomes))
        })
    });
    group.finish();
}

criterion_group!(benches, publish_path);
criterion_main!(benches);
