//! The layering of `src/`, checked on the code as the compiler lexes it (`proc-macro2`'s
//! tokenizer: comments, strings and char literals can hide nothing): no import cycle between
//! files, none between the entries of a folder, and dependencies pointing one way (protocol ←
//! provider/config/hooks ← session ← web; server apart; the testing kit on the public API).
//!
//! A file that names `crate::a::…`, `super::…` or `self::…` (in a path or a `use` tree)
//! depends on the file defining that module. A module root (`lib.rs`, `mod.rs`) is a file
//! like the others: a name used through it is an edge to the root when the root defines it,
//! to the submodule it is re-exported from when it re-exports it, and nothing otherwise. The
//! rules are those of `shared/tools/import_cycles.py`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

type Module = Vec<String>;

/// One path a file names: the module it starts from, then its segments.
type Reference = Vec<String>;

struct Crate {
    /// Module path → file, relative to `src/`.
    files: BTreeMap<Module, PathBuf>,
    /// Module path → its tokens, flattened per group.
    tokens: BTreeMap<Module, Vec<TokenTree>>,
    edges: BTreeMap<Module, BTreeSet<Module>>,
    /// The edges that do not go through the crate root's re-exports (the public API).
    internal_edges: BTreeMap<Module, BTreeSet<Module>>,
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

fn ident(token: Option<&TokenTree>) -> Option<String> {
    match token {
        Some(TokenTree::Ident(i)) => Some(i.to_string()),
        _ => None,
    }
}

fn is_punct(token: Option<&TokenTree>, ch: char) -> bool {
    matches!(token, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

fn is_path_sep(tokens: &[TokenTree], at: usize) -> bool {
    is_punct(tokens.get(at), ':') && is_punct(tokens.get(at + 1), ':')
}

/// Applies `segments` to `base`: `super` goes up, `self` stays, a name goes down.
fn walk(base: &Module, segments: &[String]) -> Module {
    let mut module = base.clone();
    for segment in segments {
        match segment.as_str() {
            "super" => {
                module.pop();
            }
            "self" => {}
            name => module.push(name.to_owned()),
        }
    }
    module
}

/// The leaves of a `use`-tree body (`a, b::{c, d as e}, f::*`) under `prefix`, each with the
/// name it is known by (`None` for a glob).
fn use_leaves(prefix: &Module, body: &[TokenTree], out: &mut Vec<(Reference, Option<String>)>) {
    for item in body.split(|t| is_punct(Some(t), ',')) {
        let mut path = prefix.clone();
        let mut at = 0;
        let mut leaf = true;
        while at < item.len() {
            match &item[at] {
                TokenTree::Ident(i) if i == "as" => {
                    let alias = ident(item.get(at + 1));
                    out.push((path.clone(), alias));
                    leaf = false;
                    break;
                }
                TokenTree::Ident(i) => path = walk(&path, &[i.to_string()]),
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    use_leaves(&path, &inner, out);
                    leaf = false;
                    break;
                }
                TokenTree::Punct(p) if p.as_char() == '*' => {
                    out.push((path.clone(), None));
                    leaf = false;
                    break;
                }
                _ => {}
            }
            at += 1;
        }
        if leaf && path.len() > prefix.len() {
            let name = path.last().cloned();
            out.push((path, name));
        } else if leaf
            && item
                .iter()
                .any(|t| ident(Some(t)).as_deref() == Some("self"))
        {
            out.push((path.clone(), path.last().cloned()));
        }
    }
}

/// Every path starting with `crate`, `super` or `self` in `tokens` (nested groups included),
/// resolved from module `here`.
fn references(tokens: &[TokenTree], here: &Module, out: &mut Vec<Reference>) {
    let mut at = 0;
    while at < tokens.len() {
        let start = ident(tokens.get(at));
        let first = matches!(start.as_deref(), Some("crate" | "super" | "self"))
            && is_path_sep(tokens, at + 1)
            && !(at >= 2 && is_path_sep(tokens, at - 2));
        if let (true, Some(start)) = (first, start) {
            let mut path = if start == "crate" {
                Vec::new()
            } else {
                walk(here, &[start])
            };
            at += 1;
            while is_path_sep(tokens, at) {
                match tokens.get(at + 2) {
                    Some(TokenTree::Ident(i)) => {
                        path = walk(&path, &[i.to_string()]);
                        at += 3;
                    }
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                        let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                        let mut leaves = Vec::new();
                        use_leaves(&path, &inner, &mut leaves);
                        out.extend(leaves.into_iter().map(|(path, _)| path));
                        at += 3;
                        break;
                    }
                    _ => {
                        at += 2;
                        break;
                    }
                }
            }
            out.push(path);
            continue;
        }
        if let Some(TokenTree::Group(g)) = tokens.get(at) {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            references(&inner, here, out);
        }
        at += 1;
    }
}

/// Whether `tokens` (nested groups included) define an item called `name`.
fn defines(tokens: &[TokenTree], name: &str) -> bool {
    const ITEMS: [&str; 8] = [
        "struct", "enum", "fn", "trait", "type", "const", "static", "union",
    ];
    tokens.iter().enumerate().any(|(at, token)| match token {
        TokenTree::Ident(i) if ITEMS.contains(&i.to_string().as_str()) => {
            ident(tokens.get(at + 1)).as_deref() == Some(name)
        }
        TokenTree::Ident(i) if i == "macro_rules" => {
            ident(tokens.get(at + 2)).as_deref() == Some(name)
        }
        TokenTree::Group(g) => defines(&g.stream().into_iter().collect::<Vec<_>>(), name),
        _ => false,
    })
}

/// The `use` declarations of `tokens` (top level and inline modules), as leaves resolved from
/// module `here`: bare first segments are the module's children (2018 paths).
fn uses(tokens: &[TokenTree], here: &Module) -> Vec<(Reference, Option<String>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < tokens.len() {
        if ident(tokens.get(at)).as_deref() == Some("use") {
            let end = (at..tokens.len())
                .find(|&i| is_punct(tokens.get(i), ';'))
                .unwrap_or(tokens.len());
            let body = &tokens[at + 1..end];
            let base = match ident(body.first()).as_deref() {
                Some("crate") => Vec::new(),
                _ => here.clone(),
            };
            let body: Vec<TokenTree> = match ident(body.first()).as_deref() {
                Some("crate") => body[1..].to_vec(),
                _ => body.to_vec(),
            };
            use_leaves(&base, &body, &mut out);
            at = end;
        }
        at += 1;
    }
    out
}

impl Crate {
    fn read(src: &Path) -> Crate {
        let mut paths = Vec::new();
        rust_files(src, &mut paths);
        let mut files = BTreeMap::new();
        let mut tokens = BTreeMap::new();
        for path in &paths {
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Module = rel.iter().map(|s| s.to_string_lossy().into()).collect();
            if is_root(path) {
                module.pop();
            }
            let text = std::fs::read_to_string(path).unwrap();
            let stream = TokenStream::from_str(&text)
                .unwrap_or_else(|e| panic!("{} does not lex: {e:?}", path.display()));
            tokens.insert(module.clone(), stream.into_iter().collect());
            files.insert(module, rel.with_extension("rs"));
        }
        let mut krate = Crate {
            files,
            tokens,
            edges: BTreeMap::new(),
            internal_edges: BTreeMap::new(),
        };
        for module in krate.files.keys().cloned().collect::<Vec<_>>() {
            let mut refs = Vec::new();
            references(&krate.tokens[&module], &module, &mut refs);
            let mut targets = BTreeSet::new();
            let mut internal = BTreeSet::new();
            for path in &refs {
                let Some(target) = krate.target(path, 0).filter(|t| *t != module) else {
                    continue;
                };
                if !krate.is_public_path(path) {
                    internal.insert(target.clone());
                }
                targets.insert(target);
            }
            krate.edges.insert(module.clone(), targets);
            krate.internal_edges.insert(module, internal);
        }
        krate
    }

