//! The OpenAPI description of the JSON API (`src/openapi.json`, served at
//! `/api/openapi.json`): valid OpenAPI 3.1, naming every `/api/` route of the
//! source with exactly its methods, and every `$ref` resolving. A guard test fails
//! when an API route is added, removed or given another method without the
//! document following.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

const DOCUMENT: &str = include_str!("../src/openapi.json");

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("src/openapi.json is valid JSON")
}

#[test]
fn the_document_is_openapi_3_1_with_bearer_tokens() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Liên Thông API");
    assert!(doc["info"]["version"].is_string());
    let description = doc["info"]["description"].as_str().unwrap();
    assert!(description.contains("English") && description.contains("Tiếng Việt"));
    let bearer = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(doc["security"][0]["bearerAuth"], serde_json::json!([]));
}

/// The methods of a `.route(...)` call's text (string literals blanked out).
fn methods_in(call: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for m in METHODS {
        let needle = format!("{m}(");
        for (at, _) in call.match_indices(&needle) {
            let before = call[..at].chars().next_back();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                out.insert(m.to_owned());
            }
        }
    }
    out
}

/// The text of a call from just after its `(` to its closing `)`, with the
/// contents of string literals replaced by spaces.
fn call_text(src: &str) -> String {
    let mut out = String::new();
    let mut depth = 1;
    let mut chars = src.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(s) = chars.next() {
                    match s {
                        '\\' => {
                            chars.next();
                            out.push_str("  ");
                        }
                        '"' => break,
                        _ => out.push(' '),
                    }
                }
                out.push('"');
            }
            '(' => {
                depth += 1;
                out.push(c);
            }
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return out;
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    panic!("unbalanced .route( call");
}

/// Every route under `/api/` and `/edxml/` in the source, with the methods it answers.
fn api_routes() -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    collect_routes(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

fn collect_routes(dir: &Path, out: &mut BTreeMap<String, BTreeSet<String>>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_routes(&p, out);
            continue;
        }
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for (at, _) in text.match_indices(".route(") {
            let rest = &text[at + ".route(".len()..];
            let Some(literal) = rest.trim_start().strip_prefix('"') else {
                continue;
            };
            let path = &literal[..literal.find('"').unwrap()];
            // The JSON API, and the edXML endpoint peers deliver packages to.
            if !path.starts_with("/api/") && !path.starts_with("/edxml/") {
                continue;
            }
            let methods = methods_in(&call_text(rest));
            assert!(!methods.is_empty(), "{}: no method for {path}", p.display());
            out.entry(path.to_owned()).or_default().extend(methods);
        }
    }
}

fn operations(item: &Value) -> BTreeSet<String> {
    item.as_object()
        .unwrap()
        .keys()
        .filter(|k| METHODS.contains(&k.as_str()))
        .cloned()
        .collect()
}

#[test]
fn every_api_route_in_the_source_is_documented_with_its_methods() {
    let routes = api_routes();
    // The scan must see routes written over several lines too.
    for expected in [
        "/api/openapi.json",
        "/api/v1/auth/token",
        "/api/v1/documents/incoming",
        "/api/v1/documents/{id}/attachments/{attachment}",
        "/api/v1/documents/outgoing",
        "/api/v1/search",
    ] {
        assert!(
            routes.contains_key(expected),
            "route scan missed {expected}: {routes:?}"
        );
    }
    let doc = document();
    let paths = doc["paths"].as_object().unwrap();
    for (route, methods) in &routes {
        let item = paths
            .get(route)
            .unwrap_or_else(|| panic!("{route} is not in src/openapi.json"));
        assert_eq!(&operations(item), methods, "methods of {route}");
    }
    let stale: Vec<_> = paths
        .keys()
        .filter(|p| !routes.contains_key(p.as_str()))
        .collect();
    assert!(stale.is_empty(), "documented but not routed: {stale:?}");
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(x, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_and_every_component_is_used() {
    let doc = document();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 50, "only {} references", refs.len());
    for r in &refs {
        assert!(r.starts_with("#/components/"), "non-local $ref {r}");
        assert!(resolve(&doc, r).is_some(), "$ref {r} resolves to nothing");
    }
    let used: BTreeSet<&str> = refs.iter().map(String::as_str).collect();
    for kind in ["schemas", "responses", "parameters"] {
        for name in doc["components"][kind].as_object().unwrap().keys() {
            let r = format!("#/components/{kind}/{name}");
            assert!(used.contains(r.as_str()), "{r} is never used");
        }
    }
    for name in [
        "Document",
        "Attachment",
        "Event",
        "Task",
        "RegisterRow",
        "Hit",
        "Error",
        "Agency",
        "Person",
        "Inbox",
    ] {
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "no schema {name}"
        );
    }
}

