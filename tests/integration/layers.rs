//! The layering of `src/`, checked on the source text: no import cycle between files, and
//! dependencies pointing one way (protocol ← provider/config/hooks ← session ← web; server
//! apart). A file that names `crate::a::…`, `super::…`, `self::{…}` or `use crate::{…}`
//! depends on the file defining that module; edges into `lib.rs`/`mod.rs` (re-exports) do
//! not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

struct Crate {
    /// Module path → file, relative to `src/`.
    files: BTreeMap<Module, PathBuf>,
    edges: BTreeMap<Module, BTreeSet<Module>>,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_root(file: &Path) -> bool {
    matches!(
        file.file_stem().and_then(|s| s.to_str()),
        Some("mod" | "lib" | "main")
    )
}

/// Comments and string literals removed.
fn strip(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
                out.push_str("\"\"");
            }
            c => out.push(c),
        }
    }
    out
}

fn segments(path: &str) -> Module {
    path.split("::")
        .map(|s| {
            s.trim()
                .split(" as ")
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// `a, b::{c, d}` under `prefix` → `[prefix+a], [prefix+b+c], [prefix+b+d]`.
fn expand(prefix: &Module, body: &str, out: &mut Vec<Module>) {
    let (mut depth, mut item) = (0, String::new());
    for c in body.chars().chain([',']) {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            let text = std::mem::take(&mut item);
            let text = text.trim();
            if let Some((head, rest)) = text.split_once("::{") {
                let mut inner = prefix.clone();
                inner.extend(segments(head));
                expand(&inner, rest.trim_end_matches('}'), out);
            } else if !text.is_empty() {
                let mut path = prefix.clone();
                path.extend(segments(text));
                out.push(path);
            }
        } else {
            item.push(c);
        }
    }
}

/// The module paths after each `keyword::` in `text` (a brace group is expanded).
fn references(text: &str, keyword: &str, base: &Module, out: &mut Vec<Module>) {
    let pattern = format!("{keyword}::");
    let mut rest = text;
    while let Some(at) = rest.find(&pattern) {
        let before = rest[..at].chars().last();
        rest = &rest[at + pattern.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            expand(base, &group[..end], out);
        } else {
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut module = base.clone();
            module.extend(segments(&path));
            out.push(module);
        }
    }
}

impl Crate {
    fn read(src: &Path) -> Crate {
        let mut paths = Vec::new();
        rust_files(src, &mut paths);
        let mut files = BTreeMap::new();
        for path in &paths {
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Module = rel.iter().map(|s| s.to_string_lossy().into()).collect();
            if is_root(path) {
                module.pop();
            }
            files.insert(module, rel.with_extension("rs"));
        }
        let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
        for (module, file) in &files {
            let text = strip(&std::fs::read_to_string(src.join(file)).unwrap());
            // The code of `a/b.rs` and of `a/b/mod.rs` alike is in module `a::b`: `self` is
            // that module, `super` its parent.
            let here: Module = module.clone();
            let parent = here[..here.len().saturating_sub(1)].to_vec();
            let mut refs = Vec::new();
            references(&text, "crate", &Vec::new(), &mut refs);
            references(&text, "super", &parent, &mut refs);
            references(&text, "self", &here, &mut refs);
            let targets = edges.entry(module.clone()).or_default();
            for path in refs {
                let target = (1..=path.len())
                    .rev()
                    .map(|k| path[..k].to_vec())
                    .find(|m| files.contains_key(m));
                if let Some(target) = target {
                    if &target != module && !is_root(&files[&target]) {
                        targets.insert(target);
                    }
                }
            }
        }
        Crate { files, edges }
    }

    /// One cycle, as files, if there is any.
    fn cycle(&self) -> Option<Vec<String>> {
        fn visit<'a>(
            c: &'a Crate,
            m: &'a Module,
            stack: &mut Vec<&'a Module>,
            done: &mut BTreeSet<&'a Module>,
        ) -> Option<Vec<String>> {
            if let Some(at) = stack.iter().position(|s| *s == m) {
                let names = stack[at..]
                    .iter()
                    .map(|m| c.files[*m].display().to_string());
                return Some(names.collect());
            }
            if !done.insert(m) {
                return None;
            }
            stack.push(m);
            for next in c.edges.get(m).into_iter().flatten() {
                if let Some(cycle) = visit(c, next, stack, done) {
                    return Some(cycle);
                }
            }
            stack.pop();
            None
        }
        let mut done = BTreeSet::new();
        self.files
            .keys()
            .find_map(|m| visit(self, m, &mut Vec::new(), &mut done))
    }

    /// The files under `layer` that depend on a module under one of `forbidden`.
    fn violations(&self, layer: &str, forbidden: &[&str]) -> Vec<String> {
        let mut found = Vec::new();
        for (module, targets) in &self.edges {
            if module.first().map(String::as_str) != Some(layer) {
                continue;
            }
            for target in targets {
                if forbidden.contains(&target.first().map_or("", String::as_str)) {
                    found.push(format!(
                        "{} -> {}",
                        self.files[module].display(),
                        self.files[target].display()
                    ));
                }
            }
        }
        found
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_import_cycle_between_files() {
    let krate = Crate::read(&src());
    assert!(krate.files.len() > 20, "read {} files", krate.files.len());
    assert_eq!(krate.cycle(), None, "an import cycle between files of src/");
}

#[test]
fn dependencies_point_one_way() {
    let krate = Crate::read(&src());
    let upper = [
        "provider", "config", "hooks", "login", "session", "web", "server",
    ];
    assert_eq!(krate.violations("protocol", &upper), Vec::<String>::new());
    assert_eq!(
        krate.violations("session", &["web", "server"]),
        Vec::<String>::new()
    );
    for layer in [
        "protocol", "provider", "config", "hooks", "login", "session", "web",
    ] {
        assert_eq!(krate.violations(layer, &["server"]), Vec::<String>::new());
    }
    // Nothing of the crate's own depends on the testing kit; the kit uses the public API
    // like any app (what `lib.rs` re-exports), none of the crate's internals.
    for layer in [
        "protocol", "provider", "config", "hooks", "login", "session", "web", "server",
    ] {
        assert_eq!(krate.violations(layer, &["testing"]), Vec::<String>::new());
    }
    let internals = [
        "protocol", "provider", "config", "hooks", "login", "session", "web", "server", "access",
        "identity", "error", "secret", "util",
    ];
    assert_eq!(
        krate.violations("testing", &internals),
        Vec::<String>::new()
    );
    // The protocol layer is plain async Rust: no Rocket.
    let mut files = Vec::new();
    rust_files(&src().join("protocol"), &mut files);
    for file in files {
        let text = strip(&std::fs::read_to_string(&file).unwrap());
        assert!(!text.contains("rocket"), "{} uses rocket", file.display());
    }
}

#[test]
fn the_checker_finds_cycles() {
    let dir = std::env::temp_dir().join(format!("rocket_oauth-layers-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("b")).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod a; mod b;").unwrap();
    std::fs::write(dir.join("a.rs"), "use crate::b::c::Thing;").unwrap();
    std::fs::write(dir.join("b/mod.rs"), "mod c;").unwrap();
    std::fs::write(dir.join("b/c.rs"), "use crate::{a::Other, b};").unwrap();
    let krate = Crate::read(&dir);
    let cycle = krate.cycle().unwrap();
    assert_eq!(cycle.len(), 2, "{cycle:?}");
    std::fs::write(dir.join("b/c.rs"), "use super::super::lib_thing;").unwrap();
    assert_eq!(Crate::read(&dir).cycle(), None);
    // `super` in a file of a folder is that folder's module.
    std::fs::write(dir.join("b/mod.rs"), "mod c; mod d;").unwrap();
    std::fs::write(dir.join("b/c.rs"), "use super::d::Thing;").unwrap();
    std::fs::write(dir.join("b/d.rs"), "use super::c::Other;").unwrap();
    std::fs::write(dir.join("a.rs"), "").unwrap();
    assert_eq!(Crate::read(&dir).cycle().map(|c| c.len()), Some(2));
    std::fs::remove_dir_all(dir).unwrap();
}