    /// Whether `path` names an item of the public API: what the crate root re-exports, or a
    /// name directly in one of its `pub mod`s (`crate::session::SessionStore`).
    fn is_public_path(&self, path: &[String]) -> bool {
        let public_modules = self.public_modules();
        match self.module_of(path).as_deref() {
            Some([]) => true,
            Some([module]) => path.len() == 2 && public_modules.contains(module),
            _ => false,
        }
    }

    /// The modules the crate root declares `pub mod`.
    fn public_modules(&self) -> BTreeSet<String> {
        let tokens = &self.tokens[&Vec::new()];
        let mut found = BTreeSet::new();
        for (at, token) in tokens.iter().enumerate() {
            if ident(Some(token)).as_deref() == Some("pub")
                && ident(tokens.get(at + 1)).as_deref() == Some("mod")
            {
                found.extend(ident(tokens.get(at + 2)));
            }
        }
        found
    }

    /// The longest prefix of `path` that is a module of the crate.
    fn module_of(&self, path: &[String]) -> Option<Module> {
        (0..=path.len())
            .rev()
            .map(|k| path[..k].to_vec())
            .find(|m| self.files.contains_key(m))
    }

    /// The file that `path` depends on: its module's file, or for a module root, where the
    /// named item really is (`None` when the root neither defines nor re-exports it).
    fn target(&self, path: &[String], depth: usize) -> Option<Module> {
        let module = self.module_of(path)?;
        if !is_root(&self.files[&module]) {
            return Some(module);
        }
        let name = path.get(module.len())?;
        let tokens = &self.tokens[&module];
        if defines(tokens, name) {
            return Some(module);
        }
        if depth > 8 {
            return None;
        }
        uses(tokens, &module)
            .into_iter()
            .find(|(_, known_as)| known_as.as_deref() == Some(name.as_str()))
            .and_then(|(source, _)| self.target(&source, depth + 1))
    }

