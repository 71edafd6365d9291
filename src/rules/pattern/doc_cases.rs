//! The examples of EventBridge's pattern documentation as a table: each pattern from the
//! "comparison operators" and "content filtering" pages with events it must and must not
//! match, plus the patterns EventBridge rejects.
//!
//! Pages (cited per group below):
//! - OPS: <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html>
//! - CF: <https://docs.aws.amazon.com/eventbridge/latest/userguide/content-filtering-with-event-patterns.html>
//!   (the same examples as `eb-event-patterns-content-based-filtering.html`)
//! - PAT: <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html>
//!   and `eb-event-patterns-arrays.html`, `eb-event-patterns-null-values.html`
//! - RULER: <https://github.com/aws/event-ruler> README (the matcher EventBridge publishes), for
//!   `$or` and array-of-object examples the AWS pages only name.

use serde_json::Value;

use super::Pattern;

/// (page, pattern, event, expected match)
type Case = (&'static str, &'static str, &'static str, bool);

/// The EC2 state-change event used by the content-filtering page, with the fields its
/// examples test.
const EC2: &str = r#"{
  "version": "0", "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
  "account": "012345679012", "time": "2017-10-02T16:24:49Z", "region": "us-east-1",
  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  "detail": {"c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.33",
             "instance-id": "i-000000aaaaaa00000", "state": "running"}
}"#;

