//! A standalone SVG, laid out here (no Graphviz): a layered drawing with one
//! column per node kind (clients → Services → apps → proxies → routes → pools →
//! cache pods), clusters as boxes around their nodes.
//!
//! Placement is a skyline per column: items (nodes and clusters) are placed top
//! to bottom in graph order; a cluster spanning several columns starts below
//! whatever already occupies any of them, so boxes never overlap. Text is set in
//! a monospace font so its width is known without measuring glyphs. All
//! coordinates are integers: the same graph always gives the same bytes.

use std::fmt::Write as _;

use crate::graph::model::{ClusterKind, EdgeStyle, Graph, Item, NodeKind, wrap};

/// Fill and stroke colours of a node kind (shared with the other writers).
pub struct Palette {
    pub fill: &'static str,
    pub stroke: &'static str,
}

pub fn palette(kind: NodeKind) -> Palette {
    let (fill, stroke) = match kind {
        NodeKind::Clients => ("#f1f3f4", "#5f6368"),
        NodeKind::Service => ("#fef7e0", "#b06000"),
        NodeKind::App => ("#e8f0fe", "#1a73e8"),
        NodeKind::Proxy => ("#fde7d9", "#c5221f"),
        NodeKind::Route => ("#f3e8fd", "#8430ce"),
        NodeKind::Pool => ("#e6f4ea", "#188038"),
        NodeKind::CachePod => ("#e4f7fb", "#007b83"),
        NodeKind::LocalCache => ("#e4f7fb", "#007b83"),
        NodeKind::External => ("#ffffff", "#80868b"),
    };
    Palette { fill, stroke }
}

pub fn cluster_palette(kind: ClusterKind) -> Palette {
    let (fill, stroke) = match kind {
        ClusterKind::Workload => ("#f8fbff", "#8ab4f8"),
        ClusterKind::Config => ("#fcf8ff", "#c58af9"),
        ClusterKind::PoolSet => ("#f4fbf6", "#81c995"),
        ClusterKind::Cache => ("#f5fcfd", "#78d9ec"),
    };
    Palette { fill, stroke }
}

const FONT: i64 = 12;
/// Advance of one monospace character at `FONT` px, in tenths of a pixel (0.6 em, rounded up).
const CHAR_TENTHS: i64 = 73;
const LINE: i64 = 16;
const NODE_PAD_X: i64 = 10;
const NODE_PAD_Y: i64 = 7;
/// Space between a cluster's box and what it holds, per nesting level.
const CLUSTER_PAD: i64 = 12;
const V_GAP: i64 = 14;
const MARGIN: i64 = 20;
const TITLE_H: i64 = 34;

fn text_width(s: &str) -> i64 {
    (s.chars().count() as i64 * CHAR_TENTHS + 9) / 10
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rect {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
}

impl Rect {
    fn right(&self) -> i64 {
        self.x + self.w
    }
    fn bottom(&self) -> i64 {
        self.y + self.h
    }
    fn cy(&self) -> i64 {
        self.y + self.h / 2
    }
    fn intersects(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }
}

/// Where everything goes.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub width: i64,
    pub height: i64,
    pub nodes: Vec<Rect>,
    /// `None` for a cluster that holds no node.
    pub clusters: Vec<Option<Rect>>,
    /// Wrapped title lines of each cluster.
    pub cluster_titles: Vec<Vec<String>>,
}

struct Placer<'g> {
    g: &'g Graph,
    /// Compact column of each node.
    col: Vec<usize>,
    col_x: Vec<i64>,
    col_w: Vec<i64>,
    sizes: Vec<(i64, i64)>,
    out: Layout,
}