    /// The cycles between files, each as its sorted file names.
    fn cycles(&self) -> Vec<Vec<String>> {
        let nodes: Vec<Module> = self.files.keys().cloned().collect();
        strongly_connected(&nodes, &self.edges)
            .into_iter()
            .map(|c| self.names(&c, None))
            .collect()
    }

    /// The cycles between the entries of each folder (its files, its sub-folders taken whole,
    /// and its own `mod.rs`).
    fn folder_cycles(&self) -> Vec<Vec<String>> {
        let mut found = Vec::new();
        for (folder, file) in &self.files {
            if !is_root(file) {
                continue;
            }
            let entry = |m: &Module| -> Option<Module> {
                (m.starts_with(folder)).then(|| m[..(folder.len() + 1).min(m.len())].to_vec())
            };
            let mut out: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
            for (a, targets) in &self.edges {
                let Some(ea) = entry(a) else { continue };
                for b in targets {
                    if let Some(eb) = entry(b).filter(|eb| *eb != ea) {
                        out.entry(ea.clone()).or_default().insert(eb);
                    }
                }
            }
            let nodes: Vec<Module> = out.keys().cloned().collect();
            for cycle in strongly_connected(&nodes, &out) {
                found.push(self.names(&cycle, Some(folder)));
            }
        }
        found
    }

    fn names(&self, modules: &[Module], folder: Option<&Module>) -> Vec<String> {
        let mut names: Vec<String> = modules
            .iter()
            .map(|m| match self.files.get(m) {
                Some(file) if folder.is_some_and(|f| f != m) && is_root(file) => {
                    format!("{}/", file.parent().unwrap().display())
                }
                Some(file) => file.display().to_string(),
                None => m.join("/"),
            })
            .collect();
        names.sort();
        names
    }

    /// The files under `layer` that depend on a module under one of `forbidden`.
    fn violations(&self, layer: &str, forbidden: &[&str]) -> Vec<String> {
        self.violations_in(&self.edges, layer, forbidden)
    }

    /// Like [`Crate::violations`], but what the crate root re-exports (the public API) is
    /// allowed.
    fn internal_violations(&self, layer: &str, forbidden: &[&str]) -> Vec<String> {
        self.violations_in(&self.internal_edges, layer, forbidden)
    }