/// An operation's parameters, path-level ones included, with references followed.
fn parameters<'a>(doc: &'a Value, item: &'a Value, op: &'a Value) -> Vec<&'a Value> {
    item["parameters"]
        .as_array()
        .into_iter()
        .chain(op["parameters"].as_array())
        .flatten()
        .map(|p| match p["$ref"].as_str() {
            Some(r) => resolve(doc, r).unwrap(),
            None => p,
        })
        .collect()
}

#[test]
fn operations_declare_their_path_parameters_and_errors() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let in_template: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for method in operations(item) {
            let op = &item[&method];
            let what = format!("{method} {path}");
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            let params = parameters(&doc, item, op);
            let declared: BTreeSet<&str> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(p["required"], true, "{what}: path parameters are required");
                    p["name"].as_str().unwrap()
                })
                .collect();
            assert_eq!(declared, in_template, "{what}: path parameters");
            for p in &params {
                assert!(
                    p["schema"].is_object(),
                    "{what}: {} has no schema",
                    p["name"]
                );
            }
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{what}: no success response"
            );
            let public = op["security"] == serde_json::json!([]);
            if !public {
                assert!(responses.contains_key("401"), "{what}: no 401");
            }
            if op.get("requestBody").is_some() && path.starts_with("/edxml/") {
                // Peers post XML packages, and are told when one is too large.
                assert!(
                    op["requestBody"]["content"]["application/xml"]["schema"].is_object(),
                    "{what}: no XML body schema"
                );
                assert!(responses.contains_key("413"), "{what}: no 413");
            } else if op.get("requestBody").is_some() {
                assert!(
                    op["requestBody"]["content"]["application/json"]["schema"].is_object(),
                    "{what}: no JSON body schema"
                );
                for status in ["400", "413", "415"] {
                    assert!(responses.contains_key(status), "{what}: no {status}");
                }
            }
        }
    }
    for (path, created) in [
        ("/api/v1/documents/incoming", "201"),
        ("/api/v1/documents/outgoing", "201"),
    ] {
        let responses = &doc["paths"][path]["post"]["responses"];
        assert!(responses[created].is_object(), "POST {path}: no {created}");
        for status in ["403", "422"] {
            assert!(responses[status].is_object(), "POST {path}: no {status}");
        }
    }
    assert!(doc["paths"]["/api/v1/documents/incoming"]["post"]["responses"]["409"].is_object());
    assert!(doc["paths"]["/api/v1/auth/token"]["post"]["responses"]["429"].is_object());
}

#[test]
fn request_schemas_require_what_the_code_requires() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let incoming = &schemas["IncomingRequest"];
    assert_eq!(
        incoming["required"],
        serde_json::json!(["symbol", "issued_on", "type", "subject"])
    );
    assert_eq!(
        incoming["anyOf"],
        serde_json::json!([{"required": ["issuer"]}, {"required": ["issuer_code"]}])
    );
    assert_eq!(incoming["additionalProperties"], false);
    assert_eq!(schemas["Date"]["pattern"], r"^\d{4}-\d{2}-\d{2}$");
    assert_eq!(
        schemas["OutgoingDraftRequest"]["required"],
        serde_json::json!(["doc_type", "subject"])
    );
    assert_eq!(
        schemas["TokenRequest"]["required"],
        serde_json::json!(["username", "password"])
    );
}

#[tokio::test]
async fn the_document_is_served_as_json() {
    for s in common::servers() {
        let res = common::client()
            .get(format!("{}/api/openapi.json", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", s.backend);
        let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        let served: Value = res.json().await.unwrap();
        assert_eq!(served, document());
    }
}