impl Placer<'_> {
    /// Compact columns a cluster's nodes occupy.
    fn range(&self, c: usize) -> Option<(usize, usize)> {
        let cols: Vec<usize> = self
            .g
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| self.g.within(n.cluster, c))
            .map(|(i, _)| self.col[i])
            .collect();
        Some((*cols.iter().min()?, *cols.iter().max()?))
    }

    /// Levels of clusters below `c` (0 when none).
    fn below(&self, c: usize) -> i64 {
        self.g
            .clusters
            .iter()
            .enumerate()
            .filter(|(i, cl)| cl.parent == Some(c) && *i != c)
            .map(|(i, _)| 1 + self.below(i))
            .max()
            .unwrap_or(0)
    }

    fn place(&mut self, parent: Option<usize>, cursor: &mut [i64]) {
        for item in self.g.children(parent) {
            match item {
                Item::Node(i) => {
                    let k = self.col[i];
                    let (w, h) = self.sizes[i];
                    // Centre narrower nodes in their column.
                    let x = self.col_x[k] + (self.col_w[k] - w) / 2;
                    self.out.nodes[i] = Rect {
                        x,
                        y: cursor[k],
                        w,
                        h,
                    };
                    cursor[k] += h + V_GAP;
                }
                Item::Cluster(c) => {
                    let Some((lo, hi)) = self.range(c) else {
                        continue;
                    };
                    let pad = CLUSTER_PAD * (self.below(c) + 1);
                    let x = self.col_x[lo] - pad;
                    let right = self.col_x[hi] + self.col_w[hi] + pad;
                    let w = right - x;
                    let chars = ((w - 16) * 10 / CHAR_TENTHS).max(8) as usize;
                    let title = wrap(&self.g.clusters[c].label, chars);
                    let top = (lo..=hi).map(|k| cursor[k]).max().unwrap_or(0);
                    let title_h = title.len() as i64 * LINE + 8;
                    let mut inner = cursor.to_vec();
                    for slot in inner.iter_mut().take(hi + 1).skip(lo) {
                        *slot = top + title_h + 6;
                    }
                    self.place(Some(c), &mut inner);
                    let bottom =
                        (lo..=hi).map(|k| inner[k]).max().unwrap_or(top) - V_GAP + CLUSTER_PAD;
                    self.out.clusters[c] = Some(Rect {
                        x,
                        y: top,
                        w,
                        h: bottom - top,
                    });
                    self.out.cluster_titles[c] = title;
                    for slot in cursor.iter_mut().take(hi + 1).skip(lo) {
                        *slot = bottom + V_GAP;
                    }
                }
            }
        }
    }
}

/// Lays the graph out.
pub fn layout(g: &Graph) -> Layout {
    let sizes: Vec<(i64, i64)> = g
        .nodes
        .iter()
        .map(|n| {
            let w = n.lines.iter().map(|l| text_width(l)).max().unwrap_or(0) + 2 * NODE_PAD_X;
            let h = n.lines.len() as i64 * LINE + 2 * NODE_PAD_Y;
            (w.max(60), h)
        })
        .collect();
    let mut used: Vec<usize> = g.nodes.iter().map(|n| n.kind.column()).collect();
    used.sort_unstable();
    used.dedup();
    let col: Vec<usize> = g
        .nodes
        .iter()
        .map(|n| used.iter().position(|&c| c == n.kind.column()).unwrap_or(0))
        .collect();
    let mut col_w = vec![0; used.len()];
    for (i, &k) in col.iter().enumerate() {
        col_w[k] = col_w[k].max(sizes[i].0);
    }
    let depth = (0..g.clusters.len()).map(|c| g.depth(c)).max().unwrap_or(0) as i64;
    // Gaps wide enough for the clusters' padding on both sides and the widest
    // label of an edge that crosses them.
    let mut gap = vec![2 * CLUSTER_PAD * depth + 48; used.len()];
    for e in &g.edges {
        if let Some(l) = &e.label {
            let (a, b) = (col[e.from].min(col[e.to]), col[e.from].max(col[e.to]));
            if b == a + 1 {
                gap[a] = gap[a].max(text_width(l) + 12 + 2 * CLUSTER_PAD * depth + 16);
            }
        }
    }
    let mut col_x = vec![0; used.len()];
    let mut x = MARGIN + CLUSTER_PAD * depth;
    for k in 0..used.len() {
        col_x[k] = x;
        x += col_w[k] + gap[k];
    }
    let mut p = Placer {
        g,
        col,
        col_x,
        col_w,
        sizes,
        out: Layout {
            nodes: vec![Rect::default(); g.nodes.len()],
            clusters: vec![None; g.clusters.len()],
            cluster_titles: vec![Vec::new(); g.clusters.len()],
            ..Layout::default()
        },
    };
    let mut cursor = vec![MARGIN + TITLE_H; used.len()];
    p.place(None, &mut cursor);
    let mut out = p.out;
    let right = out
        .nodes
        .iter()
        .map(Rect::right)
        .chain(out.clusters.iter().flatten().map(Rect::right))
        .max()
        .unwrap_or(0);
    let bottom = out
        .nodes
        .iter()
        .map(Rect::bottom)
        .chain(out.clusters.iter().flatten().map(Rect::bottom))
        .max()
        .unwrap_or(0);
    out.width = (right + MARGIN).max(text_width(&g.title) + 2 * MARGIN);
    out.height = bottom + MARGIN;
    out
}

