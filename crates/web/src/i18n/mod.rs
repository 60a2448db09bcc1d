//! Message catalogues: one TOML file per language, embedded in the binary.
//! Vietnamese is the default; English and Khmer are complete alternatives.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Lang {
    Vi,
    En,
    Km,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Vi, Lang::En, Lang::Km];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
            Lang::Km => "km",
        }
    }

    /// The language's name in itself, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Vi => "Tiếng Việt",
            Lang::En => "English",
            Lang::Km => "ភាសាខ្មែរ",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == s)
    }

    fn source(self) -> &'static str {
        match self {
            Lang::Vi => include_str!("vi.toml"),
            Lang::En => include_str!("en.toml"),
            Lang::Km => include_str!("km.toml"),
        }
    }
}

pub type Catalog = HashMap<String, String>;

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalog) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

/// Parses a catalogue; a malformed one is a build defect caught by the tests.
pub fn parse_catalog(src: &str) -> Result<Catalog, toml::de::Error> {
    let table: toml::Table = toml::from_str(src)?;
    let mut out = Catalog::new();
    flatten("", &table, &mut out);
    Ok(out)
}

fn catalogs() -> &'static HashMap<Lang, Catalog> {
    static CATALOGS: OnceLock<HashMap<Lang, Catalog>> = OnceLock::new();
    CATALOGS.get_or_init(|| {
        Lang::ALL
            .into_iter()
            .map(|l| (l, parse_catalog(l.source()).unwrap_or_default()))
            .collect()
    })
}

/// A translator for one language, handed to every template as `t`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Tr { lang }
    }

    /// The message for `key`, falling back to Vietnamese, then to the key itself
    /// (a missing key is caught by the catalogue test, never by a crash).
    pub fn get<'a>(&self, key: &'a str) -> &'a str {
        let all = catalogs();
        all.get(&self.lang)
            .and_then(|c| c.get(key))
            .or_else(|| all.get(&Lang::Vi).and_then(|c| c.get(key)))
            .map(String::as_str)
            .unwrap_or(key)
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_parses_and_has_every_key_of_every_other() {
        let parsed: Vec<(Lang, Catalog)> = Lang::ALL
            .into_iter()
            .map(|l| {
                (
                    l,
                    parse_catalog(l.source()).unwrap_or_else(|e| panic!("{}: {e}", l.code())),
                )
            })
            .collect();
        let mut missing = Vec::new();
        for (la, a) in &parsed {
            for (lb, b) in &parsed {
                for key in a.keys() {
                    if !b.contains_key(key) {
                        missing.push(format!(
                            "{} has {key} but {} does not",
                            la.code(),
                            lb.code()
                        ));
                    }
                }
            }
            for (key, value) in a {
                assert!(!value.trim().is_empty(), "{}: {key} is empty", la.code());
            }
        }
        missing.sort();
        assert!(missing.is_empty(), "missing keys:\n{}", missing.join("\n"));
    }

    #[test]
    fn every_key_used_in_code_and_templates_exists() {
        let vi = parse_catalog(Lang::Vi.source()).unwrap();
        let root = concat!(env!("CARGO_MANIFEST_DIR"));
        let mut used = Vec::new();
        collect_keys(std::path::Path::new(root).join("src").as_path(), &mut used);
        collect_keys(
            std::path::Path::new(root).join("templates").as_path(),
            &mut used,
        );
        assert!(
            used.len() > 50,
            "found only {} keys: is the scan broken?",
            used.len()
        );
        let unknown: Vec<_> = used.iter().filter(|k| !vi.contains_key(*k)).collect();
        assert!(
            unknown.is_empty(),
            "keys used but not in vi.toml: {unknown:?}"
        );
    }

    /// Finds literal keys in `t.get("…")` calls and in `"error.…"` codes.
    fn collect_keys(dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                collect_keys(&p, out);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            for pattern in ["t.get(\"", "key: \"", "code: \""] {
                for part in text.split(pattern).skip(1) {
                    if let Some(end) = part.find('"') {
                        let key = &part[..end];
                        if key.contains('.') && !key.contains(' ') && !key.contains('{') {
                            out.push(key.to_owned());
                        }
                    }
                }
            }
        }
    }

    /// Keys built at run time (`kind.…`, `role.…`, `reorg.…`) and the error codes
    /// that the domain and the services hand to the web layer.
    #[test]
    fn every_computed_key_and_error_code_exists() {
        use lienthong_domain::{AgencyKind, ReorganisationKind, Role};
        let vi = parse_catalog(Lang::Vi.source()).unwrap();
        let mut keys: Vec<String> = Vec::new();
        keys.extend(Role::ALL.iter().map(|r| crate::role_key(r).to_owned()));
        keys.extend(
            AgencyKind::ALL
                .iter()
                .map(|k| format!("kind.{}", k.as_str())),
        );
        keys.extend(
            ["staff", "citizen", "business"]
                .iter()
                .map(|k| format!("kind.{k}")),
        );
        keys.extend(
            ReorganisationKind::ALL
                .iter()
                .map(|k| format!("reorg.{}", k.as_str())),
        );
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut codes = Vec::new();
        for dir in ["domain/src", "services/src"] {
            collect_error_codes(&root.join(dir), &mut codes);
        }
        assert!(codes.len() > 20, "found only {codes:?}");
        keys.extend(codes);
        let missing: Vec<_> = keys.iter().filter(|k| !vi.contains_key(*k)).collect();
        assert!(missing.is_empty(), "missing in vi.toml: {missing:?}");
    }

    fn collect_error_codes(dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                collect_error_codes(&p, out);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                for part in text.split("\"error.").skip(1) {
                    if let Some(end) = part.find('"') {
                        out.push(format!("error.{}", &part[..end]));
                    }
                }
            }
        }
    }

    #[test]
    fn falls_back_to_vietnamese_then_to_the_key() {
        assert_eq!(Tr::new(Lang::En).get("sign_in.title"), "Sign in");
        assert_eq!(Tr::new(Lang::Vi).get("sign_in.title"), "Đăng nhập");
        assert_eq!(Tr::new(Lang::Km).get("no.such.key"), "no.such.key");
    }
}
