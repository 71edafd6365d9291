use std::cell::RefCell;
use std::rc::Rc;

use serde_json::json;

use super::*;

const LIMIT: Duration = Duration::from_millis(500);

fn run(
    source: &str,
    function: &str,
    context: serde_json::Value,
) -> Result<Option<serde_json::Value>, JsError> {
    invoke("test.js", source, function, &context, LIMIT, |_, _| {})
}

#[test]
fn an_export_is_called_with_the_context_and_its_answer_comes_back_as_json() {
    let source = r#"
        import { util } from '@aws-appsync/utils'
        export function onPublish(ctx) {
          return ctx.events.map(e => ({ id: e.id, payload: { ...e.payload, seen: true, id: util.autoId().length } }))
        }"#;
    let out = run(
        source,
        "onPublish",
        json!({"events": [{"id": "a", "payload": {"n": 1}}]}),
    );
    assert_eq!(
        out,
        Ok(Some(
            json!([{"id": "a", "payload": {"n": 1, "seen": true, "id": 36}}])
        ))
    );
}

#[test]
fn a_missing_export_is_none_and_undefined_is_null() {
    let source = "export function onSubscribe(ctx) {}";
    assert_eq!(run(source, "onPublish", json!({})), Ok(None));
    assert_eq!(
        run(source, "onSubscribe", json!({})),
        Ok(Some(serde_json::Value::Null))
    );
}

#[test]
fn util_error_and_util_unauthorized_are_told_apart_from_other_throws() {
    let source = r#"
        import { util } from '@aws-appsync/utils'
        export const a = () => util.error('Operation not allowed')
        export const b = () => util.error('typed', 'CustomError')
        export const c = () => util.unauthorized()
        export const d = () => { throw new TypeError('boom') }
        export const e = () => { throw 'a string' }"#;
    assert_eq!(
        run(source, "a", json!({})),
        Err(JsError::UtilError {
            message: "Operation not allowed".into(),
            error_type: None
        })
    );
    assert_eq!(
        run(source, "b", json!({})),
        Err(JsError::UtilError {
            message: "typed".into(),
            error_type: Some("CustomError".into())
        })
    );
    assert_eq!(run(source, "c", json!({})), Err(JsError::Unauthorized));
    let JsError::Threw(d) = run(source, "d", json!({})).unwrap_err() else {
        panic!("a throw");
    };
    assert!(d.starts_with("test.js: TypeError: boom"), "{d}");
    assert_eq!(
        run(source, "e", json!({})),
        Err(JsError::Threw("test.js: a string".into()))
    );
}

#[test]
fn an_endless_loop_is_cut_off_at_the_time_limit() {
    let started = Instant::now();
    let out = run(
        "export function onPublish() { for (;;) {} }",
        "onPublish",
        json!({}),
    );
    assert_eq!(out, Err(JsError::TimedOut(LIMIT)));
    assert!(started.elapsed() >= LIMIT);
    assert!(started.elapsed() < LIMIT * 4, "{:?}", started.elapsed());
}

#[test]
fn a_loop_in_the_modules_top_level_code_is_cut_off_too() {
    let out = run(
        "while (true) {}\nexport const onPublish = () => []",
        "onPublish",
        json!({}),
    );
    assert_eq!(out, Err(JsError::TimedOut(LIMIT)));
}

#[test]
fn runaway_memory_and_recursion_fail_the_invocation_not_the_process() {
    let memory = run(
        "export function f() { const a = []; for (;;) a.push('x'.repeat(1 << 16)) }",
        "f",
        json!({}),
    );
    assert!(matches!(memory, Err(JsError::Threw(_))), "{memory:?}");
    let recursion = run("export function f() { return f() + 1 }", "f", json!({}));
    assert!(matches!(recursion, Err(JsError::Threw(_))), "{recursion:?}");
}

#[test]
fn syntax_errors_and_unknown_imports_are_load_errors_naming_the_file() {
    let syntax = run("export function f( {", "f", json!({})).unwrap_err();
    assert!(
        matches!(&syntax, JsError::Load(m) if m.starts_with("test.js: SyntaxError")),
        "{syntax:?}"
    );
    let import = run(
        "import x from 'left-pad'\nexport const f = () => x",
        "f",
        json!({}),
    )
    .unwrap_err();
    assert!(
        matches!(&import, JsError::Load(m) if m.contains("left-pad")),
        "{import:?}"
    );
}

#[test]
fn console_lines_go_to_the_log_callback() {
    let lines = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&lines);
    let out = invoke(
        "test.js",
        "console.log('loaded')\nexport function f(ctx) { console.warn('got', ctx.n, {a: 1}); return 1 }",
        "f",
        &json!({"n": 2}),
        LIMIT,
        move |level, text| sink.borrow_mut().push(format!("{level} {text}")),
    );
    assert_eq!(out, Ok(Some(json!(1))));
    assert_eq!(
        *lines.borrow(),
        vec!["info loaded", r#"warn got 2 {"a":1}"#]
    );
}

#[test]
fn util_time_answers_the_current_time() {
    let out = run(
        "import { util } from '@aws-appsync/utils'\nexport const f = () => [util.time.nowISO8601(), util.time.nowEpochMilliSeconds()]",
        "f",
        json!({}),
    )
    .unwrap()
    .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let ms = out[1].as_i64().unwrap();
    assert!((now - ms).abs() < 5_000);
    assert!(out[0].as_str().unwrap().ends_with('Z'));
}