/// Text content or an attribute value: control characters as `\u{..}` (XML
/// cannot hold most of them), then the XML specials.
fn esc(s: &str) -> String {
    crate::escape::line(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

type Pt = (f64, f64);

fn bezier(p: [Pt; 4], t: f64) -> Pt {
    let u = 1.0 - t;
    let a = u * u * u;
    let b = 3.0 * u * u * t;
    let c = 3.0 * u * t * t;
    let d = t * t * t;
    (
        a * p[0].0 + b * p[1].0 + c * p[2].0 + d * p[3].0,
        a * p[0].1 + b * p[1].1 + c * p[2].1 + d * p[3].1,
    )
}

/// The curve of an edge between two boxes, leaving `s` at height `ys` and
/// reaching `t` at height `yt`.
fn curve(s: &Rect, t: &Rect, ys: i64, yt: i64) -> [Pt; 4] {
    let f = |v: i64| v as f64;
    if t.x >= s.right() {
        let (x0, y0, x3, y3) = (f(s.right()), f(ys), f(t.x), f(yt));
        let dx = ((x3 - x0) / 2.0).max(20.0);
        [(x0, y0), (x0 + dx, y0), (x3 - dx, y3), (x3, y3)]
    } else if t.right() <= s.x {
        let (x0, y0, x3, y3) = (f(s.x), f(ys), f(t.right()), f(yt));
        let dx = ((x0 - x3) / 2.0).max(20.0);
        [(x0, y0), (x0 - dx, y0), (x3 + dx, y3), (x3, y3)]
    } else {
        // Same column: a loop out to the right.
        let (x0, y0, x3, y3) = (f(s.right()), f(ys), f(t.right()), f(yt));
        let bulge = x0.max(x3) + 40.0;
        [(x0, y0), (bulge, y0), (bulge, y3), (x3, y3)]
    }
}

/// Where each edge leaves its source and reaches its target (heights): the
/// edges of one side of a node are spread over its height, in the order of the
/// other ends, so they do not cross at the node.
fn ports(g: &Graph, l: &Layout) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = g
        .edges
        .iter()
        .map(|e| (l.nodes[e.from].cy(), l.nodes[e.to].cy()))
        .collect();
    for n in 0..g.nodes.len() {
        let b = l.nodes[n];
        let mut outgoing: Vec<(i64, i64, usize)> = g
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.from == n)
            .map(|(i, e)| (l.nodes[e.to].cy(), l.nodes[e.to].x, i))
            .collect();
        outgoing.sort_unstable();
        let k = outgoing.len() as i64;
        for (j, (_, _, ei)) in outgoing.iter().enumerate() {
            out[*ei].0 = b.y + b.h * (j as i64 + 1) / (k + 1);
        }
        let mut incoming: Vec<(i64, i64, usize)> = g
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.to == n)
            .map(|(i, e)| (l.nodes[e.from].cy(), l.nodes[e.from].x, i))
            .collect();
        incoming.sort_unstable();
        let k = incoming.len() as i64;
        for (j, (_, _, ei)) in incoming.iter().enumerate() {
            out[*ei].1 = b.y + b.h * (j as i64 + 1) / (k + 1);
        }
    }
    out
}

fn r(v: f64) -> i64 {
    v.round() as i64
}

