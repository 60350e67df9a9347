//! The shape of `src/` holds: every `crate::` path in a module points to a module on a lower line
//! of the ```` ```layers ```` block in `docs/design.md`, and no top-level modules form a cycle.
//! A failure names the file, the line and the edge, so the fix is plain.
//!
//! Plain `cargo test`, no tool: the import graph is read from the source text (comments and
//! string literals are blanked first, so a doc comment that mentions `crate::x` is no edge).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One use of another top-level module: `from` uses `to` at `file:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    from: String,
    to: String,
    file: String,
    line: usize,
}

/// The layers, top first: `rank[module]` is its line; a module may use only higher ranks.
#[derive(Debug)]
struct Layers {
    rank: BTreeMap<String, usize>,
    lines: Vec<Vec<String>>,
}

fn parse_layers(design: &str) -> Layers {
    let start = design.find("```layers").expect("docs/design.md has a ```layers block");
    let body = &design[start + "```layers".len()..];
    let body = &body[..body.find("```").expect("the ```layers block is closed")];
    let mut rank = BTreeMap::new();
    let mut lines = Vec::new();
    for line in body.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let modules: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        if modules.is_empty() {
            continue;
        }
        for m in &modules {
            assert!(rank.insert(m.clone(), lines.len()).is_none(), "module {m} is twice in the layers block");
        }
        lines.push(modules);
    }
    Layers { rank, lines }
}

/// The text with comments, strings and char literals replaced by spaces (newlines kept, so line
/// numbers still hold).
fn blank_comments_and_strings(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, c: u8| out.push(if c == b'\n' { b'\n' } else { b' ' });
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
        } else if b[i] == b'r' && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#')) && !ident_byte(b, i) {
            // raw string r"…" or r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(b[i]);
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
            let end = find(b, j + 1, &close).map_or(b.len(), |e| e + close.len());
            for &c in &b[i..end] {
                blank(&mut out, c);
            }
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            for &c in &b[i..end] {
                blank(&mut out, c);
            }
            i = end;
        } else if b[i] == b'\'' && char_literal_len(&b[i..]).is_some() {
            let n = char_literal_len(&b[i..]).unwrap_or(1);
            out.extend(std::iter::repeat_n(b' ', n));
            i += n;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

fn ident_byte(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'$')
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    (from..hay.len().saturating_sub(needle.len() - 1)).find(|&k| hay[k..].starts_with(needle))
}

/// `'a'`, `'\n'`, `'\u{1F600}'`, `'é'` — but not a lifetime `'a`.
fn char_literal_len(b: &[u8]) -> Option<usize> {
    if b.get(1) == Some(&b'\\') {
        let end = b.iter().skip(2).position(|&c| c == b'\'')?;
        return Some(end + 3);
    }
    let ch = std::str::from_utf8(&b[1..b.len().min(5)])
        .ok()
        .or_else(|| (2..=5).rev().find_map(|n| std::str::from_utf8(&b[1..b.len().min(n)]).ok()))?;
    let c = ch.chars().next()?;
    let len = c.len_utf8();
    (b.get(1 + len) == Some(&b'\'')).then_some(len + 2)
}

/// Every `crate::module` (and each module of a `crate::{a, b::c}` group) in one file.
fn edges_of(from: &str, file: &str, text: &str) -> Vec<Edge> {
    let code = blank_comments_and_strings(text);
    let mut edges = Vec::new();
    let line_at = |pos: usize| code[..pos].matches('\n').count() + 1;
    let mut push = |to: &str, pos: usize| {
        if !to.is_empty() && to != from && to != "self" {
            edges.push(Edge { from: from.into(), to: to.into(), file: file.into(), line: line_at(pos) });
        }
    };
    let b = code.as_bytes();
    let mut search = 0;
    while let Some(off) = code[search..].find("crate::") {
        let at = search + off;
        search = at + "crate::".len();
        if ident_byte(b, at) {
            continue; // `$crate::` or `mycrate::`
        }
        let rest = &code[search..];
        let rest_trim = rest.trim_start();
        if let Some(group) = rest_trim.strip_prefix('{') {
            let mut depth = 1;
            let mut item_start = true;
            let mut idx = 0;
            let gb = group.as_bytes();
            while idx < gb.len() && depth > 0 {
                match gb[idx] {
                    b'{' => depth += 1,
                    b'}' => depth -= 1,
                    b',' if depth == 1 => item_start = true,
                    c if item_start && depth == 1 && (c.is_ascii_alphabetic() || c == b'_') => {
                        let ident: String = group[idx..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                        let pos = search + (rest.len() - rest_trim.len()) + 1 + idx;
                        push(&ident, pos);
                        idx += ident.len();
                        item_start = false;
                        continue;
                    }
                    _ => {}
                }
                idx += 1;
            }
        } else {
            let ident: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            push(&ident, at);
        }
    }
    edges
}

/// The top-level module a file belongs to (`src/api/x.rs` → `api`); `None` for the crate roots.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_edges(src: &Path) -> Vec<Edge> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let root = src.parent().expect("src has a parent");
    files
        .iter()
        .filter_map(|f| {
            let module = module_of(src, f)?;
            let text = std::fs::read_to_string(f).expect("read a source file");
            let shown = f.strip_prefix(root).unwrap_or(f).display().to_string();
            Some(edges_of(&module, &shown, &text))
        })
        .flatten()
        .collect()
}

