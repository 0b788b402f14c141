//! The data of a diagram: labelled nodes and edges, sampled from the banks.

use pixmo_core::Rng;
use serde::{Deserialize, Serialize};

use crate::bank::{self, Domain};

/// How a node is drawn and what it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Start or end of a flow (rounded pill).
    Terminal,
    /// A step (rectangle).
    Process,
    /// A yes/no question (diamond).
    Decision,
    /// A person in an org chart (box with name and title).
    Person,
    /// A dated event on a timeline.
    Event,
    /// A node of a network (ellipse).
    Station,
}

/// A node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Main text.
    pub label: String,
    /// Second line (title of a person, year of an event), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Kind.
    pub kind: NodeKind,
}

/// An edge, directed from `from` to `to` unless the graph is undirected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// Source node index.
    pub from: usize,
    /// Target node index.
    pub to: usize,
    /// Text on the edge (`Yes`, `No`), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A diagram's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graph {
    /// Title drawn at the top.
    pub title: String,
    /// Nodes.
    pub nodes: Vec<Node>,
    /// Edges.
    pub edges: Vec<Edge>,
    /// Whether edges have a direction.
    pub directed: bool,
}

impl Graph {
    /// Indices of the targets of edges from `i`.
    #[must_use]
    pub fn successors(&self, i: usize) -> Vec<usize> {
        self.edges
            .iter()
            .filter(|e| e.from == i)
            .map(|e| e.to)
            .collect()
    }

    /// Indices of the sources of edges into `i`.
    #[must_use]
    pub fn predecessors(&self, i: usize) -> Vec<usize> {
        self.edges
            .iter()
            .filter(|e| e.to == i)
            .map(|e| e.from)
            .collect()
    }

    /// Neighbours of `i` ignoring direction.
    #[must_use]
    pub fn neighbours(&self, i: usize) -> Vec<usize> {
        let mut n: Vec<usize> = self
            .edges
            .iter()
            .filter_map(|e| {
                if e.from == i {
                    Some(e.to)
                } else if e.to == i {
                    Some(e.from)
                } else {
                    None
                }
            })
            .collect();
        n.sort_unstable();
        n.dedup();
        n
    }

    /// Whether an edge joins `a` to `b` (either way when undirected).
    #[must_use]
    pub fn has_edge(&self, a: usize, b: usize) -> bool {
        self.edges
            .iter()
            .any(|e| (e.from == a && e.to == b) || (!self.directed && e.from == b && e.to == a))
    }
}

fn node(label: impl Into<String>, kind: NodeKind) -> Node {
    Node {
        label: label.into(),
        detail: None,
        kind,
    }
}

fn edge(from: usize, to: usize, label: Option<&str>) -> Edge {
    Edge {
        from,
        to,
        label: label.map(str::to_owned),
    }
}

/// A flowchart: Start, a chain of steps with one or two decisions whose "No" branch goes
/// through a side step back into the chain (or to End), then End.
pub(crate) fn flowchart(rng: &mut Rng, domain: &Domain, place: &str) -> Graph {
    let n_steps = rng.range_u32(4, 7) as usize;
    let n_checks = rng.range_u32(1, 3) as usize;
    let steps = bank::pick(rng, domain.steps, n_steps + n_checks, false);
    let mut steps: Vec<&str> = steps;
    crate::chart::sample::shuffle(rng, &mut steps);
    let (main, side) = steps.split_at(n_steps);
    let checks = bank::pick(rng, domain.checks, n_checks, false);
    let mut nodes = vec![node("Start", NodeKind::Terminal)];
    let mut chain = vec![0usize];
    // Decisions go after distinct main steps (never the last one).
    let mut slots: Vec<usize> = (0..n_steps - 1).collect();
    crate::chart::sample::shuffle(rng, &mut slots);
    let slots = &slots[..n_checks.min(slots.len())];
    let mut decisions = Vec::new();
    for (i, step) in main.iter().enumerate() {
        nodes.push(node(*step, NodeKind::Process));
        chain.push(nodes.len() - 1);
        if let Some(k) = slots.iter().position(|s| *s == i) {
            nodes.push(node(checks[k % checks.len()], NodeKind::Decision));
            chain.push(nodes.len() - 1);
            decisions.push((nodes.len() - 1, k));
        }
    }
    nodes.push(node("End", NodeKind::Terminal));
    chain.push(nodes.len() - 1);
    let end = nodes.len() - 1;
    let mut edges = Vec::new();
    for w in chain.windows(2) {
        let is_decision = nodes[w[0]].kind == NodeKind::Decision;
        edges.push(edge(w[0], w[1], is_decision.then_some("Yes")));
    }
    for (d, k) in decisions {
        let side_step = side[k % side.len()];
        nodes.push(node(side_step, NodeKind::Process));
        let s = nodes.len() - 1;
        edges.push(edge(d, s, Some("No")));
        // Rejoin the chain after the decision's successor, or finish.
        let pos = chain.iter().position(|c| *c == d).unwrap_or(0);
        let target = if rng.bool(0.5) {
            end
        } else {
            chain[(pos + 2).min(chain.len() - 1)]
        };
        edges.push(edge(s, target, None));
    }
    Graph {
        title: format!("{} workflow, {place}", capitalise(domain.name)),
        nodes,
        edges,
        directed: true,
    }
}