    fn violations_in(
        &self,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        layer: &str,
        forbidden: &[&str],
    ) -> Vec<String> {
        let mut found = Vec::new();
        for (module, targets) in edges {
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

/// Tarjan's strongly connected components of more than one node.
fn strongly_connected(
    nodes: &[Module],
    edges: &BTreeMap<Module, BTreeSet<Module>>,
) -> Vec<Vec<Module>> {
    struct State<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Module) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in s.edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.stack.contains(&w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let at = s.stack.iter().position(|m| *m == v).unwrap();
            let component: Vec<Module> = s.stack.drain(at..).cloned().collect();
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in nodes {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_import_cycle_between_files_or_a_folders_entries() {
    let krate = Crate::read(&src());
    assert!(krate.files.len() > 20, "read {} files", krate.files.len());
    assert_eq!(krate.cycles(), Vec::<Vec<String>>::new(), "between files");
    assert_eq!(
        krate.folder_cycles(),
        Vec::<Vec<String>>::new(),
        "between a folder's entries"
    );
}

#[test]
fn dependencies_point_one_way() {
    let krate = Crate::read(&src());
    let upper = [
        "provider", "config", "hooks", "login", "session", "web", "server", "resource",
    ];
    assert_eq!(krate.violations("protocol", &upper), Vec::<String>::new());
    // The resource server is a wing of its own over the protocol and configuration layers:
    // no login session, no login routes, no authorization server; nothing below uses it.
    assert_eq!(
        krate.violations("resource", &["web", "session", "server", "testing"]),
        Vec::<String>::new()
    );
    for layer in [
        "protocol", "provider", "config", "hooks", "login", "session", "web", "server",
    ] {
        assert_eq!(krate.violations(layer, &["resource"]), Vec::<String>::new());
    }
    assert_eq!(
        krate.violations("session", &["web", "server"]),
        Vec::<String>::new()
    );
    for layer in [
        "protocol", "provider", "config", "hooks", "login", "session", "web",
    ] {
        assert_eq!(krate.violations(layer, &["server"]), Vec::<String>::new());
    }
    // The server stands apart: it shares small utilities and the pages, not the login's web
    // layer or sessions.
    assert_eq!(
        krate.violations("server", &["web", "session"]),
        Vec::<String>::new()
    );
    // Nothing of the crate's own depends on the testing kit; the kit uses the public API
    // like any app (what `lib.rs` re-exports), none of the crate's internals.
    for layer in [
        "protocol", "provider", "config", "hooks", "login", "session", "web", "server",
    ] {
        assert_eq!(krate.violations(layer, &["testing"]), Vec::<String>::new());
    }
    let internals = [
        "protocol", "provider", "config", "hooks", "login", "session", "web", "server", "access",
        "identity", "error", "secret", "util", "pages",
    ];
    assert_eq!(
        krate.internal_violations("testing", &internals),
        Vec::<String>::new()
    );
    // The protocol layer is plain async Rust: no Rocket.
    for (module, tokens) in &krate.tokens {
        if module.first().map(String::as_str) == Some("protocol") {
            let mut names = Vec::new();
            idents(tokens, &mut names);
            assert!(
                !names.iter().any(|n| n == "rocket"),
                "{} uses rocket",
                krate.files[module].display()
            );
        }
    }
}

fn idents(tokens: &[TokenTree], out: &mut Vec<String>) {
    for token in tokens {
        match token {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => idents(&g.stream().into_iter().collect::<Vec<_>>(), out),
            _ => {}
        }
    }
}

/// A scratch copy of a source tree.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("rocket_oauth-layers-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, file: &str, text: &str) -> &Self {
        let path = self.0.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// A copy of the crate's `src/`.
    fn of_src(tag: &str) -> Scratch {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).unwrap();
            for entry in std::fs::read_dir(from).unwrap() {
                let path = entry.unwrap().path();
                let dest = to.join(path.file_name().unwrap());
                if path.is_dir() {
                    copy(&path, &dest);
                } else {
                    std::fs::copy(&path, &dest).unwrap();
                }
            }
        }
        let scratch = Scratch::new(tag);
        copy(&src(), &scratch.0);
        scratch
    }

    fn append(&self, file: &str, text: &str) -> &Self {
        let path = self.0.join(file);
        let mut old = std::fs::read_to_string(&path).unwrap();
        old.push_str(text);
        std::fs::write(path, old).unwrap();
        self
    }

    fn read(&self) -> Crate {
        Crate::read(&self.0)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_checker_finds_cycles() {
    let dir = Scratch::new("basic");
    dir.write("lib.rs", "mod a; mod b;")
        .write("a.rs", "use crate::b::c::Thing;")
        .write("b/mod.rs", "mod c;")
        .write("b/c.rs", "use crate::{a::Other, b};");
    assert_eq!(dir.read().cycles(), vec![vec!["a.rs", "b/c.rs"]]);
    dir.write("b/c.rs", "use super::super::lib_thing;");
    assert!(dir.read().cycles().is_empty());
    // `super` in a file of a folder is that folder's module.
    dir.write("b/mod.rs", "mod c; mod d;")
        .write("b/c.rs", "use super::d::Thing;")
        .write("b/d.rs", "use super::c::Other;")
        .write("a.rs", "");
    assert_eq!(dir.read().cycles(), vec![vec!["b/c.rs", "b/d.rs"]]);
}

#[test]
fn strings_comments_and_char_literals_hide_nothing() {
    let dir = Scratch::new("lexing");
    dir.write("lib.rs", "mod a; mod b;")
        .write("b.rs", "use crate::a::X; pub struct Y;")
        // The char literal `'"'` would open a string for a text-level reader and hide the
        // import after it.
        .write(
            "a.rs",
            "pub struct X; const Q: char = '\"'; use crate::b::Y;",
        );
    assert_eq!(dir.read().cycles(), vec![vec!["a.rs", "b.rs"]]);
    // ... while a path in a string, a comment or a doc comment is no import.
    dir.write(
        "a.rs",
        "pub struct X; /// crate::b::Y\n const S: &str = \"crate::b::Y\"; // crate::b::Y",
    );
    assert!(dir.read().cycles().is_empty());
}

#[test]
fn module_roots_are_files_like_any_other() {
    let dir = Scratch::new("roots");
    // `proto/mod.rs` defines `Code` itself, and uses `flow.rs`, which names `Code`: a cycle.
    dir.write("lib.rs", "mod proto; mod util;")
        .write("proto/mod.rs", "mod flow; mod errors; pub use errors::Error; pub struct Code; fn f(_: flow::F) {} use self::flow::F;")
        .write("proto/flow.rs", "pub struct F; fn g(_: super::Code) {}")
        .write("proto/errors.rs", "pub struct Error;")
        .write("util.rs", "");
    assert_eq!(
        dir.read().cycles(),
        vec![vec!["proto/flow.rs", "proto/mod.rs"]]
    );
    // A name the root re-exports is an edge to where it is defined, not to the root.
    dir.write("proto/flow.rs", "pub struct F; fn g(_: super::Error) {}");
    let krate = dir.read();
    assert!(krate.cycles().is_empty(), "{:?}", krate.cycles());
    let flow = vec!["proto".to_owned(), "flow".to_owned()];
    let errors = vec!["proto".to_owned(), "errors".to_owned()];
    assert_eq!(krate.edges[&flow], BTreeSet::from([errors]));
}

#[test]
fn folder_cycles_are_found() {
    // No two files form a cycle, but `generic.rs` names the `oidc/` folder, whose file names
    // `generic.rs` back.
    let dir = Scratch::new("folders");
    dir.write("lib.rs", "mod p;")
        .write("p/mod.rs", "mod generic; mod oidc;")
        .write("p/generic.rs", "use super::oidc::errors::E;")
        .write("p/oidc/mod.rs", "mod errors; mod flow;")
        .write("p/oidc/errors.rs", "pub struct E;")
        .write("p/oidc/flow.rs", "use crate::p::generic::G;");
    let krate = dir.read();
    assert!(krate.cycles().is_empty());
    assert_eq!(krate.folder_cycles(), vec![vec!["p/generic.rs", "p/oidc/"]]);
}

/// The three cycles the layering once had, put back into a copy of today's `src/`: each is
/// found.
#[test]
fn the_old_cycles_put_back_are_found() {
    // The generic flow named the OpenID Connect errors while `oidc/` uses the flow.
    let copy = Scratch::of_src("flow");
    copy.append(
        "protocol/flow.rs",
        "\n#[cfg(feature = \"oidc\")]\nfn _back(_: &super::oidc::OidcFlow) {}\n",
    );
    let cycles = copy.read().folder_cycles();
    assert!(
        cycles
            .iter()
            .any(|c| c.contains(&"protocol/flow.rs".to_owned())
                && c.contains(&"protocol/oidc/".to_owned())),
        "{cycles:?}"
    );
    // The server's configuration and its store's root named each other.
    let copy = Scratch::of_src("server");
    copy.append(
        "server/config.rs",
        "\nfn _back(_: &super::store::CodeGrant) {}\n",
    );
    assert!(copy.read().cycles().contains(&vec![
        "server/config.rs".to_owned(),
        "server/store/mod.rs".to_owned()
    ]));
    // The testing kit's OpenID Connect endpoints borrowed a helper of its OAuth 2 ones, which
    // use them; the import sat after a `'"'` char literal.
    let copy = Scratch::of_src("testing");
    copy.append(
        "testing/oidc.rs",
        "\nconst _QUOTE: char = '\"';\nuse super::oauth2::routes as _back;\n",
    );
    assert!(copy.read().cycles().contains(&vec![
        "testing/oauth2.rs".to_owned(),
        "testing/oidc.rs".to_owned()
    ]));
}

/// Every `fn` in `tokens` (nested ones included): its name and how many lines it spans.
fn function_lengths(tokens: &[TokenTree], out: &mut Vec<(String, usize, usize)>) {
    for (at, token) in tokens.iter().enumerate() {
        if ident(Some(token)).as_deref() == Some("fn") {
            let Some(name) = ident(tokens.get(at + 1)) else {
                continue;
            };
            // The body: the first brace group after the name, before any `;`.
            let body = tokens[at + 1..]
                .iter()
                .take_while(|t| !is_punct(Some(t), ';'))
                .find_map(|t| match t {
                    TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Some(g),
                    _ => None,
                });
            if let Some(body) = body {
                let start = token.span().start().line;
                let end = body.span().end().line;
                out.push((name, start, end - start + 1));
            }
        }
        if let TokenTree::Group(g) = token {
            function_lengths(&g.stream().into_iter().collect::<Vec<_>>(), out);
        }
    }
}

#[test]
fn no_function_in_src_is_over_80_lines() {
    let krate = Crate::read(&src());
    let mut long = Vec::new();
    for (module, tokens) in &krate.tokens {
        let mut lengths = Vec::new();
        function_lengths(tokens, &mut lengths);
        for (name, line, length) in lengths {
            if length > 80 {
                long.push(format!(
                    "{}:{line} fn {name}: {length} lines",
                    krate.files[module].display()
                ));
            }
        }
    }
    assert_eq!(long, Vec::<String>::new());
    // The measure itself: a 3-line function is 3 lines.
    let tokens: Vec<TokenTree> = TokenStream::from_str("fn f() {\n    g();\n}")
        .unwrap()
        .into_iter()
        .collect();
    let mut lengths = Vec::new();
    function_lengths(&tokens, &mut lengths);
    assert_eq!(lengths, vec![("f".to_owned(), 1, 3)]);
}

#[test]
fn the_crate_root_re_exports_at_most_25_names() {
    let krate = Crate::read(&src());
    let root = &krate.tokens[&Vec::new()];
    let mut names = BTreeSet::new();
    for (at, token) in root.iter().enumerate() {
        if ident(Some(token)).as_deref() == Some("pub")
            && ident(root.get(at + 1)).as_deref() == Some("use")
        {
            let end = (at..root.len())
                .find(|&i| is_punct(root.get(i), ';'))
                .unwrap_or(root.len());
            let mut leaves = Vec::new();
            use_leaves(&Vec::new(), &root[at + 2..end], &mut leaves);
            names.extend(leaves.into_iter().filter_map(|(_, name)| name));
        }
    }
    assert!(
        names.contains("OAuth2Provider") && names.contains("AccessToken"),
        "{names:?}"
    );
    assert!(
        names.len() <= 25,
        "{} names at the root: {names:?}",
        names.len()
    );
}

/// Issue 25, item 17: the `rsa` crate's private-key operations are not constant-time
/// (RUSTSEC-2023-0071): nothing signs with it but OAuth 1.0a's RSA-SHA1 (through
/// oauth1-request, which has no other RSA) and the testing kit's mock provider (test tokens,
/// no secret worth a timing attack); the OpenID Provider signs RS256 with `ring`.
#[test]
fn no_rsa_crate_signing_outside_oauth1() {
    let krate = Crate::read(&src());
    let signers = ["CoreRsaPrivateSigningKey", "pkcs1v15", "pss", "SigningKey"];
    for (module, tokens) in &krate.tokens {
        let file = krate.files[module].display().to_string();
        if file == "protocol/oauth1.rs" || module.first().map(String::as_str) == Some("testing") {
            continue;
        }
        let mut names = Vec::new();
        idents(tokens, &mut names);
        for pair in names.windows(2) {
            if pair[0] == "rsa" && signers.contains(&pair[1].as_str()) {
                panic!("{file} signs with the rsa crate (rsa::{})", pair[1]);
            }
        }
        assert!(
            !names.iter().any(|n| n == "CoreRsaPrivateSigningKey"),
            "{file} signs with openidconnect's rsa-crate signer"
        );
    }
    let oidc = &krate.tokens[&vec!["server".to_owned(), "oidc".to_owned()]];
    let mut names = Vec::new();
    idents(oidc, &mut names);
    assert!(
        names.iter().any(|n| n == "RSA_PKCS1_SHA256"),
        "RS256 is ring's"
    );
}