pub fn write(g: &Graph) -> String {
    let l = layout(g);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"{FONT}\">",
        w = l.width,
        h = l.height
    );
    let _ = writeln!(s, "<title>{}</title>", esc(&g.title));
    s.push_str("<!-- Generated by `mclint graph`; do not edit. -->\n");
    s.push_str(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0 0L10 5L0 10z\" fill=\"#5f6368\"/></marker></defs>\n",
    );
    let _ = writeln!(
        s,
        "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>",
        l.width, l.height
    );
    let _ = writeln!(
        s,
        "<text x=\"{MARGIN}\" y=\"{}\" font-size=\"15\" font-weight=\"bold\" fill=\"#202124\">{}</text>",
        MARGIN + 16,
        esc(&g.title)
    );
    // Clusters, outer ones first.
    let mut order: Vec<usize> = (0..g.clusters.len()).collect();
    order.sort_by_key(|&c| (g.depth(c), c));
    for c in order {
        let Some(b) = l.clusters[c] else { continue };
        let cl = &g.clusters[c];
        let p = cluster_palette(cl.kind);
        let dash = if cl.kind == ClusterKind::PoolSet {
            " stroke-dasharray=\"5 3\""
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<g class=\"cluster\" id=\"{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"{}\" stroke=\"{}\"{dash}/>",
            cl.id, b.x, b.y, b.w, b.h, p.fill, p.stroke
        );
        for (i, line) in l.cluster_titles[c].iter().enumerate() {
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" font-weight=\"bold\" fill=\"#3c4043\">{}</text>",
                b.x + 8,
                b.y + 4 + LINE * (i as i64 + 1) - 3,
                esc(line)
            );
        }
        s.push_str("</g>\n");
    }
    // Edges, then their labels placed where they overlap no other label.
    let ports = ports(g, &l);
    // Cluster titles stay readable: no label on them.
    let titles: Vec<Rect> = l
        .clusters
        .iter()
        .zip(&l.cluster_titles)
        .filter_map(|(b, t)| {
            let b = (*b)?;
            Some(Rect {
                x: b.x,
                y: b.y,
                w: t.iter().map(|x| text_width(x)).max().unwrap_or(0) + 16,
                h: t.len() as i64 * LINE + 8,
            })
        })
        .collect();
    let curves: Vec<[Pt; 4]> = g
        .edges
        .iter()
        .enumerate()
        .map(|(ei, e)| curve(&l.nodes[e.from], &l.nodes[e.to], ports[ei].0, ports[ei].1))
        .collect();
    // Points along every edge, so a label is not set on another edge's line.
    let samples: Vec<Vec<(i64, i64)>> = curves
        .iter()
        .map(|c| {
            (1..40)
                .map(|i| {
                    let (x, y) = bezier(*c, f64::from(i) / 40.0);
                    (r(x), r(y))
                })
                .collect()
        })
        .collect();
    let mut labels: Vec<(Rect, String)> = Vec::new();
    for (ei, e) in g.edges.iter().enumerate() {
        let c = curves[ei];
        let dash = if e.style == EdgeStyle::Dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<path class=\"edge\" data-from=\"{}\" data-to=\"{}\" d=\"M{} {}C{} {} {} {} {} {}\" fill=\"none\" stroke=\"#5f6368\" stroke-width=\"1.3\"{dash} marker-end=\"url(#arrow)\"/>",
            g.nodes[e.from].id,
            g.nodes[e.to].id,
            r(c[0].0),
            r(c[0].1),
            r(c[1].0),
            r(c[1].1),
            r(c[2].0),
            r(c[2].1),
            r(c[3].0),
            r(c[3].1)
        );
        if let Some(text) = &e.label {
            let w = text_width(text) + 8;
            let h = LINE + 2;
            // The candidate spot that hides the least: another label, a title or
            // a node (with its arrowheads) count far more than another edge's line.
            let mut chosen: Option<(usize, Rect)> = None;
            for t in [0.72, 0.62, 0.82, 0.52, 0.42, 0.32, 0.22, 0.9, 0.14] {
                let (x, y) = bezier(c, t);
                let rect = Rect {
                    x: r(x) - w / 2,
                    y: r(y) - h / 2,
                    w,
                    h,
                };
                let hard = labels.iter().filter(|(o, _)| o.intersects(&rect)).count()
                    + titles.iter().filter(|o| o.intersects(&rect)).count()
                    + l.nodes
                        .iter()
                        .filter(|n| {
                            Rect {
                                x: n.x - 14,
                                w: n.w + 28,
                                ..**n
                            }
                            .intersects(&rect)
                        })
                        .count();
                let soft = samples
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != ei)
                    .flat_map(|(_, pts)| pts.iter())
                    .filter(|(px, py)| {
                        *px > rect.x + 1
                            && *px < rect.right() - 1
                            && *py > rect.y + 1
                            && *py < rect.bottom() - 1
                    })
                    .count();
                let cost = hard * 1000 + soft;
                if chosen.is_none_or(|(best, _)| cost < best) {
                    chosen = Some((cost, rect));
                }
                if cost == 0 {
                    break;
                }
            }
            let chosen = chosen.map(|(_, rect)| rect);
            if let Some(rect) = chosen {
                labels.push((rect, text.clone()));
            }
        }
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let b = l.nodes[i];
        let p = palette(n.kind);
        let (rx, dash) = match n.kind {
            NodeKind::Clients | NodeKind::Service => (b.h / 2, ""),
            NodeKind::External => (4, " stroke-dasharray=\"4 3\""),
            NodeKind::CachePod | NodeKind::LocalCache => (10, ""),
            _ => (5, ""),
        };
        let _ = writeln!(
            s,
            "<g class=\"node {}\" id=\"{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{rx}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"1.4\"{dash}/>",
            n.kind.as_str(),
            n.id,
            b.x,
            b.y,
            b.w,
            b.h,
            p.fill,
            p.stroke
        );
        let cx = b.x + b.w / 2;
        for (j, line) in n.lines.iter().enumerate() {
            let weight = if j < n.bold {
                " font-weight=\"bold\""
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "<text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" fill=\"#202124\"{weight}>{}</text>",
                b.y + NODE_PAD_Y + LINE * (j as i64 + 1) - 4,
                esc(line)
            );
        }
        s.push_str("</g>\n");
    }
    for (rect, text) in labels {
        let _ = writeln!(
            s,
            "<g class=\"label\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.92\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#3c4043\">{}</text></g>",
            rect.x,
            rect.y,
            rect.w,
            rect.h,
            rect.x + rect.w / 2,
            rect.y + rect.h - 5,
            esc(&text)
        );
    }
    s.push_str("</svg>\n");
    s
}