/// An org chart: a tree of people with titles by level.
pub(crate) fn org_chart(rng: &mut Rng, domain: &Domain, place: &str) -> Graph {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    let mut person = |rng: &mut Rng, level: usize| {
        let mut name = bank::full_name(rng);
        while !used.insert(name.clone()) {
            name = bank::full_name(rng);
        }
        let titles = bank::TITLES[level.min(bank::TITLES.len() - 1)];
        Node {
            label: name,
            detail: Some(titles[rng.index(titles.len())].to_owned()),
            kind: NodeKind::Person,
        }
    };
    nodes.push(person(rng, 0));
    let vps = rng.range_u32(2, 5) as usize;
    let budget = rng.range_u32(6, 14) as usize;
    for _ in 0..vps {
        nodes.push(person(rng, 1));
        let vp = nodes.len() - 1;
        edges.push(edge(0, vp, None));
    }
    let mut parent_level: Vec<(usize, usize)> = (1..=vps).map(|i| (i, 1)).collect();
    let mut i = 0;
    while nodes.len() < budget && i < parent_level.len() {
        let (parent, level) = parent_level[i];
        let kids = rng.range_u32(0, 3) as usize;
        for _ in 0..kids {
            if nodes.len() >= budget || level >= 3 {
                break;
            }
            nodes.push(person(rng, level + 1));
            let child = nodes.len() - 1;
            edges.push(edge(parent, child, None));
            parent_level.push((child, level + 1));
        }
        i += 1;
    }
    let org = match rng.index(3) {
        0 => format!("{place} {} Cooperative", capitalise(domain.name)),
        1 => format!("{} Institute of {place}", capitalise(domain.name)),
        _ => format!("{place} {} Group", capitalise(domain.name)),
    };
    Graph {
        title: format!("{org}: organisation chart"),
        nodes,
        edges,
        directed: true,
    }
}

/// A timeline: distinct increasing years with milestones.
pub(crate) fn timeline(rng: &mut Rng, domain: &Domain, place: &str) -> Graph {
    let n = rng.range_u32(4, domain.milestones.len().min(8) as u32 + 1) as usize;
    let events = bank::pick(rng, domain.milestones, n, true);
    let mut year = 1950 + rng.range_u32(0, 50);
    let nodes = events
        .into_iter()
        .map(|e| {
            year += rng.range_u32(1, 9);
            Node {
                label: e.to_owned(),
                detail: Some(year.to_string()),
                kind: NodeKind::Event,
            }
        })
        .collect::<Vec<_>>();
    let edges = (1..nodes.len()).map(|i| edge(i - 1, i, None)).collect();
    Graph {
        title: format!("Milestones of the {place} {} project", domain.name),
        nodes,
        edges,
        directed: true,
    }
}

/// A network: a random spanning tree plus extra links.
pub(crate) fn network(rng: &mut Rng, domain: &Domain, place: &str) -> Graph {
    let services = rng.bool(0.5);
    let n = rng.range_u32(5, 10) as usize;
    let names = if services {
        bank::pick(rng, bank::SERVICES, n, false)
    } else {
        bank::pick(rng, bank::PLACES, n, false)
    };
    let mut order: Vec<&str> = names;
    crate::chart::sample::shuffle(rng, &mut order);
    let nodes: Vec<Node> = order.iter().map(|s| node(*s, NodeKind::Station)).collect();
    let mut g = Graph {
        title: if services {
            format!(
                "Service dependencies of the {place} {} platform",
                domain.name
            )
        } else {
            format!("{} network links between cities", capitalise(domain.name))
        },
        nodes,
        edges: Vec::new(),
        directed: false,
    };
    for i in 1..n {
        let j = rng.index(i);
        g.edges.push(edge(j, i, None));
    }
    let extra = rng.range_u32(1, (n / 2) as u32 + 1);
    for _ in 0..extra {
        let a = rng.index(n);
        let b = rng.index(n);
        if a != b && !g.has_edge(a, b) {
            g.edges.push(edge(a.min(b), a.max(b), None));
        }
    }
    g
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