#[rustfmt::skip]
const CASES: &[Case] = &[
    // --- PAT: the basic example (eb-event-patterns.html) ---
    (
        "PAT",
        r#"{"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["terminated"]}}"#,
        r#"{"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {"instance-id": "i-1", "state": "terminated"}}"#,
        true,
    ),
    (
        "PAT",
        r#"{"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["terminated"]}}"#,
        r#"{"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {"instance-id": "i-1", "state": "running"}}"#,
        false,
    ),
    (
        "PAT values",
        r#"{"source": ["aws.macie"], "detail-type": ["Macie Alert"], "detail": {"risk-score": [80], "trigger": {"risk": [8]}}}"#,
        r#"{"source": "aws.macie", "detail-type": "Macie Alert", "detail": {"notification-type": "ALERT_CREATED", "tags": ["Custom_Alert", "Insider"], "risk-score": 80, "trigger": {"alert-type": "basic", "risk": 8}}}"#,
        true,
    ),
    (
        "PAT values",
        r#"{"source": ["aws.macie"], "detail-type": ["Macie Alert"], "detail": {"risk-score": [80], "trigger": {"risk": [8]}}}"#,
        r#"{"source": "aws.macie", "detail-type": "Macie Alert", "detail": {"risk-score": 80, "trigger": {"risk": 9}}}"#,
        false,
    ),
    // PAT: "300, 300.0, and 3.0e2 are not considered equal".
    ("PAT numbers", r#"{"detail": {"risk-score": [300]}}"#, r#"{"detail": {"risk-score": 300.0}}"#, false),
    ("PAT numbers", r#"{"detail": {"risk-score": [300]}}"#, r#"{"detail": {"risk-score": 300}}"#, true),
    // --- PAT arrays: intersection of pattern array and event array is non-empty ---
    (
        "PAT arrays",
        r#"{"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f", "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}"#,
        r#"{"resources": ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate", "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}"#,
        true,
    ),
    (
        "PAT arrays",
        r#"{"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}"#,
        r#"{"resources": ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x", "arn:aws:ec2:us-east-1:123456789012:instance/i-00000000"]}"#,
        false,
    ),
    // --- PAT null values and empty strings ---
    ("PAT null", r#"{"detail": {"responseElements": [null]}}"#, r#"{"detail": {"responseElements": null}}"#, true),
    ("PAT null", r#"{"detail": {"responseElements": [null]}}"#, r#"{"detail": {}}"#, false),
    ("PAT null", r#"{"detail": {"eventVersion": [""]}}"#, r#"{"detail": {"eventVersion": ""}}"#, true),
    ("PAT null", r#"{"detail": {"eventVersion": [""]}}"#, r#"{"detail": {"eventVersion": null}}"#, false),
    // --- OPS: And ---
    ("OPS and", r#"{"Location": ["New York"], "Day": ["Monday"]}"#, r#"{"Location": "New York", "Day": "Monday"}"#, true),
    ("OPS and", r#"{"Location": ["New York"], "Day": ["Monday"]}"#, r#"{"Location": "New York", "Day": "Tuesday"}"#, false),
    // --- OPS: Anything-but ---
    ("OPS anything-but", r#"{"state": [{"anything-but": "initializing"}]}"#, r#"{"state": "running"}"#, true),
    ("OPS anything-but", r#"{"state": [{"anything-but": "initializing"}]}"#, r#"{"state": "initializing"}"#, false),
    ("OPS anything-but prefix", r#"{"Region": [{"anything-but": {"prefix": "us-"}}]}"#, r#"{"Region": "eu-west-1"}"#, true),
    ("OPS anything-but prefix", r#"{"Region": [{"anything-but": {"prefix": "us-"}}]}"#, r#"{"Region": "us-east-1"}"#, false),
    ("OPS anything-but suffix", r#"{"FileName": [{"anything-but": {"suffix": ".png"}}]}"#, r#"{"FileName": "photo.jpg"}"#, true),
    ("OPS anything-but suffix", r#"{"FileName": [{"anything-but": {"suffix": ".png"}}]}"#, r#"{"FileName": "photo.png"}"#, false),
    ("OPS anything-but ignore case", r#"{"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}"#, r#"{"state": "running"}"#, true),
    ("OPS anything-but ignore case", r#"{"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}"#, r#"{"state": "INITIALIZING"}"#, false),
    ("OPS anything-but wildcard", r#"{"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}"#, r#"{"FilePath": "/usr/bin/app"}"#, true),
    ("OPS anything-but wildcard", r#"{"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}"#, r#"{"FilePath": "/usr/lib/libc.so"}"#, false),
    ("RULER anything-but prefix list", r#"{"Region": [{"anything-but": {"prefix": ["us-", "eu-"]}}]}"#, r#"{"Region": "ap-south-1"}"#, true),
    ("RULER anything-but prefix list", r#"{"Region": [{"anything-but": {"prefix": ["us-", "eu-"]}}]}"#, r#"{"Region": "eu-west-1"}"#, false),
    // --- OPS: Begins with / ends with / equals (with and without case) ---
    ("OPS begins with", r#"{"Region": [{"prefix": "us-"}]}"#, r#"{"Region": "us-east-1"}"#, true),
    ("OPS begins with", r#"{"Region": [{"prefix": "us-"}]}"#, r#"{"Region": "eu-west-1"}"#, false),
    ("OPS begins with ignore case", r#"{"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}"#, r#"{"service": "EventBridge"}"#, true),
    ("OPS begins with ignore case", r#"{"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}"#, r#"{"service": "Lambda"}"#, false),
    ("OPS empty", r#"{"LastName": [""]}"#, r#"{"LastName": ""}"#, true),
    ("OPS empty", r#"{"LastName": [""]}"#, r#"{"LastName": "Smith"}"#, false),
    ("OPS equals", r#"{"Name": ["Alice"]}"#, r#"{"Name": "Alice"}"#, true),
    ("OPS equals", r#"{"Name": ["Alice"]}"#, r#"{"Name": "alice"}"#, false),
    ("OPS equals ignore case", r#"{"Name": [{"equals-ignore-case": "alice"}]}"#, r#"{"Name": "Alice"}"#, true),
    ("OPS equals ignore case", r#"{"Name": [{"equals-ignore-case": "alice"}]}"#, r#"{"Name": "Bob"}"#, false),
    ("OPS ends with", r#"{"FileName": [{"suffix": ".png"}]}"#, r#"{"FileName": "image.png"}"#, true),
    ("OPS ends with", r#"{"FileName": [{"suffix": ".png"}]}"#, r#"{"FileName": "image.jpg"}"#, false),
    ("OPS ends with ignore case", r#"{"service": [{"suffix": {"equals-ignore-case": "tBridge"}}]}"#, r#"{"service": "EVENTBRIDGE"}"#, true),
    ("OPS ends with ignore case", r#"{"service": [{"suffix": {"equals-ignore-case": "tBridge"}}]}"#, r#"{"service": "EventBus"}"#, false),
    // --- OPS: Exists / does not exist ---
    ("OPS exists", r#"{"ProductName": [{"exists": true}]}"#, r#"{"ProductName": "Widget"}"#, true),
    ("OPS exists", r#"{"ProductName": [{"exists": true}]}"#, r#"{"Price": 100}"#, false),
    ("OPS does not exist", r#"{"ProductName": [{"exists": false}]}"#, r#"{"Price": 100}"#, true),
    ("OPS does not exist", r#"{"ProductName": [{"exists": false}]}"#, r#"{"ProductName": "Widget"}"#, false),
    // --- OPS: Not (anything-but a single value), Null, Numeric ---
    ("OPS not", r#"{"Weather": [{"anything-but": ["Raining"]}]}"#, r#"{"Weather": "Sunny"}"#, true),
    ("OPS not", r#"{"Weather": [{"anything-but": ["Raining"]}]}"#, r#"{"Weather": "Raining"}"#, false),
    ("OPS null", r#"{"UserID": [null]}"#, r#"{"UserID": null}"#, true),
    ("OPS null", r#"{"UserID": [null]}"#, r#"{"UserID": "u-1"}"#, false),
    ("OPS numeric equals", r#"{"Price": [{"numeric": ["=", 100]}]}"#, r#"{"Price": 100}"#, true),
    ("OPS numeric equals", r#"{"Price": [{"numeric": ["=", 100]}]}"#, r#"{"Price": 101}"#, false),
    ("OPS numeric range", r#"{"Price": [{"numeric": [">", 10, "<=", 20]}]}"#, r#"{"Price": 20}"#, true),
    ("OPS numeric range", r#"{"Price": [{"numeric": [">", 10, "<=", 20]}]}"#, r#"{"Price": 10}"#, false),
    // --- OPS: Or (values in one field, and $or across fields) ---
    ("OPS or", r#"{"PaymentType": ["Credit", "Debit"]}"#, r#"{"PaymentType": "Debit"}"#, true),
    ("OPS or", r#"{"PaymentType": ["Credit", "Debit"]}"#, r#"{"PaymentType": "Cash"}"#, false),
    ("OPS or multiple fields", r#"{"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}"#, r#"{"Location": "Boston", "Day": "Monday"}"#, true),
    ("OPS or multiple fields", r#"{"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}"#, r#"{"Location": "Boston", "Day": "Friday"}"#, false),
    // --- OPS: Wildcard ---
    ("OPS wildcard", r#"{"FileName": [{"wildcard": "dir/*.png"}]}"#, r#"{"FileName": "dir/image.png"}"#, true),
    ("OPS wildcard", r#"{"FileName": [{"wildcard": "dir/*.png"}]}"#, r#"{"FileName": "other/image.png"}"#, false),
    // --- CF: prefix ---
    ("CF prefix", r#"{"time": [{"prefix": "2017-10-02"}]}"#, EC2, true),
    ("CF prefix", r#"{"time": [{"prefix": "2017-10-03"}]}"#, EC2, false),
    ("CF prefix", r#"{"source": ["aws.autoscaling"], "region": [{"prefix": "eu-"}]}"#, r#"{"source": "aws.autoscaling", "region": "eu-west-1"}"#, true),
    ("CF prefix", r#"{"source": ["aws.autoscaling"], "region": [{"prefix": "eu-"}]}"#, r#"{"source": "aws.autoscaling", "region": "us-east-1"}"#, false),
    // --- CF: anything-but ---
    ("CF anything-but", r#"{"detail": {"state": [{"anything-but": "initializing"}]}}"#, EC2, true),
    ("CF anything-but", r#"{"detail": {"x-limit": [{"anything-but": 123}]}}"#, EC2, true),
    ("CF anything-but", r#"{"detail": {"x-limit": [{"anything-but": 301.8}]}}"#, EC2, false),
    ("CF anything-but", r#"{"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}"#, EC2, true),
    ("CF anything-but", r#"{"detail": {"state": [{"anything-but": ["stopped", "running"]}]}}"#, EC2, false),
    ("CF anything-but", r#"{"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}"#, EC2, true),
    ("CF anything-but", r#"{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}"#, EC2, true),
    ("CF anything-but", r#"{"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}"#, EC2, false),
    ("CF anything-but", r#"{"detail-type": [{"anything-but": "AWS API Call via CloudTrail"}]}"#, EC2, true),
    ("CF anything-but", r#"{"source": [{"anything-but": ["aws.ec2", "aws.s3"]}]}"#, EC2, false),
    ("CF anything-but", r#"{"source": [{"anything-but": {"prefix": "aws."}}]}"#, EC2, false),
    ("CF anything-but", r#"{"source": [{"anything-but": {"prefix": "aws."}}]}"#, r#"{"source": "com.mycompany.orders"}"#, true),
    // --- CF: numeric ---
    ("CF numeric", r#"{"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"numeric": ["=", 3.018e2]}]}}"#, EC2, true),
    ("CF numeric", r#"{"detail": {"c-count": [{"numeric": [">", 5]}]}}"#, EC2, false),
    ("CF numeric", r#"{"detail": {"x-limit": [{"numeric": ["=", 301.9]}]}}"#, EC2, false),
    // --- CF: IP address ---
    ("CF cidr", r#"{"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}"#, EC2, true),
    ("CF cidr", r#"{"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}"#, EC2, false),
    // --- CF: exists ---
    ("CF exists", r#"{"detail": {"c-count": [{"exists": false}]}}"#, r#"{"detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["initializing", "running"]}}"#, true),
    ("CF exists", r#"{"detail": {"c-count": [{"exists": false}]}}"#, r#"{"detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["initializing", "running"], "c-count": {"c1": 100}}}"#, true),
    ("CF exists", r#"{"detail": {"c-count": [{"exists": false}]}}"#, EC2, false),
    ("CF exists", r#"{"detail": {"state": [{"exists": true}]}}"#, EC2, true),
    ("CF exists", r#"{"detail": {"description": [{"exists": true}]}}"#, EC2, false),
    // --- CF: complex example ---
    ("CF complex", r#"{"time": [{"prefix": "2017-10-02"}], "detail": {"state": [{"anything-but": "initializing"}], "c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"anything-but": [100, 200, 300]}], "source-ip": [{"cidr": "10.0.0.0/8"}]}}"#, EC2, true),
    ("CF complex", r#"{"time": [{"prefix": "2017-10-02"}], "detail": {"state": [{"anything-but": "running"}], "c-count": [{"numeric": [">", 0, "<=", 5]}]}}"#, EC2, false),
    // --- RULER: $or examples and arrays of objects ---
    ("RULER $or", r#"{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}]}"#, r#"{"source": "aws.cloudwatch", "namespace": "AWS/ES"}"#, true),
    ("RULER $or", r#"{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}]}"#, r#"{"source": "aws.cloudwatch", "namespace": "AWS/RDS"}"#, false),
    ("RULER $or", r#"{"$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}], "detail": {"$or": [{"source": ["aws.cloudwatch"]}, {"detail-type": ["CloudWatch Alarm State Change"]}]}}"#, r#"{"metricName": "CPUUtilization", "detail": {"detail-type": "CloudWatch Alarm State Change"}}"#, true),
    ("RULER $or", r#"{"$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}], "detail": {"$or": [{"source": ["aws.cloudwatch"]}, {"detail-type": ["CloudWatch Alarm State Change"]}]}}"#, r#"{"metricName": "CPUUtilization", "detail": {"detail-type": "Other"}}"#, false),
    ("RULER $or", r#"{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"metricType": ["MetricType"], "namespace": ["AWS/EC2"], "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]}, {"scope": ["Service"]}]}"#, r#"{"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/EC2", "spaceId": 1000}"#, true),
    ("RULER $or", r#"{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"metricType": ["MetricType"], "namespace": ["AWS/EC2"], "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]}, {"scope": ["Service"]}]}"#, r#"{"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/EC2", "spaceId": 999}"#, false),
    ("RULER arrays", r#"{"employees": {"firstName": ["Anna"]}}"#, r#"{"employees": [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}]}"#, true),
    ("RULER arrays", r#"{"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}"#, r#"{"employees": [{"firstName": "Anna", "lastName": "Smith"}, {"firstName": "Peter", "lastName": "Jones"}]}"#, false),
    ("RULER wildcard", r#"{"source": [{"wildcard": "Simple*Service"}]}"#, r#"{"source": "SimpleQueueService"}"#, true),
    ("RULER wildcard", r#"{"source": [{"wildcard": "Simple*Service"}]}"#, r#"{"source": "SimpleQueue"}"#, false),
];

/// (why, pattern, path of the first reported error). EventBridge rejects all of these.
#[rustfmt::skip]
const REJECTED: &[(&str, &str, &str)] = &[
    ("pattern is not an object", r#"["aws.ec2"]"#, ""),
    ("leaf value not in an array", r#"{"source": "aws.ec2"}"#, "source"),
    ("number leaf not in an array", r#"{"detail": {"count": 5}}"#, "detail.count"),
    ("empty leaf array", r#"{"source": []}"#, "source"),
    ("empty nested object", r#"{"detail": {}}"#, "detail"),
    ("empty pattern", r#"{}"#, ""),
    ("nested array", r#"{"source": [["aws.ec2"]]}"#, "source[0]"),
    ("unknown operator", r#"{"source": [{"contains": "ec2"}]}"#, "source[0]"),
    ("two operators in one object", r#"{"source": [{"prefix": "a", "suffix": "b"}]}"#, "source[0]"),
    ("empty operator object", r#"{"source": [{}]}"#, "source[0]"),
    ("prefix of a number", r#"{"source": [{"prefix": 5}]}"#, "source[0].prefix"),
    ("prefix with another nested operator", r#"{"source": [{"prefix": {"wildcard": "a*"}}]}"#, "source[0].prefix.wildcard"),
    ("suffix of null", r#"{"source": [{"suffix": null}]}"#, "source[0].suffix"),
    ("equals-ignore-case of a list", r#"{"source": [{"equals-ignore-case": ["a"]}]}"#, "source[0].equals-ignore-case"),
    ("anything-but of a boolean", r#"{"state": [{"anything-but": true}]}"#, "state[0].anything-but"),
    ("anything-but of mixed list", r#"{"state": [{"anything-but": ["a", 1]}]}"#, "state[0].anything-but"),
    ("anything-but of empty list", r#"{"state": [{"anything-but": []}]}"#, "state[0].anything-but"),
    ("anything-but with numeric inside", r#"{"state": [{"anything-but": {"numeric": [">", 1]}}]}"#, "state[0].anything-but.numeric"),
    ("anything-but empty prefix", r#"{"r": [{"anything-but": {"prefix": ""}}]}"#, "r[0].anything-but.prefix"),
    ("anything-but suffix list with a number", r#"{"r": [{"anything-but": {"suffix": [".png", 1]}}]}"#, "r[0].anything-but.suffix"),
    ("anything-but wildcard with double star", r#"{"p": [{"anything-but": {"wildcard": "a**"}}]}"#, "p[0].anything-but.wildcard"),
    ("numeric not an array", r#"{"c": [{"numeric": 5}]}"#, "c[0].numeric"),
    ("numeric odd length", r#"{"c": [{"numeric": [">", 5, "<"]}]}"#, "c[0].numeric"),
    ("numeric empty", r#"{"c": [{"numeric": []}]}"#, "c[0].numeric"),
    ("numeric unknown operator", r#"{"c": [{"numeric": ["!=", 5]}]}"#, "c[0].numeric[0]"),
    ("numeric non-number operand", r#"{"c": [{"numeric": [">", "5"]}]}"#, "c[0].numeric[1]"),
    ("numeric lower above upper", r#"{"c": [{"numeric": [">", 10, "<", 5]}]}"#, "c[0].numeric"),
    ("numeric equal bounds", r#"{"c": [{"numeric": [">=", 5, "<=", 5]}]}"#, "c[0].numeric"),
    ("numeric upper bound first", r#"{"c": [{"numeric": ["<", 10, ">", 0]}]}"#, "c[0].numeric[0]"),
    ("numeric second bound not upper", r#"{"c": [{"numeric": [">", 0, "=", 5]}]}"#, "c[0].numeric[2]"),
    ("numeric empty open range", r#"{"c": [{"numeric": [">", 5, "<", 5]}]}"#, "c[0].numeric"),
    ("numeric two lower bounds", r#"{"c": [{"numeric": [">", 1, ">=", 2]}]}"#, "c[0].numeric[2]"),
    ("numeric equals combined", r#"{"c": [{"numeric": ["=", 1, "<", 2]}]}"#, "c[0].numeric[0]"),
    ("numeric three pairs", r#"{"c": [{"numeric": [">", 1, "<", 5, "<", 6]}]}"#, "c[0].numeric"),
    ("exists not a boolean", r#"{"c": [{"exists": "true"}]}"#, "c[0].exists"),
    ("cidr without prefix length", r#"{"ip": [{"cidr": "10.0.0.1"}]}"#, "ip[0].cidr"),
    ("cidr prefix too long", r#"{"ip": [{"cidr": "10.0.0.0/33"}]}"#, "ip[0].cidr"),
    ("cidr with host bits set", r#"{"ip": [{"cidr": "10.0.0.7/24"}]}"#, "ip[0].cidr"),
    ("cidr not an address", r#"{"ip": [{"cidr": "ten/8"}]}"#, "ip[0].cidr"),
    ("cidr of a number", r#"{"ip": [{"cidr": 10}]}"#, "ip[0].cidr"),
    ("wildcard consecutive stars", r#"{"f": [{"wildcard": "dir/**.png"}]}"#, "f[0].wildcard"),
    ("wildcard bad escape", r#"{"f": [{"wildcard": "dir/\\d"}]}"#, "f[0].wildcard"),
    ("$or with one alternative", r#"{"$or": [{"a": ["x"]}]}"#, "$or"),
    ("$or not an array", r#"{"$or": {"a": ["x"]}}"#, "$or"),
    ("$or alternative not an object", r#"{"$or": [{"a": ["x"]}, ["b"]]}"#, "$or[1]"),
    ("$or alternative empty", r#"{"$or": [{"a": ["x"]}, {}]}"#, "$or[1]"),
    ("operator name as a field inside $or", r#"{"$or": [{"numeric": [1]}, {"b": ["y"]}]}"#, "$or[0].numeric"),
    ("$or alternative invalid inside", r#"{"detail": {"$or": [{"a": ["x"]}, {"b": "y"}]}}"#, "detail.$or[1].b"),
];

fn parse(text: &str) -> Value {
    match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => panic!("test table holds invalid JSON ({e}): {text}"),
    }
}

#[test]
fn documentation_examples_match_as_eventbridge_documents() {
    let mut failures = Vec::new();
    for (i, (page, pattern, event, expected)) in CASES.iter().enumerate() {
        let compiled = match Pattern::compile(&parse(pattern)) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("#{i} [{page}] did not compile: {e:?}"));
                continue;
            }
        };
        if compiled.matches(&parse(event)) != *expected {
            failures.push(format!(
                "#{i} [{page}] expected {expected}: {pattern} vs {event}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn table_has_both_matches_and_non_matches_for_every_page() {
    for page in ["PAT", "OPS", "CF", "RULER"] {
        let of_page = CASES.iter().filter(|c| c.0.starts_with(page));
        let (yes, no): (Vec<&Case>, Vec<&Case>) = of_page.partition(|c| c.3);
        assert!(
            !yes.is_empty() && !no.is_empty(),
            "{page} needs both outcomes"
        );
    }
}

#[test]
fn patterns_eventbridge_rejects_fail_to_compile_at_the_right_path() {
    let mut failures = Vec::new();
    for (why, pattern, path) in REJECTED {
        match Pattern::compile(&parse(pattern)) {
            Ok(_) => failures.push(format!("{why}: compiled: {pattern}")),
            Err(errors) => {
                if !errors.iter().any(|e| e.path == *path) {
                    failures.push(format!(
                        "{why}: expected an error at `{path}`, got {errors:?}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