/// What breaks the layers: a module missing from the block, or a use of a module that is not on
/// a lower line.
fn violations(layers: &Layers, modules: &BTreeSet<String>, edges: &[Edge]) -> Vec<String> {
    let mut out = Vec::new();
    for m in modules {
        if !layers.rank.contains_key(m) {
            out.push(format!("src/{m}: module `{m}` is not in the ```layers block of docs/design.md"));
        }
    }
    for e in edges {
        let (Some(&from), Some(&to)) = (layers.rank.get(&e.from), layers.rank.get(&e.to)) else { continue };
        if to <= from {
            let why = if to == from { "a module on the same line" } else { "a module on a higher line" };
            out.push(format!("{}:{}: `{}` uses `crate::{}`, {why} of the layers", e.file, e.line, e.from, e.to));
        }
    }
    out
}

/// The cycles among top-level modules (strongly connected components of more than one module),
/// each with one edge per member as evidence.
fn cycles(edges: &[Edge]) -> Vec<String> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in edges {
        graph.entry(&e.from).or_default().insert(&e.to);
        graph.entry(&e.to).or_default();
    }
    let reach = |start: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(n) = stack.pop() {
            for &m in &graph[n] {
                if seen.insert(m) {
                    stack.push(m);
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&str, BTreeSet<&str>> = graph.keys().map(|&n| (n, reach(n))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for &n in graph.keys() {
        if done.contains(n) || !reaches[n].contains(n) {
            continue;
        }
        let component: BTreeSet<&str> = reaches[n].iter().copied().filter(|m| reaches[m].contains(n)).collect();
        done.extend(component.iter().copied());
        let evidence: Vec<String> = edges
            .iter()
            .filter(|e| component.contains(e.from.as_str()) && component.contains(e.to.as_str()))
            .fold(Vec::<&Edge>::new(), |mut acc, e| {
                if !acc.iter().any(|a| a.from == e.from && a.to == e.to) {
                    acc.push(e);
                }
                acc
            })
            .iter()
            .map(|e| format!("{}:{} ({} → {})", e.file, e.line, e.from, e.to))
            .collect();
        out.push(format!("cycle among {{{}}}: {}", component.into_iter().collect::<Vec<_>>().join(", "), evidence.join("; ")));
    }
    out
}

#[test]
fn src_follows_the_documented_layers_without_cycles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let design = std::fs::read_to_string(root.join("docs/design.md")).expect("read docs/design.md");
    let layers = parse_layers(&design);
    let edges = all_edges(&src);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    assert!(modules.len() > 10 && edges.len() > 100, "the scan found the source ({} modules, {} edges)", modules.len(), edges.len());
    let mut problems = violations(&layers, &modules, &edges);
    problems.extend(cycles(&edges));
    for listed in layers.lines.iter().flatten() {
        if !modules.contains(listed) {
            problems.push(format!("docs/design.md: the layers block names `{listed}`, which is not a module of src/"));
        }
    }
    assert!(problems.is_empty(), "the layers of docs/design.md do not hold:\n  {}", problems.join("\n  "));
}

// The checker itself can fail: each rule is shown catching a fault in a small made-up tree.

const SAMPLE_LAYERS: &str = "text\n```layers\napp\napi web   # peers\ndb\ndomain\n```\n";

fn edge(from: &str, to: &str, line: usize) -> Edge {
    Edge { from: from.into(), to: to.into(), file: format!("src/{from}/x.rs"), line }
}

#[test]
fn a_use_upwards_or_between_peers_is_named_with_its_file_and_line() {
    let layers = parse_layers(SAMPLE_LAYERS);
    let modules: BTreeSet<String> = ["app", "api", "web", "db", "domain"].map(String::from).into();
    let ok = [edge("app", "api", 1), edge("api", "db", 2), edge("db", "domain", 3)];
    assert!(violations(&layers, &modules, &ok).is_empty());
    let bad = [edge("db", "api", 7), edge("api", "web", 9)];
    assert_eq!(
        violations(&layers, &modules, &bad),
        [
            "src/db/x.rs:7: `db` uses `crate::api`, a module on a higher line of the layers",
            "src/api/x.rs:9: `api` uses `crate::web`, a module on the same line of the layers",
        ]
    );
}

#[test]
fn a_module_missing_from_the_block_and_a_cycle_are_reported() {
    let layers = parse_layers(SAMPLE_LAYERS);
    let modules: BTreeSet<String> = ["app", "stray"].map(String::from).into();
    assert_eq!(violations(&layers, &modules, &[]), ["src/stray: module `stray` is not in the ```layers block of docs/design.md"]);
    let edges = [edge("a", "b", 1), edge("b", "c", 2), edge("c", "a", 3), edge("c", "d", 4)];
    assert_eq!(cycles(&edges), ["cycle among {a, b, c}: src/a/x.rs:1 (a → b); src/b/x.rs:2 (b → c); src/c/x.rs:3 (c → a)"]);
    assert!(cycles(&edges[..2]).is_empty());
}

#[test]
fn imports_are_read_from_code_only_with_groups_and_line_numbers() {
    let text = "//! see crate::web for pages\nuse crate::{db::{self, AsyncPool}, domain::Cents};\n\
                fn f() { let s = \"crate::admin\"; let c = '\"'; crate::metrics::bump(); }\n\
                /* crate::api */ use std::fmt;\nmacro_rules! m { () => { $crate::x } }\n";
    let got: Vec<(String, usize)> = edges_of("api", "src/api/x.rs", text).into_iter().map(|e| (e.to, e.line)).collect();
    assert_eq!(got, [("db".into(), 2), ("domain".into(), 2), ("metrics".into(), 3)]);
}
